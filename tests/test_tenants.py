"""Many tenants from one repository: crmconf.yaml, `plan --all` and `apply --all`.

Real project files, real configurations, real SQLite sandboxes (and the fake
24SevenOffice server for credentials); each test states one rule of issue 5.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click.testing
import pytest
from click.testing import Result

from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.tenants import Tenant, load_project, run_all
from crmconf.testing import FakeTwentyFour
from tests.conftest import ROOT, SEED

Cli = Callable[..., Result]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository with three tenants: acme (good), broken (invalid config), offline."""
    good, broken = tmp_path / "companies/acme", tmp_path / "companies/broken"
    good.mkdir(parents=True)
    broken.mkdir(parents=True)
    shutil.copy(SEED, good / "settings.yaml")
    (broken / "settings.yaml").write_text("crmconf: 1\nindustries:\n  - Bygg\n  - ${MISSING}\n")
    (tmp_path / "a-file").write_text("")
    init_sandbox(_url(tmp_path, "acme"), demo=True)
    _project(
        tmp_path,
        f"""\
        crmconf: 1
        tenants:
          - {{name: acme, target: "{_url(tmp_path, "acme")}", config: companies/acme}}
          - {{name: broken, target: "{_url(tmp_path, "broken")}", config: companies/broken}}
          - name: offline
            target: "sqlite:///{tmp_path / "a-file" / "crm.db"}"
            config: companies/acme
        """,
    )
    return tmp_path


@pytest.fixture(autouse=True)
def _no_stray_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISSING", raising=False)


def _url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / f'{name}.db'}"


def _project(folder: Path, text: str) -> Path:
    import textwrap

    path = folder / "crmconf.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _summary(output: str) -> dict[str, list[str]]:
    """The summary table's rows by tenant: the last table in the output."""
    lines = output.splitlines()
    start = max(index for index, line in enumerate(lines) if line.startswith("Tenant "))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = line.split(maxsplit=6)
        rows[cells[0]] = cells[1:]
    return rows


# One tenant's failure never stops another's


def test_apply_all_applies_the_good_tenant_and_reports_the_others(
    cli: Cli, repository: Path
) -> None:
    project = repository / "crmconf.yaml"

    applied = cli("apply", "--all", "--project", project, "--yes")
    replanned = cli("plan", "--all", "--project", project)

    assert applied.exit_code == 1, applied.output
    rows = _summary(applied.stdout)
    assert rows["acme"] == ["–", "9", "7", "3", "0", "applied"]
    assert rows["broken"][:5] == ["–", "–", "–", "–", "–"]
    assert rows["broken"][5] == "error: invalid configuration (1 error)"
    assert rows["offline"][5].startswith("error: no sandbox at sqlite:///")
    broken = repository / "companies/broken/settings.yaml"
    assert f"error: {broken}:4:5: variable MISSING is not set" in applied.stdout
    assert "Applied. 9 to add, 7 to change, 3 to delete." in applied.stdout
    assert _summary(replanned.stdout)["acme"] == ["–", "0", "0", "0", "0", "no changes"]
    assert not (repository / "broken.db").exists()  # never opened: its configuration failed


def test_apply_all_off_a_terminal_needs_yes_and_asks_once_after_every_plan(
    cli: Cli, repository: Path
) -> None:
    project = repository / "crmconf.yaml"

    refused = cli("apply", "--all", "--project", project)
    still = cli("plan", "--all", "--project", project)

    assert refused.exit_code == 1
    assert "refusing to change the target without confirmation: pass --yes" in refused.stderr
    assert "Plan: 9 to add, 7 to change, 3 to delete." in refused.stdout
    assert refused.stdout.index("== offline") < refused.stdout.index("Tenant ")
    assert _summary(still.stdout)["acme"][5] == "changes"


def test_apply_all_asks_once_on_a_terminal(
    cli: Cli, repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CliRunner's stdin reads `input`; let it say it is a terminal, as a person's would.
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)

    declined = cli("apply", "--all", "--project", repository / "crmconf.yaml", input="n\n")

    assert declined.exit_code == 1
    assert declined.output.count("Apply the changes to 1 tenant (2 failed to plan") == 1
    assert "cancelled; nothing was changed" in declined.stderr


