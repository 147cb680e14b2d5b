"""A school set up from nothing (issue 12): its holiday region, labelled closed days, a cap.

Revision ID: 0013_school_setup
Revises: 0012_teacher_notice

``school.region`` (``noord`` / ``midden`` / ``zuid``, the Dutch school-holiday region; NULL for
the schools made before), ``closed_day.label`` (what the day is: a holiday's name or the
admin's words; NULL for the existing rows) and ``booking_settings.timeouts_per_week`` (the
time-out cap a new trajectory starts with; 2 for the existing rows, as before) with its CHECK.
Added in batch mode (on SQLite a copy of each table; no table references ``closed_day`` or
``booking_settings``, and migrations run with foreign keys off for ``school``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_school_setup"
down_revision: str | None = "0012_teacher_notice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAP_CHECK = "timeouts_per_week >= 0 AND timeouts_per_week <= 10"


def upgrade() -> None:
    """Add the three columns (and the cap's check)."""
    with op.batch_alter_table("school") as batch:
        batch.add_column(sa.Column("region", sa.String(length=8), nullable=True))
    with op.batch_alter_table("closed_day") as batch:
        batch.add_column(sa.Column("label", sa.String(length=100), nullable=True))
    with op.batch_alter_table("booking_settings") as batch:
        batch.add_column(
            sa.Column("timeouts_per_week", sa.Integer(), server_default="2", nullable=False)
        )
        batch.create_check_constraint(op.f("ck_booking_settings_timeout_cap_in_range"), _CAP_CHECK)


def downgrade() -> None:
    """Drop them again (new trajectories start with 2 time-outs a week, as before)."""
    with op.batch_alter_table("booking_settings") as batch:
        batch.drop_constraint(op.f("ck_booking_settings_timeout_cap_in_range"), type_="check")
        batch.drop_column("timeouts_per_week")
    with op.batch_alter_table("closed_day") as batch:
        batch.drop_column("label")
    with op.batch_alter_table("school") as batch:
        batch.drop_column("region")
