"""The PostgreSQL state backend ($CRMCONF_STATE): locks and history for API targets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf import api
from crmconf.errors import TargetError
from crmconf.model.kind import Kind
from crmconf.model.state import State
from crmconf.planning.changes import Plan
from crmconf.targets.base import Target
from crmconf.targets.capabilities import Capabilities
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.state_backend import StateBackend
from crmconf.testing import FakeTwentyFour
from tests import postgres
from tests.conftest import ROOT

Cli = Callable[..., Result]
Write = Callable[..., Path]

CATEGORY = "crmconf: 1\ncategories: [{name: Partner, show_on: both}]\n"


class ApiTarget(Target):
    """A target that keeps no history of its own, as the 24SevenOffice API."""

    def __init__(self, url: str, failure: str = "", during: Callable[[], None] | None = None):
        self.url = url
        self.actor = "ci-runner-1"
        self.failure = failure
        self.during = during or (lambda: None)
        self.applied: list[Plan] = []

    def capabilities(self) -> Capabilities:
        return Capabilities.everything(features=frozenset())

    def read(self, kinds: Iterable[Kind]) -> State:
        return State({kind.name: () for kind in kinds}, frozenset())

    def apply(self, plan: Plan) -> None:
        self.during()
        if self.failure:
            raise TargetError(self.failure)
        self.applied.append(plan)


@pytest.fixture
def state_url(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRMCONF_STATE", postgres_url)
    return postgres_url


@pytest.fixture
def state(state_url: str) -> Iterator[StateBackend]:
    with StateBackend.open(state_url) as opened:
        yield opened


def _plan(write_config: Write, target: Target) -> Plan:
    return api.plan(write_config(CATEGORY), target)


def test_an_apply_holds_the_targets_lock_and_is_recorded(
    state: StateBackend, write_config: Write
) -> None:
    seen: list[str] = []

    def try_the_lock() -> None:
        with pytest.raises(TargetError) as refused:  # noqa: SIM117 - raises wraps the lock
            with state.lock("24so://1", holder="anna", command="apply", timeout=0):
                pass
        seen.append(str(refused.value))

    target = ApiTarget("24so://1", during=try_the_lock)

    api.apply(_plan(write_config, target), target)

    assert len(target.applied) == 1
    assert seen and "24so://1 (lock in " in seen[0]
    assert "is locked by ci-runner-1 (apply, pid" in seen[0]
    assert "--lock-timeout" in seen[0]
    (entry,) = state.history("24so://1")
    assert (entry.actor, entry.command, entry.outcome) == ("ci-runner-1", "apply", "applied")
    assert entry.summary == "Plan: 1 to add, 0 to change, 0 to delete."
    assert [change["key"] for change in entry.changes] == ["Partner"]
    assert entry.config_digest
    with state.lock("24so://1", holder="anna", command="apply", timeout=0):
        pass  # released after the apply


def test_a_failed_apply_is_recorded_as_failed_and_still_raised(
    state: StateBackend, write_config: Write
) -> None:
    target = ApiTarget("24so://1", failure="apply stopped part-way: done: categories")

    with pytest.raises(TargetError, match="stopped part-way"):
        api.apply(_plan(write_config, target), target)

    (entry,) = state.history()
    assert entry.outcome == "failed"
    assert entry.error == "apply stopped part-way: done: categories"


def test_a_target_keeping_its_own_history_leaves_the_backend_alone(
    state_url: str, tmp_path: Path, write_config: Write
) -> None:
    with api.open_target(init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")) as sandbox:
        api.apply(_plan(write_config, sandbox), sandbox)
    assert "crmconf_state_history" not in postgres.tables(state_url)


def test_without_the_variable_nothing_is_recorded(
    postgres_url: str, write_config: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRMCONF_STATE", raising=False)
    target = ApiTarget("24so://1")

    api.apply(_plan(write_config, target), target)

    assert target.applied
    assert "crmconf_state_history" not in postgres.tables(postgres_url)


def test_history_is_per_target_newest_first(state: StateBackend) -> None:
    for target, summary in [("24so://1", "first"), ("24so://2", "other"), ("24so://1", "second")]:
        state.record(
            target, command="apply", actor="a", outcome="applied", summary=summary, changes=[]
        )

    assert [entry.summary for entry in state.history("24so://1")] == ["second", "first"]
    assert [entry.summary for entry in state.history()] == ["second", "other", "first"]


def test_a_waiting_apply_gets_the_lock_once_it_is_released_and_others_are_free(
    state: StateBackend, state_url: str
) -> None:
    taken = threading.Event()

    def hold_briefly() -> None:
        with (
            StateBackend.open(state_url) as other,
            other.lock("24so://1", holder="erik", command="apply", timeout=0),
        ):
            taken.set()
            time.sleep(0.6)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    assert taken.wait(10)
    with state.lock("24so://2", holder="anna", command="apply", timeout=0):
        pass  # another target is not locked
    started = time.monotonic()
    with state.lock("24so://1", holder="anna", command="apply", timeout=10):
        waited = time.monotonic() - started
    holder.join(10)
    assert 0.2 < waited < 5


def test_a_holder_that_is_killed_releases_its_lock_at_once(
    state: StateBackend, state_url: str
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from crmconf.targets.state_backend import StateBackend
                backend = StateBackend.open({state_url!r})
                with backend.lock("24so://1", holder="crashing", command="apply", timeout=0):
                    print("held", flush=True)
                    time.sleep(60)
                """
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(TargetError, match="locked by crashing"),
            state.lock("24so://1", holder="anna", command="apply", timeout=0),
        ):
            pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)

    with state.lock("24so://1", holder="anna", command="apply", timeout=10):
        rows = postgres.rows(state_url, "SELECT holder FROM crmconf_state_lock")
    assert rows == [("anna",)]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///state.db", "the state backend needs PostgreSQL"),
        ("not a url", "is not a database URL"),
        ("postgresql://nobody:secret@127.0.0.1:1/none", "cannot open the state backend"),
    ],
)
def test_a_backend_that_cannot_be_used_is_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(TargetError, match=message) as refused:
        StateBackend.open(url)
    assert "secret" not in str(refused.value)


