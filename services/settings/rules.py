"""What a setting may be (pure): checked before anything is written.

Every check answers ``None`` or a `Text` saying what was expected, with an example, in words
an administrator understands. The database's CHECK constraints stay the last guard.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogs.text import N_, Text
from storage.models import COACH_CELL_MINUTES, AppointmentResource, Role


class Region(StrEnum):
    """The Dutch school-holiday regions."""

    NOORD = "noord"
    MIDDEN = "midden"
    ZUID = "zuid"


#: Weekday codes as the command line and the forms take them (0 = Monday).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Who may book an appointment type (the relations `services.appointments.access` knows).
BOOKERS = frozenset(
    {Role.STUDENT.value, Role.PARENT.value, Role.CARE_COORDINATOR.value, Role.COACH.value}
)
#: Who may attend one (who gets the calendar file and the reminders).
ATTENDEES = frozenset({Role.STUDENT.value, Role.PARENT.value, Role.MENTOR.value, Role.COACH.value})

MAX_DURATION_MINUTES = 480
MAX_LEAD_TIME_MINUTES = 14 * 24 * 60
MAX_ROOM_PLACES = 50
MAX_LATE_CANCEL_HOURS = 14 * 24
MAX_HORIZON_DAYS = 120
#: The same bound as a trajectory's plan (`services.trajectories.lifecycle`).
MAX_TIMEOUTS_PER_WEEK = 10

SCHOOL_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
SCHOOL_NAME_MAX = 200
LABEL_MAX = 100
_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")


@dataclass(frozen=True, slots=True)
class TypeValues:
    """An appointment type's settings as they would be after a change."""

    resource: AppointmentResource
    duration_minutes: int
    step_minutes: int
    buffer_minutes: int
    capacity: int
    bookable_by: frozenset[str]
    attendees: frozenset[str]
    lead_time_minutes: int | None


def school_code_problem(code: str) -> Text | None:
    """A school code: 2–32 of a–z, 0–9 and dashes, starting with a letter or digit."""
    if SCHOOL_CODE.fullmatch(code) is None:
        return Text.of(
            N_(
                "A school code has 2 to 32 characters: lowercase letters, digits or dashes, "
                "starting with a letter or digit (for example “de-linde”)."
            )
        )
    return None


def school_name_problem(name: str) -> Text | None:
    """A school's name: not empty, at most `SCHOOL_NAME_MAX` characters."""
    if not name.strip() or len(name.strip()) > SCHOOL_NAME_MAX:
        return Text.of(N_("A school name has 1 to {maximum} characters."), maximum=SCHOOL_NAME_MAX)
    return None


def timezone_problem(zone: str) -> Text | None:
    """A time zone from the tz database (``Europe/Amsterdam``)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return Text.of(
            N_("Unknown time zone “{zone}”: use a name such as “Europe/Amsterdam”."),
            zone=Text.raw(zone),
        )
    return None


def parse_region(value: str) -> Region | Text:
    """``noord``, ``midden`` or ``zuid`` (any case), or what is wrong."""
    try:
        return Region(value.strip().lower())
    except ValueError:
        return Text.of(
            N_("Unknown region “{region}”: choose noord, midden or zuid."),
            region=Text.raw(value),
        )


def parse_weekday(value: str) -> int | Text:
    """A weekday code (``mon`` … ``sun``) as 0–6, or what is wrong."""
    code = value.strip().lower()[:3]
    if code in WEEKDAYS and value.strip():
        return WEEKDAYS.index(code)
    return Text.of(
        N_("Unknown weekday “{day}”: use mon, tue, wed, thu, fri, sat or sun."),
        day=Text.raw(value),
    )


def parse_time(value: str) -> time | Text:
    """A time of day ``8:30`` / ``08:30``, or what is wrong."""
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return Text.of(
            N_("“{value}” is not a time: write hours and minutes, for example 08:30."),
            value=Text.raw(value),
        )
    return time(int(match.group(1)), int(match.group(2)))


def parse_date(value: str) -> date | Text:
    """A date ``YYYY-MM-DD`` (as a form's date field sends it), or what is wrong."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return Text.of(
            N_("“{value}” is not a date: write it as YYYY-MM-DD, for example 2026-10-19."),
            value=Text.raw(value),
        )


