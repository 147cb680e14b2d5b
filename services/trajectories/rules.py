"""The pure rules of a trajectory: its lifecycle (one state machine: the stages, which
transitions exist, who may make each and what each requires) and its overdue flags (shared by
the trajectory list, the page and the indicators).

No I/O: the callers read the trajectory, its evaluations and its time-out days, and pass them
in; the services that write (`services.trajectories.lifecycle`, `evaluations`,
`services.appointments.attendance`, `services.appointments.closing`,
`services.referrals.decisions`) ask these rules before they change anything. Flags are
computed on read, never stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dialogs.text import N_, Text
from services.kernel.text_input import validate_text
from storage.models import (
    AppointmentStatus,
    EvaluationKind,
    Role,
    TrajectoryStatus,
)

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


# --------------------------------------------------------------------------------------------
# The lifecycle: one state machine from referral to closed questionnaires.
# --------------------------------------------------------------------------------------------


class Stage(StrEnum):
    """Where a student's referral and trajectory stand, start to end (seeds: verwijzing →
    analyse/ZAT → plaatsing → intake → begeleiding → evaluaties → afsluiting → exit-vragenlijst).

    The first stages are the referral's queue item (`storage.models.QueueItem`), the others the
    trajectory's stored status refined by facts (an intake booked, the final evaluation held,
    questionnaires still open): see `stage_of`.
    """

    REFERRED = "referred"
    ANALYSIS = "analysis"
    CARE_TEAM = "care_team"
    DECLINED = "declined"
    ACCEPTED = "accepted"
    INTAKE_PLANNED = "intake_planned"
    INTAKE_HELD = "intake_held"
    ACTIVE = "active"
    CLOSING = "closing"
    QUESTIONNAIRES = "questionnaires"
    CLOSED = "closed"


class Step(StrEnum):
    """A transition of the lifecycle."""

    REFER = "refer"
    TAKE_IN_ANALYSIS = "take_in_analysis"
    MARK_FOR_CARE_TEAM = "mark_for_care_team"
    RESUME_ANALYSIS = "resume_analysis"
    ACCEPT = "accept"
    DECLINE = "decline"
    BOOK_INTAKE = "book_intake"
    HOLD_INTAKE = "hold_intake"
    COMPLETE_PLAN = "complete_plan"
    HOLD_EVALUATION = "hold_evaluation"
    HOLD_FINAL_EVALUATION = "hold_final_evaluation"
    CLOSE = "close"
    QUESTIONNAIRES_DONE = "questionnaires_done"


class Requirement(StrEnum):
    """What a transition needs besides the actor's role and the stage it starts from."""

    #: The referral was analysed (a placement is never a single tap).
    ANALYSED = "analysed"
    #: The mentor confirmed the intake (no intake without the mentor).
    MENTOR_CONFIRMED = "mentor_confirmed"
    #: Goals, start and end date, evaluation dates and an assigned coach (`plan_gaps`).
    PLAN_COMPLETE = "plan_complete"
    #: The final evaluation was held (at the latest when closing, with its notes).
    FINAL_EVALUATION = "final_evaluation"
    #: The advice for the school (handelingsadvies).
    ADVICE = "advice"


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the lifecycle table.

    ``by``: the roles that may make it (empty: the system does, as the consequence of another
    step); ``sends``: the outbox kinds it writes (for the documentation and the tests).
    """

    step: Step
    sources: frozenset[Stage]
    target: Stage
    by: frozenset[Role]
    requires: tuple[Requirement, ...] = ()
    sends: tuple[str, ...] = ()


_COORDINATOR = frozenset({Role.CARE_COORDINATOR})
_STAFF = frozenset({Role.CARE_COORDINATOR, Role.COACH})
_SYSTEM: frozenset[Role] = frozenset()

#: The lifecycle. ``HOLD_INTAKE`` goes to ``INTAKE_HELD`` and on to ``ACTIVE`` at once when the
#: plan is complete (`status_after_intake`); ``COMPLETE_PLAN`` from ``INTAKE_HELD`` activates.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Step.REFER,
        frozenset(),
        Stage.REFERRED,
        frozenset({Role.MENTOR}),
        sends=("referral.new",),
    ),
    Transition(Step.TAKE_IN_ANALYSIS, frozenset({Stage.REFERRED}), Stage.ANALYSIS, _COORDINATOR),
    Transition(
        Step.MARK_FOR_CARE_TEAM,
        frozenset({Stage.REFERRED, Stage.ANALYSIS}),
        Stage.CARE_TEAM,
        _COORDINATOR,
    ),
    Transition(Step.RESUME_ANALYSIS, frozenset({Stage.CARE_TEAM}), Stage.ANALYSIS, _COORDINATOR),
    Transition(
        Step.ACCEPT,
        frozenset({Stage.ANALYSIS, Stage.CARE_TEAM}),
        Stage.ACCEPTED,
        _COORDINATOR,
        requires=(Requirement.ANALYSED,),
        sends=("referral.accepted", "referral.accepted_parent"),
    ),
    Transition(
        Step.DECLINE,
        frozenset({Stage.REFERRED, Stage.ANALYSIS, Stage.CARE_TEAM}),
        Stage.DECLINED,
        _COORDINATOR,
        sends=("referral.declined",),
    ),
    Transition(
        Step.BOOK_INTAKE,
        frozenset({Stage.ACCEPTED}),
        Stage.INTAKE_PLANNED,
        frozenset({Role.PARENT, Role.STUDENT, Role.CARE_COORDINATOR}),
        sends=("appointment.mentor_confirm",),
    ),
    Transition(
        Step.HOLD_INTAKE,
        frozenset({Stage.INTAKE_PLANNED}),
        Stage.INTAKE_HELD,
        frozenset({Role.COACH}),
        requires=(Requirement.MENTOR_CONFIRMED,),
    ),
    Transition(
        Step.COMPLETE_PLAN,
        frozenset({Stage.INTAKE_HELD}),
        Stage.ACTIVE,
        _STAFF,
        requires=(Requirement.PLAN_COMPLETE,),
    ),
    Transition(
        Step.HOLD_EVALUATION,
        frozenset({Stage.ACTIVE}),
        Stage.ACTIVE,
        _STAFF,
    ),
    Transition(
        Step.HOLD_FINAL_EVALUATION,
        frozenset({Stage.ACTIVE}),
        Stage.CLOSING,
        _STAFF,
    ),
    # Closing is possible from every open stage (a student who leaves before the intake is
    # closed too); it always needs the final evaluation (its conclusion) and the advice.
    Transition(
        Step.CLOSE,
        frozenset(
            {
                Stage.ACCEPTED,
                Stage.INTAKE_PLANNED,
                Stage.INTAKE_HELD,
                Stage.ACTIVE,
                Stage.CLOSING,
            }
        ),
        Stage.QUESTIONNAIRES,
        _COORDINATOR,
        requires=(Requirement.FINAL_EVALUATION, Requirement.ADVICE),
        sends=(
            "appointment.cancelled",
            "appointment.calendar",
            "timeout.decided",
            "survey.invite",
            "survey.reminder",
        ),
    ),
    Transition(
        Step.QUESTIONNAIRES_DONE,
        frozenset({Stage.QUESTIONNAIRES}),
        Stage.CLOSED,
        _SYSTEM,
        sends=("survey.completed",),
    ),
)

_BY_STEP: dict[Step, Transition] = {t.step: t for t in TRANSITIONS}


def transition(step: Step) -> Transition:
    """The table's row for ``step``."""
    return _BY_STEP[step]


