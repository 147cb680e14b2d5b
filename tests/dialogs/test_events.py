"""Button payloads and stale buttons: old or forged presses never change the conversation."""

from __future__ import annotations

import pytest

from dialogs.engine import question, start
from dialogs.events import Action, Event, typed
from dialogs.flow import Step, StepKind
from dialogs.flows.verwijzing import HAS_EXISTING, HAS_PARENTS, VERWIJZING
from dialogs.replies import ReplyKind
from dialogs.state import DialogState, new_run_id
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
    # A long conversation, about a student with an open referral (so every step is asked).
    chat.state = chat.state.evolve(
        version=10**6,
        answers={
            HAS_EXISTING: True,
            HAS_PARENTS: True,
            "more_details": True,
            "external_care": "yes",
            "absence": "some",
            "support": ["class_observation"],
            "consent_parent": "p1",
        },
    )
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


# -- runs: a button belongs to one run of one flow (issue 11) -------------------------------


def test_a_button_carries_the_run_and_round_trips() -> None:
    chat = Chat(FLOW)
    event = chat.button("Cat").event

    assert (event.version, event.run) == (chat.state.version, chat.state.run)
    assert event.encode() == f"c:{chat.state.version}.{chat.state.run}:cat"
    assert Event.decode(event.encode()) == event


def test_a_payload_without_a_run_decodes_with_none() -> None:
    assert Event.decode("c:3:high") == Event(Action.CHOOSE, "high", 3, None)
    assert Event.decode("c:3.:high") == Event(Action.CHOOSE, "high", 3, "")


def test_a_press_from_an_earlier_run_is_stale_even_with_the_same_version() -> None:
    first = Chat(FLOW)
    first.press("Cat")
    old_yes = first.button("Yes").event  # run A, version 2, on the last question
    second = Chat(FLOW)
    second.state, second.replies = start(FLOW, second.context, run="runb02")
    second.press("Dog")
    before = second.state
    assert before.version == old_yes.version  # the version alone cannot tell them apart

    replies = second.send(old_yes)

    assert notices(replies) == [STALE]
    assert second.state == before
    assert replies[-1] == question(FLOW, before, second.context)


def test_a_stale_send_of_an_earlier_run_never_completes_the_new_one() -> None:
    first = Chat(FLOW)
    first.press("Cat", "Yes")
    old_send = first.button("Send ✓").event
    second = Chat(FLOW)
    second.state, second.replies = start(FLOW, second.context, run="runb02")
    second.press("Dog", "No")
    assert second.button("Send ✓").event.version == old_send.version

    replies = second.send(old_send)

    assert notices(replies) == [STALE]
    assert second.state.status.value == "active"
    assert second.state.answers == {"pet": "dog", "agree": False}
    second.press("Send ✓")  # the run's own button still works
    assert second.state.status.value == "completed"


def test_a_press_of_the_same_run_applies() -> None:
    chat = Chat(FLOW)
    event = chat.button("Dog").event

    replies = chat.send(Event.decode(event.encode()) or event)

    assert notices(replies) == []
    assert chat.state.answers == {"pet": "dog"}


def test_a_button_without_a_run_is_stale_also_for_a_state_stored_before_runs() -> None:
    chat = Chat(FLOW)
    legacy = DialogState.from_json({k: v for k, v in chat.state.to_json().items() if k != "run"})
    assert legacy.run == ""
    chat.state = legacy

    replies = chat.send(Event.decode(f"c:{legacy.version}:cat") or Event(Action.RESUME))

    assert notices(replies) == [STALE]
    assert chat.state == legacy
    chat.press("Cat")  # the legacy state's own new buttons carry its (empty) run
    assert chat.state.answers == {"pet": "cat"}


def test_run_ids_are_short_and_fresh() -> None:
    ids = {new_run_id() for _ in range(200)}

    assert len(ids) == 200
    assert all(len(i) == 6 and i.isascii() and i.isalnum() for i in ids)
