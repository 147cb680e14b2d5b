"""The trajectory lifecycle (issue 11): "intake held — plan to complete", the advice at
closing, and evaluations tied to their appointments.

Revision ID: 0010
Revises: 0009

``trajectory.status`` may be ``intake_held`` (the intake took place, the plan is not complete
yet); ``trajectory.intake_held_at`` (when the intake was marked held) and ``trajectory.advice``
(the handelingsadvies recorded at closing). ``trajectory_evaluation.notes`` (what was said when
it was held) and ``trajectory_evaluation.appointment_id`` (the evaluation appointment that
marked it held). SQLite alters by copying the table (batch mode); the partial unique index on
``trajectory`` is dropped around the copy and created again, so it keeps its WHERE clause.
Existing rows keep their status (no trajectory is ``intake_held`` before this revision).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_CLOSED = "status <> 'closed'"
OLD_STATUSES = ("planned", "active", "closed")
NEW_STATUSES = ("planned", "intake_held", "active", "closed")


def _status_check(values: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in values))


def _drop_open_index() -> None:
    op.drop_index("uq_trajectory_open_per_student", table_name="trajectory")


def _create_open_index() -> None:
    op.create_index(
        "uq_trajectory_open_per_student",
        "trajectory",
        ["student_id"],
        unique=True,
        sqlite_where=sa.text(_NOT_CLOSED),
        postgresql_where=sa.text(_NOT_CLOSED),
    )


def upgrade() -> None:
    """Allow ``intake_held``; add the advice, the intake moment and the evaluation's notes."""
    _drop_open_index()
    with op.batch_alter_table("trajectory") as batch:
        batch.drop_constraint(op.f("ck_trajectory_trajectory_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_trajectory_trajectory_status"), _status_check(NEW_STATUSES)
        )
        batch.add_column(sa.Column("intake_held_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("advice", sa.Text(), nullable=True))
    _create_open_index()
    # An intake that activated a trajectory before this revision was held at its activation.
    op.execute("UPDATE trajectory SET intake_held_at = activated_at WHERE activated_at IS NOT NULL")
    with op.batch_alter_table("trajectory_evaluation") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("appointment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_trajectory_evaluation_appointment_id_appointment"),
            "appointment",
            ["appointment_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Drop the new columns; a trajectory waiting for its plan is ``planned`` again."""
    with op.batch_alter_table("trajectory_evaluation") as batch:
        batch.drop_constraint(
            op.f("fk_trajectory_evaluation_appointment_id_appointment"), type_="foreignkey"
        )
        batch.drop_column("appointment_id")
        batch.drop_column("notes")
    op.execute("UPDATE trajectory SET status = 'planned' WHERE status = 'intake_held'")
    _drop_open_index()
    with op.batch_alter_table("trajectory") as batch:
        batch.drop_column("advice")
        batch.drop_column("intake_held_at")
        batch.drop_constraint(op.f("ck_trajectory_trajectory_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_trajectory_trajectory_status"), _status_check(OLD_STATUSES)
        )
    _create_open_index()
