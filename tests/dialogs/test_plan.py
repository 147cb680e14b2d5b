"""The plan flow on its own (issue 11: the plan is made at the intake, also in the chat):
goals with limits, dates that fit together, the coach from the school's coaches, help with an
example after two invalid answers, the summary with Save / Change, and buttons of one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from types import MappingProxyType

from dialogs.engine import advance
from dialogs.events import Action
from dialogs.flow import FlowContext, Option
from dialogs.flows.plan import (
    COACH,
    COACHES,
    END,
    EVALUATION,
    GOALS,
    GOALS_MAX,
    GOALS_MIN,
    PLAN,
    SECOND_EVALUATION,
    START,
    START_DAYS_BACK,
    TRAJECTORY,
    evaluations_of,
)
from dialogs.replies import ReplyKind
from dialogs.state import Status
from dialogs.text import Text
from services.trajectories import lifecycle
from tests.dialogs.helpers import TODAY, LiveChat, day, labels, notices, render

COACH_OPTIONS = (Option("41", Text.raw("Coen Trajectveld")), Option("42", Text.raw("Ilse Baan")))
GOALS_TEXT = "Daan vraagt zelf om een time-out voordat een conflict escaleert."


def context(details: Mapping[str, tuple[Text, ...]] | None = None) -> FlowContext:
    """The binding's context in miniature: two coaches, and optional details."""
    return FlowContext(
        today=TODAY,
        choices=MappingProxyType({COACHES: COACH_OPTIONS}),
        details=MappingProxyType(details or {}),
    )


def chat() -> LiveChat:
    return LiveChat(PLAN, lambda _answers: context(), **{TRAJECTORY: "7"})


def typed_date(value: date) -> str:
    return f"{value.day}-{value.month}-{value.year}"


def to_summary(c: LiveChat) -> None:
    c.type(GOALS_TEXT)
    c.type(typed_date(TODAY))
    c.type(typed_date(TODAY + timedelta(weeks=12)))
    c.type(typed_date(TODAY + timedelta(weeks=6)))
    c.press("Skip")
    c.press("Ilse Baan")


def test_the_limits_are_the_services() -> None:
    assert (GOALS_MIN, GOALS_MAX) == (lifecycle.GOALS_MIN, lifecycle.GOALS_MAX)


def test_the_whole_plan_to_the_summary_and_saved() -> None:
    c = chat()
    assert "Question 1 of 6" in render(c.question)
    assert "Type your answer (at most 2,000 characters)." in render(c.question)
    to_summary(c)
    summary = render(c.question)
    assert summary.startswith("Please check the plan before saving it:")
    assert f"Goals: {GOALS_TEXT}" in summary
    assert f"Start date: {day(TODAY)}" in summary
    assert f"End date (final evaluation): {day(TODAY + timedelta(weeks=12))}" in summary
    assert f"Interim evaluation: {day(TODAY + timedelta(weeks=6))}" in summary
    assert "Second interim evaluation: (skipped)" in summary
    assert "Coach: Ilse Baan" in summary
    assert labels(c.question) == ["Save the plan ✓", "Change an answer", "« Back", "Stop"]
    c.press("Save the plan ✓")
    assert c.state.status is Status.COMPLETED
    assert c.state.answers == {
        TRAJECTORY: "7",
        GOALS: GOALS_TEXT,
        START: TODAY.isoformat(),
        END: (TODAY + timedelta(weeks=12)).isoformat(),
        EVALUATION: (TODAY + timedelta(weeks=6)).isoformat(),
        COACH: "42",
    }
    assert evaluations_of(c.state.answers) == (TODAY + timedelta(weeks=6),)


def test_goals_too_short_or_too_long_are_refused_with_the_limit() -> None:
    c = chat()
    assert notices(c.type("Rustig")) == ["That is too short: please write at least 10 characters."]
    assert notices(c.type("x" * 2001))[0] == (
        "That is too long: at most 2,000 characters, yours has 2,001."
    )
    # The second invalid answer brings the help with the step's example.
    help_text = notices(c.replies)[1]
    assert help_text.startswith("Need a hand? Here is what this question expects:")
    assert "For example: Within six weeks Daan asks for a time-out himself" in help_text
    assert c.state.step == GOALS


def test_the_start_may_lie_a_while_back_but_the_end_not_before_it() -> None:
    c = chat()
    c.type(GOALS_TEXT)
    last_week = TODAY - timedelta(days=7)
    c.type(typed_date(last_week))
    assert c.state.answers[START] == last_week.isoformat()
    assert notices(c.type(typed_date(last_week - timedelta(days=1)))) == [
        "That date has passed. Please choose today or a later day."
    ]
    assert c.state.step == END
    c.press("« Back")
    too_old = TODAY - timedelta(days=START_DAYS_BACK + 1)
    assert notices(c.type(typed_date(too_old))) == [
        f"That date is too long ago. Please choose {day(TODAY - timedelta(days=START_DAYS_BACK))}"
        " or later."
    ]


