"""Duplicate referrals (issue 11, item 5): a referral merged into another open one.

Revision ID: 0011_duplicates
Revises: 0010

``queue_item.merged_into_id`` (NULL: not merged): the item of the open referral a duplicate
was merged into; the duplicate's item is closed without a decision and its content is a note
on that item. Added in batch mode (on SQLite a copy of ``queue_item``; migrations run with
foreign keys off, so the notes that reference it are kept). Existing rows: none merged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_duplicates"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_queue_item_merged_into_id_queue_item"


def upgrade() -> None:
    """Add the column and its foreign key to ``queue_item``."""
    with op.batch_alter_table("queue_item") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f(_FK), "queue_item", ["merged_into_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    """Drop the column (a merged item stays closed, without saying into which)."""
    with op.batch_alter_table("queue_item") as batch:
        batch.drop_constraint(op.f(_FK), type_="foreignkey")
        batch.drop_column("merged_into_id")
