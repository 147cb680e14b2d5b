"""The help after two invalid answers says what date and choice questions expect (issue 11):
an example school day in the reader's locale for a date, the buttons for a choice."""

from __future__ import annotations

from datetime import date, timedelta

from dialogs.engine import _sample_day
from dialogs.events import Action
from dialogs.flow import Step, StepKind
from dialogs.flows.verwijzing import URGENCY, VERWIJZING
from dialogs.i18n import Catalogs
from dialogs.render import render_reply
from dialogs.text import Text
from tests.dialogs.helpers import (
    TODAY,
    Chat,
    mentee_context,
    notices,
    options,
    toy_flow,
)

WHEN = Step("when", StepKind.DATE, prompt="When?", label="When", max_days_ahead=60)
PICK = Step("pick", StepKind.SINGLE, prompt="Which?", label="Which", options=options("red", "blue"))
MANY = Step(
    "many",
    StepKind.MULTI,
    prompt="Which ones?",
    label="Which ones",
    options=options("red", "blue", "green"),
)
LONG = Step(
    "long",
    StepKind.SINGLE,
    prompt="How urgent?",
    label="Urgency",
    options=URGENCY,  # sentences: not listed again
)
AGREE = Step("agree", StepKind.YES_NO, prompt="Agreed?", label="Agreed")
HAND = "Need a hand? Here is what this question expects:"
WAYS_OUT = "You can go back, or stop and continue later."


def test_a_date_question_gets_an_example_school_day_and_how_to_type_it() -> None:
    chat = Chat(toy_flow(WHEN))
    chat.type("someday")
    help_text = notices(chat.type("soon"))[1]
    # TODAY is Monday 23 November 2026: three weeks on is Monday 14 December.
    assert help_text == (
        f"{HAND}\n"
        "For example: Monday, December 14. Type it as 14-12-2026, or tap one of the days.\n"
        f"{WAYS_OUT}"
    )


def test_the_example_day_is_in_the_readers_language() -> None:
    chat = Chat(toy_flow(WHEN))
    chat.type("ooit")
    replies = chat.type("gauw")
    nl = Catalogs().get("nl")
    help_text = render_reply(replies[1], nl).text
    assert nl.render(Text.raw(date(2026, 12, 14))) == "maandag 14 december"
    assert "maandag 14 december" in help_text
    assert "14-12-2026" in help_text


def test_the_example_is_a_school_day_within_the_questions_reach() -> None:
    saturday = date(2026, 11, 28)
    for today in (TODAY + timedelta(days=n) for n in range(7)):
        for reach in (1, 3, 10, 21, 60):
            sample = _sample_day(today, reach)
            assert sample.weekday() < 5, (today, reach)
            assert today < sample, (today, reach)
    assert _sample_day(saturday - timedelta(days=21), 60) == date(2026, 11, 30)  # the Monday
    assert _sample_day(saturday - timedelta(days=21), 21) == date(2026, 11, 27)  # the Friday


def test_a_choice_question_says_tap_a_button_and_lists_short_labels() -> None:
    chat = Chat(toy_flow(PICK))
    chat.type("purple")
    assert notices(chat.type("purple"))[1] == (
        f"{HAND}\nTap one of the buttons.\n• Red\n• Blue\n{WAYS_OUT}"
    )


def test_a_multiple_choice_says_to_tick_then_press_done() -> None:
    chat = Chat(toy_flow(MANY))
    chat.type("all")
    assert notices(chat.type("all"))[1] == (
        f"{HAND}\nTap the options that apply, then “Done”.\n• Red\n• Blue\n• Green\n{WAYS_OUT}"
    )


def test_long_labels_are_not_repeated_and_yes_no_is_listed() -> None:
    chat = Chat(toy_flow(LONG))
    chat.type("very")
    assert notices(chat.type("very"))[1] == f"{HAND}\nTap one of the buttons.\n{WAYS_OUT}"
    chat = Chat(toy_flow(AGREE))
    chat.type("maybe")
    assert notices(chat.type("maybe"))[1] == (
        f"{HAND}\nTap one of the buttons.\n• Yes\n• No\n{WAYS_OUT}"
    )


def test_a_name_list_explains_tapping_and_searching() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.act(Action.CHOOSE, "s99")
    replies = chat.act(Action.CHOOSE, "s99")
    assert notices(replies)[1] == (
        f"{HAND}\nTap a name, or type part of a name to search.\n{WAYS_OUT}"
    )
