# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo fleet-demo test lint typecheck pytest schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crmconf sandbox init --demo --reset
	$(BIN)/crmconf validate examples/seed.yaml
	$(BIN)/crmconf plan examples/seed.yaml
	$(BIN)/crmconf apply examples/seed.yaml --yes
	$(BIN)/crmconf plan examples/seed.yaml --detailed-exitcode

# The bundled fleet (examples/team): five demo sandboxes, how each differs from the firm's
# standard, and the fleet's page, fleet.html. compare exits 2 when tenants differ, as they do.
FLEET := cd examples/team && ../../$(BIN)/crmconf
fleet-demo: $(STAMP)
	for tenant in acme-prod acme-test globex hooli stark; do \
		($(FLEET) sandbox init --demo --reset --target sqlite:///.crmconf/$$tenant.db) || exit 1; \
	done
	$(FLEET) compare || [ $$? -eq 2 ]
	$(FLEET) compare --format html -o compare.html || [ $$? -eq 2 ]
	$(FLEET) plan --all --format html -o fleet.html
	@echo "Open examples/team/fleet.html and examples/team/compare.html in a browser."

lint: $(STAMP)
	$(BIN)/ruff check crmconf tests
	$(BIN)/ruff format --check crmconf tests

typecheck: $(STAMP)
	$(BIN)/mypy

# Every SQL-target test runs on SQLite and on PostgreSQL: scripts/postgres.sh starts a private
# server on 127.0.0.1 for the run (as root installing Debian's postgresql first if missing),
# exports CRMCONF_TEST_POSTGRES_URL and stops it after; a URL already in that variable is used
# instead. Without PostgreSQL and without root, the PostgreSQL tests are skipped, saying why.
# The browser test needs headless Chromium: scripts/browser.sh installs Debian's (as root) first.
pytest: $(STAMP)
	bash scripts/browser.sh ensure >/dev/null || [ $$? -eq 3 ]
	bash scripts/postgres.sh run $(BIN)/python -m pytest -q

test: lint typecheck pytest

schema: $(STAMP)
	$(BIN)/crmconf schema -o schemas/crmconf.schema.json
	$(BIN)/crmconf schema --overlay -o schemas/crmconf-overlay.schema.json
	$(BIN)/crmconf schema --plan -o schemas/plan.schema.json

clean:
	rm -rf $(VENV) .crmconf .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (never part of `make test`): see benchmarks/README.md. octoDNS goes into the
# venv; matplotlib (with numpy) beside it, because deepdiff imports numpy when it can,
# which would add ~45 ms and ~20 MB to every measured crmconf run.
BENCH_PLOTTING := benchmarks/.work/plotting
.PHONY: bench
$(BENCH_PLOTTING)/.installed: | $(STAMP)
	$(BIN)/pip install --quiet --target $(BENCH_PLOTTING) matplotlib
	touch $@
bench: $(STAMP) $(BENCH_PLOTTING)/.installed
	$(BIN)/pip install --quiet octodns
	$(BIN)/python benchmarks/run.py

# Long property and fuzz runs (never part of `make test`): ≥ 500 examples per property,
# each loader fuzz target for CRMCONF_FUZZ_SECONDS (default 30) per sandbox backend, and
# over 10,000 steps of the state machine (on SQLite and on PostgreSQL, counted by the test).
.PHONY: fuzz
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz bash scripts/postgres.sh run $(BIN)/python -m pytest -q \
		tests/test_properties.py tests/test_fuzz_loader.py tests/test_state_machine.py
