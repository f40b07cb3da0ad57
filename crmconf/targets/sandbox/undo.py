"""Undoing an undo log exactly, or not at all: what a rollback checks before each row.

A row is restored only while it is as the entry left it (its after-image). A row
changed since — by SQL, another tool, a person — is not overwritten: it becomes a
`Conflict`, and the rollback refuses (or, asked to, leaves it and says so). A rollback
never makes two items of one kind with the same identity, whatever it is asked.

`footprint` tells which later entries an entry's undo depends on: those that wrote
the same rows, use rows it created, or removed rows its undo would point at again.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Numeric, Table, and_, select, tuple_
from sqlalchemy.sql import ColumnElement

from crmconf.model.names import identity
from crmconf.planning.render.tables import one_line
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.journal import CHUNK, Journal, referencing
from crmconf.targets.sandbox.mapping import tables

RowId = tuple[str, str]
"""A row as (table, its key as sorted JSON), comparable across entries."""

OPS = {
    "insert": ("key",),
    "update": ("key", "old"),
    "delete": ("row",),
    "insert_many": ("columns", "keys"),
}
"""Each operation of a log, and the fields it cannot be undone without."""


class DamagedLog(ValueError):
    """An undo log that is not one crmconf wrote: says what is wrong with it."""


def read_log(text: str) -> list[dict[str, Any]]:
    """An undo log from its JSON text, checked against what `Journal` writes."""
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise DamagedLog(f"not JSON ({error})") from None
    except RecursionError:
        raise DamagedLog("JSON nested deeper than any log crmconf writes") from None
    if not isinstance(entries, list):
        raise DamagedLog("not a list of row changes")
    for number, entry in enumerate(entries, start=1):
        problem = _entry_problem(entry)
        if problem:
            raise DamagedLog(f"row change {number}: {problem}")
    return entries


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not an object"
    fields = OPS.get(entry.get("op"))  # type: ignore[arg-type]
    if fields is None:
        return f"unknown operation {entry.get('op')!r}"
    table = schema.metadata.tables.get(entry.get("table"))  # type: ignore[arg-type]
    if table is None:
        return f"unknown table {entry.get('table')!r}"
    for name in fields:
        if name not in entry:
            return f"{entry['op']} without {name!r}"
    images = [entry[name] for name in ("key", "old", "row", "after") if name in entry]
    if entry["op"] == "insert_many":
        columns, keys = entry["columns"], entry["keys"]
        if not isinstance(columns, list) or not isinstance(keys, list):
            return "insert_many whose columns or keys are not lists"
        if any(not isinstance(key, list) or len(key) != len(columns) for key in keys):
            return "insert_many with a key of another length than its columns"
        images = [dict.fromkeys(columns)]
        if "after" in entry:
            after, named = entry["after"], entry.get("after_columns")
            if (
                not isinstance(after, list)
                or not isinstance(named, list)
                or len(after) != len(keys)
            ):
                return "insert_many whose after-images do not match its keys"
            if any(not isinstance(row, list) or len(row) != len(named) for row in after):
                return "insert_many with an after-image of another length than its columns"
            images.append(dict.fromkeys(named))
    for image in images:
        if not isinstance(image, dict):
            return f"{entry['op']} with a row that is not an object"
        unknown = [str(name) for name in image if name not in table.c]
        if unknown:
            return f"{entry['op']} names columns {table.name} lacks: {', '.join(unknown)}"
    return _key_problem(entry, table) or _value_problem(entry)


def _key_problem(entry: dict[str, Any], table: Table) -> str | None:
    """A row is found by its whole primary key, and by nothing else: a key short of it
    (`{}`, another column) would match, and undo, rows the entry never wrote."""
    primary = {column.name for column in table.primary_key.columns}
    op = entry["op"]
    if op == "delete":
        named = set(entry["row"])
        if not primary <= named:
            return f"delete of a {table.name} row without its key ({', '.join(sorted(primary))})"
        return None
    named = set(entry["columns"]) if op == "insert_many" else set(entry["key"])
    if named != primary or (op == "insert_many" and len(entry["columns"]) != len(named)):
        return f"{op} whose key is not {table.name}'s primary key ({', '.join(sorted(primary))})"
    return None


_LARGEST = 2**63 - 1
"""The largest integer a SQLite or PostgreSQL BIGINT holds."""


def _value_problem(entry: dict[str, Any]) -> str | None:
    """Every logged value is one a column can hold: text, a finite number within 64 bits,
    a boolean or null (numerics are logged as text)."""
    values: list[Any] = []
    for name in ("key", "old", "row", "after"):
        image = entry.get(name)
        if isinstance(image, dict):
            values += image.values()
    if entry["op"] == "insert_many":
        values += [value for row in (*entry["keys"], *entry.get("after", ())) for value in row]
    for value in values:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int) and -_LARGEST - 1 <= value <= _LARGEST:
            continue
        if isinstance(value, float) and math.isfinite(value):
            continue
        return f"{entry['op']} with a value no column holds: {one_line(repr(value))[:80]}"
    return None


@dataclass(frozen=True)
class Conflict:
    """A row a rollback would have to overwrite, or that would break identity."""

    row: str
    reason: str
    skippable: bool = True
    """False where no flag may let it through: two items of one identity."""

    def __str__(self) -> str:
        return f"{self.row}: {self.reason}"


def undo(
    connection: Connection, entries: Sequence[Mapping[str, Any]]
) -> tuple[Journal, list[Conflict]]:
    """Undo a log's entries in reverse order, journaled, leaving every conflicting row as
    it is now; the conflicts are returned for the caller to refuse or report."""
    undoing = _Undo(connection)
    for entry in reversed(entries):
        table = schema.metadata.tables[entry["table"]]
        if entry["op"] == "insert":
            undoing.remove(table, [(entry["key"], entry.get("after"))])
        elif entry["op"] == "insert_many":
            keys = [dict(zip(entry["columns"], key, strict=True)) for key in entry["keys"]]
            images: list[Any] = [None] * len(keys)
            if "after" in entry:
                named = entry["after_columns"]
                images = [dict(zip(named, row, strict=True)) for row in entry["after"]]
            pairs = list(zip(keys, images, strict=True))
            for start in reversed(range(0, len(pairs), CHUNK)):
                undoing.remove(table, pairs[start : start + CHUNK])
        elif entry["op"] == "update":
            undoing.restore(table, entry["key"], entry["old"], entry.get("after"))
        else:
            undoing.reinsert(table, entry["row"])
    return undoing.journal, undoing.conflicts


class _Undo:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.journal = Journal(connection)
        self.conflicts: list[Conflict] = []

    def remove(self, table: Table, rows: Sequence[tuple[Mapping[str, Any], Any]]) -> None:
        """Delete rows the entry inserted, if each is as it left it and nothing uses it."""
        key_columns = list(table.primary_key.columns)
        wanted = [tuple(key[column.name] for column in key_columns) for key, _after in rows]
        query = select(table).where(_among(key_columns, wanted))
        current = {
            tuple(row[column.name] for column in key_columns): row
            for row in self.connection.execute(query).mappings()
        }
        users = self._users(table, [key for key in wanted if key in current])
        removable = []
        for (key, after), values in zip(rows, wanted, strict=True):
            row = current.get(values)
            if row is None:
                continue  # deleted since: already as before the entry
            where = _describe(table, key, row)
            differences = _differences(table, row, after)
            if differences:
                self.conflicts.append(Conflict(where, f"changed since: {differences}"))
            elif users.get(values):
                used = ", ".join(f"{count} in {name}" for name, count in users[values].items())
                self.conflicts.append(
                    Conflict(where, f"used since by rows it did not make: {used}")
                )
            else:
                removable.append(values)
        if removable:
            self.journal.delete(table, _among(key_columns, removable))

    def _users(
        self, table: Table, keys: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Counter[str]]:
        """Per key: how many rows of which tables point at it (and would block or be lost)."""
        found: dict[tuple[Any, ...], Counter[str]] = {}
        if not keys:
            return found
        for holder, columns, _referred in referencing(table):
            query = select(*columns).where(_among(columns, keys))
            for values in self.connection.execute(query):
                found.setdefault(tuple(values), Counter())[holder.name] += 1
        kinds = [name for name, spec in tables().items() if spec.table is table]
        if kinds:  # a settings item's protection names it by kind and id, not by a key
            protected = schema.protected
            query = select(protected.c.item_id).where(
                protected.c.kind.in_(kinds), protected.c.item_id.in_([key[0] for key in keys])
            )
            for item_id in self.connection.scalars(query):
                found.setdefault((item_id,), Counter())[protected.name] += 1
        return found

    def restore(
        self, table: Table, key: Mapping[str, Any], old: Mapping[str, Any], after: Any
    ) -> None:
        """Put back the old values of a row the entry updated, if it is as it left it."""
        row = self._row(table, key)
        if row is None:
            self.conflicts.append(Conflict(_describe(table, key, None), "deleted since"))
            return
        where = _describe(table, key, row)
        differences = _differences(table, row, after)
        if differences:
            self.conflicts.append(Conflict(where, f"changed since: {differences}"))
            return
        restored = {**row, **old}
        if self._missing_references(table, where, restored, old) or self._same_identity(
            table, where, restored, key, old
        ):
            return
        self.journal.update(table, _key_clause(table, key), old)

    def reinsert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Put back a row the entry deleted, if its key and identity are still free."""
        key = {column.name: row[column.name] for column in table.primary_key.columns}
        where = _describe(table, key, row)
        if self._row(table, key) is not None:
            self.conflicts.append(Conflict(where, "a row with its key was added since"))
            return
        if self._missing_references(table, where, row, row) or self._same_identity(
            table, where, row, None, row
        ):
            return
        self.journal.insert(table, row)

    def _row(self, table: Table, key: Mapping[str, Any]) -> Mapping[Any, Any] | None:
        found = self.connection.execute(select(table).where(_key_clause(table, key)))
        return found.mappings().first()

    def _missing_references(
        self, table: Table, where: str, row: Mapping[Any, Any], written: Collection[str]
    ) -> bool:
        """Whether the row, through a column about to be `written`, points at a row that is
        gone (a conflict, recorded)."""
        for constraint in table.foreign_key_constraints:
            pairs = [(element.parent.name, element.column) for element in constraint.elements]
            if not any(name in written for name, _column in pairs):
                continue
            values = [row.get(name) for name, _column in pairs]
            if any(value is None for value in values):
                continue
            referred = constraint.referred_table
            clause = and_(
                *(column == value for (_name, column), value in zip(pairs, values, strict=True))
            )
            if self.connection.execute(select(*referred.primary_key.columns).where(clause)).first():
                continue
            gone = ", ".join(str(value) for value in values)
            self.conflicts.append(Conflict(where, f"refers to {referred.name} {gone}, gone since"))
            return True
        return False

    def _same_identity(
        self,
        table: Table,
        where: str,
        row: Mapping[Any, Any],
        key: Mapping[str, Any] | None,
        written: Collection[str],
    ) -> bool:
        """Whether writing the row's name back (with `written`) would give two items of one
        kind one identity (a conflict no flag lets through, recorded)."""
        scope = _identity_scope(table, row)
        if scope is None:
            return False
        what, name_column, query = scope
        if name_column not in written:
            return False
        name = row[name_column]
        for other in self.connection.execute(query).mappings():
            if key is not None and all(other[column] == value for column, value in key.items()):
                continue
            if identity(other[name_column]) == identity(name):
                self.conflicts.append(
                    Conflict(
                        where,
                        f"would make two {what} with one name: {name!r} and "
                        f"{other[name_column]!r}; rename or remove {other[name_column]!r} first",
                        skippable=False,
                    )
                )
                return True
        return False


