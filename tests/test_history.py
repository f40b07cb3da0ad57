"""History, exact rollback, move-customers and locking, on real SQLite sandboxes and processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.lock import held
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres
from tests.conftest import ROOT, SEED
from tests.test_sandbox import MANY_CREATES

Cli = Callable[..., Result]
Write = Callable[..., Path]

BOOKKEEPING = ("crmconf_history", "crmconf_lock", "crmconf_applied_names")
"""crmconf's own tables outside the undo log: an apply counts none of their rows."""


def _data(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table but crmconf's own bookkeeping, row by row, read without crmconf."""
    if url.startswith("postgresql"):
        everything = postgres.tables(url).items()
        return {name: rows for name, rows in everything if name not in BOOKKEEPING}
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] not in BOOKKEEPING
        ]
        return {
            name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }


def test_rollback_restores_settings_and_data_exactly(cli: Cli, demo_url: str) -> None:
    before = _data(demo_url)
    assert cli("apply", SEED, "--target", demo_url, "--yes", "--actor", "ci").exit_code == 0
    assert _data(demo_url) != before

    listed = cli("history", "--target", demo_url)
    assert "apply" in listed.output and "ci" in listed.output
    result = cli("rollback", "1", "--target", demo_url, "--yes")

    assert result.exit_code == 0, result.output
    assert _data(demo_url) == before
    assert "(rolled back by 2)" in cli("history", "--target", demo_url).output


def _changed_rows(before: Mapping[str, list[Any]], after: Mapping[str, list[Any]]) -> int:
    """Rows inserted or changed, table by table (for a change that deletes nothing)."""
    return sum(len(set(rows) - set(before.get(name, []))) for name, rows in after.items())


def test_rollback_of_many_creates_restores_every_table_exactly(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(MANY_CREATES)
    before = _data(demo_url)
    assert cli("apply", config, "--target", demo_url, "--yes").exit_code == 0
    after = _data(demo_url)
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0
    with SandboxTarget.open(demo_url) as target:
        (entry,) = target.history()
    assert entry.rows == _changed_rows(before, after)

    assert cli("rollback", "1", "--target", demo_url, "--yes").exit_code == 0

    assert _data(demo_url) == before


def test_rollback_of_creates_a_later_apply_renamed_is_refused_unless_cascaded(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    first = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel, Vård]\n")
    second = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Vård, "
        "{name: Detaljhandel, renamed_from: [Handel]}]\n",
        name="second.yaml",
    )
    assert cli("apply", first, "--target", demo_url, "--yes").exit_code == 0
    assert cli("apply", second, "--target", demo_url, "--yes").exit_code == 0

    refused = cli("rollback", "1", "--target", demo_url, "--yes")
    assert refused.exit_code == 1
    assert "later entries changed the same rows: 2 (apply" in refused.output

    assert cli("rollback", "1", "--target", demo_url, "--yes", "--cascade").exit_code == 0
    assert _data(demo_url) == before


