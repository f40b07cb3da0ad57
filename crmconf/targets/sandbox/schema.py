"""The sandbox CRM's data model: its users, the customer data that references the
settings, and crmconf's bookkeeping. The settings tables themselves are derived from the
kind declarations (crmconf.targets.sandbox.storage); the schema of a sandbox on disk
evolves through recorded revisions (crmconf.targets.sandbox.migrations).

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
    Numeric,
    String,
    Table,
    Text,
)

from crmconf import kinds
from crmconf.targets.sandbox import storage

SCHEMA_VERSION = 3
"""In `crmconf_meta`: 3 means the schema's revisions are Alembic's (`alembic_version`);
crmconf releases before Alembic wrote 1 or 2, and refuse a sandbox of any other number."""

metadata = storage.metadata


def _restrict(name: str, target: str) -> Column[int]:
    return Column(name, ForeignKey(target, ondelete="RESTRICT"), nullable=True)


meta = Table(
    "crmconf_meta",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)

users = Table(
    storage.USERS_TABLE,
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

switches = Table(
    storage.SWITCHES_TABLE,
    metadata,
    Column("name", String(50), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)

# The settings tables of the kinds registered at import, derived from their declarations;
# the CRM's data below points at them by name. A kind registered later gets its tables
# from storage.stored_kinds() when first asked for.
_STORED = storage.stored_kinds()
categories = _STORED[kinds.CATEGORIES.name].table
crm_groups = _STORED[kinds.GROUPS.name].table
_members = _STORED[kinds.GROUPS.name].members
assert _members is not None
group_members = _members
industries = _STORED[kinds.INDUSTRIES.name].table
status_types = _STORED[kinds.STATUS_TYPES.name].table
rejection_reasons = _STORED[kinds.REJECTION_REASONS.name].table
sale_types = _STORED[kinds.SALE_TYPES.name].table
stages = _STORED[kinds.STAGES.name].table
customer_info_options = _STORED[kinds.SOURCES.name].table

# The CRM's own data: customers, contacts, projects and opportunities, and what they use.

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

applied_names = Table(
    "crmconf_applied_names",
    metadata,
    Column("kind", String(50), primary_key=True),
    Column("item_id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
)
"""The name crmconf last left on each item of a kind it applied (revision 0003): a name
differing now was changed in the CRM, by id, which `crmconf pull` reads as a rename."""

LEGACY_REVISIONS = {"1": "0001", "2": "0002"}
"""The Alembic revision a sandbox of a schema version before Alembic is at."""
