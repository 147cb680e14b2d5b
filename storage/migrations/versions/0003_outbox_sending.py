"""Outbox worker: the ``sending`` state, when a row was claimed, and why it last failed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

``outbox.status`` may now be ``sending`` (claimed by a worker, outcome not stored yet), so the
CHECK constraint `storage.models.base.str_enum` keeps is rebuilt with the new value;
``claimed_at`` and ``last_error`` (a short code) are added. Hand-checked against
`storage.models`; `tests/storage/test_migrations.py` proves they match. On SQLite, batch mode
copies ``outbox`` (SQLite cannot change a CHECK constraint in place).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("pending", "sent", "failed", "unreachable")
NEW_STATUSES = ("pending", "sending", "sent", "failed", "unreachable")


def _status_check(values: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    """Allow ``sending``; add ``claimed_at`` and ``last_error``."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_outbox_status"), _status_check(NEW_STATUSES))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Back to four states; a row still ``sending`` becomes ``failed`` (it may have been sent)."""
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'sending'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("claimed_at")
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_outbox_status"), _status_check(OLD_STATUSES))