def _identity_scope(table: Table, row: Mapping[Any, Any]) -> tuple[str, str, Any] | None:
    """For a settings table: what its items are called, their name column, and the query
    reading the items one identity must be unique among."""
    for kind_name, spec in tables().items():
        if spec.table is not table:
            continue
        if spec.list_name is not None and row.get("list") != spec.list_name:
            continue
        query = select(table)
        if spec.list_name is not None:
            query = query.where(table.c.list == spec.list_name)
        return kind_name, spec.name_column, query
    return None


def _key_clause(table: Table, key: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in key.items()))


def _among(columns: Sequence[Column[Any]], keys: Sequence[Sequence[Any]]) -> ColumnElement[bool]:
    """The rows whose values of `columns` are one of `keys`."""
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return tuple_(*columns).in_([tuple(key) for key in keys])


def _comparable(column: Column[Any], value: Any) -> Any:
    """A value as the log stores it and as the database returns it, made comparable."""
    if value is None:
        return None
    if isinstance(column.type, Numeric):
        return Decimal(str(value))
    if isinstance(column.type, Boolean):
        return bool(value)
    return value


def _differences(table: Table, row: Mapping[Any, Any], after: Any) -> str:
    """How the row differs from what the entry left (its after-image), or ''."""
    if not isinstance(after, Mapping):
        return ""  # logged before crmconf kept after-images: nothing to compare with
    changed = [
        f"{name} is {row[name]!r} now, the entry left {value!r}"
        for name, value in after.items()
        if _comparable(table.c[name], row[name]) != _comparable(table.c[name], value)
    ]
    return "; ".join(changed)