def test_plan_all_exit_status_combines_the_tenants(cli: Cli, repository: Path) -> None:
    project = repository / "crmconf.yaml"
    failing = cli("plan", "--all", "--project", project, "--detailed-exitcode")
    _project(
        repository,
        f"crmconf: 1\ntenants:\n  - {{name: acme, target: '{_url(repository, 'acme')}', "
        "config: companies/acme}\n",
    )

    changes = cli("plan", "--all", "--project", project)
    detailed = cli("plan", "--all", "--project", project, "--detailed-exitcode")
    cli("apply", "--all", "--project", project, "--yes")
    clean = cli("plan", "--all", "--project", project, "--detailed-exitcode")

    assert failing.exit_code == 1
    assert (changes.exit_code, detailed.exit_code, clean.exit_code) == (0, 2, 0)


def test_progress_is_plain_lines_on_stderr_when_not_a_terminal(cli: Cli, repository: Path) -> None:
    result = cli("plan", "--all", "--project", repository / "crmconf.yaml", "--parallel", "1")

    progress = result.stderr.splitlines()
    assert progress[0] == f"Planning 3 tenants of {repository / 'crmconf.yaml'}, 1 at a time."
    assert progress[1:] == [
        "[1/3] acme: 9 to add, 7 to change, 3 to delete",
        "[2/3] broken: error: invalid configuration (1 error)",
        progress[3],
    ]
    assert progress[3].startswith("[3/3] offline: error: no sandbox at")
    assert "[1/3]" not in result.stdout


def test_an_unexpected_error_in_one_tenant_stays_its_own_and_parallel_is_a_bound() -> None:
    tenants = [Tenant(f"t{number}", "sqlite://", Path(".")) for number in range(6)]
    lock = threading.Lock()
    running, most = 0, 0

    def work(tenant: Tenant) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        if tenant.name == "t2":
            raise RuntimeError("a bug in one tenant")
        return tenant.name.upper()

    outcomes = run_all(tenants, work, parallel=2)

    assert [outcome.result for outcome in outcomes] == ["T0", "T1", None, "T3", "T4", "T5"]
    assert str(outcomes[2].error) == "a bug in one tenant"
    assert most == 2


# Environments and variables per tenant


