"""The sandbox's settings tables, derived from the kind declarations.

Each list kind is stored in the table its `Kind.table_name` names: an `id`, its key
field (name or title) unique, a column per field of its item model, a foreign key
`FIELD_id` per reference (RESTRICT: the database refuses an orphan), `position` for an
ordered kind, and a link table to the users for its `users_field`. Kinds declaring the
same table share it, told apart by a `list` column. Switches are rows of `switches`.

Column types follow the item model's annotations and bounds — a name or bounded text
is a VARCHAR of its maximum length, a whole number an INTEGER with its range checked,
a choice a VARCHAR of its longest value — so that what validates also fits. A kind
registered later (crmconf.kinds.register) gets its tables here too, and
`crmconf sandbox upgrade` adds them to an existing sandbox (crmconf.targets.sandbox.migrations).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Le, MaxLen
from pydantic.fields import FieldInfo
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from crmconf.kinds import ALL_KINDS, generation
from crmconf.model.kind import Kind, NamedItem

metadata = MetaData()
"""Every table of the sandbox: these derived ones, and the CRM data model (schema.py)."""

USERS_TABLE = "users"
SWITCHES_TABLE = "switches"
LIST_COLUMN = "list"
POSITION_COLUMN = "position"

_NOT_STORED = frozenset({"renamed_from", "protect", "children"})
"""Fields of an item model that are not columns: identity history, protection (stored
apart, in crmconf_protected) and a tree's nesting (stored as the parent reference)."""


class StorageError(Exception):
    """A kind declares a field the sandbox has no way to store (a bug in the declaration)."""


@dataclass(frozen=True)
class FieldColumn:
    """How one field of a kind is stored."""

    field: str
    column: str
    numeric_text: bool = False
    """The field admits both text and whole numbers (a raw type number of a target) and is
    kept as text: digits read back as a number."""


@dataclass(frozen=True)
class Stored:
    """Where one list kind lives: its table and how its fields map to columns."""

    kind: Kind
    table: Table
    key_column: str
    columns: tuple[FieldColumn, ...]
    references: Mapping[str, str]
    """Reference field → foreign-key column."""
    list_name: str | None
    """For kinds sharing a table: the value of its `list` column."""
    members: Table | None
    """The link table of its users field, if it has one."""

    @property
    def position(self) -> bool:
        return self.kind.ordered


def stored_kinds() -> dict[str, Stored]:
    """How every list kind of the registry is stored, its tables declared in `metadata`."""
    return _stored_kinds(generation())


_derived: dict[str, Table] = {}
"""The tables declared here so far, by name: those of a kind no longer registered leave
`metadata` again, so that nothing iterating over it meets a table no sandbox has."""


@cache
def _stored_kinds(_generation: int) -> dict[str, Stored]:
    sharing: dict[str, list[Kind]] = {}
    for kind in ALL_KINDS:
        if not kind.is_switch:
            sharing.setdefault(kind.table_name, []).append(kind)
    stored: dict[str, Stored] = {}
    for kind in ALL_KINDS:
        if kind.is_switch:
            continue
        shared = len(sharing[kind.table_name]) > 1
        stored[kind.name] = _stored(kind, sharing[kind.table_name], shared)
    wanted = {
        table.name
        for found in stored.values()
        for table in (found.table, found.members)
        if table is not None
    }
    for name in [name for name in _derived if name not in wanted]:
        metadata.remove(_derived.pop(name))
    for found in stored.values():
        for table in (found.table, found.members):
            if table is not None:
                _derived[table.name] = table
    return stored


def switch_rows() -> dict[str, str]:
    """Switch kinds → their row in the `switches` table (the kind's name)."""
    return {kind.name: kind.name for kind in ALL_KINDS if kind.is_switch}


def _stored(kind: Kind, sharers: list[Kind], shared: bool) -> Stored:
    assert kind.item_model is not None
    key = kind.key_field
    references = {ref.field: f"{ref.field}_id" for ref in kind.references}
    columns = tuple(
        FieldColumn(name, name, _admits_text_and_numbers(info.annotation))
        for name, info in _stored_fields(kind.item_model).items()
        if name != kind.users_field and name not in references
    )
    table = metadata.tables.get(kind.table_name)
    if table is None:
        table = _table(kind, sharers, shared)
    members = None
    if kind.users_field is not None:
        name = f"{_snake(kind.singular)}_{kind.users_field}"
        members = metadata.tables.get(name)
        if members is None:
            members = _members_table(name, kind, table)
    list_name = kind.section[-1] if shared else None
    return Stored(kind, table, key, columns, references, list_name, members)


