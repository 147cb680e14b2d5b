"""Saved queue views (issue 14): a care coordinator names the queue's filters, search and sort
and picks them again; one row per web account and name.

Revision ID: 0023_queue_filters
Revises: 0022_about_text
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_queue_filters"
down_revision: str | None = "0022_about_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``queue_filter_set``."""
    op.create_table(
        "queue_filter_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["staff_account.id"],
            name=op.f("fk_queue_filter_set_account_id_staff_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_queue_filter_set_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_filter_set")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_queue_filter_set_account_id_name")),
    )
    op.create_index(
        op.f("ix_queue_filter_set_account_id"), "queue_filter_set", ["account_id"], unique=False
    )


def downgrade() -> None:
    """Drop ``queue_filter_set`` (the saved views are lost)."""
    op.drop_index(op.f("ix_queue_filter_set_account_id"), table_name="queue_filter_set")
    op.drop_table("queue_filter_set")
