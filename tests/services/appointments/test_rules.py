"""The pure booking rules (`services.appointments.rules`): plain values in, a decision out.

No database here; `test_appointments_rules.py` checks the same rules through `book` and
`cancel` end to end.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.text import Text
from services.appointments import rules
from storage.models import (
    AppointmentKind,
    AppointmentStatus,
    TimeoutRequestReason,
    TrajectoryStatus,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: Monday 2 March 2026, 08:00 in Amsterdam.
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
LEAD = timedelta(hours=2)


@dataclass(frozen=True)
class _Calendar:
    """A school open Monday to Friday in Amsterdam, with ``closed`` days."""

    closed: frozenset[date] = field(default_factory=frozenset)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(AMSTERDAM).date()

    def is_open(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closed


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


def _time(
    starts_at: datetime,
    *,
    lead_time: timedelta = LEAD,
    horizon_days: int = 21,
    calendar: _Calendar | None = None,
) -> Text | None:
    return rules.time_problem(
        calendar=calendar or _Calendar(),
        lead_time=lead_time,
        horizon_days=horizon_days,
        starts_at=starts_at,
        now=NOW,
    )


# --- time -------------------------------------------------------------------------------------


def test_a_time_after_the_lead_time_on_an_open_day_is_fine() -> None:
    assert _time(_local(3, 9)) is None
    assert _time(NOW + LEAD) is None  # exactly the lead time is enough


def test_the_past_and_now_are_refused() -> None:
    passed = Text.of("This time has already passed. Please pick another time.")
    assert _time(NOW) == passed
    assert _time(NOW - timedelta(minutes=1)) == passed


def test_closer_than_the_lead_time_says_the_lead_time_in_hours_or_minutes() -> None:
    assert _time(NOW + LEAD - timedelta(minutes=1)) == Text.plural_of(
        "Appointments must be booked at least {count} hour ahead.",
        "Appointments must be booked at least {count} hours ahead.",
        2,
    )
    assert _time(NOW + timedelta(minutes=30), lead_time=timedelta(minutes=90)) == (
        Text.plural_of(
            "Appointments must be booked at least {count} minute ahead.",
            "Appointments must be booked at least {count} minutes ahead.",
            90,
        )
    )


def test_the_horizon_counts_school_days_from_today() -> None:
    beyond = Text.plural_of(
        "You can book at most {count} day ahead.",
        "You can book at most {count} days ahead.",
        7,
    )
    assert _time(_local(6, 9), horizon_days=7) is None  # Friday: 4 days ahead
    assert _time(_local(9, 9), horizon_days=7) == beyond  # next Monday: day 7 is beyond
    # 23:30 UTC on Sunday 8 March is already Monday 9 March (day 7) in the school's zone.
    assert _time(datetime(2026, 3, 8, 23, 30, tzinfo=UTC), horizon_days=7) == beyond


def test_a_closed_day_and_the_weekend_are_refused() -> None:
    closed = Text.of("We are closed on that day. Please pick another day.")
    assert _time(_local(7, 10)) == closed  # Saturday
    study_day = _Calendar(closed=frozenset({date(2026, 3, 4)}))
    assert _time(_local(4, 10), calendar=study_day) == closed
    assert _time(_local(5, 10), calendar=study_day) is None


def test_without_a_lead_time_the_running_block_is_bookable_while_half_is_left() -> None:
    block = timedelta(minutes=50)
    passed = Text.of("This time has already passed. Please pick another time.")

    def timeout(starts_at: datetime) -> Text | None:
        return rules.time_problem(
            calendar=_Calendar(),
            lead_time=timedelta(0),
            horizon_days=21,
            starts_at=starts_at,
            now=NOW,
            duration=block,
        )

    assert timeout(NOW) is None  # starts now
    assert timeout(NOW + timedelta(minutes=5)) is None  # no notice needed
    assert timeout(NOW - timedelta(minutes=25)) is None  # half of it is still to come
    assert timeout(NOW - timedelta(minutes=26)) == passed
    # With a lead time a started block is never bookable, whatever its length.
    assert _time(NOW - timedelta(minutes=5)) == passed


def test_the_earliest_start_offered() -> None:
    block = timedelta(minutes=50)
    assert rules.running_grace(lead_time=timedelta(0), duration=block) == timedelta(minutes=25)
    assert rules.running_grace(lead_time=LEAD, duration=block) == timedelta(0)
    assert rules.earliest_start(now=NOW, lead_time=timedelta(0), duration=block) == (
        NOW - timedelta(minutes=25)
    )
    assert rules.earliest_start(now=NOW, lead_time=LEAD, duration=block) == NOW + LEAD


def test_the_mentor_can_attend_from_a_date_on_the_days_given() -> None:
    def attends(day: date, *days: str) -> bool:
        return rules.mentor_can_attend(day, intake_from=date(2026, 3, 4), intake_days=days)

    assert not attends(date(2026, 3, 2), "mon", "wed")  # a Monday before "from"
    assert attends(date(2026, 3, 4), "mon", "wed")  # Wednesday, the first day
    assert not attends(date(2026, 3, 5), "mon", "wed")  # Thursday: not a day given
    assert attends(date(2026, 3, 9), "mon", "wed")
    assert attends(date(2026, 3, 5))  # no days stored: every day from then


def test_the_reason_names_the_first_day_or_the_days() -> None:
    from_day = date(2026, 3, 4)
    days = ("fri", "mon")
    assert rules.intake_day_problem(
        date(2026, 3, 2), intake_from=from_day, intake_days=days
    ) == Text.of(
        "The mentor can attend the intake from {date} on. Please pick a later day.",
        date=from_day,
    )
    assert rules.intake_day_problem(
        date(2026, 3, 5), intake_from=from_day, intake_days=days
    ) == Text.of(
        "The mentor can attend the intake on {days}. Please pick one of those days.",
        days=(Text.of("Monday"), Text.of("Friday")),
    )
    assert (
        rules.intake_day_problem(date(2026, 3, 6), intake_from=from_day, intake_days=days) is None
    )


def test_a_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        _time(datetime(2026, 3, 3, 9, 0))  # noqa: DTZ001 - the point of the test


# --- the trajectory ---------------------------------------------------------------------------


def test_an_intake_needs_an_accepted_referral_and_only_one_takes_place() -> None:
    intake = AppointmentKind.INTAKE
    assert rules.trajectory_problem(intake, None) == Text.of(
        "An intake can be booked once the care coordinator has accepted the referral."
    )
    assert rules.trajectory_problem(intake, TrajectoryStatus.PLANNED) is None
    for status in (TrajectoryStatus.ACTIVE, TrajectoryStatus.CLOSED):
        assert rules.trajectory_problem(intake, status) == Text.of(
            "The intake has already taken place."
        )


@pytest.mark.parametrize(
    "kind", [AppointmentKind.GESPREK, AppointmentKind.TIME_OUT, AppointmentKind.EVALUATION]
)
def test_everything_else_needs_an_active_trajectory(kind: AppointmentKind) -> None:
    not_yet = Text.of("This can be booked after the intake, once the support has started.")
    assert rules.trajectory_problem(kind, TrajectoryStatus.ACTIVE) is None
    for status in (None, TrajectoryStatus.PLANNED, TrajectoryStatus.CLOSED):
        assert rules.trajectory_problem(kind, status) == not_yet


def test_an_intake_needs_the_mentor_and_is_planned_once() -> None:
    assert rules.intake_problem(has_mentor=True, intake_planned=False) is None
    no_mentor = rules.intake_problem(has_mentor=False, intake_planned=False)
    assert no_mentor is not None
    assert "no mentor is known" in no_mentor.msgid
    assert rules.intake_problem(has_mentor=True, intake_planned=True) == Text.of(
        "An intake is already planned. You can move it under My appointments."
    )


def test_an_intake_waits_for_the_mentor_and_the_rest_is_confirmed() -> None:
    assert rules.status_when_booked(AppointmentKind.INTAKE) is AppointmentStatus.BOOKED
    for kind in (AppointmentKind.GESPREK, AppointmentKind.TIME_OUT, AppointmentKind.EVALUATION):
        assert rules.status_when_booked(kind) is AppointmentStatus.CONFIRMED


# --- time-out: the plan and the week's cap ----------------------------------------------------


def test_the_cap_counts_per_iso_week() -> None:
    assert rules.iso_week(date(2026, 3, 4)) == (date(2026, 3, 2), date(2026, 3, 9))
    assert rules.iso_week(date(2026, 3, 8)) == (date(2026, 3, 2), date(2026, 3, 9))  # Sunday
    assert rules.iso_week(date(2026, 3, 9)) == (date(2026, 3, 9), date(2026, 3, 16))


def test_outside_the_plan_means_none_agreed_or_outside_its_dates() -> None:
    day = date(2026, 3, 4)

    def outside(in_plan: bool, start: date | None, end: date | None) -> bool:
        return rules.outside_plan(day=day, timeouts_in_plan=in_plan, plan_start=start, plan_end=end)

    assert not outside(True, None, None)
    assert not outside(True, day, day)  # both ends count as inside
    assert outside(False, None, None)
    assert outside(True, day + timedelta(days=1), None)
    assert outside(True, None, day - timedelta(days=1))


def test_a_time_out_needs_approval_outside_the_plan_or_above_the_cap() -> None:
    def reason(outside: bool, booked: int, cap: int = 2) -> TimeoutRequestReason | None:
        return rules.timeout_request_reason(
            outside_the_plan=outside, booked_that_week=booked, per_week=cap
        )

    assert reason(False, 0) is None
    assert reason(False, 1) is None
    assert reason(False, 2) is TimeoutRequestReason.OVER_CAP
    assert reason(False, 0, cap=0) is TimeoutRequestReason.OVER_CAP
    # Outside the plan is the reason even when the week is full too.
    assert reason(True, 0) is TimeoutRequestReason.OUTSIDE_PLAN
    assert reason(True, 5) is TimeoutRequestReason.OUTSIDE_PLAN


def test_the_cap_counts_held_and_holding_time_outs_only() -> None:
    assert set(rules.COUNTED_TIMEOUT_STATUSES) == {
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.ATTENDED,
    }


# --- changing, cancelling, attendance ---------------------------------------------------------


def test_only_an_appointment_ahead_that_holds_its_places_can_change() -> None:
    later = NOW + timedelta(hours=3)
    for status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        assert rules.change_problem(status=status, starts_at=later, now=NOW) is None
        assert rules.change_problem(status=status, starts_at=NOW, now=NOW) == Text.of(
            "This appointment has already started or taken place."
        )
    assert rules.change_problem(
        status=AppointmentStatus.CANCELLED, starts_at=later, now=NOW
    ) == Text.of("This appointment was cancelled.")
    for status in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
        assert rules.change_problem(status=status, starts_at=later, now=NOW) == Text.of(
            "This appointment has already started or taken place."
        )


def test_a_cancellation_inside_the_window_is_late() -> None:
    window = timedelta(hours=24)
    starts_at = NOW + window
    assert not rules.is_late_cancel(starts_at=starts_at, now=NOW, window=window)
    assert rules.is_late_cancel(starts_at=starts_at, now=NOW + timedelta(seconds=1), window=window)
    assert not rules.is_late_cancel(starts_at=starts_at, now=NOW, window=timedelta(0))


def test_attendance_is_marked_once_started_and_never_on_a_cancelled_one() -> None:
    def problem(
        *,
        kind: AppointmentKind = AppointmentKind.GESPREK,
        status: AppointmentStatus = AppointmentStatus.CONFIRMED,
        starts_at: datetime = NOW,
        mentor_confirmed: bool = False,
        attended: bool = True,
    ) -> Text | None:
        return rules.attendance_problem(
            kind=kind,
            status=status,
            starts_at=starts_at,
            mentor_confirmed=mentor_confirmed,
            attended=attended,
            now=NOW,
        )

    assert problem() is None
    assert problem(attended=False) is None
    assert problem(status=AppointmentStatus.NO_SHOW) is None  # a mark can be corrected
    assert problem(status=AppointmentStatus.CANCELLED) == Text.of("This appointment was cancelled.")
    assert problem(starts_at=NOW + timedelta(minutes=1)) == Text.of(
        "Attendance can be marked once the appointment has started."
    )


def test_an_intake_without_the_mentor_cannot_be_marked_as_held() -> None:
    unconfirmed = Text.of(
        "The mentor has not confirmed this intake, so it cannot be marked as held."
    )
    intake = AppointmentKind.INTAKE
    assert (
        rules.attendance_problem(
            kind=intake,
            status=AppointmentStatus.BOOKED,
            starts_at=NOW,
            mentor_confirmed=False,
            attended=True,
            now=NOW,
        )
        == unconfirmed
    )
    for mentor_confirmed, attended in ((True, True), (False, False)):
        assert (
            rules.attendance_problem(
                kind=intake,
                status=AppointmentStatus.BOOKED,
                starts_at=NOW,
                mentor_confirmed=mentor_confirmed,
                attended=attended,
                now=NOW,
            )
            is None
        )


def test_the_rules_module_does_no_io() -> None:
    """The layer rule for ``rules.py``: no database, no channel, nothing asynchronous."""
    tree = ast.parse(inspect.getsource(rules))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    forbidden = ("sqlalchemy", "storage.db", "aiogram", "fastapi", "services.")
    assert not [name for name in imported if name.startswith(forbidden)]
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)]
