"""A lead time per appointment type (issue 11): a time-out is for now.

Revision ID: 0009
Revises: 0008

``appointment_type.lead_time_minutes`` (NULL: the school's ``booking_settings`` lead time, as
before). The schools' existing time-out types get 0: a time-out can be booked for the block
that is running (see docs/decisions.md, "A time-out is for now"). The CHECK is added in batch
mode (on SQLite a copy of ``appointment_type``, which no table references).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "lead_time_minutes IS NULL OR lead_time_minutes >= 0"


def upgrade() -> None:
    """Add the column and its check; time-outs get no lead time."""
    with op.batch_alter_table("appointment_type") as batch:
        batch.add_column(sa.Column("lead_time_minutes", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_appointment_type_lead_time_not_negative"), _CHECK)
    op.execute("UPDATE appointment_type SET lead_time_minutes = 0 WHERE kind = 'time_out'")


def downgrade() -> None:
    """Drop the column (every type uses the school's lead time again)."""
    with op.batch_alter_table("appointment_type") as batch:
        batch.drop_constraint(op.f("ck_appointment_type_lead_time_not_negative"), type_="check")
        batch.drop_column("lead_time_minutes")
