"""End to end through the `crmconf` command against the fake 24SevenOffice server.

The fake's CRMCONF_24SO_* variables are set with monkeypatch, exactly as a user
sets them in a shell, and the command runs with `--target 24so://`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.targets.twentyfour import TwentyFourClient, credentials_from_env
from crmconf.testing import FakeGroup, FakeGroupMember, FakeTwentyFour

Cli = Callable[..., Result]
CANARY = "canary-Pa55word-e2e-4d1b"

FULL = """\
crmconf: 1
customer_info:
  show_as_tab: true
  contact_origins: [Mässa]
  products: [Ekonomi, Lön]
  sources: [Google]
categories:
  - {name: VIP, show_on: both}
  - {name: Partner, show_on: both}
  - {name: Newsletter, show_on: contact}
  - {name: Reseller, show_on: customer}
groups:
  - name: Sales
    type: 1
    description: Alla säljare
    members: [101]
    children:
      - {name: Sales Oslo, type: standard, members: [102]}
      - {name: Sales Bergen, type: standard}
  - {name: Support, type: 2, members: [103]}
  - {name: Marketing, type: standard, members: [101, 103]}
industries: [Consulting, Manufacturing, Public sector, Handel]
status_types: [Lead, Prospect, Customer, Former customer]
removed:
  industries: [{name: Retail, move_customers_to: Consulting}]
sales:
  rejection_reasons: [Pris, Gått till konkurrent]
  types: [Nyförsäljning]
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Möte, probability: 40, status: open}
    - {title: Vunnen, probability: 100, status: closed_won}
    - {title: Förlorad, probability: 0, status: closed_lost, rejection_reason: Pris}
features:
  restore_customers: true
"""
NO_API_ITEMS = (
    "customer_info.show_as_tab",
    "Mässa",
    "Ekonomi",
    "Lön",
    "Google",
    "Pris",
    "Gått till konkurrent",
    "Nyförsäljning",
    "Steg 1 Telefonsamtal",
    "Steg 2 Möte",
    "Vunnen",
    "Förlorad",
    "features.restore_customers",
    "Alla säljare",  # a group description: the API has none
)


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    """The fake, with its variables in the environment (and quick, bounded retries)."""
    with FakeTwentyFour(password=CANARY) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CRMCONF_24SO_RETRIES", "1")
        monkeypatch.setenv("CRMCONF_TARGET", "24so://")
        yield server


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def write_config(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write_config


def _error_line(result: Result) -> str:
    """The command failed with exactly one `error:` line and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    return errors[0]


# The whole workflow


