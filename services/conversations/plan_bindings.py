"""The storage side of the plan flow (`dialogs.flows.plan`): who may start it for which
trajectory, its context (the school's coaches, the stored plan), and saving it.

Every step checks again: the person must be staff, the preset trajectory one of their school
and still open (`stored_plan`; inside a Telegram update the plan comes from the process cache
until a trajectory, its evaluations or a person is written), and saving goes through
`services.trajectories.lifecycle.set_plan` — the one writer of a plan, which checks the person
and the trajectory again, validates, and activates the trajectory once its intake was held.
A refusal there (closed meanwhile, no longer staff) keeps the summary with the reason shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, AnswerValue, FlowContext, Option
from dialogs.flows.plan import (
    COACH,
    COACHES,
    END,
    EVALUATION,
    GOALS,
    SECOND_EVALUATION,
    START,
    TRAJECTORY,
    evaluations_of,
)
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.ids import parse_id
from services.kernel.uow import update_cache
from services.trajectories.access import NOT_AVAILABLE
from services.trajectories.lifecycle import TrajectoryPlan, coaches_of, set_plan
from services.trajectories.plans import StoredPlan, stored_plan
from storage.models import Person, TrajectoryStatus


def trajectory_of(answers: Answers) -> int:
    """The preset trajectory id; `NotAllowed` when there is none (a forged start)."""
    value = parse_id(answers.get(TRAJECTORY))
    if value is None:
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    return value


async def plan_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """Nothing to add; refuses a trajectory that is not this person's to plan (`NotAllowed`:
    not staff of its school, unknown; `InvalidTransition`: closed)."""
    del now
    await stored_plan(session=session, actor=person, trajectory_id=trajectory_of(preset))
    return {}


async def plan_context(
    *,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Answers,
    step: str | None = None,
) -> FlowContext:
    """The school's coaches to choose from, and the stored plan under each question.

    Never raises for the trajectory: when it is no longer plannable (closed meanwhile), every
    question says so, and saving refuses with the reason.
    """
    today = now.astimezone(SCHOOL_TIMEZONE).date()
    choices = {COACHES: await _coach_options(session, person.school_id)}
    try:
        stored = await stored_plan(
            session=session, actor=person, trajectory_id=trajectory_of(answers)
        )
    except (NotAllowed, InvalidTransition) as refusal:
        every = (GOALS, START, END, EVALUATION, SECOND_EVALUATION, COACH, "summary")
        return FlowContext(
            today=today,
            choices=MappingProxyType(choices),
            details=MappingProxyType(dict.fromkeys(every, (refusal.reason,))),
        )
    return FlowContext(
        today=today,
        choices=MappingProxyType(choices),
        details=MappingProxyType(_details(stored)),
    )


async def _coach_options(session: AsyncSession, school_id: int) -> tuple[Option, ...]:
    """The coaches as options; inside a Telegram update from the process cache (people and
    roles bump its version)."""
    cache = await update_cache()
    key = ("coach_options", school_id)
    if cache is not None and key in cache:
        cached: tuple[Option, ...] = cache.get(key)
        return cached
    coaches = await coaches_of(session=session, school_id=school_id)
    options = tuple(Option(str(c.id), Text.raw(c.display_name)) for c in coaches)
    if cache is not None:
        cache.put(key, options)
    return options


def _details(stored: StoredPlan) -> dict[str, tuple[Text, ...]]:
    """What is planned now, under each question; whose plan it is; the time-out agreements
    (kept as they are) under the summary."""
    student = Text.raw(
        f"{stored.student_name} ({stored.group_name})" if stored.group_name else stored.student_name
    )
    details: dict[str, tuple[Text, ...]] = {
        GOALS: (Text.of(N_("The plan of {student}."), student=student),),
    }

    def now_planned(key: str, value: Text) -> None:
        details[key] = (*details.get(key, ()), Text.of(N_("Planned now: {value}"), value=value))

    if stored.goals:
        now_planned(GOALS, Text.raw(stored.goals))
    for key, day in (
        (START, stored.start),
        (END, stored.end),
        (EVALUATION, stored.interim[0] if stored.interim else None),
        (SECOND_EVALUATION, stored.interim[1] if len(stored.interim) > 1 else None),
    ):
        if day is not None:
            now_planned(key, Text.raw(day))
    if stored.coach_name:
        now_planned(COACH, Text.raw(stored.coach_name))
    timeouts = (
        Text.plural_of(
            "Time-out is part of the plan, at most {count} time a week; this stays as it is "
            "(change it on the trajectory page).",
            "Time-out is part of the plan, at most {count} times a week; this stays as it is "
            "(change it on the trajectory page).",
            stored.timeouts_per_week,
        )
        if stored.timeouts_in_plan
        else Text.of(
            N_(
                "Time-out is not part of the plan; this stays as it is (change it on the "
                "trajectory page)."
            )
        )
    )
    details["summary"] = (Text.of(N_("The plan of {student}."), student=student), timeouts)
    return details


def plan_of(answers: Answers, stored: StoredPlan) -> TrajectoryPlan:
    """The confirmed answers as the plan `set_plan` validates again (the time-out agreements
    kept as stored)."""
    coach_id = parse_id(answers.get(COACH))
    if coach_id is None:
        raise InputInvalid(Text.of(N_("Choose one of the school's coaches.")))
    return TrajectoryPlan(
        goals=str(answers[GOALS]),
        start=date.fromisoformat(str(answers[START])),
        end=date.fromisoformat(str(answers[END])),
        evaluations=evaluations_of(answers),
        timeouts_in_plan=stored.timeouts_in_plan,
        timeouts_per_week=stored.timeouts_per_week,
        coach_id=coach_id,
    )


async def complete_plan(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> Sequence[Text]:
    """Save the plan through `set_plan`; what happens next, in the person's words."""
    stored = await stored_plan(session=session, actor=person, trajectory_id=trajectory_of(answers))
    trajectory = await set_plan(
        session=session,
        actor=person,
        trajectory_id=stored.trajectory_id,
        plan=plan_of(answers, stored),
        now=now,
    )
    if trajectory.status is TrajectoryStatus.ACTIVE and stored.status is not trajectory.status:
        return (Text.of(N_("The plan is saved and complete: the trajectory is active now.")),)
    if trajectory.status is TrajectoryStatus.PLANNED:
        return (
            Text.of(
                N_(
                    "The plan is saved. The trajectory becomes active when the intake has "
                    "been held."
                )
            ),
        )
    return (Text.of(N_("The plan is saved.")),)