def _one_entry_per_row(entries: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """An undo log as crmconf wrote it before it logged a statement's inserts together."""
    for entry in entries:
        if entry["op"] != "insert_many":
            yield entry
            continue
        for key in entry["keys"]:
            columns = dict(zip(entry["columns"], key, strict=True))
            yield {"op": "insert", "table": entry["table"], "key": columns}


def test_an_undo_log_of_one_entry_per_row_still_rolls_back_exactly(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    assert cli("apply", write_config(MANY_CREATES), "--target", demo_url, "--yes").exit_code == 0
    history = schema.history
    with SandboxTarget.open(demo_url) as target:
        (applied,) = target.history()
        with target.engine.begin() as connection:
            undo = json.loads(connection.scalar(select(history.c.undo)))
            legacy = list(_one_entry_per_row(undo))
            assert len(legacy) == applied.rows > len(undo)
            connection.execute(history.update().values(undo=json.dumps(legacy)))
        assert target.history()[0].rows == applied.rows

    assert cli("rollback", "1", "--target", demo_url, "--yes").exit_code == 0

    assert _data(demo_url) == before


def test_rollback_of_a_merge_moves_every_customer_back(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    merge = write_config(
        "crmconf: 1\nindustries: [Bygg]\nremoved:\n"
        "  industries: [{name: Data/IT, move_customers_to: Bygg}, Turism]\n"
    )
    assert cli("apply", merge, "--target", demo_url, "--yes").exit_code == 0
    assert _data(demo_url)["customers"] != before["customers"]

    assert cli("rollback", "1", "--target", demo_url, "--yes").exit_code == 0

    assert _data(demo_url) == before


def test_rollback_that_later_entries_depend_on_is_refused_unless_cascaded(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    first = write_config(
        "crmconf: 1\nindustries: [Bygg, Turism, {name: IT, renamed_from: [Data/IT]}]\n"
    )
    second = write_config(
        "crmconf: 1\nindustries: [Bygg, Turism, {name: Data och IT, renamed_from: [IT]}]\n",
        name="second.yaml",
    )
    assert cli("apply", first, "--target", demo_url, "--yes").exit_code == 0
    assert cli("apply", second, "--target", demo_url, "--yes").exit_code == 0

    refused = cli("rollback", "1", "--target", demo_url, "--yes")
    assert refused.exit_code == 1
    assert "later entries changed the same rows: 2 (apply" in refused.output
    assert "--cascade" in refused.output

    cascaded = cli("rollback", "1", "--target", demo_url, "--yes", "--cascade")
    assert cascaded.exit_code == 0, cascaded.output
    assert cascaded.output.index("entry 2") < cascaded.output.index("entry 1 ")
    assert _data(demo_url) == before


def test_move_customers_is_confirmed_journaled_and_reversible(cli: Cli, demo_url: str) -> None:
    before = _data(demo_url)
    refused = cli("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    assert refused.exit_code == 1
    assert "without confirmation" in refused.output
    assert _data(demo_url) == before

    moved = cli(
        "move-customers", "--industry", "data/it", "--to", "Bygg", "--target", demo_url, "--yes"
    )
    assert moved.exit_code == 0, moved.output
    assert "20 customers of industry 'data/it' will move to 'Bygg'" in moved.output
    assert {row[2] for row in _data(demo_url)["customers"]} == {1}

    assert cli("rollback", "1", "--target", demo_url, "--yes").exit_code == 0
    assert _data(demo_url) == before


def test_move_customers_names_unknown_items(cli: Cli, demo_url: str) -> None:
    result = cli("move-customers", "--industry", "Nope", "--to", "Bygg", "--target", demo_url)
    assert result.exit_code == 1
    assert "no industry named 'Nope' in this CRM" in result.output


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            ["--industry", "Bygg", "--status-type", "Aktiv"],
            "error: give only one of --industry and --status-type: "
            "a move takes the customers of one item\n",
        ),
        ([], "error: name what to move from: --industry NAME or --status-type NAME\n"),
    ],
    ids=["both", "neither"],
)
def test_move_customers_needs_exactly_one_source(
    cli: Cli, demo_url: str, given: list[str], message: str
) -> None:
    before = _data(demo_url)

    result = cli("move-customers", *given, "--to", "Bygg", "--target", demo_url, "--yes")

    assert result.exit_code == 1
    assert result.stderr == message
    assert _data(demo_url) == before


def test_a_held_lock_names_its_holder_and_can_be_waited_for(cli: Cli, demo_url: str) -> None:
    with SandboxTarget.open(demo_url) as target:
        with held(target.engine, holder="erik", command="apply", timeout=0):
            blocked = cli("apply", SEED, "--target", demo_url, "--yes")
        assert blocked.exit_code == 1
        assert "the target is locked by erik (apply, pid" in blocked.output
        assert "--lock-timeout" in blocked.output

        release = threading.Event()

        def hold_briefly() -> None:
            with held(target.engine, holder="erik", command="apply", timeout=0):
                release.set()
                time.sleep(0.5)

        holder = threading.Thread(target=hold_briefly)
        holder.start()
        release.wait(5)
        waited = cli("apply", SEED, "--target", demo_url, "--yes", "--lock-timeout", "10")
        holder.join(10)
    assert waited.exit_code == 0, waited.output


@pytest.mark.parametrize("seconds", ["nan", "inf", "-1", "soon"])
def test_lock_timeout_is_a_finite_non_negative_number(
    cli: Cli, demo_url: str, seconds: str
) -> None:
    """`nan` compares false with every bound: taken, it waited forever for a held lock."""
    for command in (
        ("apply", str(SEED), "--yes"),
        ("move-customers", "--industry", "Bygg", "--to", "Turism", "--yes"),
        ("rollback", "1", "--yes"),
    ):
        result = cli(*command, "--target", demo_url, "--lock-timeout", seconds)
        # A usage error: its exit status is click's (issue 13 item 2 makes it 1).
        assert result.exit_code != 0, result.output
        assert "number of seconds" in result.output, result.output
    with SandboxTarget.open(demo_url) as target:
        assert target.history() == []


def _spawn(program: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(program)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_crashed_holder_does_not_lock_the_target_forever(cli: Cli, demo_url: str) -> None:
    holder = _spawn(
        f"""
        import time
        from crmconf.targets.sandbox.lock import held
        from crmconf.targets.sandbox.target import SandboxTarget
        target = SandboxTarget.open({demo_url!r})
        with held(target.engine, holder="crashing", command="apply", timeout=0):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert "locked by crashing" in cli("apply", SEED, "--target", demo_url, "--yes").output
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)

    result = cli("apply", SEED, "--target", demo_url, "--yes")
    assert result.exit_code == 0, result.output


def test_sigkill_in_the_middle_of_an_apply_leaves_the_data_as_before(
    cli: Cli, demo_url: str
) -> None:
    before = _data(demo_url)
    applying = _spawn(
        f"""
        import time
        from sqlalchemy import event
        import crmconf
        from crmconf.targets.sandbox.target import SandboxTarget
        target = SandboxTarget.open({demo_url!r})
        writes = []

        def slow(connection, cursor, statement, parameters, context, many):
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                writes.append(statement)
                if len(writes) == 8:
                    print("midway", flush=True)
                    time.sleep(60)

        event.listen(target.engine, "before_cursor_execute", slow)
        crmconf.apply(crmconf.plan(crmconf.load({str(SEED)!r}), target), target)
        """
    )
    try:
        assert applying.stdout is not None and applying.stdout.readline().strip() == "midway"
    finally:
        os.kill(applying.pid, signal.SIGKILL)
        applying.wait(10)

    if demo_url.startswith("sqlite"):
        with sqlite3.connect(demo_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert _data(demo_url) == before
    # On PostgreSQL the killed session's advisory lock goes with it; wait for the server
    # to notice the dead connection.
    result = cli("apply", SEED, "--target", demo_url, "--yes", "--lock-timeout", "10")
    assert result.exit_code == 0, result.output
    assert cli("plan", SEED, "--target", demo_url, "--detailed-exitcode").exit_code == 0


@pytest.mark.sqlite_only(reason="downgrades the file through sqlite3")
def test_a_version_1_sandbox_is_read_as_it_is_and_upgraded_only_when_asked(
    cli: Cli, demo_url: str
) -> None:
    path = demo_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        for table in (
            "crmconf_history",
            "crmconf_lock",
            "crmconf_protected",
            "crmconf_applied_names",
            "alembic_version",
        ):
            connection.execute(f"DROP TABLE {table}")
        connection.execute("DELETE FROM crmconf_meta WHERE key != 'schema_version'")
        connection.execute("UPDATE crmconf_meta SET value = '1' WHERE key = 'schema_version'")
    before = Path(path).read_bytes()

    planned = cli("plan", SEED, "--target", demo_url)
    applied = cli("apply", SEED, "--target", demo_url, "--yes")

    assert planned.exit_code == 0, planned.output
    assert applied.exit_code == 1
    assert "run 'crmconf sandbox upgrade" in applied.stderr
    assert Path(path).read_bytes() == before  # neither wrote a byte
    upgraded = cli("sandbox", "upgrade", "--target", demo_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert "recorded schema version 1 as revision 0001" in upgraded.stdout
    assert "revision 0001 → 0003" in upgraded.stdout
    with SandboxTarget.open(demo_url) as target:
        assert target.history() == []
    with sqlite3.connect(path) as connection:
        version = connection.execute(
            "SELECT value FROM crmconf_meta WHERE key = 'schema_version'"
        ).fetchone()
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert (version, revision) == (("3",), ("0003",))
    assert cli("apply", SEED, "--target", demo_url, "--yes").exit_code == 0


@pytest.mark.sqlite_only(reason="edits the file through sqlite3")
@pytest.mark.parametrize("version", ["4", "banana"])
def test_a_sandbox_of_an_unknown_schema_version_is_refused(
    cli: Cli, demo_url: str, version: str
) -> None:
    path = demo_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE crmconf_meta SET value = ? WHERE key = 'schema_version'", (version,)
        )
    result = cli("plan", SEED, "--target", demo_url)
    assert result.exit_code == 1
    assert f"has sandbox schema version {version}" in result.output


def test_rollback_shows_what_it_will_change_before_it_asks(
    cli: Cli, demo_url: str, write_config: Callable[..., Path]
) -> None:
    """Not only the entry's one-line summary: the settings changes it undoes, and moves."""
    path = write_config(
        "crmconf: 1\n"
        "industries: [Bygg, {name: IT och telekom, renamed_from: [Data/IT]}, Handel, Turism]\n"
    )
    assert cli("apply", path, "--target", demo_url, "--yes").exit_code == 0
    moved = cli(
        "move-customers", "--industry", "Bygg", "--to", "Handel", "--target", demo_url, "--yes"
    )
    assert moved.exit_code == 0, moved.output
    before = _data(demo_url)

    undo_move = cli("rollback", "2", "--target", demo_url, input="n\n")
    undo_apply = cli("rollback", "1", "--target", demo_url, "--cascade", input="n\n")

    assert undo_move.exit_code == 1 and undo_apply.exit_code == 1
    assert (
        "Rolling it back will change:\n\n"
        "industries: 20 customers move back from 'Handel' to 'Bygg'\n"
    ) in undo_move.stdout
    assert (
        "Rolling it back will change:\n\n"
        "industries:\n"
        '  ~ "IT och telekom" → "Data/IT" (renamed in place)\n'
        '  - "Handel"\n'
        "\n"
        "Plan: 0 to add, 1 to change, 1 to delete.\n"
    ) in undo_apply.stdout
    assert _data(demo_url) == before
