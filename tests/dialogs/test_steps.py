"""Each step kind on its own: what it shows, what it accepts, what it refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from dialogs.engine import DATE_BUTTONS
from dialogs.events import Action
from dialogs.flow import FlowContext, Step, StepKind
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.replies import ReplyKind
from dialogs.state import Status
from dialogs.typed_text import CONTROL_REFUSED
from tests.dialogs.helpers import (
    EN,
    Chat,
    day,
    kinds,
    labels,
    mentee_context,
    notices,
    option_buttons,
    options,
    render,
    ticks,
    toy_flow,
)

PET = Step("pet", StepKind.SINGLE, prompt="Which pet?", label="Pet", options=options("cat", "dog"))
FRUIT = Step(
    "fruit",
    StepKind.MULTI,
    prompt="Which fruit?",
    label="Fruit",
    options=options("apple", "banana", "cherry"),
)
NOTE = Step(
    "note",
    StepKind.TEXT,
    prompt="A note?",
    label="Note",
    min_length=3,
    max_length=10,
    example="Hello you",
)
DAY = Step("day", StepKind.DATE, prompt="Which day?", label="Day", max_days_ahead=30)
AGREE = Step("agree", StepKind.YES_NO, prompt="Agree?", label="Agree")
RATING = Step("rating", StepKind.SCALE, prompt="How good?", label="Rating", optional=True)


# -- single ----------------------------------------------------------------------------------


def test_single_offers_its_options_and_stores_the_code() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    assert [b.event.value for b in option_buttons(chat.question)] == ["cat", "dog"]
    assert not chat.question.accepts_text

    replies = chat.press("Dog")

    assert chat.state.answers == {"pet": "dog"}
    assert kinds(replies) == [ReplyKind.ANSWERED, ReplyKind.QUESTION]
    assert render(replies[0]) == "Pet: Dog ✓"
    assert replies[0].step == "pet"
    assert chat.state.step == "agree"


def test_single_refuses_a_forged_code() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    before = chat.state

    replies = chat.act(Action.CHOOSE, "hamster")

    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert chat.state.answers == {}
    assert chat.state.step == "pet"
    assert chat.state.version == before.version
    assert replies[-1].kind is ReplyKind.QUESTION
    assert replies[-1].step == "pet"


def test_single_refuses_a_forged_student_outside_the_mentors_list() -> None:
    chat = Chat(VERWIJZING, mentee_context())

    replies = chat.act(Action.CHOOSE, "someone-elses-student")

    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert "student_id" not in chat.state.answers


def test_single_without_a_search_refuses_typed_text() -> None:
    chat = Chat(toy_flow(PET, AGREE))

    replies = chat.type("cat")

    assert notices(replies) == ["Please use the buttons."]
    assert chat.state.answers == {}


# -- multi -----------------------------------------------------------------------------------


def test_multi_toggles_ticks_on_and_off() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))

    chat.press("Banana")
    assert chat.state.selection == ("banana",)
    assert "✓ Banana" in labels(chat.question)
    assert "Banana" not in labels(chat.question)

    chat.press("✓ Banana")
    assert ticks(chat) == ()
    assert "Banana" in labels(chat.question)
    assert chat.state.step == "fruit"
    assert chat.state.answers == {}


def test_multi_done_with_nothing_ticked_is_refused() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))

    replies = chat.press("Done ✓")

    assert notices(replies) == ["Choose at least 1 option, then press “Done”."]
    assert chat.state.step == "fruit"
    assert "fruit" not in chat.state.answers


def test_multi_min_choices_uses_the_plural_message() -> None:
    chat = Chat(toy_flow(replace(FRUIT, min_choices=2), AGREE))

    replies = chat.press("Apple", "Done ✓")

    assert notices(replies) == ["Choose at least 2 options, then press “Done”."]
    assert chat.state.step == "fruit"


def test_multi_answer_keeps_the_option_order_not_the_tick_order() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))

    replies = chat.press("Cherry", "Apple", "Done ✓")

    assert chat.state.answers == {"fruit": ["apple", "cherry"]}
    assert render(replies[0]) == "Fruit: Apple and Cherry ✓"
    assert ticks(chat) == ()  # the ticks do not leak into the next question


def test_multi_refuses_a_forged_code_and_keeps_the_ticks() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))
    chat.press("Apple")

    replies = chat.act(Action.CHOOSE, "durian")

    assert notices(replies) == ["Please use the buttons."]
    assert chat.state.selection == ("apple",)


def test_multi_refuses_typed_text() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))

    replies = chat.type("apple")

    assert notices(replies) == ["Please use the buttons, then press “Done”."]
    assert chat.state.selection == ()


def test_multi_shows_previous_ticks_when_going_back() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))
    chat.press("Apple", "Cherry", "Done ✓")

    chat.press("« Back")

    assert chat.state.step == "fruit"
    assert chat.state.selection == ("apple", "cherry")
    assert labels(chat.question)[:3] == ["✓ Apple", "Banana", "✓ Cherry"]
    chat.press("Done ✓")
    assert chat.state.answers["fruit"] == ["apple", "cherry"]
    assert chat.state.step == "agree"


def test_multi_shows_previous_ticks_when_editing_from_the_summary() -> None:
    chat = Chat(toy_flow(FRUIT, AGREE))
    chat.press("Banana", "Done ✓", "Yes")
    assert chat.state.step == "summary"

    chat.press("Change an answer", "Fruit")

    assert chat.state.step == "fruit"
    assert chat.state.selection == ("banana",)
    assert "✓ Banana" in labels(chat.question)
    chat.press("Apple", "Done ✓")
    assert chat.state.answers["fruit"] == ["apple", "banana"]
    assert chat.state.step == "summary"


# -- text ------------------------------------------------------------------------------------


def test_text_accepts_typed_text_and_says_so() -> None:
    chat = Chat(toy_flow(NOTE, AGREE))
    assert chat.question.accepts_text
    assert "Type your answer (at most 10 characters)." in render(chat.question)

    replies = chat.type("Hi there")

    assert chat.state.answers == {"note": "Hi there"}
    assert render(replies[0]) == "Note: Hi there ✓"


@pytest.mark.parametrize(
    ("typed_text", "message"),
    [
        ("ab", "That is too short: please write at least 3 characters."),
        ("   ab    ", "That is too short: please write at least 3 characters."),
        ("abcdefghijk", "That is too long: at most 10 characters, yours has 11."),
    ],
)
def test_text_length_limits_name_the_count(typed_text: str, message: str) -> None:
    chat = Chat(toy_flow(NOTE, AGREE))

    replies = chat.type(typed_text)

    assert notices(replies) == [message]
    assert chat.state.answers == {}
    assert chat.state.step == "note"


def test_text_singular_message_for_a_limit_of_one() -> None:
    one = Step("note", StepKind.TEXT, prompt="?", label="Note", max_length=1)
    chat = Chat(toy_flow(one, AGREE))
    assert "Type your answer (at most 1 character)." in render(chat.question)

    assert notices(chat.type("  \t ")) == ["That is too short: please write at least 1 character."]
    assert notices(chat.type("ab"))[0] == "That is too long: at most 1 character, yours has 2."


def test_text_refuses_control_characters_and_strips_outer_whitespace() -> None:
    chat = Chat(toy_flow(NOTE, AGREE))

    refused = notices(chat.type("  \x00Hi\x07 y\x1bou"))
    assert refused == [EN.render(CONTROL_REFUSED)]
    assert chat.state.answers == {}

    chat.type("  \u202eHi\u202c you\r \n")
    assert chat.state.answers == {"note": "Hi you"}


def test_text_keeps_inner_line_breaks_and_counts_after_trimming() -> None:
    chat = Chat(toy_flow(NOTE, AGREE))

    chat.type("     a\nb\tc              ")  # 5 characters once trimmed; max is 10

    assert chat.state.answers == {"note": "a\nb\tc"}


def test_text_normalises_to_nfc() -> None:
    chat = Chat(toy_flow(NOTE, AGREE))

    chat.type("Zoe\u0308")  # e + combining diaeresis

    assert chat.state.answers == {"note": "Zoë"}


def test_text_refuses_a_button_press() -> None:
    chat = Chat(toy_flow(NOTE, AGREE))

    replies = chat.act(Action.CHOOSE, "Hello you")

    assert notices(replies) == ["Please type your answer as a message."]
    assert chat.state.answers == {}


# -- date ------------------------------------------------------------------------------------


def test_date_buttons_are_the_next_five_school_days() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    days = [b.event.value for b in option_buttons(chat.question)]

    assert len(days) == DATE_BUTTONS
    assert days == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30"]
    assert labels(chat.question)[4] == day(date(2026, 11, 30))
    assert chat.question.accepts_text
    assert "Pick a day or type a date, for example 14-12-2026." in render(chat.question)


def test_date_buttons_from_a_friday_skip_the_weekend() -> None:
    friday = Chat(toy_flow(DAY, AGREE), FlowContext(today=date(2026, 11, 27)))

    days = [b.event.value for b in option_buttons(friday.question)]

    assert days == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]


def test_date_button_press_stores_the_iso_date_and_echoes_the_weekday() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    replies = chat.press(day(date(2026, 11, 30)))

    assert chat.state.answers == {"day": "2026-11-30"}
    assert render(replies[0]) == f"Day: {day(date(2026, 11, 30))} ✓"


@pytest.mark.parametrize("typed_date", ["30-11", "30/11/2026", "2026-11-30", "30.11.26", " 30 11 "])
def test_date_typed_forms_are_read(typed_date: str) -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    chat.type(typed_date)

    assert chat.state.answers == {"day": "2026-11-30"}


def test_date_today_and_the_last_allowed_day_are_accepted() -> None:
    today = Chat(toy_flow(DAY, AGREE))
    today.type("23-11-2026")
    assert today.state.answers == {"day": "2026-11-23"}

    last = Chat(toy_flow(DAY, AGREE))
    last.type("23-12-2026")  # exactly max_days_ahead = 30
    assert last.state.answers == {"day": "2026-12-23"}


@pytest.mark.parametrize(
    ("typed_date", "message"),
    [
        ("20-11-2026", "That date has passed. Please choose today or a later day."),
        ("2026-11-22", "That date has passed. Please choose today or a later day."),
        ("31-2", "I could not read that date. Please type it like 14-12-2026."),
        ("30-13-2026", "I could not read that date. Please type it like 14-12-2026."),
        ("next tuesday", "I could not read that date. Please type it like 14-12-2026."),
    ],
)
def test_date_refusals(typed_date: str, message: str) -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    replies = chat.type(typed_date)

    assert notices(replies) == [message]
    assert chat.state.answers == {}
    assert chat.state.step == "day"


def test_date_too_far_ahead_names_the_last_allowed_day() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    replies = chat.type("24-12-2026")

    (message,) = notices(replies)
    assert message.startswith("That date is too far ahead.")
    assert day(date(2026, 12, 23)) in message  # the last day allowed (30 days ahead)
    assert chat.state.answers == {}


def test_date_forged_button_values_are_validated_too() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    assert notices(chat.act(Action.CHOOSE, "2026-11-01")) == [
        "That date has passed. Please choose today or a later day."
    ]
    assert notices(chat.act(Action.CHOOSE, "not-a-date"))[0] == (
        "I could not read that date. Please type it like 14-12-2026."
    )
    assert notices(chat.act(Action.DONE))[0] == "Please pick a day or type a date."
    assert chat.state.answers == {}


def test_verwijzing_intake_date_refuses_a_weekend_day() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.state = chat.state.evolve(step="intake_from")

    replies = chat.type("28-11")  # a Saturday

    assert notices(replies) == ["That is a weekend day. Please choose a school day."]
    assert "intake_from" not in chat.state.answers
    chat.type("1-12")
    assert chat.state.answers == {"intake_from": "2026-12-01"}


# -- yes / no --------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "stored"), [("Yes", True), ("No", False)])
def test_yes_no_stores_a_bool(label: str, stored: bool) -> None:
    chat = Chat(toy_flow(AGREE, PET))
    assert [b.event.value for b in option_buttons(chat.question)] == ["yes", "no"]

    replies = chat.press(label)

    assert chat.state.answers == {"agree": stored}
    assert render(replies[0]) == f"Agree: {label} ✓"


def test_yes_no_refuses_other_values_and_typing() -> None:
    chat = Chat(toy_flow(AGREE, PET))

    assert notices(chat.act(Action.CHOOSE, "maybe")) == ["Please press “Yes” or “No”."]
    assert notices(chat.type("yes"))[0] == "Please use the buttons."
    assert chat.state.answers == {}


# -- scale -----------------------------------------------------------------------------------


def test_scale_offers_five_points_and_dont_know() -> None:
    chat = Chat(toy_flow(RATING, AGREE))

    assert [b.event.value for b in option_buttons(chat.question)] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "na",
    ]
    assert labels(chat.question)[2] == "3 · Neutral"


@pytest.mark.parametrize(("label", "code"), [("4 · Agree", "4"), ("Don't know", "na")])
def test_scale_stores_the_code(label: str, code: str) -> None:
    chat = Chat(toy_flow(RATING, AGREE))

    replies = chat.press(label)

    assert chat.state.answers == {"rating": code}
    assert render(replies[0]) == f"Rating: {label} ✓"


def test_scale_refuses_a_point_off_the_scale() -> None:
    chat = Chat(toy_flow(RATING, AGREE))

    replies = chat.act(Action.CHOOSE, "6")

    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert chat.state.answers == {}


# -- summary and confirm ---------------------------------------------------------------------


def test_summary_lists_every_answer_and_skipped_ones() -> None:
    chat = Chat(toy_flow(PET, FRUIT, NOTE, DAY, AGREE, RATING))
    chat.press("Cat", "Banana", "Cherry", "Done ✓")
    chat.type("Hi there")
    chat.type("30-11")
    chat.press("No", "Skip")

    assert chat.state.step == "summary"
    assert render(chat.question) == "\n".join(
        [
            "Check:",
            "Pet: Cat",
            "Fruit: Banana and Cherry",
            "Note: Hi there",
            f"Day: {day(date(2026, 11, 30))}",
            "Agree: No",
            "Rating: (skipped)",
        ]
    )
    assert labels(chat.question) == ["Send ✓", "Change an answer", "« Back", "Stop"]


def test_confirm_completes_with_the_answers() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    chat.press("Cat", "Yes")

    replies = chat.press("Send ✓")

    assert kinds(replies) == [ReplyKind.DONE]
    assert render(replies[0]) == "Sent."
    assert chat.state.status is Status.COMPLETED
    assert chat.state.step is None
    assert chat.state.answers == {"pet": "cat", "agree": True}


def test_summary_refuses_other_input_with_a_hint() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    chat.press("Cat", "Yes")
    before = chat.state

    replies = chat.type("send it")

    assert notices(replies) == ["Please check your answers, then press “Send” or change an answer."]
    assert chat.state == before
    assert replies[-1].step == "summary"


def test_summary_refuses_editing_an_unknown_step() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    chat.press("Cat", "Yes")
    before = chat.state

    replies = chat.act(Action.EDIT, "not_a_step")

    assert notices(replies) == ["Please check your answers, then press “Send” or change an answer."]
    assert chat.state == before


def test_an_ended_conversation_accepts_nothing_more() -> None:
    chat = Chat(toy_flow(PET, AGREE))
    chat.press("Cat", "Yes", "Send ✓")
    ended = chat.state

    replies = chat.type("hello?")

    assert notices(replies) == ["This conversation has already ended."]
    assert chat.state == ended
