"""The sandbox as crmconf's schema version 1 created it: the CRM's data and its settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-20

Frozen as it was: later changes are later revisions, never edits here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _name(column: str = "name", *, unique: bool = True) -> sa.Column[str]:
    return sa.Column(column, sa.String(100), nullable=False, unique=unique)


def _fk(
    column: str,
    target: str,
    ondelete: str = "RESTRICT",
    *,
    nullable: bool = False,
    primary_key: bool = False,
) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer,
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "crmconf_meta",
        sa.Column("key", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("login", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "crm_groups",
        _id(),
        _name(),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _fk("parent_id", "crm_groups.id", nullable=True),
    )
    op.create_table(
        "group_members",
        _fk("group_id", "crm_groups.id", "CASCADE", primary_key=True),
        _fk("user_id", "users.id", primary_key=True),
    )
    op.create_table(
        "categories", _id(), _name(), sa.Column("show_on", sa.String(10), nullable=False)
    )
    for table in ("industries", "status_types", "rejection_reasons", "sale_types"):
        op.create_table(table, _id(), _name())
    op.create_table(
        "stages",
        _id(),
        _name("title"),
        sa.Column("probability", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _fk("rejection_reason_id", "rejection_reasons.id", nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name="stage_probability"),
    )
    op.create_table(
        "customer_info_options",
        _id(),
        sa.Column("list", sa.String(30), nullable=False),
        _name(unique=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("list", "name"),
    )
    op.create_table(
        "switches",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "customers",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("industry_id", "industries.id", nullable=True),
        _fk("status_type_id", "status_types.id", nullable=True),
        _fk("contact_origin_id", "customer_info_options.id", nullable=True),
        _fk("source_id", "customer_info_options.id", nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "customer_products",
        _fk("customer_id", "customers.id", "CASCADE", primary_key=True),
        _fk("option_id", "customer_info_options.id", primary_key=True),
    )
    op.create_table(
        "customer_categories",
        _fk("customer_id", "customers.id", "CASCADE", primary_key=True),
        _fk("category_id", "categories.id", primary_key=True),
    )
    op.create_table(
        "contacts",
        _id(),
        _fk("customer_id", "customers.id", "CASCADE", nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "contact_categories",
        _fk("contact_id", "contacts.id", "CASCADE", primary_key=True),
        _fk("category_id", "categories.id", primary_key=True),
    )
    op.create_table(
        "projects",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("customer_id", "customers.id", nullable=True),
    )
    op.create_table(
        "opportunities",
        _id(),
        sa.Column("title", sa.String(200), nullable=False),
        _fk("customer_id", "customers.id", nullable=True),
        _fk("project_id", "projects.id", nullable=True),
        _fk("owner_id", "users.id", nullable=False),
        _fk("stage_id", "stages.id", nullable=False),
        _fk("sale_type_id", "sale_types.id", nullable=True),
        _fk("rejection_reason_id", "rejection_reasons.id", nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.CheckConstraint(
            "(customer_id IS NULL) <> (project_id IS NULL)",
            name="opportunity_on_customer_or_project",
        ),
    )
