"""What the seed-004 indicators count (issues 14 and 15): observations in class and teacher
support, students' events (OPP, TLV, long-term absence, afstroom, VAVO), visitation reports,
targets per school and school year, and the enrolment history of roles.

Revision ID: 0025_indicator_events
Revises: 0024_outbox_rate

``person_role.started_at``/``ended_at`` are filled from the person's ``created_at``/``ended_at``
for the roles that exist (the best history there is). Indexes for the GROUP BY queries of the
indicators: ``person_role(role, started_at)`` and ``referral(school_id, created_at)``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_indicator_events"
down_revision: str | None = "0024_outbox_rate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _check(column: str, values: Sequence[str]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    """Create the tables and indexes; date the roles there are."""
    with op.batch_alter_table("person_role") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE person_role SET started_at = (SELECT created_at FROM person "
        "WHERE person.id = person_role.person_id), ended_at = (SELECT ended_at FROM person "
        "WHERE person.id = person_role.person_id)"
    )
    op.create_index("ix_person_role_role_started", "person_role", ["role", "started_at"])
    op.create_index("ix_referral_school_created", "referral", ["school_id", "created_at"])

    op.create_table(
        "support_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("aim", sa.String(length=32), nullable=True),
        sa.Column("support_kind", sa.String(length=32), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("performer_id", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(held_on IS NULL) = (recorded_at IS NULL)",
            name=op.f("ck_support_activity_held_when_recorded"),
        ),
        sa.CheckConstraint(
            _check("kind", ("class_observation", "teacher_support")),
            name=op.f("ck_support_activity_activity_kind"),
        ),
        sa.CheckConstraint(
            _check("aim", ("student", "class", "teacher")),
            name=op.f("ck_support_activity_observation_aim"),
        ),
        sa.CheckConstraint(
            _check("support_kind", ("advice", "sparring", "training")),
            name=op.f("ck_support_activity_teacher_support_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_support_activity_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_support_activity_school_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectory.id"],
            name=op.f("fk_support_activity_trajectory_id_trajectory"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_support_activity_referral_id_referral"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["person.id"],
            name=op.f("fk_support_activity_requested_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["performer_id"],
            ["person.id"],
            name=op.f("fk_support_activity_performer_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_activity")),
    )
    op.create_index("ix_support_activity_school_held", "support_activity", ["school_id", "held_on"])
    op.create_index(
        op.f("ix_support_activity_trajectory_id"), "support_activity", ["trajectory_id"]
    )

    op.create_table(
        "student_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "until IS NULL OR until >= on_day", name=op.f("ck_student_event_until_after_on")
        ),
        sa.CheckConstraint(
            _check(
                "kind",
                ("opp", "tlv_requested", "tlv_granted", "long_absence", "outflow", "vavo"),
            ),
            name=op.f("ck_student_event_student_event_kind"),
        ),
        sa.CheckConstraint(
            _check("source", ("web", "closing", "import")),
            name=op.f("ck_student_event_student_event_source"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_student_event_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_student_event_school_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectory.id"],
            name=op.f("fk_student_event_trajectory_id_trajectory"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_student_event_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_event")),
        sa.UniqueConstraint(
            "school_id",
            "student_id",
            "kind",
            "on_day",
            name=op.f("uq_student_event_school_id_student_id_kind_on_day"),
        ),
    )
    op.create_index(
        "ix_student_event_school_kind_day", "student_event", ["school_id", "kind", "on_day"]
    )

    op.create_table(
        "visitation_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_visitation_report_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_visitation_report_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitation_report")),
    )
    op.create_index(
        "ix_visitation_report_school_day", "visitation_report", ["school_id", "held_on"]
    )

    op.create_table(
        "indicator_target",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "target >= 0 AND target <= 100", name=op.f("ck_indicator_target_target_percent")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_indicator_target_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["person.id"],
            name=op.f("fk_indicator_target_set_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "school_id", "school_year", "indicator", name=op.f("pk_indicator_target")
        ),
    )


def downgrade() -> None:
    """Drop the tables, the indexes and the role dates."""
    op.drop_table("indicator_target")
    op.drop_index("ix_visitation_report_school_day", table_name="visitation_report")
    op.drop_table("visitation_report")
    op.drop_index("ix_student_event_school_kind_day", table_name="student_event")
    op.drop_table("student_event")
    op.drop_index(op.f("ix_support_activity_trajectory_id"), table_name="support_activity")
    op.drop_index("ix_support_activity_school_held", table_name="support_activity")
    op.drop_table("support_activity")
    op.drop_index("ix_referral_school_created", table_name="referral")
    op.drop_index("ix_person_role_role_started", table_name="person_role")
    with op.batch_alter_table("person_role") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("started_at")
