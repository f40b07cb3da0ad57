# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest schema clean

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

lint: $(STAMP)
	$(BIN)/ruff check crmconf tests
	$(BIN)/ruff format --check crmconf tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

schema: $(STAMP)
	$(BIN)/crmconf schema -o schemas/crmconf.schema.json

clean:
	rm -rf $(VENV) .crmconf .pytest_cache .mypy_cache .ruff_cache
