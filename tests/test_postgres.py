"""The SQL sandbox on PostgreSQL: what differs from SQLite, checked with psycopg alone.

The rest of the suite runs every SQL-target test on PostgreSQL too (tests/conftest.py);
these are the tests whose SQLite versions read the file itself, and what only
PostgreSQL has: sequences, advisory locks, a session that dies with its process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import Result
from sqlalchemy import Engine, event

from crmconf.api import apply, load, plan
from crmconf.errors import TargetError
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.lock import held
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres
from tests.conftest import ROOT, SEED
from tests.test_sandbox import MANY_CREATES

Cli = Callable[..., Result]
Write = Callable[..., Path]

BOOKKEEPING = ("crmconf_history", "crmconf_lock", "crmconf_applied_names")
"""crmconf's own tables outside the undo log: an apply counts none of their rows."""
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def pg_demo_url(postgres_url: str) -> str:
    init_sandbox(postgres_url, demo=True)
    return postgres_url


def _data(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the lock and history, read with psycopg."""
    return {name: rows for name, rows in postgres.tables(url).items() if name not in BOOKKEEPING}


def test_a_plain_postgresql_url_opens_with_psycopg(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql://")
    init_sandbox(postgres_url)
    with SandboxTarget.open(postgres_url) as target:
        assert (target.engine.dialect.name, target.engine.dialect.driver) == (
            "postgresql",
            "psycopg",
        )
        assert target.url == postgres_url  # as given: no driver added, no password shown
    tables = set(postgres.tables(postgres_url))
    assert {"crmconf_meta", "crmconf_history", "crmconf_lock", "customers"} <= tables


def test_plan_and_export_never_write(cli: Cli, pg_demo_url: str) -> None:
    before = postgres.tables(pg_demo_url)

    planned = cli("plan", SEED, "--target", pg_demo_url)
    exported = cli("export", "--target", pg_demo_url)

    assert planned.exit_code == 0, planned.output
    assert exported.exit_code == 0, exported.output
    assert postgres.tables(pg_demo_url) == before


@contextmanager
def _failing_write(engine: Engine, number: int) -> Iterator[list[str]]:
    """Make the number-th write of the apply's transaction fail; yields the writes seen."""
    writes: list[str] = []

    def fail(*arguments: Any) -> None:
        statement: str = arguments[2]
        if statement.lstrip().upper().startswith(WRITES) and "crmconf_lock" not in statement:
            writes.append(statement)
            if len(writes) == number:
                raise psycopg.OperationalError(f"injected failure of write {number}")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", fail)


@pytest.mark.parametrize("config", [SEED, MANY_CREATES], ids=["seed", "many creates"])
def test_apply_is_all_or_nothing_whichever_write_fails(
    pg_demo_url: str, write_config: Write, config: Path | str
) -> None:
    path = config if isinstance(config, Path) else write_config(config)
    before = _data(pg_demo_url)
    with SandboxTarget.open(pg_demo_url) as target:
        result = plan(load(path), target)
        number = 0
        while True:  # fail the 1st write, then the 2nd, …, until one apply has none to fail
            number += 1
            try:
                with _failing_write(target.engine, number) as writes:
                    apply(result, target)
            except TargetError as error:
                assert f"injected failure of write {number}" in str(error)
                assert _data(pg_demo_url) == before, f"write {number} left a partial apply"
                continue
            break
    assert number == len(writes) + 1 > 10
    assert _data(pg_demo_url) != before


def test_rollback_after_re_inserting_explicit_ids_keeps_new_ids_apart(
    cli: Cli, pg_demo_url: str, write_config: Write
) -> None:
    # A row whose id the sequence never handed out, as data copied in from elsewhere has.
    (next_id,) = postgres.rows(pg_demo_url, "SELECT max(id) + 1 FROM industries")[0]
    postgres.rows(pg_demo_url, "INSERT INTO industries (id, name) VALUES (?, 'Kopierad')", next_id)
    without = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n", "without.yaml")
    assert cli("apply", without, "--target", pg_demo_url, "--yes").exit_code == 0
    assert cli("rollback", "1", "--target", pg_demo_url, "--yes").exit_code == 0
    assert ("Kopierad",) in postgres.rows(pg_demo_url, "SELECT name FROM industries")

    more = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Kopierad, Ny 1, Ny 2]\n", "more.yaml"
    )
    result = cli("apply", more, "--target", pg_demo_url, "--yes")

    assert result.exit_code == 0, result.output
    ids = dict(postgres.rows(pg_demo_url, "SELECT name, id FROM industries"))
    assert ids["Kopierad"] == next_id
    assert sorted([ids["Ny 1"], ids["Ny 2"]]) == [next_id + 1, next_id + 2]