def _table(kind: Kind, sharers: list[Kind], shared: bool) -> Table:
    """The table of a kind (or of the kinds sharing it: their columns together)."""
    from crmconf.model.names import NAME_MAX_LENGTH

    key = kind.key_field
    columns: list[Any] = [Column("id", Integer, primary_key=True)]
    if shared:
        longest = max(len(other.section[-1]) for other in sharers)
        columns.append(Column(LIST_COLUMN, String(max(longest, 30)), nullable=False))
    columns.append(Column(key, String(NAME_MAX_LENGTH), nullable=False, unique=not shared))
    seen = {key}
    for other in sharers:
        assert other.item_model is not None
        references = {ref.field: ref.kind for ref in other.references}
        for name, info in _stored_fields(other.item_model).items():
            if name in seen or name == other.users_field or name in references:
                continue
            seen.add(name)
            column_type, check = _column_type(other, name, info)
            # A field another kind sharing the table lacks must be nullable there.
            required = info.is_required() and not shared
            columns.append(Column(name, column_type, nullable=not required))
            if check is not None:
                columns.append(check)
        for field_name, target in references.items():
            column = f"{field_name}_id"
            if column in seen:
                continue
            seen.add(column)
            target_table = _target_table(other, target)
            columns.append(
                Column(column, ForeignKey(f"{target_table}.id", ondelete="RESTRICT"), nullable=True)
            )
    if any(other.ordered for other in sharers):
        columns.append(Column(POSITION_COLUMN, Integer, nullable=False))
    if shared:
        columns.append(UniqueConstraint(LIST_COLUMN, key))
    return Table(kind.table_name, metadata, *columns)


def _target_table(kind: Kind, target: str) -> str:
    if target == kind.name:
        return kind.table_name
    from crmconf.kinds import KINDS_BY_NAME

    return KINDS_BY_NAME[target].table_name


def _members_table(name: str, kind: Kind, table: Table) -> Table:
    owner = f"{_snake(kind.singular)}_id"
    return Table(
        name,
        metadata,
        Column(owner, ForeignKey(f"{table.name}.id", ondelete="CASCADE"), primary_key=True),
        Column("user_id", ForeignKey(f"{USERS_TABLE}.id", ondelete="RESTRICT"), primary_key=True),
    )


def _stored_fields(model: type[NamedItem]) -> dict[str, FieldInfo]:
    return {
        name: info
        for name, info in model.model_fields.items()
        if name not in _NOT_STORED and name != model.KEY_FIELD
    }


def _column_type(kind: Kind, name: str, info: FieldInfo) -> tuple[TypeEngine[Any], Any]:
    """The column type of a field, and a CHECK constraint for a bounded whole number."""
    annotation = _plain(info.annotation)
    if annotation is bool:
        return Boolean(), None
    if annotation is int:
        low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
        high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
        check = None
        if low is not None and high is not None:
            check = CheckConstraint(
                f"{name} BETWEEN {low} AND {high}", name=f"{_snake(kind.singular)}_{name}"
            )
        return Integer(), check
    if get_origin(annotation) is Literal:
        return String(max(len(str(value)) for value in get_args(annotation))), None
    if annotation is str or _admits_text_and_numbers(info.annotation):
        length = next((m.max_length for m in _constraints(info) if m.max_length), None)
        return (String(length) if length else Text()), None
    raise StorageError(
        f"{kind.name}.{name}: the sandbox stores text, whole numbers, yes/no, a choice, "
        f"references and users; declare the field as one of those (it is {annotation!r})"
    )


def _constraints(info: FieldInfo) -> list[Any]:
    found = [m for m in info.metadata if isinstance(m, MaxLen) or hasattr(m, "max_length")]
    annotation = info.annotation
    for part in get_args(annotation):
        found.extend(m for m in getattr(part, "__metadata__", ()) if hasattr(m, "max_length"))
    return found


def _plain(annotation: Any) -> Any:
    """The annotation without Optional[…]."""
    if get_origin(annotation) in (Union, types.UnionType):
        parts = [part for part in get_args(annotation) if part is not type(None)]
        if len(parts) == 1:
            return _plain(parts[0])
    if get_origin(annotation) is typing.Annotated:
        return _plain(get_args(annotation)[0])
    return annotation


def _admits_text_and_numbers(annotation: Any) -> bool:
    if get_origin(annotation) not in (Union, types.UnionType):
        return False
    parts = {_plain(part) for part in get_args(annotation)}
    return str in parts and int in parts


def _snake(text: str) -> str:
    return text.replace(" ", "_").replace("-", "_")