def test_the_team_example_plans_applies_and_converges(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(
        ROOT / "examples" / "team", tmp_path / "team", ignore=shutil.ignore_patterns(".crmconf")
    )
    monkeypatch.chdir(tmp_path / "team")
    monkeypatch.delenv("SALES_LEAD", raising=False)
    for tenant in ("acme-prod", "acme-test", "globex", "hooli", "stark"):
        init_sandbox(f"sqlite:///.crmconf/{tenant}.db", demo=True)

    validated = cli("validate", "acme", "globex")
    planned = cli("plan", "--all", "--detailed-exitcode")
    applied = cli("apply", "--all", "--yes")
    again = cli("plan", "--all", "--detailed-exitcode")

    assert validated.exit_code == 0, validated.output
    assert planned.exit_code == 2, planned.output
    assert _summary(planned.stdout) == {
        "acme-prod": ["prod", "10", "7", "3", "0", "changes"],
        "acme-test": ["test", "9", "5", "4", "0", "changes"],
        "globex": ["–", "1", "0", "0", "0", "changes"],
        "hooli": ["–", "9", "7", "3", "0", "changes"],
        "stark": ["–", "9", "7", "3", "0", "changes"],
    }
    assert applied.exit_code == 0, applied.output
    assert again.exit_code == 0, again.output


def test_a_tenant_gets_its_environment_and_vars_file(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "companies/globex"
    (root / "base").mkdir(parents=True)
    (root / "envs/prod").mkdir(parents=True)
    (root / "base/settings.yaml").write_text("crmconf: 1\nindustries:\n  - ${FIRST}\n")
    (root / "envs/prod/overlay.yaml").write_text("crmconf: 1\nindustries: [Prod]\n")
    (tmp_path / "globex.vars.yaml").write_text("FIRST: Från vars\n")
    init_sandbox(_url(tmp_path, "globex"))
    _project(
        tmp_path,
        f"""\
        crmconf: 1
        tenants:
          - name: globex
            target: "{_url(tmp_path, "globex")}"
            config: companies/globex
            env: prod
            vars: globex.vars.yaml
          - name: no-env
            target: "{_url(tmp_path, "globex")}"
            config: companies/globex
        """,
    )

    result = cli("plan", "--all", "--project", tmp_path / "crmconf.yaml")

    assert '+ "Från vars"' in result.stdout and '+ "Prod"' in result.stdout
    assert "== globex (prod) → sqlite:///" in result.stdout
    assert f"{root} has environments (prod): choose one" in result.stdout
    assert _summary(result.stdout)["globex"] == ["prod", "2", "0", "0", "0", "changes"]


# The project file holds no secret


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{name: a, target: 'sqlite:///x.db', config: c, password: hunter2}",
            "3:52: 'password' looks like a secret; crmconf.yaml is committed and must not hold one",
        ),
        (
            "{name: a, target: 'postgresql://crm:hunter2@db/crm', config: c}",
            "3:23: tenant 'a': the target URL holds a password",
        ),
        (
            "{name: a, target: 'sqlite:///x.db', config: c, credentials: {password: hunter2}}",
            "3:76: tenants.0.credentials.password must be the NAME of an environment variable",
        ),
        (
            "{name: a, target: '24so://', config: c, credentials: {secret_key: ACME_KEY}}",
            "3:59: tenant 'a': unknown credential 'secret_key' for 24so: targets",
        ),
        (
            "{name: a, target: 'sqlite:///x.db', config: c, enviroment: prod}",
            "3:52: unknown key 'enviroment' in tenants.0",
        ),
    ],
)
def test_a_project_file_with_a_secret_or_a_mistake_is_refused(
    cli: Cli, tmp_path: Path, entry: str, expected: str
) -> None:
    project = _project(tmp_path, f"crmconf: 1\ntenants:\n  - {entry}\n")

    result = cli("plan", "--all", "--project", project)

    assert result.exit_code == 1
    assert f"error: {project}:{expected}" in result.stderr
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    ("entry", "expected", "hint"),
    [
        (
            "{name: a, target: '24so://', config: c, organization_number: 912345678}",
            "3:66: tenants.0.organization_number: expected text, but YAML read 912345678 as "
            "a number",
            'quote it so YAML reads it as text: "912345678"',
        ),
        (
            '{name: "x\\ny", target: a, config: c}',
            "3:12: tenants.0.name: 'x\\ny' is not a usable name",
            "a name needs a visible character",
        ),
        (
            "{name: a, target: a, config: c, users: {anna: ''}}",
            "3:51: tenants.0.users.anna: the text is empty",
            "write it out, or remove the entry",
        ),
    ],
)
def test_a_project_file_mistake_is_said_in_the_domains_words(
    cli: Cli, tmp_path: Path, entry: str, expected: str, hint: str
) -> None:
    # pydantic's own words leaked out here: its union tags (`dict[function-after[...]]`),
    # the raw name pattern, "Input should be a valid string".
    project = _project(tmp_path, f"crmconf: 1\ntenants:\n  - {entry}\n")

    result = cli("plan", "--all", "--project", project)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {project}:{expected}\n  hint: {hint}"), result.stderr
    assert not any(
        word in result.stderr for word in ("function-after", "should match pattern", "Input should")
    ), result.stderr


def test_tenant_names_are_unique_and_the_project_file_must_exist(cli: Cli, tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "crmconf: 1\ntenants:\n  - {name: Acme, target: a, config: c}\n"
        "  - {name: acme, target: b, config: d}\n",
    )

    twice = cli("plan", "--all", "--project", project)
    missing = cli("plan", "--all", "--project", tmp_path / "nothing.yaml")

    assert f"error: {project}:4:12: tenant 'acme' is named twice; also at {project}:3:5" in (
        twice.stderr
    )
    assert f"error: {tmp_path / 'nothing.yaml'}: cannot read the project file" in missing.stderr


def test_all_replaces_path_and_target(cli: Cli, repository: Path) -> None:
    project = repository / "crmconf.yaml"

    with_path = cli("plan", SEED, "--all", "--project", project)
    with_target = cli("apply", "--all", "--project", project, "--target", "sqlite://")
    neither = cli("plan")

    assert "error: PATH cannot be used with --all" in with_path.stderr
    assert "error: --target cannot be used with --all" in with_target.stderr
    assert "error: give the configuration PATH, or --all" in neither.stderr


