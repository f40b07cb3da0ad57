"""How every tenant differs from the firm's standard: a matrix of items by tenants.

Rows are the items of each kind (by identity), columns the tenants; each cell says
whether the tenant has the item as the standard has it (`same`), with other values
(`differs`, field by field), not at all (`missing`), or has an item the standard lacks
(`extra`). A tenant's side is its configuration or, live, what its CRM holds; a kind
the CRM cannot read is `unknown` there. A pure function over records: loading and
reading are the caller's (crmconf.cli.compare_command).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crmconf.kinds import ALL_KINDS
from crmconf.model.kind import Record
from crmconf.model.names import identity


class CellState(StrEnum):
    SAME = "same"
    DIFFERS = "differs"
    MISSING = "missing"
    EXTRA = "extra"
    UNKNOWN = "unknown"
    """The tenant's CRM cannot read this kind (live comparison)."""


@dataclass(frozen=True)
class Cell:
    state: CellState
    differences: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    """For `differs`: field → (the standard's value, the tenant's)."""


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    """The item's name in the standard (else in the first tenant having it)."""
    cells: Mapping[str, Cell]


@dataclass(frozen=True)
class Side:
    """One tenant's settings for the comparison: records per kind, or why there are none."""

    sections: Mapping[str, Sequence[Record]] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()
    """Kinds its CRM cannot read (live only)."""
    error: str | None = None


@dataclass(frozen=True)
class Comparison:
    standard: str
    """What the tenants were compared with, for a person: `standard: PATH` or a tenant."""
    tenants: tuple[str, ...]
    rows: tuple[Row, ...]
    errors: Mapping[str, str]

    @property
    def matches(self) -> bool:
        """Every tenant has every item as the standard has it, and nothing else."""
        return not self.errors and all(
            cell.state is CellState.SAME for row in self.rows for cell in row.cells.values()
        )

    def kinds(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.setdefault(row.kind)
        return list(seen)


def compare(
    standard_label: str, standard: Mapping[str, Sequence[Record]], tenants: Mapping[str, Side]
) -> Comparison:
    """The matrix of every item of the kinds the standard or a tenant manages."""
    managed = set(standard) | {kind for side in tenants.values() for kind in side.sections}
    rows: list[Row] = []
    for kind in ALL_KINDS:
        if kind.name not in managed:
            continue
        ours = {record.key: record for record in standard.get(kind.name, ())}
        theirs = {
            name: {record.key: record for record in side.sections.get(kind.name, ())}
            for name, side in tenants.items()
            if side.error is None
        }
        names = {key: record.name for key, record in ours.items()}
        for items in theirs.values():
            for key, record in items.items():
                names.setdefault(key, record.name)
        references = frozenset(reference.field for reference in kind.references)
        for key, name in names.items():
            cells = {
                tenant: _cell(
                    ours.get(key),
                    items.get(key),
                    references,
                    unreadable=kind.name in tenants[tenant].unreadable,
                )
                for tenant, items in theirs.items()
            }
            rows.append(Row(kind.name, name, cells))
    errors = {name: side.error for name, side in tenants.items() if side.error is not None}
    return Comparison(standard_label, tuple(tenants), tuple(rows), errors)


def _cell(
    ours: Record | None, theirs: Record | None, references: frozenset[str], *, unreadable: bool
) -> Cell:
    if unreadable:
        return Cell(CellState.UNKNOWN)
    if ours is None and theirs is None:
        return Cell(CellState.SAME)  # another tenant's extra item: absent here as in the standard
    if theirs is None:
        return Cell(CellState.MISSING)
    if ours is None:
        return Cell(CellState.EXTRA)
    differences = {
        name: (ours.fields.get(name), theirs.fields.get(name))
        for name in {*ours.fields, *theirs.fields}
        if not _same(ours.fields.get(name), theirs.fields.get(name), name in references)
    }
    if ours.name != theirs.name:
        differences["name"] = (ours.name, theirs.name)
    if ours.protect != theirs.protect:
        differences["protect"] = (ours.protect, theirs.protect)
    return (
        Cell(CellState.DIFFERS, dict(sorted(differences.items())))
        if differences
        else Cell(CellState.SAME)
    )


def _same(left: Any, right: Any, reference: bool) -> bool:
    """Equal as the planner would see it: a reference by identity, users in any order."""
    if reference and isinstance(left, str) and isinstance(right, str):
        return identity(left) == identity(right)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return sorted(map(str, left)) == sorted(map(str, right))
    return bool(left == right)
