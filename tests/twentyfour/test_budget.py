"""The vendor's rate limit: the quarantine fault, the machine's request budget, request counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.errors import TargetError
from crmconf.targets.twentyfour.budget import OverBudget, Quarantined, RequestBudget
from crmconf.testing import FakeTwentyFour

from .support import ClientFactory

Cli = Callable[..., Result]
CONFIG = (
    "crmconf: 1\ncategories: [{name: VIP, show_on: both}]\n"
    "industries: [Consulting, Retail, Manufacturing, Public sector]\n"
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    with FakeTwentyFour() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CRMCONF_24SO_RETRIES", "3")
        yield server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


# The quarantine fault


def test_the_quarantine_fault_stops_at_once_and_says_until_when(
    fake: FakeTwentyFour, make_client: ClientFactory, tmp_path: Path
) -> None:
    budget = RequestBudget(tmp_path / "budget.json")
    client = make_client(budget=budget)
    client.login()
    fake.request_limit = 1  # the login was the last request allowed this hour
    fake.reset_calls()

    with pytest.raises(Quarantined, match=r"blocks requests from this machine until about \d\d:00"):
        client.categories()

    # No retry, no session probe (HasSession) into the quarantine: one request only.
    assert fake.operations() == ["GetCategories"]
    with pytest.raises(Quarantined, match="Quarantine ends at"):
        client.statuses()  # remembered: not even sent
    assert fake.operations() == ["GetCategories"]


def test_a_quarantine_seen_by_one_process_stops_the_others(
    crm: FakeTwentyFour, config: Path, cli: Cli
) -> None:
    crm.request_limit = 0

    first = cli("plan", config, "--target", "24so://")
    assert first.exit_code == 1 and "blocks requests from this machine" in first.stderr
    sent = len(crm.calls)
    assert sent <= 6  # each concurrent read's login at most once: never retried

    second = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(config), "--target", "24so://"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert second.returncode == 1 and "blocks requests from this machine" in second.stderr
    assert "Traceback" not in second.stderr
    assert len(crm.calls) == sent  # the second process sent nothing


# The machine's budget


def test_the_budget_refuses_with_the_numbers_when_told_not_to_wait(tmp_path: Path) -> None:
    clock = Clock()
    budget = RequestBudget(tmp_path / "b.json", 3, wait=False, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.take()

    with pytest.raises(OverBudget, match=r"3 of 3 requests in the last hour.*room at \d\d:\d\d"):
        budget.take()
    assert budget.used() == 3 and clock.slept == []


def test_the_budget_waits_for_room_with_a_progress_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    budget = RequestBudget(tmp_path / "b.json", 2, clock=clock, sleep=clock.sleep)
    budget.take()
    clock.now += 600
    budget.take()

    budget.take()  # room comes when the first request leaves the hour

    assert 2990 <= sum(clock.slept) <= 3060
    progress = [r.getMessage() for r in caplog.records if "budget used up" in r.getMessage()]
    assert 1 <= len(progress) <= len(clock.slept)
    assert len(progress) <= 3000 / 60 + 1  # at most one line a minute
    assert budget.used() == 2


def test_two_budgets_on_one_file_share_the_count(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "shared.json"
    first = RequestBudget(path, 4, wait=False, clock=clock)
    second = RequestBudget(path, 4, wait=False, clock=clock)
    first.take()
    second.take()
    first.take()
    second.take()

    with pytest.raises(OverBudget):
        first.take()
    assert json.loads(path.read_text(encoding="utf-8"))["minutes"] == {str(int(clock.now // 60)): 4}


def test_processes_share_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    script = (
        "import sys; from pathlib import Path\n"
        "from crmconf.targets.twentyfour.budget import RequestBudget\n"
        "budget = RequestBudget(Path(sys.argv[1]), 1000, wait=False)\n"
        "for _ in range(50): budget.take()\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(4)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0, 0]

    assert RequestBudget(path, 1000).used() == 200  # no count lost to a race


def test_bad_budget_settings_are_clear_errors(
    crm: FakeTwentyFour, config: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMCONF_24SO_BUDGET", "9000")
    too_high = cli("plan", config, "--target", "24so://")
    assert too_high.exit_code == 1 and "from 1 to 7200" in too_high.stderr

    monkeypatch.setenv("CRMCONF_24SO_BUDGET", "100")
    monkeypatch.setenv("CRMCONF_24SO_OVER_BUDGET", "maybe")
    bad_mode = cli("plan", config, "--target", "24so://")
    assert bad_mode.exit_code == 1 and "must be wait or refuse" in bad_mode.stderr
    assert crm.calls == []


def test_a_run_over_budget_refuses_before_sending_more(
    crm: FakeTwentyFour, config: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMCONF_24SO_BUDGET", "3")
    monkeypatch.setenv("CRMCONF_24SO_OVER_BUDGET", "refuse")

    result = cli("plan", config, "--target", "24so://")

    assert result.exit_code == 1
    assert "request budget used up: 3 of 3" in result.stderr
    assert len(crm.calls) == 3


# Every run reports its requests


def test_plan_reports_its_requests_in_text_and_json(
    crm: FakeTwentyFour, config: Path, cli: Cli
) -> None:
    text = cli("plan", config, "--target", "24so://")
    assert text.exit_code == 0, text.output
    made = len(crm.calls)
    assert f"24SevenOffice: {made} API request(s) this run; {made} of 6000" in text.stderr

    crm.reset_calls()
    as_json = cli("plan", config, "--target", "24so://", "--format", "json")
    document = json.loads(as_json.stdout)
    assert document["target"]["api_requests"] == len(crm.calls) > 0
    assert document["target"]["account"].startswith("24so:// → Demo AS (org 912345678)")


def test_apply_reports_its_requests(crm: FakeTwentyFour, config: Path, cli: Cli) -> None:
    result = cli("apply", config, "--target", "24so://", "--yes")

    assert result.exit_code == 0, result.output
    assert f"24SevenOffice: {len(crm.calls)} API request(s) this run" in result.stderr


def test_a_client_without_a_budget_still_stops_at_the_quarantine(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client()
    client.login()
    fake.request_limit = 1

    with pytest.raises(TargetError, match="Quarantine ends at"):
        client.industries()
    assert fake.count("GetIndustries") == 1 and fake.count("HasSession") == 0


def test_machines_sharing_a_state_backend_share_one_budget(
    tmp_path: Path, postgres_url: str
) -> None:
    # Two machines: each its own budget file, one state backend between them.
    clock = Clock()
    first = RequestBudget(tmp_path / "a.json", 3, wait=False, clock=clock, shared=postgres_url)
    second = RequestBudget(tmp_path / "b.json", 3, wait=False, clock=clock, shared=postgres_url)

    first.take()
    second.take()
    first.take()
    with pytest.raises(OverBudget, match=r"3 of 3 requests in the last hour \(the state backend"):
        second.take()

    assert first.used() == second.used() == 3
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "b.json").exists()
    second.quarantine("Limit exceeded by 1. Request is blocked.")
    with pytest.raises(Quarantined):
        first.take()


def test_the_budget_is_kept_in_the_state_backend_when_it_is_set(
    tmp_path: Path, postgres_url: str
) -> None:
    budget = RequestBudget.from_env(
        {"CRMCONF_STATE": postgres_url, "CRMCONF_24SO_BUDGET_FILE": str(tmp_path / "x.json")}
    )
    budget.take()
    assert budget.where == "the state backend ($CRMCONF_STATE)"
    assert budget.used() == 1


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe{}", b"[" * 100_000, b" " * (2 * 1024 * 1024)],
    ids=["not UTF-8", "nested past recursion", "larger than any budget"],
)
def test_a_damaged_budget_file_is_counted_afresh_not_a_hang(
    crm: FakeTwentyFour, config: Path, tmp_path: Path, damage: bytes
) -> None:
    # Only a JSON syntax error was taken as a torn file: any other failure to read it
    # left the file locked by the thread that failed, and every other request of the
    # run waited on that lock for ever.
    path = tmp_path / "budget.json"
    path.write_bytes(damage)
    environment = {**os.environ, "CRMCONF_24SO_BUDGET_FILE": str(path)}

    run = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(config), "--target", "24so://"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert RequestBudget(path, 1000).used() == crm.count()


@pytest.mark.parametrize("kind", ["a FIFO", "a device"])
def test_a_budget_file_that_is_not_a_regular_file_is_a_clear_error(
    crm: FakeTwentyFour, config: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "budget.json"
    if kind == "a FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    environment = {**os.environ, "CRMCONF_24SO_BUDGET_FILE": str(path)}

    run = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(config), "--target", "24so://"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )

    assert run.returncode == 1, run.stderr
    assert f"cannot use {path}: not a regular file" in run.stderr
    assert "Traceback" not in run.stderr
    assert crm.calls == []
