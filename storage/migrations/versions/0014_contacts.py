"""Contact channels and leavers (issue 12): e-mail beside Telegram, and people who left.

Revision ID: 0014_contacts
Revises: 0013_school_setup

``person.email`` (the address the school's administration gave, or the person's own; NULL
when there is none), ``person.email_unreachable_at`` (a bounce or a refused address: the
address is not tried again until it is changed), ``person.channel_preference`` (``telegram``
or ``email``; NULL means Telegram when a chat is linked, else e-mail), ``person.ended_at``
(the administration system no longer lists the person: they keep their history and lose
access) and ``outbox.channel`` (the channel a row was sent by, NULL before it went).
Plain ``ADD COLUMN`` of nullable columns: no table copy on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_contacts"
down_revision: str | None = "0013_school_setup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the contact columns, the leaver's end and the outbox row's channel."""
    op.add_column("person", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column(
        "person", sa.Column("email_unreachable_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("person", sa.Column("channel_preference", sa.String(length=16), nullable=True))
    op.add_column("person", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("channel", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop them again (batch mode: SQLite drops a column by copying the table)."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("channel_preference")
        batch.drop_column("email_unreachable_at")
        batch.drop_column("email")
