"""crmconf's bookkeeping in the target (schema version 2): history with its undo log, the
writers' lock, and the items applied with `protect: true`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crmconf_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("command", sa.String(40), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("undo", sa.Text, nullable=False),
        sa.Column("rollback_of", sa.Integer, nullable=True),
        sa.Column("rolled_back_by", sa.Integer, nullable=True),
    )
    op.create_table(
        "crmconf_lock",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("command", sa.String(40), nullable=False),
        sa.Column("since", sa.String(40), nullable=False),
    )
    op.create_table(
        "crmconf_protected",
        sa.Column("kind", sa.String(50), primary_key=True),
        sa.Column("item_id", sa.Integer, primary_key=True),
    )