def may_make(step: Step, roles: Collection[Role]) -> bool:
    """Whether a person with ``roles`` may make ``step`` (never a system step)."""
    return bool(transition(step).by & set(roles))


#: The stored status a stage of the trajectory corresponds to.
_STATUS_STAGES: dict[TrajectoryStatus, frozenset[Stage]] = {
    TrajectoryStatus.PLANNED: frozenset({Stage.ACCEPTED, Stage.INTAKE_PLANNED}),
    TrajectoryStatus.INTAKE_HELD: frozenset({Stage.INTAKE_HELD}),
    TrajectoryStatus.ACTIVE: frozenset({Stage.ACTIVE, Stage.CLOSING}),
    TrajectoryStatus.CLOSED: frozenset({Stage.QUESTIONNAIRES, Stage.CLOSED}),
}


def stage_of(
    *,
    status: TrajectoryStatus,
    intake_booked: bool = False,
    final_evaluation_held: bool = False,
    questionnaires_open: bool = False,
) -> Stage:
    """The lifecycle stage of a trajectory in ``status`` with these facts."""
    match status:
        case TrajectoryStatus.PLANNED:
            return Stage.INTAKE_PLANNED if intake_booked else Stage.ACCEPTED
        case TrajectoryStatus.INTAKE_HELD:
            return Stage.INTAKE_HELD
        case TrajectoryStatus.ACTIVE:
            return Stage.CLOSING if final_evaluation_held else Stage.ACTIVE
        case TrajectoryStatus.CLOSED:
            return Stage.QUESTIONNAIRES if questionnaires_open else Stage.CLOSED