def parse_span(value: str) -> tuple[time, time] | Text:
    """A span of the day ``09:00-12:00`` (start before end), or what is wrong."""
    parts = value.split("-")
    if len(parts) != 2:
        return Text.of(
            N_("“{value}” is not a span of time: write it as 09:00-12:00."),
            value=Text.raw(value),
        )
    start, end = parse_time(parts[0]), parse_time(parts[1])
    if isinstance(start, Text):
        return start
    if isinstance(end, Text):
        return end
    if end <= start:
        return Text.of(N_("A span of time must end after it starts (for example 09:00-12:00)."))
    return start, end


def spans_overlap(spans: list[tuple[time, time]]) -> bool:
    """Whether any two of ``spans`` overlap."""
    ordered = sorted(spans)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


def type_problems(values: TypeValues) -> list[Text]:
    """Everything wrong with an appointment type's settings (empty when they are fine)."""
    return [problem for _field, problem in type_field_problems(values)]


def type_field_problems(values: TypeValues) -> list[tuple[str, Text]]:
    """`type_problems` with the field each is about (``duration``, ``step``, ``buffer``,
    ``capacity``, ``lead_time``, ``bookable_by``, ``attendees``), so a form shows each
    problem next to its field."""
    problems: list[tuple[str, Text]] = []
    if not 1 <= values.duration_minutes <= MAX_DURATION_MINUTES:
        problems.append(
            (
                "duration",
                Text.of(
                    N_("The duration must be from 1 to {maximum} minutes."),
                    maximum=MAX_DURATION_MINUTES,
                ),
            )
        )
    if not 1 <= values.step_minutes <= MAX_DURATION_MINUTES:
        problems.append(
            (
                "step",
                Text.of(
                    N_("The step between start times must be from 1 to {maximum} minutes."),
                    maximum=MAX_DURATION_MINUTES,
                ),
            )
        )
    if not 0 <= values.buffer_minutes <= MAX_DURATION_MINUTES:
        problems.append(
            (
                "buffer",
                Text.of(
                    N_("The buffer must be from 0 to {maximum} minutes."),
                    maximum=MAX_DURATION_MINUTES,
                ),
            )
        )
    if values.resource is AppointmentResource.COACH:
        if values.capacity != 1:
            problems.append(
                (
                    "capacity",
                    Text.of(N_("An appointment with a coach has one place: its capacity is 1.")),
                )
            )
        off_grid = [
            name
            for name, minutes in (
                ("duration", values.duration_minutes),
                ("step", values.step_minutes),
                ("buffer", values.buffer_minutes),
            )
            if minutes % COACH_CELL_MINUTES
        ]
        if off_grid:
            problems.append(
                (
                    off_grid[0],
                    Text.of(
                        N_(
                            "A coach's appointments follow the quarter hours: duration, step "
                            "and buffer must be multiples of {minutes} minutes (for example 30 "
                            "or 45)."
                        ),
                        minutes=COACH_CELL_MINUTES,
                    ),
                )
            )
    elif not 1 <= values.capacity <= MAX_ROOM_PLACES:
        problems.append(
            (
                "capacity",
                Text.of(
                    N_("The room must have from 1 to {maximum} places."),
                    maximum=MAX_ROOM_PLACES,
                ),
            )
        )
    if values.lead_time_minutes is not None and not (
        0 <= values.lead_time_minutes <= MAX_LEAD_TIME_MINUTES
    ):
        problems.append(("lead_time", _lead_time_problem()))
    if not values.bookable_by or not values.bookable_by <= BOOKERS:
        problems.append(
            (
                "bookable_by",
                Text.of(
                    N_("Who books: one or more of {roles}."),
                    roles=Text.raw(", ".join(sorted(BOOKERS))),
                ),
            )
        )
    if not values.attendees or not values.attendees <= ATTENDEES:
        problems.append(
            (
                "attendees",
                Text.of(
                    N_("Who attends: one or more of {roles}."),
                    roles=Text.raw(", ".join(sorted(ATTENDEES))),
                ),
            )
        )
    return problems


