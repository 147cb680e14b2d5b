"""Trajectories and their evaluation dates (created when a referral is accepted); outbox rows
can be ``cancelled`` (a scheduled reminder that is no longer wanted).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_CLOSED = "status <> 'closed'"
OLD_OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "unreachable")
NEW_OUTBOX_STATUSES = (*OLD_OUTBOX_STATUSES, "cancelled")


def _status_check(values: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    """Create ``trajectory`` and ``trajectory_evaluation``; allow ``cancelled`` outbox rows."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_outbox_outbox_status"), _status_check(NEW_OUTBOX_STATUSES)
        )
    op.create_table(
        "trajectory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "active",
                "closed",
                name="trajectory_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("timeouts_in_plan", sa.Boolean(), nullable=False),
        sa.Column("timeouts_per_week", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_trajectory_closed_when_closed_at"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_trajectory_end_after_start"),
        ),
        sa.CheckConstraint(
            "timeouts_per_week >= 0", name=op.f("ck_trajectory_timeouts_per_week_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_trajectory_referral_id_referral")
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "closed_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_trajectory_school_id_closed_by_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "coach_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_trajectory_school_id_coach_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_trajectory_school_id_student_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_trajectory_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectory")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_trajectory_referral_id")),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_trajectory_school_id_id")),
    )
    op.create_index(op.f("ix_trajectory_student_id"), "trajectory", ["student_id"], unique=False)
    # At most one trajectory per student that is not closed, guaranteed by the database.
    op.create_index(
        "uq_trajectory_open_per_student",
        "trajectory",
        ["student_id"],
        unique=True,
        sqlite_where=sa.text(_NOT_CLOSED),
        postgresql_where=sa.text(_NOT_CLOSED),
    )
    op.create_table(
        "trajectory_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "interim",
                "final",
                name="evaluation_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            name=op.f("fk_trajectory_evaluation_school_id_trajectory_id_trajectory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_trajectory_evaluation_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectory_evaluation")),
    )
    op.create_index(
        op.f("ix_trajectory_evaluation_trajectory_id"),
        "trajectory_evaluation",
        ["trajectory_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ``trajectory_evaluation`` and ``trajectory``."""
    op.drop_index(
        op.f("ix_trajectory_evaluation_trajectory_id"), table_name="trajectory_evaluation"
    )
    op.drop_table("trajectory_evaluation")
    op.drop_index("uq_trajectory_open_per_student", table_name="trajectory")
    op.drop_index(op.f("ix_trajectory_student_id"), table_name="trajectory")
    op.drop_table("trajectory")
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_outbox_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_outbox_outbox_status"), _status_check(OLD_OUTBOX_STATUSES)
        )