def step_allowed_from(step: Step, status: TrajectoryStatus) -> bool:
    """Whether ``step`` starts from a stage a trajectory in ``status`` can be in."""
    return bool(transition(step).sources & _STATUS_STAGES[status])


class PlanGap(StrEnum):
    """What a plan still lacks before the trajectory can be active."""

    GOALS = "goals"
    START = "start"
    END = "end"
    EVALUATIONS = "evaluations"
    COACH = "coach"

    @property
    def label(self) -> Text:
        """The missing part, as a list item of a sentence."""
        return Text.of(_GAP_LABELS[self])


_GAP_LABELS: dict[PlanGap, str] = {
    PlanGap.GOALS: N_("goals"),
    PlanGap.START: N_("a start date"),
    PlanGap.END: N_("an end date"),
    PlanGap.EVALUATIONS: N_("evaluation dates"),
    PlanGap.COACH: N_("a coach"),
}


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What a trajectory's plan holds (``evaluations``: the planned evaluation dates, the final
    one on the end date included)."""

    goals: str | None
    start: date | None
    end: date | None
    evaluations: int
    coach_id: int | None


def plan_gaps(plan: PlanFacts) -> tuple[PlanGap, ...]:
    """What the plan lacks (empty: complete). Seeds: a concrete goal, a bounded period,
    evaluation dates; the parents' fixed point of contact (a coach)."""
    gaps: list[PlanGap] = []
    if not (plan.goals or "").strip():
        gaps.append(PlanGap.GOALS)
    if plan.start is None:
        gaps.append(PlanGap.START)
    if plan.end is None:
        gaps.append(PlanGap.END)
    if plan.evaluations < 1:
        gaps.append(PlanGap.EVALUATIONS)
    if plan.coach_id is None:
        gaps.append(PlanGap.COACH)
    return tuple(gaps)


def incomplete_plan(gaps: Sequence[PlanGap]) -> Text:
    """The refusal for a plan that lacks ``gaps``."""
    return Text.of(
        N_("The plan is not complete yet: {missing} still missing."),
        missing=tuple(gap.label for gap in gaps),
    )


def status_after_intake(status: TrajectoryStatus, gaps: Sequence[PlanGap]) -> TrajectoryStatus:
    """The status once the intake is marked held: active with a complete plan, else "intake
    held — plan to complete". A trajectory past the intake keeps its status."""
    if status is not TrajectoryStatus.PLANNED:
        return status
    return TrajectoryStatus.INTAKE_HELD if gaps else TrajectoryStatus.ACTIVE


def plan_refusal(status: TrajectoryStatus, gaps: Sequence[PlanGap]) -> Text | None:
    """Why a plan with ``gaps`` cannot be stored on a trajectory in ``status`` (``None``: it can).

    Before and at the intake a plan may be partial; an active trajectory keeps a complete one.
    """
    if status is TrajectoryStatus.CLOSED:
        return Text.of(N_("This trajectory is closed."))
    if status is TrajectoryStatus.ACTIVE and gaps:
        return incomplete_plan(gaps)
    return None