def _describe(table: Table, key: Mapping[str, Any], row: Mapping[Any, Any] | None) -> str:
    """A row as a person finds it: table, key, and its name where it has one."""
    values = list(key.values())
    shown = str(values[0]) if len(values) == 1 else ", ".join(f"{k}={v}" for k, v in key.items())
    for column in ("name", "title", "login"):
        if row is not None and column in row and row[column] is not None:
            return f"{table.name} {shown} ({one_line(str(row[column]))})"
    return f"{table.name} {shown}"


# Which later entries an undo depends on


def _row_id(table: str, key: Mapping[str, Any]) -> RowId:
    return table, json.dumps(dict(key), sort_keys=True, default=str)


def _references(table: Table, image: Mapping[str, Any]) -> Iterator[RowId]:
    """The rows a row image points at: through its foreign keys, and a protection's item."""
    for constraint in table.foreign_key_constraints:
        pairs = [(element.parent.name, element.column.name) for element in constraint.elements]
        if all(name in image and image[name] is not None for name, _ in pairs):
            yield _row_id(constraint.referred_table.name, {to: image[name] for name, to in pairs})
    kinds = tables()
    if table is schema.protected and image.get("kind") in kinds and "item_id" in image:
        yield _row_id(kinds[image["kind"]].table.name, {"id": image["item_id"]})


