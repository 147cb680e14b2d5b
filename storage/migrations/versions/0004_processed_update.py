"""Handled Telegram update ids, so a redelivered update takes effect once.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``processed_update``."""
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_update")),
    )
    op.create_index(
        op.f("ix_processed_update_processed_at"), "processed_update", ["processed_at"], unique=False
    )


def downgrade() -> None:
    """Drop ``processed_update``."""
    op.drop_index(op.f("ix_processed_update_processed_at"), table_name="processed_update")
    op.drop_table("processed_update")
