"""The name crmconf last applied to each settings item, by id, so that `crmconf pull`
tells a rename made in the CRM from a removal and an addition.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crmconf_applied_names",
        sa.Column("kind", sa.String(50), primary_key=True),
        sa.Column("item_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
