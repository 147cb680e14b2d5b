"""After two invalid answers in a row, explain with an example and offer a way out."""

from __future__ import annotations

from dialogs.engine import HELP_AFTER_INVALID
from dialogs.flow import Step, StepKind
from dialogs.replies import ReplyKind
from tests.dialogs.helpers import Chat, kinds, labels, notices, toy_flow

REQUIRED = Step(
    "note",
    StepKind.TEXT,
    prompt="A note?",
    label="Note",
    min_length=5,
    example="Back on Monday",
)
OPTIONAL = Step(
    "extra",
    StepKind.TEXT,
    prompt="Anything else?",
    label="Extra",
    min_length=5,
    optional=True,
    example="Bring a pen",
)
NO_EXAMPLE = Step("plain", StepKind.TEXT, prompt="Plain?", label="Plain", min_length=5)
TOO_SHORT = "That is too short: please write at least 5 characters."


def test_help_appears_after_the_second_invalid_answer() -> None:
    assert HELP_AFTER_INVALID == 2
    chat = Chat(toy_flow(REQUIRED, OPTIONAL))

    first = chat.type("no")
    assert kinds(first) == [ReplyKind.NOTICE, ReplyKind.QUESTION]
    assert notices(first) == [TOO_SHORT]
    assert chat.state.invalid == 1

    second = chat.type("no")
    assert kinds(second) == [ReplyKind.NOTICE, ReplyKind.NOTICE, ReplyKind.QUESTION]
    assert notices(second) == [
        TOO_SHORT,
        "Need a hand? Here is what this question expects:\n"
        "For example: Back on Monday\n"
        "You can go back, or stop and continue later.",
    ]
    assert chat.state.invalid == 2
    assert second[-1].step == "note"
    assert "Skip" not in labels(second[-1])


def test_help_on_an_optional_question_offers_to_skip() -> None:
    chat = Chat(toy_flow(OPTIONAL, REQUIRED))
    chat.type("no")

    replies = chat.type("no")

    assert notices(replies)[1] == (
        "Need a hand? Here is what this question expects:\n"
        "For example: Bring a pen\n"
        "You can skip this question, go back, or stop."
    )
    assert "Skip" in labels(replies[-1])
    chat.press("Skip")
    assert chat.state.step == "note"


def test_help_without_an_example_still_explains_the_way_out() -> None:
    chat = Chat(toy_flow(NO_EXAMPLE, REQUIRED))
    chat.type("no")

    replies = chat.type("no")

    assert notices(replies)[1] == (
        "Need a hand? Here is what this question expects:\n"
        "You can go back, or stop and continue later."
    )


def test_help_keeps_coming_while_the_answers_stay_invalid() -> None:
    chat = Chat(toy_flow(REQUIRED, OPTIONAL))
    chat.type("no")
    chat.type("no")

    replies = chat.type("no")

    assert len(notices(replies)) == 2
    assert chat.state.invalid == 3


def test_a_valid_answer_resets_the_count() -> None:
    chat = Chat(toy_flow(REQUIRED, OPTIONAL))
    chat.type("no")
    chat.type("Back on Monday")
    assert chat.state.step == "extra"
    assert chat.state.invalid == 0

    replies = chat.type("no")

    assert notices(replies) == [TOO_SHORT]


def test_moving_away_resets_the_count() -> None:
    chat = Chat(toy_flow(REQUIRED, OPTIONAL))
    chat.type("Back on Monday")
    chat.type("no")
    assert chat.state.invalid == 1
    chat.press("« Back")
    assert chat.state.step == "note"
    assert chat.state.invalid == 0


def test_invalid_answers_keep_the_buttons_valid() -> None:
    chat = Chat(toy_flow(OPTIONAL, REQUIRED))
    skip = chat.button("Skip").event
    chat.type("no")
    chat.type("no")

    chat.send(skip)  # the keyboard shown before the mistakes still works

    assert chat.state.step == "note"
