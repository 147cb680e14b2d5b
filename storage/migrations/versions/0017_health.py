"""The heartbeat row of ``/healthz`` (issue 12): a committed write proves the database writes.

Revision ID: 0017_health
Revises: 0014_contacts

``health_check`` holds one row (``id`` 1) whose ``beat_at`` the health check updates and
commits at most every few seconds (`storage.health`). A full disk or a read-only database
file fails that commit, so ``/healthz`` answers 503 instead of "ok".
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0017_health"
down_revision: str | None = "0014_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``health_check`` with its one row."""
    table = op.create_table(
        "health_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check")),
    )
    # SQLite keeps naive UTC (storage.models.base.UTCDateTime); PostgreSQL a timestamptz.
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(table, [{"id": 1, "beat_at": now}])


def downgrade() -> None:
    """Drop ``health_check``."""
    op.drop_table("health_check")
