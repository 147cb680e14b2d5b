"""Button payloads and stale buttons: old or forged presses never change the conversation."""

from __future__ import annotations

import pytest

from dialogs.engine import question
from dialogs.events import Action, Event, typed
from dialogs.flow import Step, StepKind
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.replies import ReplyKind
from tests.dialogs.helpers import (
    Chat,
    kinds,
    mentee_context,
    notices,
    options,
    render,
    toy_flow,
)

PET = Step("pet", StepKind.SINGLE, prompt="Which pet?", label="Pet", options=options("cat", "dog"))
AGREE = Step("agree", StepKind.YES_NO, prompt="Agree?", label="Agree")
FLOW = toy_flow(PET, AGREE)

STALE = "That question is already closed. Here is the current one."


# -- codec -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["c::high", "k::", "b::"])
def test_a_button_payload_without_a_version_is_malformed(payload: str) -> None:
    assert Event.decode(payload) is None


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.TEXT])
@pytest.mark.parametrize("version", [0, 7, 12345])
@pytest.mark.parametrize("value", ["", "high", "s01", "a:b:c", "2026-11-30"])
def test_encode_decode_round_trip(action: Action, version: int | None, value: str) -> None:
    event = Event(action, value, version)

    assert Event.decode(event.encode()) == event


def test_encoded_payload_shape() -> None:
    assert Event(Action.CHOOSE, "high", 3).encode() == "c:3:high"
    assert Event(Action.DONE).encode() == "d::"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "c",
        "c:1",
        "z:1:x",  # unknown action
        "t:1:hello",  # typed text never comes from a button
        "c:a:x",
        "c:-1:x",
        "c:1.5.5:x",  # a run id is letters and digits
        "c:1.a-b:x",
        "c:.abc:x",  # a run without a version
        "c:1." + "a" * 17 + ":x",  # a run id longer than any the engine makes
        "c: 1:x",
        "c:²:x",  # a digit to str.isdigit, not to int()
        "c:" + "9" * 5000 + ":x",  # more digits than int() converts
    ],
)
def test_decode_returns_none_for_malformed_payloads(payload: str) -> None:
    assert Event.decode(payload) is None


def test_typed_text_has_no_version() -> None:
    assert typed("hello") == Event(Action.TEXT, "hello", None)


def test_every_verwijzing_button_fits_telegrams_64_bytes() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.state = chat.state.evolve(version=10**6)  # a long conversation
    for step in VERWIJZING.steps:
        state = chat.state.evolve(step=step.key)
        for button in question(VERWIJZING, state, chat.context).buttons:
            payload = button.event.encode()
            assert len(payload.encode()) <= 64, payload
            assert Event.decode(payload) == button.event


# -- stale buttons ---------------------------------------------------------------------------


def test_a_button_from_an_earlier_question_changes_nothing() -> None:
    chat = Chat(FLOW)
    old_dog = chat.button("Dog").event
    chat.press("Cat")
    before = chat.state

    replies = chat.send(old_dog)

    assert chat.state == before
    assert chat.state.answers == {"pet": "cat"}
    assert kinds(replies) == [ReplyKind.NOTICE, ReplyKind.QUESTION]
    assert render(replies[0]) == STALE
    assert replies[1] == question(FLOW, before, chat.context)
    assert replies[1].step == "agree"


def test_a_stale_stop_button_does_not_cancel() -> None:
    chat = Chat(FLOW)
    old_stop = chat.button("Stop").event
    chat.press("Cat")

    replies = chat.send(old_stop)

    assert notices(replies) == [STALE]
    assert chat.state.step == "agree"
    assert chat.state.status.value == "active"


def test_a_button_from_the_future_is_stale_too() -> None:
    chat = Chat(FLOW)
    before = chat.state

    replies = chat.send(Event(Action.CHOOSE, "cat", before.version + 5))

    assert notices(replies) == [STALE]
    assert chat.state == before


def test_a_stale_confirm_on_the_summary_does_not_send() -> None:
    chat = Chat(FLOW)
    chat.press("Cat", "Yes")
    old_send = chat.button("Send ✓").event
    chat.press("Change an answer")

    replies = chat.send(old_send)

    assert notices(replies) == [STALE]
    assert chat.state.status.value == "active"
    assert chat.state.picking


def test_every_accepted_event_bumps_the_version() -> None:
    chat = Chat(FLOW)
    versions = [chat.state.version]
    for label in ("Cat", "« Back", "Dog", "Yes", "Change an answer"):
        chat.press(label)
        versions.append(chat.state.version)

    assert versions == [1, 2, 3, 4, 5, 6]


def test_resume_shows_the_current_question_without_changing_anything() -> None:
    chat = Chat(FLOW)
    chat.press("Cat")
    before = chat.state

    replies = chat.send(Event(Action.RESUME))

    assert chat.state == before
    assert replies == [question(FLOW, before, chat.context)]


@pytest.mark.parametrize("value", ["", "x", "-1", "²", "9" * 5000])
def test_a_malformed_page_number_is_ignored(value: str) -> None:
    chat = Chat(VERWIJZING, mentee_context())
    before = chat.state

    replies = chat.act(Action.PAGE, value)

    assert chat.state == before
    assert kinds(replies) == [ReplyKind.QUESTION]


@pytest.mark.parametrize("value", ["x", "²", "9" * 5000])
def test_a_malformed_page_number_in_the_answer_picker_is_refused(value: str) -> None:
    chat = Chat(FLOW)
    chat.press("Cat", "Yes", "Change an answer")
    before = chat.state

    replies = chat.act(Action.PAGE, value)

    assert chat.state == before
    assert kinds(replies) == [ReplyKind.NOTICE, ReplyKind.QUESTION]
