"""Where each settings kind lives in the sandbox's tables, and which data uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Column, Table

from crmconf.kinds import (
    CATEGORIES,
    CONTACT_ORIGINS,
    GROUPS,
    INDUSTRIES,
    PRODUCTS,
    REJECTION_REASONS,
    RESTORE_CUSTOMERS,
    SALE_TYPES,
    SHOW_AS_TAB,
    SOURCES,
    STAGES,
    STATUS_TYPES,
)
from crmconf.targets.sandbox import schema as s


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
    """For option lists sharing one table: the value of its `list` column."""
    position: bool = False
    used_by: tuple[UsedBy, ...] = ()
    members: bool = False


def _options(list_name: str, *used_by: UsedBy) -> KindTable:
    return KindTable(s.customer_info_options, list_name=list_name, position=True, used_by=used_by)


TABLES: dict[str, KindTable] = {
    CONTACT_ORIGINS.name: _options(
        "contact_origins", UsedBy(s.customers.c.contact_origin_id, "customers")
    ),
    PRODUCTS.name: _options(
        "products",
        UsedBy(s.customer_products.c.option_id, "customers", s.customer_products.c.customer_id),
    ),
    SOURCES.name: _options("sources", UsedBy(s.customers.c.source_id, "customers")),
    CATEGORIES.name: KindTable(
        s.categories,
        columns={"show_on": "show_on"},
        used_by=(
            UsedBy(
                s.customer_categories.c.category_id,
                "customers",
                s.customer_categories.c.customer_id,
            ),
            UsedBy(
                s.contact_categories.c.category_id, "contacts", s.contact_categories.c.contact_id
            ),
        ),
    ),
    GROUPS.name: KindTable(
        s.crm_groups,
        columns={"type": "type", "description": "description"},
        references={"parent": "parent_id"},
        members=True,
    ),
    INDUSTRIES.name: KindTable(
        s.industries, used_by=(UsedBy(s.customers.c.industry_id, "customers"),)
    ),
    STATUS_TYPES.name: KindTable(
        s.status_types, used_by=(UsedBy(s.customers.c.status_type_id, "customers"),)
    ),
    REJECTION_REASONS.name: KindTable(
        s.rejection_reasons,
        used_by=(UsedBy(s.opportunities.c.rejection_reason_id, "opportunities"),),
    ),
    SALE_TYPES.name: KindTable(
        s.sale_types, used_by=(UsedBy(s.opportunities.c.sale_type_id, "opportunities"),)
    ),
    STAGES.name: KindTable(
        s.stages,
        name_column="title",
        columns={"probability": "probability", "status": "status"},
        references={"rejection_reason": "rejection_reason_id"},
        position=True,
        used_by=(UsedBy(s.opportunities.c.stage_id, "opportunities"),),
    ),
}

SWITCHES: dict[str, str] = {
    SHOW_AS_TAB.name: "customer_info.show_as_tab",
    RESTORE_CUSTOMERS.name: "features.restore_customers",
}
"""Switch kinds → their row in the `switches` table."""
