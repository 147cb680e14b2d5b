"""Appointments (issue 4): what a school offers, when it is open, who is available, bookings.

Capacity is guaranteed by the database, not by a check before an insert: every bookable unit of
a resource (a block of the time-out room, a quarter of an hour of a coach) is one
`AppointmentSlot` row with ``capacity`` and ``booked`` and ``CHECK (booked <= capacity)``; a
booking raises ``booked`` with a conditional UPDATE in the same transaction as the insert of
the `Appointment` (see `services.appointments.capacity`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class AppointmentKind(StrEnum):
    """The kinds of appointment a school offers."""

    INTAKE = "intake"
    GESPREK = "gesprek"
    TIME_OUT = "time_out"
    EVALUATION = "evaluation"


class AppointmentStatus(StrEnum):
    """Where an appointment stands.

    ``booked``: reserved, waiting for a confirmation (an intake waits for the mentor);
    ``confirmed``: it will take place (reminders and calendar file go out);
    ``cancelled``; ``attended`` / ``no_show``: marked by the coach afterwards.
    """

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class AppointmentResource(StrEnum):
    """What an appointment of a type occupies: a place in the room, or one coach."""

    ROOM = "room"
    COACH = "coach"


class TimeoutRequestReason(StrEnum):
    """Why a time-out went to the care coordinator instead of being booked."""

    OVER_CAP = "over_cap"
    OUTSIDE_PLAN = "outside_plan"


#: The grid of a coach's time: every coach appointment occupies whole quarters of an hour,
#: aligned to :00/:15/:30/:45, so that two appointments of different lengths claim the same
#: slot rows where they overlap.
COACH_CELL_MINUTES = 15

#: Statuses that hold a place (what a booking counts against).
HOLDING_STATUSES = ("booked", "confirmed")

_HOLDING_SQL = "status IN ('booked', 'confirmed')"


class BookingSettings(Base):
    """A school's booking rules; a school without a row uses the defaults below."""

    __tablename__ = "booking_settings"
    __table_args__ = (
        CheckConstraint(
            "lead_time_minutes >= 0 AND late_cancel_hours >= 0 AND horizon_days >= 1"
            " AND day_reminder_hour >= 0 AND day_reminder_hour <= 23",
            name="sensible",
        ),
        CheckConstraint(
            "timeouts_per_week >= 0 AND timeouts_per_week <= 10", name="timeout_cap_in_range"
        ),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    #: Minimum notice: nothing can be booked closer to its start than this.
    lead_time_minutes: Mapped[int] = mapped_column(default=120)
    #: A cancellation closer to the start than this is allowed but flagged.
    late_cancel_hours: Mapped[int] = mapped_column(default=24)
    #: How far ahead can be booked (school days counted from today).
    horizon_days: Mapped[int] = mapped_column(default=21)
    #: The day-before reminder goes out at this hour, school time.
    day_reminder_hour: Mapped[int] = mapped_column(default=18)
    #: The time-out cap a new trajectory starts with (time-outs per week; its plan can change it).
    timeouts_per_week: Mapped[int] = mapped_column(default=2, server_default="2")


class AppointmentType(Base):
    """One kind of appointment at one school: its length, capacity, who books and who attends.

    ``bookable_by`` and ``attendees`` hold role codes (``student``, ``parent``, ``mentor``,
    ``coach``, ``care_coordinator``). A room type's ``capacity`` is the number of places in the
    room and its blocks are ``step_minutes`` apart from opening time; a coach type occupies one
    coach (capacity 1) for ``duration_minutes`` plus ``buffer_minutes``, on the quarter-hour
    grid. ``lead_time_minutes`` overrides the school's lead time for this type.
    """

    __tablename__ = "appointment_type"
    __table_args__ = (
        UniqueConstraint("school_id", "kind"),
        CheckConstraint(
            "duration_minutes > 0 AND step_minutes > 0 AND buffer_minutes >= 0 AND capacity >= 1",
            name="positive",
        ),
        CheckConstraint(
            "resource <> 'coach' OR (capacity = 1 AND duration_minutes % 15 = 0"
            " AND step_minutes % 15 = 0 AND buffer_minutes % 15 = 0)",
            name="coach_on_grid",
        ),
        CheckConstraint(
            "lead_time_minutes IS NULL OR lead_time_minutes >= 0", name="lead_time_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[AppointmentKind] = mapped_column(str_enum(AppointmentKind, "appointment_kind"))
    resource: Mapped[AppointmentResource] = mapped_column(
        str_enum(AppointmentResource, "appointment_resource")
    )
    duration_minutes: Mapped[int] = mapped_column()
    step_minutes: Mapped[int] = mapped_column()
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    capacity: Mapped[int] = mapped_column(default=1)
    bookable_by: Mapped[list[str]] = mapped_column(JSON)
    attendees: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    #: This type's minimum notice; ``None``: the school's (`BookingSettings.lead_time_minutes`).
    #: A time-out is for now, so it has none (0): the block that is running can be booked.
    lead_time_minutes: Mapped[int | None] = mapped_column()


class OpeningHours(Base):
    """When the trajectvoorziening is open on one weekday (0 = Monday); no row: closed."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        UniqueConstraint("school_id", "weekday"),
        CheckConstraint(
            "weekday >= 0 AND weekday <= 6 AND closes_at > opens_at", name="valid_hours"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    weekday: Mapped[int] = mapped_column()
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)


class ClosedDay(Base):
    """A day the trajectvoorziening is closed (holiday, study day)."""

    __tablename__ = "closed_day"
    __table_args__ = (UniqueConstraint("school_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    day: Mapped[date] = mapped_column(Date)
    #: What the day is (``Herfstvakantie``, ``Studiedag``), as the admin typed it or from the
    #: shipped school holidays; ``None``: no label.
    label: Mapped[str | None] = mapped_column(String(100))


class CoachAvailability(Base):
    """A coach's weekly hours for appointments on one weekday (several rows per day allowed)."""

    __tablename__ = "coach_availability"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "coach_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        CheckConstraint("weekday >= 0 AND weekday <= 6 AND ends_at > starts_at", name="valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    coach_id: Mapped[int] = mapped_column(index=True)
    weekday: Mapped[int] = mapped_column()
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)


class AppointmentSlot(Base):
    """One bookable unit of one resource: the capacity guarantee lives here.

    ``resource`` is ``room:<kind>`` (a block of the room, keyed by its start) or
    ``coach:<person id>`` (a quarter of an hour). Rows are created on first use
    (``INSERT … ON CONFLICT DO NOTHING``); ``booked`` only changes by conditional UPDATEs, and
    the CHECK makes an over-booking impossible even for code that forgets the condition.
    """

    __tablename__ = "appointment_slot"
    __table_args__ = (
        UniqueConstraint("school_id", "resource", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    resource: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0)


class SlotHold(Base):
    """One place of one slot row kept for a person for a few minutes (domain.md: "a slot being
    booked is held for a few minutes").

    Written when the booking flow shows its summary (the time chosen), one row per slot row the
    booking would take; dropped when the person books or holds another time. It takes no place
    (``appointment_slot.booked`` is unchanged): the free times offered to others and their
    conditional UPDATE count the holds of others that have not expired
    (`services.appointments.holds`). An expired hold is simply ignored; the daily housekeeping
    deletes it.
    """

    __tablename__ = "slot_hold"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "holder_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("holder_id", "resource", "starts_at"),
        Index(None, "school_id", "resource", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    holder_id: Mapped[int] = mapped_column()
    resource: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Appointment(Base):
    """One booked appointment of one student.

    ``resource`` and ``busy_until`` (the end plus the buffer) say which slot rows it holds, so
    a cancellation releases exactly what the booking claimed even if the type changed since.
    ``version`` grows with every move and the cancellation: it is the calendar file's SEQUENCE
    and part of the reminders' dedup keys. A student never holds two appointments starting at
    the same time (partial unique index on the holding statuses).
    """

    __tablename__ = "appointment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "trajectory_id"], ["trajectory.school_id", "trajectory.id"]
        ),
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "booked_by_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "coach_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "teacher_id"], ["person.school_id", "person.id"]),
        UniqueConstraint("school_id", "id"),
        Index(None, "school_id", "starts_at"),
        Index(
            "uq_appointment_student_start_holding",
            "student_id",
            "starts_at",
            unique=True,
            sqlite_where=text(_HOLDING_SQL),
            postgresql_where=text(_HOLDING_SQL),
        ),
        CheckConstraint(
            "ends_at > starts_at AND busy_until >= ends_at AND version >= 1", name="valid_times"
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)",
            name="cancelled_when_cancelled_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    trajectory_id: Mapped[int] = mapped_column(index=True)
    student_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[AppointmentKind] = mapped_column(str_enum(AppointmentKind, "appointment_kind"))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.BOOKED
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime())
    resource: Mapped[str] = mapped_column(String(32))
    coach_id: Mapped[int | None] = mapped_column(index=True)
    booked_by_id: Mapped[int] = mapped_column()
    mentor_confirmed: Mapped[bool] = mapped_column(default=False)
    late_cancel: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column()
    attendance_marked_by_id: Mapped[int | None] = mapped_column()
    #: The teacher whose lesson the student leaves for this time-out, told when it was booked
    #: (``None``: nobody was told; a move forgets it, the notice was about the old time).
    teacher_id: Mapped[int | None] = mapped_column()


class TimeoutRequest(Base):
    """A time-out the student asked for above the week's cap or outside the plan.

    Nothing was booked; the care coordinator decides on the `QueueItem` (kind
    ``timeout_request``) it belongs to. ``appointment_id`` is set when approved and booked.
    """

    __tablename__ = "timeout_request"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "trajectory_id"], ["trajectory.school_id", "trajectory.id"]
        ),
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "requested_by_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(
            ["school_id", "appointment_id"], ["appointment.school_id", "appointment.id"]
        ),
        UniqueConstraint("queue_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    queue_item_id: Mapped[int] = mapped_column(ForeignKey("queue_item.id", ondelete="CASCADE"))
    trajectory_id: Mapped[int] = mapped_column(index=True)
    student_id: Mapped[int] = mapped_column()
    requested_by_id: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[TimeoutRequestReason] = mapped_column(
        str_enum(TimeoutRequestReason, "timeout_request_reason")
    )
    appointment_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