# One document, one comment and saved plans for a whole fleet


def test_plan_all_as_one_json_document(cli: Cli, repository: Path) -> None:
    result = cli("plan", "--all", "--project", repository / "crmconf.yaml", "--format", "json")

    assert result.exit_code == 1  # two tenants failed
    document = json.loads(result.stdout)
    assert document["summary"] == {"tenants": 3, "changes": 1, "errors": 2}
    by_name = {tenant["name"]: tenant for tenant in document["tenants"]}
    assert by_name["acme"]["status"] == "changes"
    assert by_name["acme"]["plan"]["summary"] == {"create": 9, "update": 7, "delete": 3}
    assert by_name["broken"]["plan"] is None
    assert "variable MISSING is not set" in by_name["broken"]["error"]
    assert by_name["offline"]["error"].startswith("no sandbox at sqlite:///")


def test_plan_all_as_one_markdown_comment(cli: Cli, repository: Path) -> None:
    result = cli("plan", "--all", "--project", repository / "crmconf.yaml", "--format", "markdown")

    lines = result.stdout.splitlines()
    assert lines[0] == "<!-- crmconf-plan-all -->"
    assert lines[1] == "### crmconf plan --all: 1 of 3 tenants with changes, 2 failed"
    assert "| acme | – | 9 | 7 | 3 | 0 | changes |" in lines
    for name, status in (("acme", "changes"), ("broken", "error"), ("offline", "error")):
        assert f"<details><summary><code>{name}</code>: {status}</summary>" in lines
    assert "### acme: 9 to add, 7 to change, 3 to delete" in result.stdout


def test_saved_plans_of_every_tenant_are_applied_as_reviewed(cli: Cli, repository: Path) -> None:
    project = repository / "crmconf.yaml"
    plans = repository / "plans"

    planned = cli("plan", "--all", "--project", project, "-o", plans)
    assert sorted(path.name for path in plans.iterdir()) == ["acme.json"]
    assert "Saved 1 plan to" in planned.stderr
    applied = cli("apply", "--all", "--project", project, "--plans", plans, "--yes")
    again = cli("apply", "--all", "--project", project, "--plans", plans, "--yes")

    assert _summary(applied.stdout)["acme"][5] == "applied"
    assert "error: no saved plan" not in applied.stdout
    assert _summary(again.stdout)["acme"][5].startswith("error: stale plan")
    without_all = cli("apply", "--plans", plans, "--yes")
    assert without_all.exit_code == 1
    assert "give them with --all" in without_all.stderr


# Credentials come from the variables a tenant names


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with FakeTwentyFour() as server:
        yield server