@dataclass
class Footprint:
    """What one entry wrote and what its result and its undo point at."""

    written: set[RowId] = field(default_factory=set)
    created: set[RowId] = field(default_factory=set)
    removed: set[RowId] = field(default_factory=set)
    uses: set[RowId] = field(default_factory=set)
    """Rows the entry's after-images point at (a customer moved to an industry)."""
    needs: set[RowId] = field(default_factory=set)
    """Rows its undo would point at again (the industry a customer moves back to)."""

    def blocks(self, earlier: Footprint) -> str | None:
        """Why this (later) entry must be undone before `earlier` can be, or None."""
        if self.written & earlier.written:
            return "changed the same rows"
        if self.uses & earlier.created:
            return "uses rows it created"
        if self.removed & earlier.needs:
            return "removed rows its rollback would point at again"
        return None


def footprint(entries: Iterable[Mapping[str, Any]]) -> Footprint:
    found = Footprint()
    for entry in entries:
        table = schema.metadata.tables[entry["table"]]
        op = entry["op"]
        if op == "insert_many":
            for key in entry["keys"]:
                row = _row_id(table.name, dict(zip(entry["columns"], key, strict=True)))
                found.written.add(row)
                found.created.add(row)
            for values in entry.get("after", ()):
                image = dict(zip(entry["after_columns"], values, strict=True))
                found.uses.update(_references(table, image))
        elif op == "delete":
            image = entry["row"]
            key = {column.name: image.get(column.name) for column in table.primary_key.columns}
            found.written.add(_row_id(table.name, key))
            found.removed.add(_row_id(table.name, key))
            found.needs.update(_references(table, image))
        else:
            row = _row_id(table.name, entry["key"])
            found.written.add(row)
            if op == "insert":
                found.created.add(row)
            else:
                found.needs.update(_references(table, {**entry["key"], **entry["old"]}))
            if isinstance(entry.get("after"), Mapping):
                found.uses.update(_references(table, {**entry["key"], **entry["after"]}))
    return found