def status_after_plan(status: TrajectoryStatus, gaps: Sequence[PlanGap]) -> TrajectoryStatus:
    """The status after a plan is stored: completing it after the intake activates."""
    if status is TrajectoryStatus.INTAKE_HELD and not gaps:
        return TrajectoryStatus.ACTIVE
    return status


def activation_refusal(status: TrajectoryStatus, gaps: Sequence[PlanGap]) -> Text | None:
    """Why a trajectory in ``status`` with ``gaps`` cannot become active (``None``: it can)."""
    if status is TrajectoryStatus.PLANNED:
        return Text.of(N_("A trajectory starts after its intake has been held."))
    if status is not TrajectoryStatus.INTAKE_HELD:
        return Text.of(N_("This trajectory is not waiting for its plan."))
    if gaps:
        return incomplete_plan(gaps)
    return None


ADVICE_MIN = 10
ADVICE_MAX = 4000
EVALUATION_NOTES_MAX = 4000


def validate_advice(advice: str) -> Text | None:
    """What is wrong with the advice for the school (10–4000 characters), or ``None``."""
    return validate_text(advice, ADVICE_MIN, ADVICE_MAX)


def validate_evaluation_notes(notes: str, *, required: bool) -> Text | None:
    """What is wrong with an evaluation's notes (required for the final one at closing)."""
    return validate_text(notes, ADVICE_MIN if required else 0, EVALUATION_NOTES_MAX)


def closing_refusal(
    *,
    status: TrajectoryStatus,
    final_evaluation_held: bool,
    final_notes: str | None,
    advice: str,
) -> Text | None:
    """Why the trajectory cannot be closed now (``None``: it can).

    Any open trajectory closes (also one whose intake never took place); it needs the final
    evaluation — held before, or its conclusion given now — and the advice for the school.
    """
    if status is TrajectoryStatus.CLOSED:
        return Text.of(N_("This trajectory is already closed."))
    if not final_evaluation_held:
        if not (final_notes or "").strip():
            return Text.of(N_("Closing needs the final evaluation: write what it concluded."))
        problem = validate_evaluation_notes(final_notes or "", required=True)
        if problem is not None:
            return problem
    return validate_advice(advice)


@dataclass(frozen=True, slots=True)
class EvaluationSlot:
    """A planned evaluation as `matching_evaluation` reads it."""

    evaluation_id: int
    kind: EvaluationKind
    due_on: date
    held_on: date | None


def matching_evaluation(evaluations: Iterable[EvaluationSlot], day: date) -> int | None:
    """The evaluation an evaluation appointment on ``day`` holds: of those not held yet, the
    one due nearest to ``day`` (an earlier one on a tie; interim before final when the final
    is further away). ``None`` when every evaluation is held."""
    open_ones = [e for e in evaluations if e.held_on is None]
    if not open_ones:
        return None
    best = min(
        open_ones,
        key=lambda e: (abs((e.due_on - day).days), e.due_on, e.kind is EvaluationKind.FINAL),
    )
    return best.evaluation_id


__all__ = (
    "ADVICE_MAX",
    "ADVICE_MIN",
    "COUNTED_TIMEOUT_STATUSES",
    "EVALUATION_NOTES_MAX",
    "TRANSITIONS",
    "EvaluationFacts",
    "EvaluationSlot",
    "FlagKind",
    "OverdueFlag",
    "PlanFacts",
    "PlanGap",
    "Requirement",
    "Stage",
    "Step",
    "Transition",
    "activation_refusal",
    "closing_refusal",
    "evaluation_missed",
    "incomplete_plan",
    "matching_evaluation",
    "may_make",
    "overdue_flags",
    "plan_gaps",
    "plan_refusal",
    "stage_of",
    "status_after_intake",
    "status_after_plan",
    "step_allowed_from",
    "transition",
    "validate_advice",
    "validate_evaluation_notes",
)
