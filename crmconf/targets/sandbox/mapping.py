"""Where each settings kind lives in the sandbox's tables, and which of the CRM's data uses it.

The tables come from the kind declarations (storage.py). What uses a kind is the
sandbox CRM's own data model: which column of its customers, contacts or opportunities
points at the items. A kind no data uses (one registered later, say) is used by nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Column, Table

from crmconf.kinds import (
    CATEGORIES,
    CONTACT_ORIGINS,
    INDUSTRIES,
    PRODUCTS,
    REJECTION_REASONS,
    SALE_TYPES,
    SOURCES,
    STAGES,
    STATUS_TYPES,
    generation,
)
from crmconf.targets.sandbox import schema as s
from crmconf.targets.sandbox.storage import stored_kinds, switch_rows

__all__ = ["KindTable", "UsedBy", "switch_rows", "tables"]


@dataclass(frozen=True)
class UsedBy:
    """A column of customer data pointing at items of a kind."""

    column: Column[int]
    counts_as: str
    """The `Usage` field it adds to: customers, contacts or opportunities."""
    owner: Column[int] | None = None
    """For a link table (customer ↔ category): the column of the record that holds the link."""


@dataclass(frozen=True)
class KindTable:
    """A list kind stored one row per item."""

    table: Table
    name_column: str = "name"
    columns: Mapping[str, str] = field(default_factory=dict)
    """Plain fields → columns."""
    references: Mapping[str, str] = field(default_factory=dict)
    """Reference fields → foreign-key columns (the referenced kind comes from the Kind)."""
    list_name: str | None = None
    """For kinds sharing one table: the value of its `list` column."""
    position: bool = False
    used_by: tuple[UsedBy, ...] = ()
    members: Table | None = None
    """The link table of the kind's users field (a group's members)."""
    numeric_text: frozenset[str] = frozenset()
    """Fields kept as text that read back as a whole number when they are digits."""


USED_BY: dict[str, tuple[UsedBy, ...]] = {
    CONTACT_ORIGINS.name: (UsedBy(s.customers.c.contact_origin_id, "customers"),),
    PRODUCTS.name: (
        UsedBy(s.customer_products.c.option_id, "customers", s.customer_products.c.customer_id),
    ),
    SOURCES.name: (UsedBy(s.customers.c.source_id, "customers"),),
    CATEGORIES.name: (
        UsedBy(
            s.customer_categories.c.category_id, "customers", s.customer_categories.c.customer_id
        ),
        UsedBy(s.contact_categories.c.category_id, "contacts", s.contact_categories.c.contact_id),
    ),
    INDUSTRIES.name: (UsedBy(s.customers.c.industry_id, "customers"),),
    STATUS_TYPES.name: (UsedBy(s.customers.c.status_type_id, "customers"),),
    REJECTION_REASONS.name: (UsedBy(s.opportunities.c.rejection_reason_id, "opportunities"),),
    SALE_TYPES.name: (UsedBy(s.opportunities.c.sale_type_id, "opportunities"),),
    STAGES.name: (UsedBy(s.opportunities.c.stage_id, "opportunities"),),
}
"""The sandbox CRM's data model: which records point at the items of each kind."""


def tables() -> dict[str, KindTable]:
    """Every list kind of the registry → where it is stored and what uses it."""
    return _tables(generation())


@cache
def _tables(_generation: int) -> dict[str, KindTable]:
    found: dict[str, KindTable] = {}
    for name, stored in stored_kinds().items():
        found[name] = KindTable(
            stored.table,
            name_column=stored.key_column,
            columns={column.field: column.column for column in stored.columns},
            references=dict(stored.references),
            list_name=stored.list_name,
            position=stored.position,
            used_by=USED_BY.get(name, ()),
            members=stored.members,
            numeric_text=frozenset(c.field for c in stored.columns if c.numeric_text),
        )
    return found