def test_the_24sevenoffice_target_applies_under_the_backend(
    cli: Cli, state_url: str, write_config: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    config = write_config(
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: both}\n"
        "  - {name: Reseller, show_on: customer}\n"
    )
    with FakeTwentyFour() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        result = cli("apply", config, "--target", "24so://", "--yes", "--actor", "runner-7")

    assert result.exit_code == 0, result.output
    with StateBackend.open(state_url) as opened:
        (entry,) = opened.history()
    assert (entry.target, entry.actor, entry.outcome) == ("24so://", "runner-7", "applied")
    # `crmconf history` answers for the API target from the backend.
    with FakeTwentyFour() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        shown = cli("history", "--target", "24so://")
        as_json = cli("history", "--target", "24so://", "--format", "json")
        assert fake.calls == [], "reading the history must not call the API"
    assert shown.exit_code == 0, shown.output
    assert "runner-7" in shown.stdout and "apply" in shown.stdout
    assert f"{entry.summary} [applied]" in shown.stdout
    document = json.loads(as_json.stdout)
    assert [listed["target"] for listed in document["entries"]] == ["24so://"]
    assert document["entries"][0]["changes"] == entry.changes
    assert {"Partner", "Reseller"} <= {change["key"] for change in entry.changes}


def test_history_of_an_api_target_shows_failures_and_needs_the_backend(
    cli: Cli, state: StateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.record(
        "24so://",
        command="apply",
        actor="runner-2",
        outcome="failed",
        summary="Plan: 1 to add, 0 to change, 0 to delete.",
        changes=[],
        error="apply stopped part-way: done: categories",
    )
    state.record("24so://9", command="apply", actor="x", outcome="applied", summary="s", changes=[])
    with FakeTwentyFour() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        shown = cli("history", "--target", "24so://")
        monkeypatch.delenv("CRMCONF_STATE")
        refused = cli("history", "--target", "24so://")
    assert shown.exit_code == 0, shown.output
    assert "[failed]" in shown.stdout
    assert "error: apply stopped part-way: done: categories" in shown.stdout
    assert "24so://9" not in shown.stdout and " x " not in shown.stdout  # another target's
    assert refused.exit_code == 1
    assert "keeps no history of its own" in refused.stderr
    assert "CRMCONF_STATE" in refused.stderr
    assert "Traceback" not in refused.output
