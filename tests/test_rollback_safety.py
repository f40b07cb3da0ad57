"""Rollback restores exactly what its entry changed, or refuses; damaged bookkeeping is
reported, not a traceback (issue 12: 1-3, 17, 19-21). Real sandboxes, both backends;
out-of-band changes are made with the database's own client, never crmconf's code."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests import postgres
from tests.test_history import _data

Cli = Callable[..., Result]
Write = Callable[..., Path]


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Change or read the CRM directly, as another tool (or a person) would."""
    if url.startswith("postgresql"):
        return postgres.rows(url, query, *parameters)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return connection.execute(query, parameters).fetchall()


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def _refused(result: Result) -> Result:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


GROUPS_ONLY_SALES = """\
crmconf: 1
groups:
  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
"""


def test_rollback_of_a_group_delete_restores_its_memberships(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    _ok(cli("apply", write_config(GROUPS_ONLY_SALES), "--target", demo_url, "--yes"))
    assert len(_data(demo_url)["group_members"]) == 1

    _ok(cli("rollback", "1", "--target", demo_url, "--yes"))

    assert _data(demo_url) == before


def test_rollback_refuses_to_overwrite_a_row_changed_since_and_lists_it(
    cli: Cli, demo_url: str
) -> None:
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    _ok(cli(*move, "--yes"))
    (turism,) = _sql(demo_url, "SELECT id FROM industries WHERE name = 'Turism'")
    _sql(demo_url, "UPDATE customers SET industry_id = ? WHERE id = 1", turism[0])
    changed = _data(demo_url)

    refused = _refused(cli("rollback", "1", "--target", demo_url, "--yes"))

    assert "changed since" in refused.output
    assert "customers 1 (Kund 01 AB)" in refused.output
    assert "--skip-changed" in refused.output
    assert _data(demo_url) == changed


def test_rollback_with_skip_changed_leaves_changed_rows_and_says_so(
    cli: Cli, demo_url: str
) -> None:
    before = _data(demo_url)
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    _ok(cli(*move, "--yes"))
    (turism,) = _sql(demo_url, "SELECT id FROM industries WHERE name = 'Turism'")
    _sql(demo_url, "UPDATE customers SET industry_id = ? WHERE id = 1", turism[0])

    done = _ok(cli("rollback", "1", "--target", demo_url, "--yes", "--skip-changed"))

    assert "customers 1 (Kund 01 AB)" in done.output
    assert "left as it is now" in done.output
    customers = {row[0]: row for row in _data(demo_url)["customers"]}
    assert customers[1][2] == turism[0]
    assert [row for row in _data(demo_url)["customers"] if row[0] != 1] == [
        row for row in before["customers"] if row[0] != 1
    ]


def test_rollback_refuses_to_make_two_items_equal_up_to_case(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    def industries(*names: str) -> Path:
        return write_config(f"crmconf: 1\nindustries: [Bygg, Data/IT, Turism, {', '.join(names)}]")

    _ok(cli("apply", industries("X1", "X2"), "--target", demo_url, "--yes"))
    _ok(cli("apply", industries("X2"), "--target", demo_url, "--yes"))
    _ok(cli("apply", industries("X2", "x1"), "--target", demo_url, "--yes"))
    now = _data(demo_url)

    refused = _refused(cli("rollback", "2", "--target", demo_url, "--yes"))

    assert "'X1'" in refused.output and "'x1'" in refused.output
    assert "industr" in refused.output
    assert _data(demo_url) == now
    # Not even with --skip-changed: two items of one identity are never made.
    _refused(cli("rollback", "2", "--target", demo_url, "--yes", "--skip-changed"))
    assert _data(demo_url) == now


@pytest.mark.parametrize("command", ["plan", "drift", "export"])
def test_identity_duplicates_in_a_target_are_reported(
    cli: Cli, demo_url: str, write_config: Write, command: str
) -> None:
    _sql(demo_url, "INSERT INTO industries (name) VALUES ('bygg')")
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")
    arguments = ["export"] if command == "export" else [command, str(config)]

    refused = _refused(cli(*arguments, "--target", demo_url))

    assert "industries" in refused.output
    assert "'Bygg'" in refused.output and "'bygg'" in refused.output


def test_rollback_blocked_by_a_later_move_names_it_and_cascade(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    before = _data(demo_url)
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Ny]\n")
    _ok(cli("apply", config, "--target", demo_url, "--yes"))
    _ok(cli("move-customers", "--industry", "Bygg", "--to", "Ny", "--target", demo_url, "--yes"))

    refused = _refused(cli("rollback", "1", "--target", demo_url, "--yes"))

    assert "FOREIGN KEY" not in refused.output
    assert "2 (move-customers" in refused.output
    assert "--cascade" in refused.output
    _ok(cli("rollback", "1", "--target", demo_url, "--yes", "--cascade"))
    assert _data(demo_url) == before


def test_history_escapes_an_actor_holding_a_newline(cli: Cli, demo_url: str) -> None:
    forged = "eve\n   9  2026-01-01T00:00:00Z  admin        apply           forged"
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    _ok(cli(*move, "--yes", "--actor", forged))

    listed = _ok(cli("history", "--target", demo_url)).output

    assert len(listed.splitlines()) == 1
    assert "eve\\n" in listed


@pytest.mark.parametrize("destination", ["Bygg", "  BYGG "])
def test_moving_customers_to_their_own_industry_does_nothing_and_records_nothing(
    cli: Cli, demo_url: str, destination: str
) -> None:
    before = _data(demo_url)
    move = ("move-customers", "--industry", "Bygg", "--to", destination, "--target", demo_url)

    result = _ok(cli(*move, "--yes"))

    assert "Moved" not in result.output
    assert "Nothing to move" in result.output
    assert _data(demo_url) == before
    assert "No history yet." in cli("history", "--target", demo_url).output


# Damaged bookkeeping (17)


@pytest.mark.parametrize(
    ("column", "damage"),
    [
        *(("undo", damage) for damage in ("{not json", "[1, 2]", '{"a": 1}', '[{"op": "insert"}]')),
        ("undo", '[{"op": "update", "table": "customers", "key": {"id": 1}, "old": {"x": 1}}]'),
        ("undo", '[{"op": "delete", "table": "nowhere", "row": {}}]'),
        *(("changes", damage) for damage in ("{not json", "[1, 2]", '{"a": 1}', "")),
        # A key without the row's primary key matched every row: `{}` moved all customers.
        ("undo", '[{"op": "update", "table": "customers", "key": {}, "old": {"industry_id": 3}}]'),
        ("undo", '[{"op": "update", "table": "customers", "key": {"industry_id": 1}, "old": {}}]'),
        ("undo", '[{"op": "insert", "table": "industries", "key": {"name": "Bygg"}}]'),
        ("undo", '[{"op": "delete", "table": "industries", "row": {"name": "x"}}]'),
        ("undo", '[{"op": "insert_many", "table": "industries", "columns": ["name"], "keys": []}]'),
        # Values no column holds: past 64 bits, not finite, not a scalar.
        ("undo", '[{"op": "delete", "table": "industries", "row": {"id": 1e30000, "name": "x"}}]'),
        ("undo", '[{"op": "delete", "table": "industries", "row": {"id": 99999999999999999999}}]'),
        ("undo", '[{"op": "update", "table": "customers", "key": {"id": [1]}, "old": {}}]'),
        ("undo", "[" * 100_000),
        ("changes", "[" * 100_000),
    ],
)
def test_a_damaged_history_entry_is_named_not_a_traceback(
    cli: Cli, demo_url: str, column: str, damage: str
) -> None:
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    _ok(cli(*move, "--yes"))
    _sql(demo_url, f"UPDATE crmconf_history SET {column} = ? WHERE id = 1", damage)
    after = _data(demo_url)

    for arguments in (["history"], ["history", "--format", "json"], ["rollback", "1", "--yes"]):
        result = _refused(cli(*arguments, "--target", demo_url))
        assert "history entry 1" in result.output, arguments
        assert column in result.output, arguments
    assert _data(demo_url) == after


@pytest.mark.sqlite_only(reason="only SQLite lets a TEXT column hold a BLOB or a number")
@pytest.mark.parametrize("column", ["at", "actor", "command", "summary"])
def test_a_history_column_that_is_not_text_is_named_not_a_traceback(
    cli: Cli, demo_url: str, column: str
) -> None:
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url)
    _ok(cli(*move, "--yes"))
    _sql(demo_url, f"UPDATE crmconf_history SET {column} = X'ff00' WHERE id = 1")
    after = _data(demo_url)

    for arguments in (["history"], ["history", "--format", "json"], ["rollback", "1", "--yes"]):
        result = _refused(cli(*arguments, "--target", demo_url))
        assert "history entry 1" in result.output and column in result.output, arguments
    assert _data(demo_url) == after


@pytest.mark.parametrize("table", ["crmconf_history", "customers"])
def test_a_missing_table_is_named(cli: Cli, demo_url: str, table: str) -> None:
    _ok(cli("move-customers", "--industry", "Bygg", "--to", "Turism", "--target", demo_url, "-y"))
    if table == "customers":
        for dependant in ("customer_products", "customer_categories", "contact_categories"):
            _sql(demo_url, f"DROP TABLE {dependant}")
        _sql(demo_url, "DROP TABLE opportunities")
        _sql(demo_url, "DROP TABLE projects")
        _sql(demo_url, "DROP TABLE contacts")
    _sql(demo_url, f"DROP TABLE {table}")
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--yes")
    commands = [["rollback", "1", "--yes"], move]
    if table == "crmconf_history":
        commands.append(["history"])
    else:  # the history is all there, and listed
        assert "moved 20 customers" in _ok(cli("history", "--target", demo_url)).output

    for arguments in commands:
        result = _refused(cli(*arguments, "--target", demo_url))
        assert table in result.output, arguments


@pytest.mark.sqlite_only(reason="the lock row only names the holder on PostgreSQL")
def test_a_lock_row_with_a_malformed_time_is_named(cli: Cli, demo_url: str) -> None:
    _ok(cli("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url, "-y"))
    _sql(
        demo_url,
        "INSERT INTO crmconf_lock (name, holder, host, pid, command, since) "
        "VALUES ('target', 'erik', 'elsewhere', 1, 'apply', 'yesterday')",
    )
    move = ("move-customers", "--industry", "Bygg", "--to", "Turism", "--yes")

    for arguments in (["rollback", "1", "--yes"], move):
        result = _refused(cli(*arguments, "--target", demo_url))
        assert "'yesterday'" in result.output and "crmconf_lock" in result.output, arguments


@pytest.mark.sqlite_only(reason="truncates the database file")
def test_a_truncated_database_is_named(cli: Cli, demo_url: str) -> None:
    _ok(cli("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--target", demo_url, "-y"))
    path = Path(demo_url.removeprefix("sqlite:///"))
    path.write_bytes(path.read_bytes()[: 4096 * 3])
    move = ("move-customers", "--industry", "Data/IT", "--to", "Bygg", "--yes")

    for arguments in (["history"], ["rollback", "1", "--yes"], move):
        result = _refused(cli(*arguments, "--target", demo_url))
        assert str(path) in result.output or "sandbox" in result.output, arguments


def test_restoring_a_customer_id_beyond_any_integer_names_it(cli: Cli, demo_url: str) -> None:
    _sql(demo_url, "DELETE FROM switches WHERE name = 'features.restore_customers'")
    _sql(demo_url, "INSERT INTO switches VALUES ('features.restore_customers', TRUE)")
    huge = "99999999999999999999999"

    result = _refused(cli("customers", "restore", huge, "--target", demo_url, "--yes"))

    assert f"no customer has id {huge}" in result.output


@pytest.mark.sqlite_only(reason="the lock row is the lock on SQLite; PostgreSQL's is its session")
def test_a_lock_left_by_a_failed_release_does_not_block_the_same_process(
    demo_url: str, write_config: Write
) -> None:
    """Found by the state machine: a write failing as the lock was released left the row
    naming this (living) process, and every later write of the process was refused as
    'locked by' itself, for an hour."""
    from sqlalchemy import event

    from crmconf import api
    from crmconf.targets.sandbox.target import SandboxTarget

    def fail_the_release(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> Any:
        if statement.lstrip().upper().startswith("DELETE FROM CRMCONF_LOCK"):
            return "SELECT * FROM crmconf_injected_failure", parameters
        return statement, parameters

    first = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Ny]\n")
    second = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n", "second.yaml")
    with SandboxTarget.open(demo_url) as target:
        event.listen(target.engine, "before_cursor_execute", fail_the_release, retval=True)
        api.apply(api.plan(first, target), target)
        event.remove(target.engine, "before_cursor_execute", fail_the_release)
        assert _sql(demo_url, "SELECT count(*) FROM crmconf_lock") == [(1,)]

        api.apply(api.plan(second, target), target)
        target.rollback(2)

    assert [row[0] for row in _sql(demo_url, "SELECT name FROM industries ORDER BY id")] == [
        "Bygg",
        "Data/IT",
        "Turism",
        "Ny",
    ]
