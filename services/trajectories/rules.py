"""Overdue flags of a trajectory: the pure rule the trajectory list, the page and the
indicators share.

No I/O: the callers read the trajectory, its evaluations and its time-out days, and pass them
in. Flags are computed on read, never stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dialogs.text import N_, Text
from storage.models import AppointmentStatus, TrajectoryStatus

#: Time-outs that count against the week's cap: everything that holds or used a place.
COUNTED_TIMEOUT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ATTENDED,
)


class FlagKind(StrEnum):
    """Why a trajectory needs the care coordinator's attention (seeds: no endless trajectories,
    no punishment room)."""

    #: The end date has passed and the trajectory is not closed.
    PAST_END = "past_end"
    #: An evaluation was due before today and is not marked as held.
    EVALUATION_MISSED = "evaluation_missed"
    #: A week (ISO, school-local) holds more time-outs than the plan's cap.
    TIMEOUTS_OVER_CAP = "timeouts_over_cap"
    #: Time-outs were booked although time-out is not part of the plan.
    TIMEOUT_OUTSIDE_PLAN = "timeout_outside_plan"


@dataclass(frozen=True, slots=True)
class OverdueFlag:
    """One flag. ``day``: the end date, the missed evaluation's due date, or the Monday of the
    week over the cap; ``count``: the time-outs of that week (or outside the plan)."""

    kind: FlagKind
    day: date | None = None
    count: int | None = None

    @property
    def label(self) -> Text:
        """What the flag says, for any channel."""
        match self.kind:
            case FlagKind.PAST_END:
                return Text.of(N_("End date passed ({date})"), date=self.day or "")
            case FlagKind.EVALUATION_MISSED:
                return Text.of(N_("Evaluation of {date} not held"), date=self.day or "")
            case FlagKind.TIMEOUTS_OVER_CAP:
                return Text.plural_of(
                    "{count} time-out in the week of {date}: more than the plan allows",
                    "{count} time-outs in the week of {date}: more than the plan allows",
                    self.count or 0,
                    date=self.day or "",
                )
            case FlagKind.TIMEOUT_OUTSIDE_PLAN:
                return Text.plural_of(
                    "{count} time-out booked while time-out is not in the plan",
                    "{count} time-outs booked while time-out is not in the plan",
                    self.count or 0,
                )


@dataclass(frozen=True, slots=True)
class EvaluationFacts:
    """What `overdue_flags` needs of one evaluation."""

    due_on: date
    held_on: date | None


def overdue_flags(
    *,
    status: TrajectoryStatus,
    end_date: date | None,
    evaluations: Iterable[EvaluationFacts],
    timeouts_in_plan: bool,
    timeouts_per_week: int,
    timeout_days: Iterable[date],
    today: date,
) -> tuple[OverdueFlag, ...]:
    """The flags of one trajectory on ``today`` (pure).

    ``timeout_days`` are the school-local days of its time-outs that count (booked, confirmed
    or attended; see `COUNTED_TIMEOUT_STATUSES`). A closed trajectory has no flags: there is
    nothing left to act on, and its usage stays visible on its page.
    """
    if status is TrajectoryStatus.CLOSED:
        return ()
    flags: list[OverdueFlag] = []
    if end_date is not None and end_date < today:
        flags.append(OverdueFlag(FlagKind.PAST_END, day=end_date))
    flags.extend(
        OverdueFlag(FlagKind.EVALUATION_MISSED, day=evaluation.due_on)
        for evaluation in sorted(evaluations, key=lambda e: e.due_on)
        if evaluation.held_on is None and evaluation.due_on < today
    )
    days = list(timeout_days)
    if days and not timeouts_in_plan:
        flags.append(OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=len(days)))
    elif days:
        per_week: dict[tuple[int, int], list[date]] = defaultdict(list)
        for day in days:
            year, week, _weekday = day.isocalendar()
            per_week[(year, week)].append(day)
        for (year, week), in_week in sorted(per_week.items()):
            if len(in_week) > timeouts_per_week:
                monday = date.fromisocalendar(year, week, 1)
                flags.append(
                    OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=monday, count=len(in_week))
                )
    return tuple(flags)


def evaluation_missed(
    *, status: TrajectoryStatus, due_on: date, held_on: date | None, today: date
) -> bool:
    """Whether one evaluation counts as missed on ``today`` (the page marks it so).

    A closed trajectory has nothing left to act on, so nothing of it is missed.
    """
    return status is not TrajectoryStatus.CLOSED and held_on is None and due_on < today


__all__ = (
    "COUNTED_TIMEOUT_STATUSES",
    "EvaluationFacts",
    "FlagKind",
    "OverdueFlag",
    "evaluation_missed",
    "overdue_flags",
)
