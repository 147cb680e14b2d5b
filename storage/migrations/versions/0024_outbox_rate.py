"""One outbox rate for every worker (issue 16): the bot's and each chat's next send time.

Revision ID: 0024_outbox_rate
Revises: 0023_queue_filters

``outbox_rate``: ``key`` 0 is the bot's overall clock (~30 messages a second), any other key a
chat's (1 a second). On PostgreSQL every outbox worker reserves its sends here, so N processes
on N machines keep Telegram's limits together (`services.outbox.rate`). Nothing to move: the
rows are made as the workers send.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_outbox_rate"
down_revision: str | None = "0023_queue_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``outbox_rate``."""
    op.create_table(
        "outbox_rate",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_outbox_rate")),
    )


def downgrade() -> None:
    """Drop ``outbox_rate`` (the workers' clocks; nothing of a person's)."""
    op.drop_table("outbox_rate")
