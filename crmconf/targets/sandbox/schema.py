"""The sandbox CRM's data model: settings and the customer data that references them.

Foreign keys are RESTRICT where customer data points at a setting, so the database
itself refuses to orphan a customer even if crmconf's planner were wrong.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 2
"""Bumped with every change to these tables; `SandboxTarget.open` upgrades older sandboxes
(see `UPGRADES`) and refuses newer ones."""

NAME = 100
metadata = MetaData()


def _restrict(name: str, target: str) -> Column[int]:
    return Column(name, ForeignKey(target, ondelete="RESTRICT"), nullable=True)


meta = Table(
    "crmconf_meta",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

crm_groups = Table(
    "crm_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("type", String(20), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("parent_id", ForeignKey("crm_groups.id", ondelete="RESTRICT"), nullable=True),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", ForeignKey("crm_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True),
)

categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("show_on", String(10), nullable=False),
)


def _named(table_name: str) -> Table:
    return Table(
        table_name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(NAME), nullable=False, unique=True),
    )


industries = _named("industries")
status_types = _named("status_types")
rejection_reasons = _named("rejection_reasons")
sale_types = _named("sale_types")

stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(NAME), nullable=False, unique=True),
    Column("probability", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    _restrict("rejection_reason_id", "rejection_reasons.id"),
    Column("position", Integer, nullable=False),
    CheckConstraint("probability BETWEEN 0 AND 100", name="stage_probability"),
)

customer_info_options = Table(
    "customer_info_options",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list", String(30), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("list", "name"),
)

switches = Table(
    "switches",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    _restrict("industry_id", "industries.id"),
    _restrict("status_type_id", "status_types.id"),
    _restrict("contact_origin_id", "customer_info_options.id"),
    _restrict("source_id", "customer_info_options.id"),
    Column("deleted", Boolean, nullable=False, default=False),
)

customer_products = Table(
    "customer_products",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "option_id", ForeignKey("customer_info_options.id", ondelete="RESTRICT"), primary_key=True
    ),
)

customer_categories = Table(
    "customer_categories",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="RESTRICT"), primary_key=True),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
)

contact_categories = Table(
    "contact_categories",
    metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="RESTRICT"), primary_key=True),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    _restrict("customer_id", "customers.id"),
)

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    _restrict("customer_id", "customers.id"),
    _restrict("project_id", "projects.id"),
    Column("owner_id", ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    Column("stage_id", ForeignKey("stages.id", ondelete="RESTRICT"), nullable=False),
    _restrict("sale_type_id", "sale_types.id"),
    _restrict("rejection_reason_id", "rejection_reasons.id"),
    Column("amount", Numeric(14, 2), nullable=False),
    CheckConstraint(
        "(customer_id IS NULL) <> (project_id IS NULL)", name="opportunity_on_customer_or_project"
    ),
)


# crmconf's own bookkeeping, kept in the target so it travels with the data.

history = Table(
    "crmconf_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("command", String(40), nullable=False),
    Column("config_digest", String(64), nullable=False, default=""),
    Column("summary", Text, nullable=False),
    Column("changes", Text, nullable=False),
    Column("undo", Text, nullable=False),
    Column("rollback_of", Integer, nullable=True),
    Column("rolled_back_by", Integer, nullable=True),
)

lock = Table(
    "crmconf_lock",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("command", String(40), nullable=False),
    Column("since", String(40), nullable=False),
)

protected = Table(
    "crmconf_protected",
    metadata,
    Column("kind", String(50), primary_key=True),
    Column("item_id", Integer, primary_key=True),
)
"""Items applied with `protect: true`: the protection outlives their configuration entry."""

UPGRADES = {1: "version 2 adds crmconf_history, crmconf_lock and crmconf_protected"}
"""Schema versions an older sandbox is upgraded from; create_all adds the new tables."""
