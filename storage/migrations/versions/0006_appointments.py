"""Appointments: types, opening hours, closed days, coach availability, bookings (issue 4);
capacity rows (``appointment_slot``) whose CHECK makes over-booking impossible; time-out
requests for the care coordinator (queue kind ``timeout_request``).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_QUEUE_KINDS = ("referral",)
NEW_QUEUE_KINDS = (*OLD_QUEUE_KINDS, "timeout_request")


def _kind_check(values: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    """Create the appointment tables; allow ``timeout_request`` queue items."""
    with op.batch_alter_table("queue_item") as batch:
        batch.drop_constraint(op.f("ck_queue_item_queue_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_queue_item_queue_kind"), _kind_check(NEW_QUEUE_KINDS)
        )
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_appointment_slot_within_capacity")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_appointment_slot_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_slot")),
        sa.UniqueConstraint(
            "school_id",
            "resource",
            "starts_at",
            name=op.f("uq_appointment_slot_school_id_resource_starts_at"),
        ),
    )
    op.create_table(
        "appointment_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "intake",
                "gesprek",
                "time_out",
                "evaluation",
                name="appointment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "resource",
            sa.Enum(
                "room",
                "coach",
                name="appointment_resource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("step_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("bookable_by", sa.JSON(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "resource <> 'coach' OR (capacity = 1 AND duration_minutes % 15 = 0"
            " AND step_minutes % 15 = 0 AND buffer_minutes % 15 = 0)",
            name=op.f("ck_appointment_type_coach_on_grid"),
        ),
        sa.CheckConstraint(
            "duration_minutes > 0 AND step_minutes > 0 AND buffer_minutes >= 0 AND capacity >= 1",
            name=op.f("ck_appointment_type_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_appointment_type_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_type")),
        sa.UniqueConstraint("school_id", "kind", name=op.f("uq_appointment_type_school_id_kind")),
    )
    op.create_table(
        "booking_settings",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("lead_time_minutes", sa.Integer(), nullable=False),
        sa.Column("late_cancel_hours", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("day_reminder_hour", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lead_time_minutes >= 0 AND late_cancel_hours >= 0 AND horizon_days >= 1"
            " AND day_reminder_hour >= 0 AND day_reminder_hour <= 23",
            name=op.f("ck_booking_settings_sensible"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_booking_settings_school_id_school")
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_booking_settings")),
    )
    op.create_table(
        "closed_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_closed_day_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_day")),
        sa.UniqueConstraint("school_id", "day", name=op.f("uq_closed_day_school_id_day")),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "weekday >= 0 AND weekday <= 6 AND closes_at > opens_at",
            name=op.f("ck_opening_hours_valid_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_opening_hours_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
        sa.UniqueConstraint(
            "school_id", "weekday", name=op.f("uq_opening_hours_school_id_weekday")
        ),
    )
    op.create_table(
        "coach_availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "weekday >= 0 AND weekday <= 6 AND ends_at > starts_at",
            name=op.f("ck_coach_availability_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "coach_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_coach_availability_school_id_coach_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_coach_availability_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_availability")),
    )
    op.create_index(
        op.f("ix_coach_availability_coach_id"), "coach_availability", ["coach_id"], unique=False
    )
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "intake",
                "gesprek",
                "time_out",
                "evaluation",
                name="appointment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "confirmed",
                "cancelled",
                "attended",
                "no_show",
                name="appointment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=False),
        sa.Column("mentor_confirmed", sa.Boolean(), nullable=False),
        sa.Column("late_cancel", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("attendance_marked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)",
            name=op.f("ck_appointment_cancelled_when_cancelled_at"),
        ),
        sa.CheckConstraint(
            "ends_at > starts_at AND busy_until >= ends_at AND version >= 1",
            name=op.f("ck_appointment_valid_times"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "booked_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_appointment_school_id_booked_by_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "coach_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_appointment_school_id_coach_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_appointment_school_id_student_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            name=op.f("fk_appointment_school_id_trajectory_id_trajectory"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_appointment_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_appointment_school_id_id")),
    )
    op.create_index(op.f("ix_appointment_coach_id"), "appointment", ["coach_id"], unique=False)
    op.create_index(
        op.f("ix_appointment_school_id_starts_at"),
        "appointment",
        ["school_id", "starts_at"],
        unique=False,
    )
    op.create_index(op.f("ix_appointment_student_id"), "appointment", ["student_id"], unique=False)
    op.create_index(
        op.f("ix_appointment_trajectory_id"), "appointment", ["trajectory_id"], unique=False
    )
    op.create_index(
        "uq_appointment_student_start_holding",
        "appointment",
        ["student_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text("status IN ('booked', 'confirmed')"),
        postgresql_where=sa.text("status IN ('booked', 'confirmed')"),
    )
    op.create_table(
        "timeout_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("queue_item_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "over_cap",
                "outside_plan",
                name="timeout_request_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_item_id"],
            ["queue_item.id"],
            name=op.f("fk_timeout_request_queue_item_id_queue_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "appointment_id"],
            ["appointment.school_id", "appointment.id"],
            name=op.f("fk_timeout_request_school_id_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "requested_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_timeout_request_school_id_requested_by_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_timeout_request_school_id_student_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            name=op.f("fk_timeout_request_school_id_trajectory_id_trajectory"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_timeout_request_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeout_request")),
        sa.UniqueConstraint("queue_item_id", name=op.f("uq_timeout_request_queue_item_id")),
    )
    op.create_index(
        op.f("ix_timeout_request_trajectory_id"), "timeout_request", ["trajectory_id"], unique=False
    )


def downgrade() -> None:
    """Drop the appointment tables and the ``timeout_request`` queue items."""
    op.drop_index(op.f("ix_timeout_request_trajectory_id"), table_name="timeout_request")
    op.drop_table("timeout_request")
    op.drop_index("uq_appointment_student_start_holding", table_name="appointment")
    op.drop_index(op.f("ix_appointment_trajectory_id"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_student_id"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_school_id_starts_at"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_coach_id"), table_name="appointment")
    op.drop_table("appointment")
    op.drop_index(op.f("ix_coach_availability_coach_id"), table_name="coach_availability")
    op.drop_table("coach_availability")
    op.drop_table("opening_hours")
    op.drop_table("closed_day")
    op.drop_table("booking_settings")
    op.drop_table("appointment_type")
    op.drop_table("appointment_slot")
    op.execute("DELETE FROM queue_item WHERE kind = 'timeout_request'")
    with op.batch_alter_table("queue_item") as batch:
        batch.drop_constraint(op.f("ck_queue_item_queue_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_queue_item_queue_kind"), _kind_check(OLD_QUEUE_KINDS)
        )