def test_a_24so_tenant_logs_in_with_the_variables_it_names_only(
    cli: Cli, tmp_path: Path, fake: FakeTwentyFour, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fake.env()
    monkeypatch.setenv("CRMCONF_24SO_URL", env["CRMCONF_24SO_URL"])
    monkeypatch.setenv("CRMCONF_24SO_APPLICATION_ID", env["CRMCONF_24SO_APPLICATION_ID"])
    monkeypatch.setenv("CRMCONF_24SO_USERNAME", env["CRMCONF_24SO_USERNAME"])
    monkeypatch.setenv("CRMCONF_24SO_PASSWORD", env["CRMCONF_24SO_PASSWORD"])  # ambient: valid
    monkeypatch.setenv("ACME_APP", env["CRMCONF_24SO_APPLICATION_ID"])
    monkeypatch.setenv("ACME_USER", env["CRMCONF_24SO_USERNAME"])
    monkeypatch.setenv("ACME_PASSWORD", env["CRMCONF_24SO_PASSWORD"])
    monkeypatch.setenv("INITECH_PASSWORD", "not-the-password")
    monkeypatch.delenv("GLOBEX_PASSWORD", raising=False)
    (tmp_path / "crm.yaml").write_text("crmconf: 1\ncategories: [{name: Partner, show_on: both}]\n")
    credentials = "{application_id: ACME_APP, username: ACME_USER, password: %s}"
    _project(
        tmp_path,
        f"""\
        crmconf: 1
        tenants:
          - {{name: acme, target: "24so://", config: crm.yaml,
              credentials: {credentials % "ACME_PASSWORD"}}}
          - {{name: initech, target: "24so://", config: crm.yaml,
              credentials: {credentials % "INITECH_PASSWORD"}}}
          - {{name: globex, target: "24so://", config: crm.yaml,
              credentials: {credentials % "GLOBEX_PASSWORD"}}}
        """,
    )

    result = cli("plan", "--all", "--project", tmp_path / "crmconf.yaml")

    rows = _summary(result.stdout)
    assert rows["acme"][5] == "changes", result.output
    acme = result.stdout.split("== acme → 24so:// ==\n")[1]
    assert acme.startswith("24so:// → ")  # which client this tenant's plan is for, first
    assert rows["initech"][5].startswith("error:")  # its own, wrong, password: not the ambient
    assert "not-the-password" not in result.output
    assert (
        "error: tenant 'globex': credentials missing: set the environment variable "
        "GLOBEX_PASSWORD (password)"
    ) in result.stdout


def test_load_project_resolves_paths_against_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = _project(
        tmp_path / "repo",
        "crmconf: 1\ntenants:\n  - {name: a, target: 'sqlite:///a.db', config: crm, "
        "env: prod, vars: a.vars.yaml, credentials: {password: A_DB_PASSWORD}}\n",
    )

    (tenant,) = load_project(project).tenants

    assert tenant.config == tmp_path / "repo/crm"
    assert tenant.variables_file == tmp_path / "repo/a.vars.yaml"
    assert (tenant.environment, dict(tenant.credentials)) == ("prod", {"password": "A_DB_PASSWORD"})


# Waves: roll out a few tenants first, the rest only once those are clean


def _wave_project(tmp_path: Path, waves: str) -> Path:
    for name in ("pilot", "b", "c"):
        init_sandbox(_url(tmp_path, name), demo=True)
    shutil.copy(SEED, tmp_path / "seed.yaml")
    tenants = "".join(
        f'  - {{name: {name}, target: "{_url(tmp_path, name)}", config: seed.yaml}}\n'
        for name in ("pilot", "b", "c")
    )
    return _project(tmp_path, f"crmconf: 1\ntenants:\n{tenants}waves: {waves}\n")


def _hold_lock(url: str) -> None:
    import socket
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "INSERT INTO crmconf_lock VALUES ('target', 'anna', ?, 1, 'apply', '2099-01-01T00:00:00Z')",
            (socket.gethostname(),),
        )


def _release_lock(url: str) -> None:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM crmconf_lock")


def test_waves_roll_out_in_order_and_stop_at_a_failed_wave_then_resume(
    cli: Cli, tmp_path: Path
) -> None:
    project = _wave_project(tmp_path, "[[pilot], rest]")
    _hold_lock(_url(tmp_path, "pilot"))

    stopped = cli("apply", "--all", "--waves", "--project", project, "--yes")

    assert stopped.exit_code == 1, stopped.output
    assert "Wave 1 (pilot): stopped —" in stopped.stdout
    assert "pilot: error: the target is locked by anna" in stopped.stdout
    assert "Not started: b, c." in stopped.stdout
    rows = _summary(stopped.stdout.split("\n\nWave 1")[0])
    assert rows["b"][5] == "changes" and rows["c"][5] == "changes"  # untouched

    _release_lock(_url(tmp_path, "pilot"))
    resumed = cli("apply", "--all", "--waves", "--project", project, "--yes")

    assert resumed.exit_code == 0, resumed.output
    assert "Wave 1 (pilot): applied, and planned again with no changes." in resumed.stdout
    assert "Wave 2 (b, c): applied, and planned again with no changes." in resumed.stdout
    again = cli("plan", "--all", "--project", project, "--detailed-exitcode")
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize(
    ("waves", "message"),
    [
        ("[[pilot, nobody], rest]", "wave 1 names tenant 'nobody', which is not in tenants:"),
        ("[[pilot], [pilot, b], rest]", "tenant 'pilot' is in two waves"),
        ("[[pilot], [b]]", "the waves miss tenants: c"),
        ("[[pilot], rest, rest]", "'rest' is given twice"),
    ],
)
def test_a_bad_wave_list_is_a_located_error_and_nothing_is_applied(
    cli: Cli, tmp_path: Path, waves: str, message: str
) -> None:
    project = _wave_project(tmp_path, waves)

    result = cli("apply", "--all", "--waves", "--project", project, "--yes")

    assert result.exit_code == 1
    assert f"{project}:" in result.stderr and message in result.stderr
    plans = cli("plan", "--all", "--project", project)
    assert plans.exit_code == 1  # the project file is refused for every command
    no_waves = _project(tmp_path, project.read_text().split("waves:")[0])
    assert "names no waves" in cli("apply", "--all", "--waves", "--project", no_waves).stderr


