"""The booking rules that need no database: decisions on facts the services loaded.

No I/O and nothing asynchronous here; the services in this package read the rows, ask these
functions, and write what they answer. Each answer is a `Text` (the reason shown to the
person, in their language) or ``None`` when the rule has no objection.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Protocol

from dialogs.text import N_, Text
from storage.models import (
    HOLDING_STATUSES,
    AppointmentKind,
    AppointmentStatus,
    Role,
    TimeoutRequestReason,
    TrajectoryStatus,
    Weekday,
)

#: The statuses in which an appointment holds its places (booked or confirmed).
HOLDING = tuple(AppointmentStatus(status) for status in HOLDING_STATUSES)

#: The statuses a time-out counts in towards the week's cap: held or holding, as the
#: trajectory page's flag counts (not cancelled, not a no-show).
COUNTED_TIMEOUT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ATTENDED,
)

#: `storage.models.Weekday` codes by `date.weekday()` (a referral stores school days only).
_WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_LABELS = {
    Weekday.MON.value: N_("Monday"),
    Weekday.TUE.value: N_("Tuesday"),
    Weekday.WED.value: N_("Wednesday"),
    Weekday.THU.value: N_("Thursday"),
    Weekday.FRI.value: N_("Friday"),
}

NOT_STARTED_YET = N_("This can be booked after the intake, once the support has started.")


class Calendar(Protocol):
    """What the time rules read of a school's timetable (`schedule.Schedule` is one)."""

    def local_day(self, at: datetime) -> date:
        """The school-local date of an instant."""
        ...

    def is_open(self, day: date) -> bool:
        """Whether the school is open on ``day`` at all."""
        ...


def running_grace(*, lead_time: timedelta, duration: timedelta) -> timedelta:
    """How long after its start a block can still be booked.

    A type booked without notice (``lead_time`` 0: a time-out is for now) offers the block
    that is running while at least half of it is still to come; every other type nothing
    (only starts after ``now + lead_time``).
    """
    if lead_time > timedelta(0) or duration <= timedelta(0):
        return timedelta(0)
    return duration / 2


def earliest_start(*, now: datetime, lead_time: timedelta, duration: timedelta) -> datetime:
    """The earliest start that can be offered at ``now`` (the slot listing's bound)."""
    grace = running_grace(lead_time=lead_time, duration=duration)
    return now - grace if grace else now + lead_time


