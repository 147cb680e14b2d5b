"""The AVG rights (issue 13): a school's retention period, erased people and erased care data.

Revision ID: 0020_retention
Revises: 0018_login_throttle

``school.care_retention_months`` (how long the care data of a closed trajectory is kept after
closing; 24 months unless the school sets another), ``person.erased_at`` (the person was
erased: the row stays as a pseudonymised anchor for the aggregates, "Verwijderd 1234") and
``trajectory.care_erased_at`` (the free text of the trajectory, its referral, notes, logbook
and questionnaire answers was erased, by the retention rule or an erasure). Plain
``ADD COLUMN``: no table copy on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_retention"
down_revision: str | None = "0018_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the retention period, the person's erasure and the trajectory's erased care data."""
    op.add_column(
        "school",
        sa.Column(
            "care_retention_months", sa.Integer(), nullable=False, server_default=sa.text("24")
        ),
    )
    op.add_column("person", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "trajectory", sa.Column("care_erased_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Drop them again (batch mode: SQLite drops a column by copying the table)."""
    with op.batch_alter_table("trajectory") as batch:
        batch.drop_column("care_erased_at")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("school") as batch:
        batch.drop_column("care_retention_months")