# User aliases: a shared configuration names users the same way for every tenant


def _alias_project(tmp_path: Path, second_users: str) -> Path:
    (tmp_path / "shared.yaml").write_text(
        "crmconf: 1\ngroups:\n  - name: Säljare\n    type: sales\n    members: [lead, second]\n"
    )
    for name in ("one", "two"):
        init_sandbox(_url(tmp_path, name), demo=True, reset=True)
    return _project(
        tmp_path,
        f"""\
        crmconf: 1
        tenants:
          - name: one
            target: "{_url(tmp_path, "one")}"
            config: shared.yaml
            users: {{lead: anna@example.com, second: erik@example.com}}
          - name: two
            target: "{_url(tmp_path, "two")}"
            config: shared.yaml
            users: {second_users}
        """,
    )


def _members(url: str) -> list[str]:
    from crmconf import api
    from crmconf.kinds import GROUPS

    with api.open_target(url) as target:
        (group,) = [i for i in target.read([GROUPS]).of(GROUPS) if i.name == "Säljare"]
    return list(group.fields["members"])


def test_each_tenant_maps_the_shared_aliases_to_its_own_users(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "two-users.yaml").write_text("lead: maria@example.com\nsecond: lisa@example.com\n")
    project = _alias_project(tmp_path, "two-users.yaml")
    plans = tmp_path / "plans"

    planned = cli("plan", "--all", "--project", project, "-o", plans)
    applied = cli("apply", "--all", "--project", project, "--plans", plans, "--yes")

    assert planned.exit_code == 0, planned.output
    assert applied.exit_code == 0, applied.output
    assert _members(_url(tmp_path, "one")) == ["anna@example.com", "erik@example.com"]
    assert _members(_url(tmp_path, "two")) == ["lisa@example.com", "maria@example.com"]


def test_an_alias_a_tenant_does_not_map_is_a_located_error_naming_it(
    cli: Cli, tmp_path: Path
) -> None:
    project = _alias_project(tmp_path, "{lead: maria@example.com}")

    result = cli("plan", "--all", "--project", project)

    assert result.exit_code == 1
    shared = tmp_path / "shared.yaml"
    assert (
        f"error: {shared}:3:5: group 'Säljare': tenant 'two' maps no user alias 'second'"
        in result.stdout
    )
    assert _summary(result.stdout)["one"][5] == "changes"
    bad_file = _alias_project(tmp_path, "missing.yaml")
    refused = cli("plan", "--all", "--project", bad_file)
    assert refused.exit_code == 1
    assert "cannot read the users file" in refused.stderr


def test_plan_all_shows_each_tenants_pipeline_impact(cli: Cli, repository: Path) -> None:
    result = cli("plan", "--all", "--project", repository / "crmconf.yaml")

    acme = result.stdout.split("== acme →")[1].split("== broken")[0]
    assert "Pipeline impact (weighted: open opportunities × stage probability):" in acme


def test_drift_all_reports_every_tenant_and_exits_2_on_drift(
    cli: Cli, repository: Path, tmp_path: Path
) -> None:
    project = repository / "crmconf.yaml"

    drift = cli("drift", "--all", "--project", project)
    page = cli(
        "drift", "--all", "--project", project, "--format", "html", "-o", tmp_path / "d.html"
    )

    assert drift.exit_code == 1  # two tenants fail; the third drifted
    assert _summary(drift.stdout)["acme"][5] == "drift"
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert "<title>crmconf drift --all</title>" in html
    assert '<tr data-status="drift" data-tenant="acme">' in html
    assert page.exit_code == 1
    document = json.loads(cli("drift", "--all", "--project", project, "--format", "json").stdout)
    assert {t["name"]: t["status"] for t in document["tenants"]}["acme"] == "drift"
    alone = cli("drift", "--format", "html", "--project", project)
    assert alone.exit_code == 1 and "give them with --all" in alone.stderr
