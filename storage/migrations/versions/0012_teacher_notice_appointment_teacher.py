"""The teacher told of a time-out (issue 11, item 6): ``appointment.teacher_id``.

Revision ID: 0012_teacher_notice
Revises: 0011_duplicates

``appointment.teacher_id`` (NULL: nobody was told): the teacher whose lesson the student leaves
for a time-out, chosen when booking; they get ``appointment.timeout_teacher`` and may open it in
the chat (see docs/decisions.md, "The teacher of the lesson"). A composite foreign key keeps the
teacher in the appointment's school, as for the student and the coach. Added in batch mode (on
SQLite a copy of ``appointment``; migrations run with foreign keys off, so the rows that
reference it are kept); the partial unique index is dropped around the copy and created again,
so it keeps its WHERE clause. Existing rows: nobody told.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_teacher_notice"
down_revision: str | None = "0011_duplicates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_appointment_school_id_teacher_id_person"
_INDEX = "uq_appointment_student_start_holding"
_HOLDING = "status IN ('booked', 'confirmed')"


def _create_index() -> None:
    op.create_index(
        _INDEX,
        "appointment",
        ["student_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text(_HOLDING),
        postgresql_where=sa.text(_HOLDING),
    )


def upgrade() -> None:
    """Add the column and its foreign key to ``person`` (same school)."""
    op.drop_index(_INDEX, table_name="appointment")
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("teacher_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f(_FK), "person", ["school_id", "teacher_id"], ["school_id", "id"]
        )
    _create_index()


def downgrade() -> None:
    """Drop the column (who was told is forgotten; the notices already sent stay sent)."""
    op.drop_index(_INDEX, table_name="appointment")
    with op.batch_alter_table("appointment") as batch:
        batch.drop_constraint(op.f(_FK), type_="foreignkey")
        batch.drop_column("teacher_id")
    _create_index()
