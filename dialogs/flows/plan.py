"""The plan of a trajectory in chat, made at the intake by a coach or the care coordinator:
goals, start and end date (the final evaluation), interim evaluation dates and the coach who
is the student's fixed point of contact.

The trajectory is a preset answer (`TRAJECTORY`), not a question: the flow starts from the
"Plans to complete" list, and storage checks again that this person is staff of its school
and that it is still open (`services.conversations.plan_bindings`). The coaches are options
from the context (``choices[COACHES]``); the binding adds the stored plan as details under
the questions (what is planned now) and the time-out agreements under the summary (they are
kept as they are). Saving goes through `services.trajectories.lifecycle.set_plan`, which
validates again and activates the trajectory when the intake was held.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from dialogs.flow import Answers, AnswerValue, Flow, FlowContext, Step, StepKind
from dialogs.text import N_, Text

# -- answer keys -----------------------------------------------------------------------------

#: Preset (not asked): the trajectory the plan is for.
TRAJECTORY = "trajectory_id"
GOALS, START, END, EVALUATION, SECOND_EVALUATION, COACH = (
    "goals",
    "start",
    "end",
    "evaluation",
    "second_evaluation",
    "coach",
)
#: The choices key of the school's coaches.
COACHES = "coaches"

#: The limits of `services.trajectories.lifecycle` (a test keeps them equal).
GOALS_MIN, GOALS_MAX = 10, 2000
#: A plan may start on the day of an intake held a while ago.
START_DAYS_BACK = 60
#: A plan (and its evaluations) lies within a school year or so.
PLAN_DAYS_AHEAD = 400


def _day(value: AnswerValue | None) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _on_or_after_start(value: AnswerValue, answers: Answers, _context: FlowContext) -> Text | None:
    start, end = _day(answers.get(START)), _day(value)
    if start is not None and end is not None and end < start:
        return Text.of(N_("The end date must be on or after the start date."))
    return None


def _within_plan(value: AnswerValue, answers: Answers, _context: FlowContext) -> Text | None:
    start, end, day = _day(answers.get(START)), _day(answers.get(END)), _day(value)
    if day is None or start is None or end is None:
        return None
    if not start <= day <= end:
        return Text.of(N_("Evaluation dates must lie between the start and the end date."))
    return None


def _after_first(value: AnswerValue, answers: Answers, context: FlowContext) -> Text | None:
    problem = _within_plan(value, answers, context)
    if problem is not None:
        return problem
    first, day = _day(answers.get(EVALUATION)), _day(value)
    if first is not None and day is not None and day <= first:
        return Text.of(N_("The second evaluation must come after the first one."))
    return None


def _dates_after_start(value: AnswerValue, before: Answers) -> Mapping[str, AnswerValue | None]:
    """A new start drops the dates that no longer fit after it (they are asked again)."""
    start = _day(value)
    changes: dict[str, AnswerValue | None] = {}
    if start is None:
        return changes
    end = _day(before.get(END))
    if end is not None and end < start:
        changes[END] = None
    for key in (EVALUATION, SECOND_EVALUATION):
        day = _day(before.get(key))
        if day is not None and (day < start or (end is not None and day > end)):
            changes[key] = None
    return changes


def _dates_after_end(value: AnswerValue, before: Answers) -> Mapping[str, AnswerValue | None]:
    """A new end drops the evaluation dates after it (they are asked again)."""
    end = _day(value)
    changes: dict[str, AnswerValue | None] = {}
    for key in (EVALUATION, SECOND_EVALUATION):
        day = _day(before.get(key))
        if end is not None and day is not None and day > end:
            changes[key] = None
    return changes


def evaluations_of(answers: Answers) -> tuple[date, ...]:
    """The interim evaluation dates of confirmed answers, in order."""
    days = (_day(answers.get(key)) for key in (EVALUATION, SECOND_EVALUATION))
    return tuple(sorted(day for day in days if day is not None))


PLAN = Flow(
    id="trajectory_plan",
    version=1,
    title=N_("Complete a plan"),
    confirm=N_("Save the plan ✓"),
    done=N_("The plan is saved."),
    stopped=N_("Stopped. The plan has not been changed."),
    steps=(
        Step(
            GOALS,
            StepKind.TEXT,
            min_length=GOALS_MIN,
            max_length=GOALS_MAX,
            prompt=N_(
                "What are the goals of this trajectory, as agreed at the intake? Make them "
                "concrete: what, by when, how you will see it."
            ),
            label=N_("Goals"),
            example=N_(
                "Within six weeks Daan asks for a time-out himself before a conflict "
                "escalates, at most twice a week."
            ),
        ),
        Step(
            START,
            StepKind.DATE,
            max_days_back=START_DAYS_BACK,
            max_days_ahead=PLAN_DAYS_AHEAD,
            updates=_dates_after_start,
            prompt=N_("From which date does the plan run? (The day of the intake is fine.)"),
            label=N_("Start date"),
        ),
        Step(
            END,
            StepKind.DATE,
            max_days_ahead=PLAN_DAYS_AHEAD,
            validate=_on_or_after_start,
            updates=_dates_after_end,
            prompt=N_(
                "Until which date does the plan run? The final evaluation is planned on that day."
            ),
            label=N_("End date (final evaluation)"),
        ),
        Step(
            EVALUATION,
            StepKind.DATE,
            max_days_ahead=PLAN_DAYS_AHEAD,
            validate=_within_plan,
            prompt=N_("When is the interim evaluation? Choose a date between start and end."),
            label=N_("Interim evaluation"),
        ),
        Step(
            SECOND_EVALUATION,
            StepKind.DATE,
            optional=True,
            max_days_ahead=PLAN_DAYS_AHEAD,
            validate=_after_first,
            prompt=N_("Is there a second interim evaluation? Choose its date, or skip."),
            label=N_("Second interim evaluation"),
        ),
        Step(
            COACH,
            StepKind.SINGLE,
            options_from=COACHES,
            empty=N_(
                "This school has no coach in the system yet. Ask the administrator to add "
                "one; until then the plan cannot be completed."
            ),
            prompt=N_("Which coach is the student's fixed point of contact?"),
            label=N_("Coach"),
        ),
        Step(
            "summary",
            StepKind.SUMMARY,
            prompt=N_("Please check the plan before saving it:"),
            label=N_("Summary"),
        ),
    ),
)
