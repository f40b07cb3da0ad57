"""A row-level undo log: every row an apply inserts, updates or deletes, and how to undo it.

Recording at the level of rows (not of settings changes) makes a rollback exact:
it restores the settings and moves every customer, contact and opportunity a
migration touched back to where it was, byte for byte. The log is stored with the
history entry, in the same transaction as the changes it describes.

Rows inserted together by one statement are logged as one entry listing their keys
(`insert_many`), so the log of a large apply stays small; it still names every row.
Undoing a log, and what a rollback checks first, is crmconf.targets.sandbox.undo.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, bindparam, func, select, tuple_
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from crmconf.kinds import generation
from crmconf.targets.postgres import DIALECT, advance_sequence
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.storage import stored_kinds

Key = dict[str, Any]


def _key_of(table: Table, row: Mapping[Any, Any]) -> Key:
    return {column.name: row[column.name] for column in table.primary_key.columns}


CHUNK = 500
"""Keys per statement when rows are picked by a list of keys: well under the smallest
limit on bound parameters SQLite is built with (999)."""


class Journal:
    """Runs the DML of one apply and keeps what undoes it.

    Each entry holds the row's before-image (what undoes it) and its after-image (what
    the entry left), so a rollback can tell a row changed since from one it may restore.
    """

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
        after = _whole_row(table, {**values, **key})
        self.entries.append({"op": "insert", "table": table.name, "key": key, "after": after})
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
        written = [column.name for column in table.columns]
        after = [list(_whole_row(table, row).values()) for row in rows]
        self.entries.append(
            {
                "op": "insert_many",
                "table": table.name,
                "columns": columns,
                "keys": keys,
                "after_columns": written,
                "after": after,
            }
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
                    {
                        "op": "update",
                        "table": table.name,
                        "key": _key_of(table, row),
                        "old": old,
                        "after": dict(values),
                    }
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
                        "after": {column: values[row_key]},
                    }
                )
                changed.append({"_key": row_key, column: values[row_key]})
        if changed:
            self.connection.execute(table.update().where(key == bindparam("_key")), changed)
        return len(changed)

    def delete(self, table: Table, where: ColumnElement[bool]) -> int:
        """Delete the rows matching `where`, remembering them whole; returns the count.

        The rows a foreign key's ON DELETE CASCADE would remove with them (a group's
        memberships) are deleted, and remembered, first: the database's cascade would
        take them unseen, and a rollback could not put them back.
        """
        for dependant, columns, referred in cascades(table):
            self.delete(dependant, _refers_to(columns, select(*referred).where(where)))
        rows = self.connection.execute(select(table).where(where)).mappings().all()
        for row in rows:
            self.entries.append({"op": "delete", "table": table.name, "row": dict(row)})
        if rows:
            self.connection.execute(table.delete().where(where))
        return len(rows)

    def dumps(self) -> str:
        return json.dumps(self.entries, default=str, ensure_ascii=False, check_circular=False)


def _whole_row(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """A row as inserted: the values given, the columns' defaults for the others."""
    row = {}
    for column in table.columns:
        if column.name in values:
            row[column.name] = values[column.name]
        elif isinstance(column.default, ScalarElementColumnDefault):
            row[column.name] = column.default.arg
        else:
            row[column.name] = None
    return row


ForeignKey = tuple[Table, list[Column[Any]], list[Column[Any]]]
"""A table holding a foreign key, its columns, and the columns they refer to."""


def _foreign_keys() -> dict[str, list[tuple[ForeignKey, str | None]]]:
    """Per referred table: every foreign key pointing at it, with its ON DELETE rule."""
    stored_kinds()  # the tables of every registered kind are declared
    return _foreign_keys_of(generation())


@functools.cache
def _foreign_keys_of(_generation: int) -> dict[str, list[tuple[ForeignKey, str | None]]]:
    found: dict[str, list[tuple[ForeignKey, str | None]]] = {}
    for table in schema.metadata.tables.values():
        for constraint in table.foreign_key_constraints:
            referred = constraint.referred_table
            key = (table, list(constraint.columns), [e.column for e in constraint.elements])
            found.setdefault(referred.name, []).append((key, constraint.ondelete))
    return found


def cascades(table: Table) -> list[ForeignKey]:
    """The foreign keys whose rows a delete from `table` removes too (ON DELETE CASCADE)."""
    return [key for key, rule in _foreign_keys().get(table.name, []) if rule == "CASCADE"]


def referencing(table: Table) -> list[ForeignKey]:
    """Every foreign key pointing at `table`."""
    return [key for key, _rule in _foreign_keys().get(table.name, [])]


def _refers_to(columns: Sequence[Column[Any]], keys: Any) -> ColumnElement[bool]:
    if len(columns) == 1:
        return columns[0].in_(keys)
    return tuple_(*columns).in_(keys)


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


def rows_touched(entries: Iterable[Mapping[str, Any]]) -> int:
    """How many row changes a journal holds (a row inserted with others counts once)."""
    return sum(len(entry["keys"]) if entry["op"] == "insert_many" else 1 for entry in entries)