def _lead_time_problem() -> Text:
    return Text.of(
        N_("The lead time must be from 0 to {maximum} minutes."),
        maximum=MAX_LEAD_TIME_MINUTES,
    )


def booking_problems(
    *,
    lead_time_minutes: int,
    late_cancel_hours: int,
    horizon_days: int,
    day_reminder_hour: int,
    timeouts_per_week: int,
) -> list[Text]:
    """Everything wrong with a school's booking settings (empty when they are fine)."""
    return [
        problem
        for _field, problem in booking_field_problems(
            lead_time_minutes=lead_time_minutes,
            late_cancel_hours=late_cancel_hours,
            horizon_days=horizon_days,
            day_reminder_hour=day_reminder_hour,
            timeouts_per_week=timeouts_per_week,
        )
    ]


def booking_field_problems(
    *,
    lead_time_minutes: int,
    late_cancel_hours: int,
    horizon_days: int,
    day_reminder_hour: int,
    timeouts_per_week: int,
) -> list[tuple[str, Text]]:
    """`booking_problems` with the field each is about (the keyword's name)."""
    problems: list[tuple[str, Text]] = []
    if not 0 <= lead_time_minutes <= MAX_LEAD_TIME_MINUTES:
        problems.append(("lead_time_minutes", _lead_time_problem()))
    if not 0 <= late_cancel_hours <= MAX_LATE_CANCEL_HOURS:
        problems.append(
            (
                "late_cancel_hours",
                Text.of(
                    N_("The late-cancel window must be from 0 to {maximum} hours."),
                    maximum=MAX_LATE_CANCEL_HOURS,
                ),
            )
        )
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        problems.append(
            (
                "horizon_days",
                Text.of(
                    N_("Booking ahead must be from 1 to {maximum} days."),
                    maximum=MAX_HORIZON_DAYS,
                ),
            )
        )
    if not 0 <= day_reminder_hour <= 23:
        problems.append(
            ("day_reminder_hour", Text.of(N_("The reminder hour must be from 0 to 23.")))
        )
    if not 0 <= timeouts_per_week <= MAX_TIMEOUTS_PER_WEEK:
        problems.append(
            (
                "timeouts_per_week",
                Text.of(
                    N_("Time-outs per week must be a number from {minimum} to {maximum}."),
                    minimum=0,
                    maximum=MAX_TIMEOUTS_PER_WEEK,
                ),
            )
        )
    return problems


def parse_number(value: str) -> int | Text:
    """A whole number typed in a form (``"30"``), or what is wrong."""
    cleaned = value.strip()
    if not cleaned or not (cleaned.isascii() and cleaned.lstrip("-").isdigit()):
        return Text.of(
            N_("“{value}” is not a whole number: write digits only, for example 30."),
            value=Text.raw(value),
        )
    if len(cleaned) > 9:
        return Text.of(N_("This number is too large."))
    return int(cleaned)


@dataclass(frozen=True, slots=True)
class ClosedRun:
    """Closed days that follow each other with the same label: shown and removed as one."""

    start: date
    end: date
    label: str | None

    @property
    def days(self) -> int:
        """How many days the run has."""
        return (self.end - self.start).days + 1


def closed_runs(days: Iterable[tuple[date, str | None]]) -> list[ClosedRun]:
    """Closed days (in order of day) grouped into runs of consecutive days with one label."""
    runs: list[ClosedRun] = []
    for day, label in days:
        last = runs[-1] if runs else None
        if last is not None and last.label == label and day == last.end + timedelta(days=1):
            runs[-1] = ClosedRun(last.start, day, label)
        else:
            runs.append(ClosedRun(day, day, label))
    return runs


def label_problem(label: str) -> Text | None:
    """A closed day's label: at most `LABEL_MAX` characters."""
    if len(label.strip()) > LABEL_MAX:
        return Text.of(N_("A label has at most {maximum} characters."), maximum=LABEL_MAX)
    return None
