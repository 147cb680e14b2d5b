"""The state survives a restart (JSON) and the engine is deterministic."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dialogs.engine import advance, start
from dialogs.events import Action, Event
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.render import render_reply
from dialogs.state import DialogState, Status
from tests.dialogs.helpers import (
    EN,
    Chat,
    label,
    mentee_context,
    opt,
)


def _restart(state: DialogState) -> DialogState:
    """What storage does: to_json, through the database as JSON text, from_json."""
    return DialogState.from_json(json.loads(json.dumps(state.to_json())))


def _first_half(chat: Chat) -> None:
    chat.type("zoe")
    chat.press("Zoë de Vries")
    chat.type("Ik wil minder boos worden.")
    chat.type("Hoe help ik hem rustig te blijven?")
    chat.type("Twee gesprekken met de mentor.")
    chat.press("Skip")
    chat.type("Vooraan zitten.")
    chat.press(opt("urgency", "high"), "No")
    chat.type("Ik bel ze donderdag.")
    chat.press(
        opt("support", "time_out"), opt("support", "class_observation")
    )  # ticked, Done not yet pressed
    assert chat.state.selection == ("time_out", "class_observation")


def _nothing(chat: Chat) -> None:
    assert chat.state.step == "student_id"


def _searching(chat: Chat) -> None:
    chat.type("e")


def _searching_page_two(chat: Chat) -> None:
    chat.type("e")
    chat.press("More…")
    assert (chat.state.query, chat.state.page) == ("e", 1)


def _after_invalid(chat: Chat) -> None:
    chat.press("Zoë de Vries")
    chat.type("kort")
    assert chat.state.invalid == 1


def _to_summary(chat: Chat) -> None:
    _first_half(chat)
    chat.press("Done ✓")
    chat.type("30-11")
    chat.press(opt("intake_days", "tue"), "Done ✓", "No")
    assert chat.state.step == "summary"


def _picking(chat: Chat) -> None:
    _to_summary(chat)
    chat.press("Change an answer", "More…")
    assert (chat.state.picking, chat.state.page) == (True, 1)


def _editing(chat: Chat) -> None:
    _to_summary(chat)
    chat.press("Change an answer", label("urgency"))
    assert chat.state.editing


Setup = Callable[[Chat], None]


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_nothing, id="start"),
        pytest.param(_first_half, id="mid-multi"),
        pytest.param(_searching, id="searching"),
        pytest.param(_searching_page_two, id="searching-page-2"),
        pytest.param(_after_invalid, id="after-invalid"),
        pytest.param(_picking, id="picking"),
        pytest.param(_editing, id="editing"),
    ],
)
def test_json_round_trip_is_exact(setup: Setup) -> None:
    chat = Chat(VERWIJZING, mentee_context())
    setup(chat)

    assert _restart(chat.state) == chat.state


def test_round_trip_keeps_answer_types() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    _first_half(chat)
    chat.press("Done ✓")

    restored = _restart(chat.state)

    assert restored.answers["parents_informed"] is False
    assert restored.answers["support"] == ["time_out", "class_observation"]
    assert restored.selection == ()
    assert restored.status is Status.ACTIVE


def test_round_trip_of_an_ended_conversation() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Stop")

    restored = _restart(chat.state)

    assert restored == chat.state
    assert restored.status is Status.CANCELLED
    assert restored.step is None


def test_a_restart_mid_flow_continues_exactly_where_it_stopped() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    _first_half(chat)
    old_keyboard_done = chat.button("Done ✓").event

    # The bot restarts: only the JSON in the database survives.
    resumed = Chat(VERWIJZING, mentee_context())
    resumed.state = _restart(chat.state)
    resumed.send(Event(Action.RESUME))
    assert resumed.state.selection == ("time_out", "class_observation")

    # A button from the message shown before the restart still works: same version.
    resumed.send(old_keyboard_done)
    chat.send(old_keyboard_done)
    assert resumed.state == chat.state
    assert resumed.state.answers["support"] == ["time_out", "class_observation"]
    assert resumed.state.step == "intake_from"


def test_continuing_from_a_restored_state_gives_the_same_replies() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    _first_half(chat)
    restored = _restart(chat.state)
    event = Event(Action.DONE, "", chat.state.version, chat.state.run)

    original_state, original_replies = advance(VERWIJZING, chat.state, event, chat.context)
    restored_state, restored_replies = advance(VERWIJZING, restored, event, chat.context)

    assert restored_state == original_state
    assert restored_replies == original_replies


def test_from_json_ignores_unknown_keys_and_fills_defaults() -> None:
    state = DialogState.from_json(
        {"flow": "verwijzing", "flow_version": 1, "step": "urgency", "future_field": 1}
    )

    assert state == DialogState(flow="verwijzing", flow_version=1, step="urgency")


def _run(events: list[Event | str]) -> tuple[list[DialogState], list[list[str]]]:
    context = mentee_context()
    state, replies = start(VERWIJZING, context, run="run001")
    states = [state]
    shown = [[render_reply(r, EN).text for r in replies]]
    for item in events:
        event = Event(Action.TEXT, item) if isinstance(item, str) else item
        if event.version == -1:  # "the current version", filled in like a pressed button
            event = Event(event.action, event.value, state.version, state.run)
        state, replies = advance(VERWIJZING, state, event, context)
        states.append(state)
        shown.append([render_reply(r, EN).text for r in replies])
    return states, shown


def test_same_events_give_the_same_states_and_replies() -> None:
    def now(action: Action, value: str = "") -> Event:
        return Event(action, value, -1)

    events: list[Event | str] = [
        "zoe",
        now(Action.CHOOSE, "s01"),
        "short",
        "Ik wil minder boos worden.",
        now(Action.BACK),
        "Ik wil minder boos worden in de klas.",
        "Hoe help ik hem rustig te blijven?",
        "Twee gesprekken met de mentor.",
        now(Action.SKIP),
        now(Action.SKIP),
        now(Action.CHOOSE, "high"),
        now(Action.CHOOSE, "yes"),
        now(Action.CHOOSE, "time_out"),
        now(Action.DONE),
        "28-11",
        "30-11",
        now(Action.CHOOSE, "tue"),
        now(Action.DONE),
        now(Action.CHOOSE, "no"),  # no optional questions
        Event(Action.CHOOSE, "s02", 2),  # stale
        now(Action.CONFIRM),
    ]

    first = _run(events)
    second = _run(events)

    assert first == second
    assert first[0][-1].status is Status.COMPLETED