def time_problem(
    *,
    calendar: Calendar,
    lead_time: timedelta,
    horizon_days: int,
    starts_at: datetime,
    now: datetime,
    duration: timedelta = timedelta(0),
) -> Text | None:
    """Why ``starts_at`` cannot be booked at ``now``, or ``None``.

    Not in the past, not closer than the lead time (the type's own, or the school's), not
    beyond the horizon (in school-local days from today), not on a day the school is closed.
    Without a lead time a block of ``duration`` that is running can still be booked while
    half of it is to come (`running_grace`). A naive ``starts_at`` is a programming error
    (`ValueError`), never a refusal.
    """
    if starts_at.tzinfo is None:
        raise ValueError("naive datetime; pass a timezone-aware value")
    grace = running_grace(lead_time=lead_time, duration=duration)
    running = bool(grace) and now - grace <= starts_at <= now
    if starts_at <= now and not running:
        return Text.of(N_("This time has already passed. Please pick another time."))
    if not running and starts_at < now + lead_time:
        minutes = int(lead_time.total_seconds() // 60)
        if minutes % 60 == 0:
            return Text.plural_of(
                "Appointments must be booked at least {count} hour ahead.",
                "Appointments must be booked at least {count} hours ahead.",
                minutes // 60,
            )
        return Text.plural_of(
            "Appointments must be booked at least {count} minute ahead.",
            "Appointments must be booked at least {count} minutes ahead.",
            minutes,
        )
    day = calendar.local_day(starts_at)
    if (day - calendar.local_day(now)).days >= horizon_days:
        return Text.plural_of(
            "You can book at most {count} day ahead.",
            "You can book at most {count} days ahead.",
            horizon_days,
        )
    if not calendar.is_open(day):
        return Text.of(N_("We are closed on that day. Please pick another day."))
    return None


def trajectory_problem(kind: AppointmentKind, status: TrajectoryStatus | None) -> Text | None:
    """Why ``kind`` cannot be booked while the student's open trajectory is in ``status``
    (``None``: the student has no open trajectory), or ``None``.

    An intake once the care coordinator accepted the referral (``planned``) and not after it
    took place; every other kind only while the support runs (``active``).
    """
    if kind is AppointmentKind.INTAKE:
        if status is None:
            return Text.of(
                N_("An intake can be booked once the care coordinator has accepted the referral.")
            )
        if status is not TrajectoryStatus.PLANNED:
            return Text.of(N_("The intake has already taken place."))
        return None
    if status is TrajectoryStatus.INTAKE_HELD:
        return Text.of(N_("This can be booked once the plan agreed at the intake is complete."))
    if status is not TrajectoryStatus.ACTIVE:
        return Text.of(NOT_STARTED_YET)
    return None


def intake_problem(*, has_mentor: bool, intake_planned: bool) -> Text | None:
    """Why an intake cannot be booked for a student whose trajectory allows one, or ``None``:
    the mentor must be there, and a student has one intake at a time (``intake_planned``: one
    is booked or confirmed already, not counting the one being moved)."""
    if not has_mentor:
        return Text.of(
            N_(
                "An intake needs the mentor, and no mentor is known for this student. "
                "Please contact the school."
            )
        )
    if intake_planned:
        return Text.of(N_("An intake is already planned. You can move it under My appointments."))
    return None


def mentor_can_attend(day: date, *, intake_from: date, intake_days: Collection[str]) -> bool:
    """Whether ``day`` is one the mentor said they can attend an intake on (the referral's
    "intake possible from" and "intake days"). No days stored: any school day from then."""
    if day < intake_from:
        return False
    return not intake_days or _WEEKDAY_CODES[day.weekday()] in intake_days


def intake_day_problem(
    day: date, *, intake_from: date, intake_days: Collection[str]
) -> Text | None:
    """Why an intake cannot be on ``day`` because the mentor cannot be there, or ``None``."""
    if day < intake_from:
        return Text.of(
            N_("The mentor can attend the intake from {date} on. Please pick a later day."),
            date=intake_from,
        )
    if not mentor_can_attend(day, intake_from=intake_from, intake_days=intake_days):
        days = tuple(
            Text.of(label) for code, label in _WEEKDAY_LABELS.items() if code in intake_days
        )
        return Text.of(
            N_("The mentor can attend the intake on {days}. Please pick one of those days."),
            days=days,
        )
    return None


def status_when_booked(kind: AppointmentKind) -> AppointmentStatus:
    """An intake waits for the mentor (``booked``); everything else is settled by booking it."""
    if kind is AppointmentKind.INTAKE:
        return AppointmentStatus.BOOKED
    return AppointmentStatus.CONFIRMED


def iso_week(day: date) -> tuple[date, date]:
    """The Monday of ``day``'s ISO week and the Monday after (the cap counts per ISO week)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def outside_plan(
    *, day: date, timeouts_in_plan: bool, plan_start: date | None, plan_end: date | None
) -> bool:
    """Whether a time-out on ``day`` is outside the plan: none agreed, or outside its dates."""
    return (
        not timeouts_in_plan
        or (plan_start is not None and day < plan_start)
        or (plan_end is not None and day > plan_end)
    )


def timeout_request_reason(
    *, outside_the_plan: bool, booked_that_week: int, per_week: int
) -> TimeoutRequestReason | None:
    """Why a time-out needs the care coordinator's approval, or ``None`` when it can be booked.

    Outside the plan comes first; otherwise the week is full once ``booked_that_week`` (the
    trajectory's counted time-outs in that ISO week, the moved one left out) reaches the cap.
    """
    if outside_the_plan:
        return TimeoutRequestReason.OUTSIDE_PLAN
    if booked_that_week >= per_week:
        return TimeoutRequestReason.OVER_CAP
    return None


def change_problem(*, status: AppointmentStatus, starts_at: datetime, now: datetime) -> Text | None:
    """Why an appointment can no longer be moved, cancelled or confirmed, or ``None``."""
    if status is AppointmentStatus.CANCELLED:
        return Text.of(N_("This appointment was cancelled."))
    if status not in HOLDING or starts_at <= now:
        return Text.of(N_("This appointment has already started or taken place."))
    return None


def is_late_cancel(*, starts_at: datetime, now: datetime, window: timedelta) -> bool:
    """Whether cancelling at ``now`` is closer to the start than the school's late-cancel
    window (still allowed, and flagged)."""
    return starts_at - now < window


def attendance_problem(
    *,
    kind: AppointmentKind,
    status: AppointmentStatus,
    starts_at: datetime,
    mentor_confirmed: bool,
    attended: bool,
    now: datetime,
) -> Text | None:
    """Why attendance cannot be marked (as ``attended`` or not), or ``None``.

    Not on a cancelled appointment, not before it started, and an intake the mentor never
    confirmed cannot be marked as held (no intake without the mentor).
    """
    if status is AppointmentStatus.CANCELLED:
        return Text.of(N_("This appointment was cancelled."))
    if starts_at > now:
        return Text.of(N_("Attendance can be marked once the appointment has started."))
    if attended and kind is AppointmentKind.INTAKE and not mentor_confirmed:
        return Text.of(
            N_("The mentor has not confirmed this intake, so it cannot be marked as held.")
        )
    return None


#: Who can be told that a student leaves their lesson for a time-out: the school's teachers
#: (a mentor teaches too: the seeds' mentor is the class's teacher-coach).
TEACHER_ROLES = (Role.TEACHER, Role.MENTOR)


def teacher_notice_problem(
    *,
    kind: AppointmentKind,
    status: AppointmentStatus,
    ends_at: datetime,
    now: datetime,
    teacher_roles: Collection[Role],
    same_school: bool,
) -> Text | None:
    """Why the chosen teacher cannot be told of this appointment, or ``None``.

    Only a time-out that still holds its place and has not ended; only a teacher (or mentor)
    of the appointment's school. Another school's person and someone who is not a teacher get
    the same answer, so a forged choice learns nothing.
    """
    if not same_school or not any(role in TEACHER_ROLES for role in teacher_roles):
        return Text.of(N_("Please choose one of the teachers shown."))
    if kind is not AppointmentKind.TIME_OUT:
        return Text.of(N_("Only a time-out is announced to the teacher."))
    if status not in HOLDING or ends_at <= now:
        return Text.of(N_("This time-out is no longer planned, so the teacher is not told."))
    return None