def test_plan_apply_manual_steps_then_plan_is_empty(
    cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    path = write(FULL)

    planned = cli("plan", path, "--target", "24so://", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert crm.write_calls() == []
    for item in NO_API_ITEMS:  # every item crmconf cannot see is listed to check by hand
        assert item in planned.stdout, item
    assert '+ "Reseller"\n' in planned.stdout and "(manual step)" in planned.stdout

    applied = cli("apply", path, "--target", "24so://", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Applied. 1 to add, 1 to change, 0 to delete." in applied.stdout
    steps = applied.stdout.split("Applied.")[1]
    assert "once 'crmconf apply' has moved what uses 'Retail' to 'Consulting'" in steps
    assert "Grupper: click Ny, enter" in steps
    assert "Medlemmar: 101 Kari Nordmann, 103 Ingrid Berg;" in steps  # who, not only a number
    assert "Branscher: click Ny, enter" in steps
    assert crm.count("SaveCategories") == 1 and crm.count("SaveCompanies") == 1

    # The person does the manual steps in the CRM (here: in the fake's data).
    data = crm.data
    del data.industries[2]
    data.industries[5] = "Handel"
    data.groups.append(
        FakeGroup(
            5,
            "Marketing",
            members=[
                FakeGroupMember(101, "Kari", "Nordmann"),
                FakeGroupMember(103, "Ingrid", "Berg"),
            ],
        )
    )

    again = cli("plan", path, "--target", "24so://", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    assert "stages not compared" in again.stdout  # what crmconf cannot see stays listed


def test_export_then_plan_is_empty(cli: Cli, crm: FakeTwentyFour, tmp_path: Path) -> None:
    exported = tmp_path / "exported.yaml"

    result = cli("export", "--target", "24so://", "-o", exported)
    planned = cli("plan", exported, "--target", "24so://", "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout and "warning" not in planned.output
    text = exported.read_text(encoding="utf-8")
    assert "type: 1" in text and '- "101"' in text
    assert crm.write_calls() == []


def test_plan_and_validate_never_write_and_read_only_what_they_need(
    cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    full = write(FULL)
    categories = write("crmconf: 1\ncategories: [{name: VIP, show_on: both}]\n", "cats.yaml")
    stages = write(
        "crmconf: 1\nsales:\n  stages: [{title: A, probability: 10, status: open}]\n", "st.yaml"
    )

    assert cli("validate", full).exit_code == 0
    assert crm.calls == []
    assert cli("plan", full, "--target", "24so://", "--format", "json").exit_code == 0
    assert crm.write_calls() == []

    crm.reset_calls()
    assert cli("plan", categories, "--target", "24so://").exit_code == 0
    # GetClientInformation: the client named at the top of the plan.
    assert set(crm.operations()) == {"Login", "GetCategories", "GetClientInformation"}

    crm.reset_calls()
    only_stages = cli("plan", stages, "--target", "24so://", "--detailed-exitcode")
    assert only_stages.exit_code == 0, only_stages.output
    assert crm.calls == []  # nothing the API can read is managed: not even a login


def test_plan_json_lists_the_checks_and_manual_steps(
    cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    result = cli("plan", write(FULL), "--target", "24so://", "--format", "json")

    document = json.loads(result.stdout)
    assert any("sales.stages not compared" in warning for warning in document["warnings"])
    assert document["manual_steps"] and document["summary"]["create"] == 3


def test_the_password_never_shows(
    cli: Cli,
    crm: FakeTwentyFour,
    write: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(FULL)
    saved = tmp_path / "plan.json"
    exported = tmp_path / "exported.yaml"
    crm.inject_fault(f"Invalid password {CANARY}", operation="GetUsers")
    results = [
        cli("plan", path, "--target", "24so://"),  # the fault, echoing the password
        cli("plan", path, "--target", "24so://", "--format", "json", "-o", saved),
        cli("apply", saved, "--yes"),
        cli("export", "--target", "24so://", "-o", exported),
        cli("24so", "users"),
    ]
    monkeypatch.setenv("CRMCONF_24SO_PASSWORD", CANARY + "-wrong")
    results.append(cli("plan", path, "--target", "24so://"))

    assert results[0].exit_code == 1 and "Invalid password ***" in results[0].stderr
    assert [r.exit_code for r in results[1:5]] == [0, 0, 0, 0], [r.output for r in results]
    assert results[5].exit_code == 1
    for result in results:
        assert CANARY not in result.stdout + result.stderr
    for file in (saved, exported):
        assert CANARY not in file.read_text(encoding="utf-8")
    assert json.loads(saved.read_text(encoding="utf-8"))["saved"]["target"] == "24so://"


# Errors: one line, exit 1, no traceback, bounded retries


def test_bad_credentials(cli: Cli, crm: FakeTwentyFour, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMCONF_24SO_PASSWORD", "wrong")

    line = _error_line(cli("export", "--target", "24so://"))

    assert "refused the login" in line and "CRMCONF_24SO_PASSWORD" in line


def test_missing_credentials(
    cli: Cli, crm: FakeTwentyFour, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRMCONF_24SO_USERNAME")

    line = _error_line(cli("export", "--target", "24so://"))

    assert "CRMCONF_24SO_USERNAME" in line


def test_unreachable_host(
    cli: Cli, crm: FakeTwentyFour, monkeypatch: pytest.MonkeyPatch, write: Callable[[str], Path]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("CRMCONF_24SO_URL", f"http://127.0.0.1:{closed_port}")

    line = _error_line(cli("plan", write(FULL), "--target", "24so://"))

    assert "cannot connect" in line and "gave up after 2 attempts" in line


def test_a_refused_connection_warns_once_per_request_and_sums_up(
    crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    environ = {
        **os.environ,
        "CRMCONF_24SO_URL": f"http://127.0.0.1:{closed_port}",
        "CRMCONF_24SO_RETRIES": "2",
    }

    result = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(write(FULL)), "--target", "24so://"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    retrying = [line for line in lines if "retrying" in line]
    # Login is the first request of each of the reads' clients: at most one line each,
    # never one line per attempt.
    assert 1 <= len(retrying) <= 6, result.stderr
    assert not [line for line in lines if "retry 2 of" in line], result.stderr
    summary = [line for line in lines if "retried" in line and "in all" in line]
    assert len(summary) == 1, result.stderr
    assert lines[-1].startswith("error:") and "gave up after 3 attempts" in lines[-1]


def test_soap_fault(cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]) -> None:
    crm.inject_fault("Object reference not set to an instance of an object.", count=None)

    line = _error_line(cli("plan", write(FULL), "--target", "24so://"))

    assert "SOAP fault" in line and "Object reference not set" in line


def test_a_server_that_trickles_its_answer_runs_into_the_timeout(
    cli: Cli,
    crm: FakeTwentyFour,
    write: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRMCONF_24SO_TIMEOUT", "1")
    monkeypatch.setenv("CRMCONF_24SO_RETRIES", "0")
    crm.trickle_answers(0.1, count=None, operation="GetCategories", from_status_line=True)
    started = time.monotonic()

    line = _error_line(cli("plan", write(FULL), "--target", "24so://"))

    assert "GetCategories" in line and "did not arrive completely within 1 s" in line
    assert time.monotonic() - started < 5.0


def test_server_errors_are_retried_a_bounded_number_of_times(
    cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    crm.inject_http_error(503, count=None, operation="GetCategories")

    line = _error_line(cli("plan", write(FULL), "--target", "24so://"))

    assert "HTTP 503" in line
    assert crm.count("GetCategories") == 2  # CRMCONF_24SO_RETRIES=1: one retry, then stop


def test_a_failed_apply_says_what_was_done(
    cli: Cli, crm: FakeTwentyFour, write: Callable[[str], Path]
) -> None:
    path = write(FULL)
    crm.inject_api_exception(
        "Company is locked",
        company_id=min(c.id for c in crm.data.companies.values() if c.industry_id == 2),
    )

    result = cli("apply", path, "--target", "24so://", "--yes")

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: apply stopped part-way" in result.stderr
    assert "done: categories: created 'Reseller' and updated 'Partner'" in result.stderr
    assert "not done: industry 'Retail' → 'Consulting': 1 of 3 customers not moved" in result.stderr
    rerun = cli("apply", path, "--target", "24so://", "--yes")
    assert rerun.exit_code == 0, rerun.output
    assert "Applied." in rerun.stdout and crm.count("SaveCategories") == 1
    assert 2 not in {c.industry_id for c in crm.data.companies.values()}


def test_the_readme_example_plans_empty_after_its_manual_steps(
    cli: Cli, crm: FakeTwentyFour
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "24sevenoffice.yaml"

    applied = cli("apply", example, "--yes")
    del crm.data.industries[2]  # the two manual steps of README's runbook example
    crm.data.groups.append(
        FakeGroup(
            5,
            "Marketing",
            members=[
                FakeGroupMember(101, "Kari", "Nordmann"),
                FakeGroupMember(103, "Ingrid", "Berg"),
            ],
        )
    )
    again = cli("plan", example, "--detailed-exitcode")

    assert applied.exit_code == 0, applied.output
    assert [c.operation for c in crm.write_calls()] == ["SaveCategories", "SaveCompanies"]
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout and "sales.stages not compared" in again.stdout


# The fake, run by hand


def test_the_fake_runs_by_hand_and_prints_its_variables() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crmconf.testing.fake24so", "--seconds", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        environ = {}
        for line in lines:
            assert line.startswith("export CRMCONF_"), lines
            name, _, value = line.removeprefix("export ").strip().partition("=")
            environ[name] = value
        assert environ["CRMCONF_TARGET"] == "24so://"
        client = TwentyFourClient(environ["CRMCONF_24SO_URL"], credentials_from_env(environ))
        with client:
            assert client.categories()
    finally:
        process.terminate()  # SIGTERM: the fake stops cleanly
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors and "RuntimeWarning" not in errors


def test_users_as_aliases_is_a_starting_map_a_tenant_can_use(cli: Cli, crm: FakeTwentyFour) -> None:
    from crmconf.testing._fake24so_state import FakeUser

    crm.data.users.append(FakeUser(104, "Kari Berg", "3f2b1c4d-0000-4000-8000-000000000104"))

    result = cli("24so", "users", "--format", "aliases")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "users:",
        "  ingrid: 103",
        "  kari: 104",
        "  kari-2: 101",
        "  ola: 102",
    ]
