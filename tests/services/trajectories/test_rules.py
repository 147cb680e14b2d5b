"""The overdue flags (`services.trajectories.rules`): plain values in, flags out, no database."""

from __future__ import annotations

from datetime import date, timedelta

from dialogs.text import Text
from services.trajectories.rules import (
    COUNTED_TIMEOUT_STATUSES,
    EvaluationFacts,
    FlagKind,
    OverdueFlag,
    evaluation_missed,
    overdue_flags,
)
from storage.models import AppointmentStatus, TrajectoryStatus

TODAY = date(2026, 3, 2)  # a Monday


def _flags(**changes: object) -> tuple[OverdueFlag, ...]:
    values: dict[str, object] = {
        "status": TrajectoryStatus.ACTIVE,
        "end_date": date(2026, 6, 26),
        "evaluations": (),
        "timeouts_in_plan": True,
        "timeouts_per_week": 2,
        "timeout_days": (),
        "today": TODAY,
    }
    values.update(changes)
    return overdue_flags(**values)  # type: ignore[arg-type]


# --- the flags, one rule at a time -----------------------------------------------------------


def test_a_trajectory_within_its_plan_has_no_flags() -> None:
    assert _flags() == ()


def test_past_the_end_date_is_flagged_from_the_day_after() -> None:
    assert _flags(end_date=TODAY) == ()
    assert _flags(end_date=TODAY - timedelta(days=1)) == (
        OverdueFlag(FlagKind.PAST_END, day=TODAY - timedelta(days=1)),
    )


def test_an_evaluation_due_before_today_and_not_held_is_flagged() -> None:
    missed = EvaluationFacts(due_on=date(2026, 2, 20), held_on=None)
    held = EvaluationFacts(due_on=date(2026, 2, 13), held_on=date(2026, 2, 13))
    due_today = EvaluationFacts(due_on=TODAY, held_on=None)
    flags = _flags(evaluations=(missed, held, due_today))
    assert flags == (OverdueFlag(FlagKind.EVALUATION_MISSED, day=date(2026, 2, 20)),)


def test_a_week_with_more_time_outs_than_the_cap_is_flagged() -> None:
    # Mon 2 and Wed 4 March are one ISO week; Mon 9 March starts the next one.
    at_cap = (date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 9))
    assert _flags(timeout_days=at_cap, timeouts_per_week=2) == ()
    over = (*at_cap, date(2026, 3, 6))
    assert _flags(timeout_days=over, timeouts_per_week=2) == (
        OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 3, 2), count=3),
    )


def test_weeks_are_iso_weeks_across_the_new_year() -> None:
    # 31 Dec 2026 (Thu) and 1 Jan 2027 (Fri) are ISO week 53 of 2026; 4 Jan 2027 is week 1.
    days = (date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 4))
    assert _flags(timeout_days=days, timeouts_per_week=1) == (
        OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 12, 28), count=2),
    )


def test_any_time_out_while_time_out_is_not_in_the_plan_is_flagged() -> None:
    assert _flags(timeouts_in_plan=False) == ()
    assert _flags(timeouts_in_plan=False, timeout_days=(date(2026, 3, 3),)) == (
        OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=1),
    )


def test_a_closed_trajectory_has_no_flags() -> None:
    assert (
        _flags(
            status=TrajectoryStatus.CLOSED,
            end_date=date(2026, 1, 1),
            evaluations=(EvaluationFacts(date(2025, 12, 1), None),),
            timeouts_in_plan=False,
            timeout_days=(date(2025, 12, 2),),
        )
        == ()
    )


def test_flags_come_in_a_fixed_order_end_evaluations_then_time_outs() -> None:
    flags = _flags(
        end_date=TODAY - timedelta(days=3),
        evaluations=(
            EvaluationFacts(due_on=date(2026, 2, 20), held_on=None),
            EvaluationFacts(due_on=date(2026, 2, 6), held_on=None),
        ),
        timeouts_in_plan=False,
        timeout_days=(date(2026, 2, 24), date(2026, 2, 25)),
    )
    assert flags == (
        OverdueFlag(FlagKind.PAST_END, day=TODAY - timedelta(days=3)),
        OverdueFlag(FlagKind.EVALUATION_MISSED, day=date(2026, 2, 6)),
        OverdueFlag(FlagKind.EVALUATION_MISSED, day=date(2026, 2, 20)),
        OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=2),
    )


def test_outside_the_plan_counts_every_time_out_and_no_week_cap_is_added() -> None:
    # Three in one week with a cap of one: outside the plan says it all, no second flag.
    days = (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))
    assert _flags(timeouts_in_plan=False, timeouts_per_week=1, timeout_days=days) == (
        OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=3),
    )


def test_each_week_over_the_cap_is_its_own_flag_in_week_order() -> None:
    days = (date(2026, 3, 10), date(2026, 3, 9), date(2026, 2, 24), date(2026, 2, 23))
    assert _flags(timeout_days=days, timeouts_per_week=1) == (
        OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 2, 23), count=2),
        OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 3, 9), count=2),
    )


def test_a_cap_of_zero_flags_any_week_with_a_time_out() -> None:
    assert _flags(timeout_days=(date(2026, 3, 3),), timeouts_per_week=0) == (
        OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 3, 2), count=1),
    )


def test_a_planned_trajectory_is_flagged_like_an_active_one() -> None:
    assert _flags(status=TrajectoryStatus.PLANNED, end_date=TODAY - timedelta(days=1)) == (
        OverdueFlag(FlagKind.PAST_END, day=TODAY - timedelta(days=1)),
    )


def test_an_evaluation_is_missed_only_after_its_day_unheld_and_while_open() -> None:
    day = TODAY - timedelta(days=1)
    assert evaluation_missed(status=TrajectoryStatus.ACTIVE, due_on=day, held_on=None, today=TODAY)
    assert not evaluation_missed(
        status=TrajectoryStatus.ACTIVE, due_on=TODAY, held_on=None, today=TODAY
    )
    assert not evaluation_missed(
        status=TrajectoryStatus.ACTIVE, due_on=day, held_on=day, today=TODAY
    )
    assert not evaluation_missed(
        status=TrajectoryStatus.CLOSED, due_on=day, held_on=None, today=TODAY
    )


def test_time_outs_that_hold_or_used_a_place_count_against_the_cap() -> None:
    assert set(COUNTED_TIMEOUT_STATUSES) == {
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.ATTENDED,
    }


def test_every_flag_has_a_label_with_its_day_or_count() -> None:
    labels = {
        flag.kind: flag.label
        for flag in (
            OverdueFlag(FlagKind.PAST_END, day=TODAY),
            OverdueFlag(FlagKind.EVALUATION_MISSED, day=TODAY),
            OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=TODAY, count=3),
            OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=2),
        )
    }
    assert set(labels) == set(FlagKind)
    assert all(isinstance(label, Text) for label in labels.values())
    assert labels[FlagKind.PAST_END].params["date"] == TODAY
    assert labels[FlagKind.TIMEOUTS_OVER_CAP].params["count"] == 3
