"""Appointments (issue 4): booking, moving, cancelling, the mentor's confirmation, attendance.

Public API for the channels (``dialogs``/``bot``/``web``). All datetimes are timezone-aware
UTC; ``date`` values are school-local days (Europe/Amsterdam). Units of work own their
transaction (``session`` must not be in one); ``*_in_transaction`` operations join the
caller's.

This first version fixes the names and signatures; the bodies follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from storage.errors import StorageError
from storage.models import Person


class AppointmentKind(StrEnum):
    """The kinds of appointment a school offers."""

    INTAKE = "intake"
    GESPREK = "gesprek"
    TIME_OUT = "time_out"
    EVALUATION = "evaluation"


class AppointmentStatus(StrEnum):
    """Where an appointment stands."""

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start time with how many places are still free."""

    kind: AppointmentKind
    starts_at: datetime
    ends_at: datetime
    free_places: int


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """One appointment as the people involved see it (``version``: the .ics SEQUENCE)."""

    appointment_id: int
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    student_id: int
    student_name: str
    booked_by_id: int
    coach_name: str | None
    mentor_confirmed: bool
    late_cancel: bool
    version: int


@dataclass(frozen=True, slots=True)
class BookingRequested:
    """Nothing was booked: the request went to the care coordinator's queue instead."""

    queue_item_id: int


class SlotTaken(StorageError):  # noqa: N818 - the agreed API name
    """The time has no free place (any more); ``alternatives`` are the nearest free slots."""

    def __init__(self, reason: Text, alternatives: tuple[Slot, ...]) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
        self.alternatives = alternatives


class BookingRefused(StorageError):  # noqa: N818 - the agreed API name
    """A rule says no (no active trajectory, closed day, lead time, ...): ``reason`` says it."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


async def bookable_students(*, session: AsyncSession, person: Person) -> list[tuple[int, str]]:
    """(student_id, display name) of the students ``person`` may book for."""
    raise NotImplementedError


async def bookable_kinds(
    *, session: AsyncSession, person: Person, student_id: int, now: datetime
) -> list[AppointmentKind]:
    """The kinds ``person`` may book for the student right now (rules applied)."""
    raise NotImplementedError


async def free_slots(
    *,
    session: AsyncSession,
    person: Person,
    student_id: int,
    kind: AppointmentKind,
    now: datetime,
    days: int = 21,
) -> list[Slot]:
    """Free, bookable start times of ``kind`` for the student in the next ``days`` days."""
    raise NotImplementedError


async def book_in_transaction(
    *,
    session: AsyncSession,
    actor: Person,
    student_id: int,
    kind: AppointmentKind,
    starts_at: datetime,
    now: datetime,
    move_appointment_id: int | None = None,
) -> AppointmentView | BookingRequested:
    """Book (or move) an appointment; an operation. Raises SlotTaken/BookingRefused/NotAllowed."""
    raise NotImplementedError


async def book(
    *,
    session: AsyncSession,
    actor: Person,
    student_id: int,
    kind: AppointmentKind,
    starts_at: datetime,
    now: datetime,
    move_appointment_id: int | None = None,
) -> AppointmentView | BookingRequested:
    """`book_in_transaction` as a unit of work."""
    raise NotImplementedError


async def upcoming_for(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[AppointmentView]:
    """The person's upcoming appointments (own, children's, mentees' intakes, coach's)."""
    raise NotImplementedError


async def cancel_in_transaction(
    *, session: AsyncSession, actor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """Cancel an appointment; an operation. Late cancellations are allowed but flagged."""
    raise NotImplementedError


async def cancel(
    *, session: AsyncSession, actor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """`cancel_in_transaction` as a unit of work."""
    raise NotImplementedError


async def confirm_mentor_presence(
    *, session: AsyncSession, mentor: Person, appointment_id: int, now: datetime, present: bool
) -> AppointmentView:
    """The mentor says whether they attend the intake (yes confirms it; no cancels it)."""
    raise NotImplementedError


async def appointments_on(
    *, session: AsyncSession, coach: Person, day: date
) -> list[AppointmentView]:
    """Every appointment of the coach's school on one school day."""
    raise NotImplementedError


async def mark_attendance(
    *, session: AsyncSession, coach: Person, appointment_id: int, attended: bool, now: datetime
) -> AppointmentView:
    """Attended or no-show; an attended intake activates the trajectory."""
    raise NotImplementedError


def calendar_file(
    view: AppointmentView, *, title: str, location: str | None, cancelled: bool = False
) -> bytes:
    """An .ics file for the appointment (Europe/Amsterdam, stable UID, SEQUENCE = version)."""
    raise NotImplementedError


async def appointments_of_trajectory(
    *, session: AsyncSession, viewer: Person, trajectory_id: int
) -> list[AppointmentView]:
    """Appointments of one trajectory (care coordinator or coach of the school)."""
    raise NotImplementedError
