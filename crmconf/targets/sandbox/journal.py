"""A row-level undo log: every row an apply inserts, updates or deletes, and how to undo it.

Recording at the level of rows (not of settings changes) makes a rollback exact:
it restores the settings and moves every customer, contact and opportunity a
migration touched back to where it was, byte for byte. The log is stored with the
history entry, in the same transaction as the changes it describes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, and_, select
from sqlalchemy.sql import ColumnElement

from crmconf.postgres import advance_sequence
from crmconf.targets.sandbox import schema

Key = dict[str, Any]


def _key_clause(table: Table, key: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in key.items()))


def _key_of(table: Table, row: Mapping[Any, Any]) -> Key:
    return {column.name: row[column.name] for column in table.primary_key.columns}


class Journal:
    """Runs the DML of one apply and keeps what undoes it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.entries: list[dict[str, Any]] = []

    def insert(self, table: Table, values: Mapping[str, Any]) -> Any:
        """Insert one row; returns its (first) primary-key value."""
        result = self.connection.execute(table.insert().values(dict(values)))
        inserted = result.inserted_primary_key
        assert inserted is not None
        key = {
            column.name: values.get(column.name, inserted[index])
            for index, column in enumerate(table.primary_key.columns)
        }
        self.entries.append({"op": "insert", "table": table.name, "key": key})
        if table.autoincrement_column is not None and table.autoincrement_column.name in values:
            advance_sequence(self.connection, table)  # a rollback putting a row back
        return inserted[0]

    def update(self, table: Table, where: ColumnElement[bool], values: Mapping[str, Any]) -> int:
        """Update the rows matching `where`, remembering their old values; returns the count."""
        columns = [*table.primary_key.columns, *(table.c[name] for name in values)]
        rows = self.connection.execute(select(*columns).where(where)).mappings().all()
        for row in rows:
            old = {name: row[name] for name in values}
            if old != dict(values):
                self.entries.append(
                    {"op": "update", "table": table.name, "key": _key_of(table, row), "old": old}
                )
        if rows:
            self.connection.execute(table.update().where(where).values(dict(values)))
        return len(rows)

    def delete(self, table: Table, where: ColumnElement[bool]) -> int:
        """Delete the rows matching `where`, remembering them whole; returns the count."""
        rows = self.connection.execute(select(table).where(where)).mappings().all()
        for row in rows:
            self.entries.append({"op": "delete", "table": table.name, "row": dict(row)})
        if rows:
            self.connection.execute(table.delete().where(where))
        return len(rows)

    def dumps(self) -> str:
        return json.dumps(self.entries, default=str, ensure_ascii=False)


def undo(connection: Connection, entries: Iterable[Mapping[str, Any]]) -> Journal:
    """Undo a journal's entries in reverse order; the undo is itself journaled."""
    journal = Journal(connection)
    for entry in reversed(list(entries)):
        table = schema.metadata.tables[entry["table"]]
        if entry["op"] == "insert":
            journal.delete(table, _key_clause(table, entry["key"]))
        elif entry["op"] == "update":
            journal.update(table, _key_clause(table, entry["key"]), entry["old"])
        else:
            journal.insert(table, entry["row"])
    return journal


def touched(entries: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The rows (table, key) a journal touched, to find which later applies depend on it."""
    rows = set()
    for entry in entries:
        key = entry.get("key")
        if key is None:
            table = schema.metadata.tables[entry["table"]]
            key = _key_of(table, entry["row"])
        rows.add((entry["table"], json.dumps(key, sort_keys=True, default=str)))
    return rows
