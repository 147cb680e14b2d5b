"""Outbox claims are leases (issue 13): a row left ``sending`` is claimed again, never lost.

Revision ID: 0021_outbox_leases
Revises: 0020_retention

``outbox.lease_until`` (until when a worker's claim holds; past it any worker claims the row
again), ``outbox.handed_at`` (when the current claim handed the row to the channel: NULL means
it surely was not sent) and the status ``uncertain`` (the last attempt may have reached the
person and the kind is not resent automatically; an operator decides). Rows left ``sending``
by a worker that died before this revision get an expired lease and a ``handed_at``: their
outcome is unknown, so the rule for uncertain rows decides (resent or ``uncertain``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_outbox_leases"
down_revision: str | None = "0020_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "unreachable", "cancelled")
NEW_OUTBOX_STATUSES = (*OLD_OUTBOX_STATUSES, "uncertain")


def _status_check(values: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    """Add the lease columns and the ``uncertain`` status; old stuck claims expire now."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_outbox_outbox_status"), _status_check(NEW_OUTBOX_STATUSES)
        )
    op.execute(
        "UPDATE outbox SET lease_until = claimed_at, handed_at = claimed_at "
        "WHERE status = 'sending'"
    )


def downgrade() -> None:
    """Uncertain rows become failed (an operator's case either way); drop the columns."""
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'uncertain'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_outbox_outbox_status"), _status_check(OLD_OUTBOX_STATUSES)
        )
        batch.drop_column("handed_at")
        batch.drop_column("lease_until")