def test_an_end_before_the_start_is_explained_and_help_follows() -> None:
    c = chat()
    c.type(GOALS_TEXT)
    c.type(typed_date(TODAY + timedelta(days=14)))
    assert notices(c.type(typed_date(TODAY + timedelta(days=7)))) == [
        "The end date must be on or after the start date."
    ]
    replies = c.type(typed_date(TODAY + timedelta(days=8)))
    assert notices(replies)[0] == "The end date must be on or after the start date."
    assert notices(replies)[1].startswith("Need a hand? Here is what this question expects:")
    assert "Type it as" in notices(replies)[1]
    assert c.state.step == END


def test_evaluations_lie_between_start_and_end_and_in_order() -> None:
    c = chat()
    c.type(GOALS_TEXT)
    c.type(typed_date(TODAY))
    c.type(typed_date(TODAY + timedelta(weeks=8)))
    assert notices(c.type(typed_date(TODAY + timedelta(weeks=9)))) == [
        "Evaluation dates must lie between the start and the end date."
    ]
    c.type(typed_date(TODAY + timedelta(weeks=4)))
    assert notices(c.type(typed_date(TODAY + timedelta(weeks=3)))) == [
        "The second evaluation must come after the first one."
    ]
    c.type(typed_date(TODAY + timedelta(weeks=6)))
    assert c.state.step == COACH
    assert evaluations_of(c.state.answers) == (
        TODAY + timedelta(weeks=4),
        TODAY + timedelta(weeks=6),
    )


def test_a_new_start_after_the_end_drops_the_dates_that_no_longer_fit() -> None:
    c = chat()
    to_summary(c)
    c.press("Change an answer", "Start date")
    c.type(typed_date(TODAY + timedelta(weeks=13)))
    # The end and the evaluation lay before the new start: asked again, then the summary.
    assert c.state.step == END
    assert END not in c.state.answers
    assert EVALUATION not in c.state.answers
    c.type(typed_date(TODAY + timedelta(weeks=20)))
    assert c.state.step == EVALUATION
    c.type(typed_date(TODAY + timedelta(weeks=16)))
    c.press("Skip")
    assert "Please check the plan before saving it:" in render(c.question)


def test_the_coach_is_one_of_the_schools_coaches() -> None:
    c = chat()
    for answer in (GOALS_TEXT, typed_date(TODAY), typed_date(TODAY + timedelta(weeks=10))):
        c.type(answer)
    c.type(typed_date(TODAY + timedelta(weeks=5)))
    c.press("Skip")
    assert c.state.step == COACH
    assert "Coen Trajectveld" in labels(c.question)
    # A forged payload for another school's coach is not an option here.
    c.act(Action.CHOOSE, "99")
    assert notices(c.replies)[0] == "That choice is not available. Please use the buttons."
    assert COACH not in c.state.answers


def test_no_coach_in_the_school_says_so() -> None:
    empty = LiveChat(PLAN, lambda _answers: FlowContext(today=TODAY), **{TRAJECTORY: "7"})
    for answer in (GOALS_TEXT, typed_date(TODAY), typed_date(TODAY + timedelta(weeks=10))):
        empty.type(answer)
    empty.type(typed_date(TODAY + timedelta(weeks=5)))
    empty.press("Skip")
    assert "This school has no coach in the system yet." in render(empty.question)


def test_details_show_what_is_planned_now_and_the_time_out_agreement() -> None:
    details = {
        GOALS: (Text.raw("The plan of Daan Jansen (2B)."),),
        "summary": (Text.raw("Time-out is part of the plan."),),
    }
    c = LiveChat(PLAN, lambda _answers: context(details), **{TRAJECTORY: "7"})
    assert "The plan of Daan Jansen (2B)." in render(c.question)
    to_summary(c)
    assert render(c.question).endswith("Time-out is part of the plan.")


def test_a_button_of_an_earlier_run_is_stale() -> None:
    c = chat()
    to_summary(c)
    save = next(b for b in c.question.buttons if b.event.action is Action.CONFIRM)
    old = replace(save.event, run="other1")
    state, replies = advance(PLAN, c.state, old, c.context)
    assert state.status is Status.ACTIVE
    assert render(replies[0]) == "That question is already closed. Here is the current one."
    assert replies[-1].kind is ReplyKind.QUESTION
    assert all(b.event.run == c.state.run for b in c.question.buttons)


def test_stopping_changes_nothing() -> None:
    c = chat()
    c.type(GOALS_TEXT)
    replies = c.press("Stop")
    assert c.state.status is Status.CANCELLED
    assert render(replies[-1]) == "Stopped. The plan has not been changed."
    assert SECOND_EVALUATION not in c.state.answers