def test_the_lock_is_an_advisory_lock_naming_its_holder(cli: Cli, pg_demo_url: str) -> None:
    locks = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    with SandboxTarget.open(pg_demo_url) as target:
        with held(target.engine, holder="erik", command="apply", timeout=0):
            assert postgres.rows(pg_demo_url, locks) == [(1,)]
            holder = postgres.rows(pg_demo_url, "SELECT holder, command FROM crmconf_lock")
            assert holder == [("erik", "apply")]
            blocked = cli("apply", SEED, "--target", pg_demo_url, "--yes")
            with (
                pytest.raises(TargetError, match="locked by erik"),
                held(target.engine, holder="anna", command="apply", timeout=0.3),
            ):
                pass
        assert postgres.rows(pg_demo_url, locks) == [(0,)]
        assert postgres.rows(pg_demo_url, "SELECT count(*) FROM crmconf_lock") == [(0,)]
    assert blocked.exit_code == 1
    assert "the target is locked by erik (apply, pid" in blocked.output


def _spawn(program: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(program)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_lock_whose_holder_is_killed_is_free_at_once(cli: Cli, pg_demo_url: str) -> None:
    # The row claims a holder on another host, whom no process check could find dead:
    # only the end of the holder's session can free it, and does at once.
    holder = _spawn(
        f"""
        import socket, time
        socket.gethostname = lambda: "elsewhere"
        from crmconf.targets.sandbox.lock import held
        from crmconf.targets.sandbox.target import SandboxTarget
        target = SandboxTarget.open({pg_demo_url!r})
        with held(target.engine, holder="crashing", command="apply", timeout=0):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        blocked = cli("apply", SEED, "--target", pg_demo_url, "--yes")
        assert "locked by crashing (apply, pid" in blocked.output
        assert "on elsewhere" in blocked.output
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)

    result = cli("apply", SEED, "--target", pg_demo_url, "--yes", "--lock-timeout", "10")
    assert result.exit_code == 0, result.output
    assert postgres.rows(pg_demo_url, "SELECT count(*) FROM crmconf_lock") == [(0,)]


def test_sandbox_init_reset_starts_anew(cli: Cli, pg_demo_url: str) -> None:
    assert cli("apply", SEED, "--target", pg_demo_url, "--yes").exit_code == 0

    again = cli("sandbox", "init", "--demo", "--reset", "--target", pg_demo_url)

    assert again.exit_code == 0, again.output
    assert postgres.rows(pg_demo_url, "SELECT count(*) FROM users") == [(5,)]
    names = postgres.rows(pg_demo_url, "SELECT id, name FROM industries ORDER BY id")
    assert names == [(1, "Bygg"), (2, "Data/IT"), (3, "Turism")]
    assert postgres.rows(pg_demo_url, "SELECT count(*) FROM crmconf_history") == [(0,)]


def test_an_unreachable_server_is_an_error_without_a_traceback(cli: Cli) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"

    result = cli("plan", SEED, "--target", url)

    assert result.exit_code == 1
    assert "error: " in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.output
