"""web.chat_render: the engine's replies as the web chat page shows them (pure)."""

from __future__ import annotations

from datetime import date

from dialogs.engine import NO, advance, start
from dialogs.engine import question as ask
from dialogs.events import Action, Event, typed
from dialogs.flow import Flow, FlowContext
from dialogs.flows.exit_survey import EXIT_PARENT, EXIT_STUDENT
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.i18n import FSI, PDI, Catalogs
from dialogs.render import render_reply
from dialogs.replies import Reply, ReplyKind
from dialogs.state import DialogState
from web.chat_render import (
    ButtonRole,
    InputKind,
    render_messages,
    render_question,
    transcript,
)

TODAY = date(2026, 11, 23)
CATALOGS = Catalogs()
EN = CATALOGS.get("en")
CONTEXT = FlowContext(today=TODAY)


def _press(state: DialogState, code: str) -> tuple[DialogState, list[Reply]]:
    return advance(
        EXIT_PARENT, state, Event(Action.CHOOSE, code, state.version, state.run), CONTEXT
    )


def _begin(flow: Flow) -> tuple[DialogState, list[Reply]]:
    """Start a student's or parent's questionnaire and answer "not anonymously"."""
    state, _ = start(flow, CONTEXT, run="run001")
    return advance(flow, state, Event(Action.CHOOSE, NO, state.version, state.run), CONTEXT)


def test_a_question_keeps_the_engines_wording_and_payloads() -> None:
    state, replies = _begin(EXIT_PARENT)
    replies = [replies[-1]]
    question = render_question(EXIT_PARENT, replies[0], EN)
    telegram = render_reply(replies[0], EN)
    assert question.text == telegram.text
    assert question.step == "P1"
    assert question.input is None
    flat = [button for row in question.rows for button in row]
    # The same labels and payloads the Telegram keyboard carries, in the same order.
    assert [(b.label, b.payload) for b in flat] == [
        (b.label, b.payload) for row in telegram.rows for b in row
    ]
    assert all(b.flow == EXIT_PARENT.id for b in flat)
    roles = {b.label: b.role for b in flat}
    assert roles["4 · Agree"] is ButtonRole.OPTION
    assert roles["Stop"] is ButtonRole.NAV
    assert flat[0].payload == Event(Action.CHOOSE, "1", state.version, state.run).encode()


def test_an_open_question_offers_a_text_box_with_its_limit() -> None:
    state, _ = _begin(EXIT_PARENT)
    for _ in range(4):
        state, replies = _press(state, "5")
    question = render_question(EXIT_PARENT, replies[-1], EN)
    assert question.step == "P5"
    assert question.input is InputKind.TEXT
    assert question.max_length == EXIT_PARENT.step("P5").max_length
    assert "Skip" in [b.label for row in question.rows for b in row]


def test_a_date_question_offers_a_date_box() -> None:
    state, _ = start(VERWIJZING, CONTEXT, run="run001")
    # Straight to the date step: only the rendering is under test here.
    reply = ask(VERWIJZING, state.evolve(step="intake_from"), CONTEXT)
    assert render_question(VERWIJZING, reply, EN).input is InputKind.DATE


def test_ticked_options_and_done_stand_out() -> None:
    state, _ = start(VERWIJZING, CONTEXT, run="run001")
    state = state.evolve(step="support")
    state, replies = advance(
        VERWIJZING, state, Event(Action.CHOOSE, "conversations", state.version, state.run), CONTEXT
    )
    question = render_question(VERWIJZING, replies[-1], EN)
    roles = [(b.label, b.role) for row in question.rows for b in row]
    assert [label for label, role in roles if role is ButtonRole.SELECTED] == [
        "✓ Support talks (begeleidingsgesprekken)"
    ]
    assert [label for label, role in roles if role is ButtonRole.PRIMARY] == ["Done ✓"]


def test_the_transcript_shows_answers_so_far_in_the_readers_language() -> None:
    state, _ = _begin(EXIT_PARENT)
    state, _ = _press(state, "4")
    state, _ = _press(state, "na")
    lines = [bubble.text for bubble in transcript(EXIT_PARENT, state, CONTEXT, EN)]
    assert lines == [
        "Answer anonymously: No ✓",
        "Satisfied with the support: 4 · Agree ✓",
        "Goals reached: Don't know ✓",
    ]
    assert all(
        b.kind == ReplyKind.ANSWERED.value for b in transcript(EXIT_PARENT, state, CONTEXT, EN)
    )
    arabic = transcript(EXIT_PARENT, state, CONTEXT, CATALOGS.get("ar"))
    assert len(arabic) == 3
    # Rendered by the Arabic catalog: placeholders isolated, wording not the English one.
    assert all(FSI in b.text and PDI in b.text for b in arabic)
    assert arabic[1].text != lines[1]


def test_the_transcript_marks_skips_and_is_empty_on_the_summary() -> None:
    state, _ = _begin(EXIT_STUDENT)
    for _ in range(4):
        state, _ = advance(
            EXIT_STUDENT, state, Event(Action.CHOOSE, "3", state.version, state.run), CONTEXT
        )
    state, _ = advance(
        EXIT_STUDENT, state, Event(Action.SKIP, "", state.version, state.run), CONTEXT
    )
    assert state.step == "summary"
    assert transcript(EXIT_STUDENT, state, CONTEXT, EN) == ()
    state, _ = advance(
        EXIT_STUDENT, state, Event(Action.BACK, "", state.version, state.run), CONTEXT
    )
    assert state.step == "S5"
    assert [b.text for b in transcript(EXIT_STUDENT, state, CONTEXT, EN)][-1] == (
        "Welcome and taken seriously: 3 · Neutral ✓"
    )
    state, _ = advance(EXIT_STUDENT, state, typed("Meer tijd"), CONTEXT)
    assert state.step == "summary"


def test_a_limit_keeps_the_latest_answers() -> None:
    state, _ = _begin(EXIT_PARENT)
    for code in ("1", "2", "3"):
        state, _ = _press(state, code)
    shown = transcript(EXIT_PARENT, state, CONTEXT, EN, limit=2)
    assert [b.text.split(": ")[1] for b in shown] == ["2 · Disagree ✓", "3 · Neutral ✓"]


def test_messages_keep_notices_and_endings_only() -> None:
    state, _ = start(EXIT_PARENT, CONTEXT, run="run001")
    stale = Event(Action.CHOOSE, "4", state.version + 5, state.run)
    _, replies = advance(EXIT_PARENT, state, stale, CONTEXT)
    bubbles = render_messages(replies, EN)
    assert [b.kind for b in bubbles] == [ReplyKind.NOTICE.value]
    assert bubbles[0].text == "That question is already closed. Here is the current one."
    _, replies = advance(
        EXIT_PARENT, state, Event(Action.CANCEL, "", state.version, state.run), CONTEXT
    )
    assert [(b.kind, b.text) for b in render_messages(replies, EN)] == [
        (ReplyKind.DONE.value, "Stopped. Nothing has been sent.")
    ]
