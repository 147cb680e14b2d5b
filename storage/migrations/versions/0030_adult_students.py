"""Age 18 (domain.md): a student's date of birth, and their answer whether parents still see
their data.

Revision ID: 0030_adult_students
Revises: 0029_case_version

Three nullable columns on ``person`` with plain ``ADD COLUMN`` (no table copy: person is
referenced by nearly every table). NULL everywhere means what the product did before: no birth
date known, not asked, parents see.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_adult_students"
down_revision: str | None = "0029_case_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("birth_date", "parents_access_answered_at", "parents_access_withdrawn_at")


def upgrade() -> None:
    """Add the three columns."""
    op.add_column("person", sa.Column("birth_date", sa.Date(), nullable=True))
    op.add_column(
        "person", sa.Column("parents_access_answered_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "person",
        sa.Column("parents_access_withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop them (the answers are lost; parents see again)."""
    with op.batch_alter_table("person") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
