"""A row-level undo log: every row an apply inserts, updates or deletes, and how to undo it.

Recording at the level of rows (not of settings changes) makes a rollback exact:
it restores the settings and moves every customer, contact and opportunity a
migration touched back to where it was, byte for byte. The log is stored with the
history entry, in the same transaction as the changes it describes.

Rows inserted together by one statement are logged as one entry listing their keys
(`insert_many`), so the log of a large apply stays small; it still names every row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, bindparam, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from crmconf.targets.postgres import DIALECT, advance_sequence
from crmconf.targets.sandbox import schema

Key = dict[str, Any]


def _key_clause(table: Table, key: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in key.items()))


def _key_of(table: Table, row: Mapping[Any, Any]) -> Key:
    return {column.name: row[column.name] for column in table.primary_key.columns}


CHUNK = 500
"""Keys per statement when rows are picked by a list of keys: well under the smallest
limit on bound parameters SQLite is built with (999)."""


def _chunks(keys: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def _keys_clause(
    columns: Sequence[Column[Any]], keys: Sequence[Sequence[Any]]
) -> ColumnElement[bool]:
    """The rows whose key (values of `columns`) is one of `keys`."""
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return tuple_(*columns).in_([tuple(key) for key in keys])


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

    def insert_many(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Insert rows (all with the same columns) in one statement; returns their (first)
        primary-key values, in order.

        Rows without their generated id are numbered here (see `_new_ids`), so that one
        statement inserts them all and no SELECT has to find them again. The rows must
        not reference each other (a group and its parent): a database may check each
        reference before the row it names is in, and the undo deletes them together.
        """
        if not rows:
            return []
        numbered = table.autoincrement_column
        if numbered is not None and numbered.name not in rows[0]:
            ids = _new_ids(self.connection, table, numbered, len(rows))
            rows = [{numbered.name: new_id, **row} for new_id, row in zip(ids, rows, strict=True)]
            self.connection.execute(table.insert(), rows)
        else:
            self.connection.execute(table.insert(), list(rows))
            if numbered is not None:
                advance_sequence(self.connection, table)  # a rollback putting rows back
        columns = [column.name for column in table.primary_key.columns]
        keys = [[row[name] for name in columns] for row in rows]
        self.entries.append(
            {"op": "insert_many", "table": table.name, "columns": columns, "keys": keys}
        )
        return [key[0] for key in keys]

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

    def update_many(
        self,
        table: Table,
        column: str,
        values: Mapping[Any, Any],
        where: ColumnElement[bool] | None = None,
    ) -> int:
        """Set one column of the rows whose primary key is in `values` (to its value there),
        remembering the old values; returns how many rows changed.

        One SELECT (of the rows matching `where`) and one statement for every row that
        changes; a row already holding its value is not written.
        """
        (key,) = table.primary_key.columns
        query = select(key, table.c[column])
        if where is not None:
            query = query.where(where)
        changed = []
        for row_key, old in self.connection.execute(query):
            if row_key in values and values[row_key] != old:
                self.entries.append(
                    {
                        "op": "update",
                        "table": table.name,
                        "key": {key.name: row_key},
                        "old": {column: old},
                    }
                )
                changed.append({"_key": row_key, column: values[row_key]})
        if changed:
            self.connection.execute(table.update().where(key == bindparam("_key")), changed)
        return len(changed)

    def delete(self, table: Table, where: ColumnElement[bool]) -> int:
        """Delete the rows matching `where`, remembering them whole; returns the count."""
        rows = self.connection.execute(select(table).where(where)).mappings().all()
        for row in rows:
            self.entries.append({"op": "delete", "table": table.name, "row": dict(row)})
        if rows:
            self.connection.execute(table.delete().where(where))
        return len(rows)

    def dumps(self) -> str:
        return json.dumps(self.entries, default=str, ensure_ascii=False, check_circular=False)


def _new_ids(connection: Connection, table: Table, column: Column[Any], count: int) -> list[int]:
    """The ids the database would give `count` new rows, taken before inserting them.

    PostgreSQL hands them out from the column's sequence, as it does for an insert.
    SQLite numbers a new row one past the highest id; nobody else can insert while an
    apply holds the database's write lock, so the next `count` numbers are ours. (Were
    one taken after all, the insert would fail on the key: never a row logged wrongly.)
    """
    if connection.dialect.name == DIALECT:
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        taken = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return list(connection.scalars(taken))
    highest = connection.scalar(select(func.max(column))) or 0
    return list(range(highest + 1, highest + 1 + count))


def undo(connection: Connection, entries: Iterable[Mapping[str, Any]]) -> Journal:
    """Undo a journal's entries in reverse order; the undo is itself journaled."""
    journal = Journal(connection)
    for entry in reversed(list(entries)):
        table = schema.metadata.tables[entry["table"]]
        if entry["op"] == "insert":
            journal.delete(table, _key_clause(table, entry["key"]))
        elif entry["op"] == "insert_many":
            columns = [table.c[name] for name in entry["columns"]]
            for keys in reversed(list(_chunks(entry["keys"]))):
                journal.delete(table, _keys_clause(columns, keys))
        elif entry["op"] == "update":
            journal.update(table, _key_clause(table, entry["key"]), entry["old"])
        else:
            journal.insert(table, entry["row"])
    return journal


def _keys(entry: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The key of every row one entry touched."""
    if entry["op"] == "insert_many":
        for key in entry["keys"]:
            yield dict(zip(entry["columns"], key, strict=True))
    elif "key" in entry:
        yield entry["key"]
    else:
        yield _key_of(schema.metadata.tables[entry["table"]], entry["row"])


def touched(entries: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The rows (table, key) a journal touched, to find which later applies depend on it."""
    return {
        (entry["table"], json.dumps(key, sort_keys=True, default=str))
        for entry in entries
        for key in _keys(entry)
    }


def rows_touched(entries: Iterable[Mapping[str, Any]]) -> int:
    """How many row changes a journal holds (a row inserted with others counts once)."""
    return sum(len(entry["keys"]) if entry["op"] == "insert_many" else 1 for entry in entries)
