"""Engine replies → what the web chat's template shows. Pure: no request, no database.

The web chat renders the very `Reply` values the Telegram channel renders, through the same
`dialogs.render.render_reply`, so wording, buttons and their payloads are identical. What a
Telegram chat keeps as its history (a pressed question edited to "Urgency: High ✓"), the page
rebuilds from the conversation's stored answers (`transcript`): nothing else is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dialogs.engine import answer_text
from dialogs.events import Action, Event
from dialogs.flow import Flow, FlowContext, Step, StepKind
from dialogs.i18n import Catalog
from dialogs.render import render_reply
from dialogs.replies import Button, Reply, ReplyKind
from dialogs.state import DialogState
from dialogs.text import N_, Text

#: How the engine labels a ticked option of a multiple choice.
TICKED = "✓ {option}"
#: How many earlier answers the transcript shows above the current question.
TRANSCRIPT_LIMIT = 8


class ButtonRole(StrEnum):
    """How a button looks: answers are large, navigation is quieter, sending stands out."""

    OPTION = "option"
    SELECTED = "selected"
    PRIMARY = "primary"
    PAGING = "paging"
    NAV = "nav"


class InputKind(StrEnum):
    """Which text box a question offers besides its buttons."""

    TEXT = "text"
    DATE = "date"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class ChatButton:
    """One button: a small POST form with the flow and the engine's encoded event."""

    label: str
    flow: str
    payload: str
    role: ButtonRole


@dataclass(frozen=True, slots=True)
class ChatBubble:
    """One message of the transcript or a notice: ``kind`` is the engine's `ReplyKind`."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class ChatQuestion:
    """The current question with its rows of buttons and, when it takes text, its box."""

    flow: str
    step: str | None
    text: str
    rows: tuple[tuple[ChatButton, ...], ...]
    input: InputKind | None
    max_length: int | None


def render_question(flow: Flow, reply: Reply, catalog: Catalog) -> ChatQuestion:
    """The engine's question ``reply`` in ``catalog``'s language, ready for the template."""
    rendered = render_reply(reply, catalog)
    rows: list[tuple[ChatButton, ...]] = []
    for source_row, row in zip(reply.rows, rendered.rows, strict=True):
        buttons = tuple(
            ChatButton(button.label, flow.id, button.payload, role)
            for source, button in zip(source_row, row, strict=True)
            if (role := _role(source)) is not None
        )
        if buttons:
            rows.append(buttons)
    step = _step(flow, reply.step)
    return ChatQuestion(
        flow=flow.id,
        step=reply.step,
        text=rendered.text,
        rows=tuple(rows),
        input=_input_kind(step) if reply.accepts_text else None,
        max_length=step.max_length if step is not None and step.kind is StepKind.TEXT else None,
    )


def render_messages(replies: Iterable[Reply], catalog: Catalog) -> tuple[ChatBubble, ...]:
    """The notices and endings among ``replies`` (what a POST answered besides the question).

    Questions are left out (the page asks the current one itself) and so are the echoes of
    answers (the transcript shows them).
    """
    return tuple(
        ChatBubble(reply.kind.value, render_reply(reply, catalog).text)
        for reply in replies
        if reply.kind in (ReplyKind.NOTICE, ReplyKind.DONE)
    )


def transcript(
    flow: Flow,
    state: DialogState,
    context: FlowContext,
    catalog: Catalog,
    *,
    limit: int = TRANSCRIPT_LIMIT,
) -> tuple[ChatBubble, ...]:
    """The answers given so far, as the Telegram chat shows answered questions.

    In flow order, without the current question; skipped optional questions read
    "…: skipped". Empty on the summary, which lists every answer itself.
    """
    if state.step is None:
        return ()
    current = flow.step(state.step)
    if current.kind is StepKind.SUMMARY and not state.picking:
        return ()
    active = [s for s in flow.active_steps(state.answers) if s.kind is not StepKind.SUMMARY]
    before = active[: active.index(current)] if current in active else active
    bubbles: list[ChatBubble] = []
    for step in active:
        if step is current:
            continue
        value = state.answers.get(step.key)
        if value is None:
            if step.optional and step in before:
                line = Text.of(N_("{question}: skipped"), question=Text.of(step.label))
            else:
                continue
        else:
            line = Text.of(
                N_("{question}: {answer} ✓"),
                question=Text.of(step.label),
                answer=answer_text(step, value, context, state.answers, short=True),
            )
        bubbles.append(ChatBubble(ReplyKind.ANSWERED.value, catalog.render(line)))
    return tuple(bubbles[-limit:]) if limit > 0 else ()


def _step(flow: Flow, key: str | None) -> Step | None:
    if key is None:
        return None
    try:
        return flow.step(key)
    except KeyError:
        return None


def _input_kind(step: Step | None) -> InputKind:
    if step is not None and step.kind is StepKind.DATE:
        return InputKind.DATE
    if step is not None and step.kind in (StepKind.SINGLE, StepKind.MULTI):
        return InputKind.SEARCH
    return InputKind.TEXT


def _role(button: Button) -> ButtonRole | None:
    event = Event.decode(button.event.encode())
    if event is None:  # the engine only makes decodable payloads; be safe anyway
        return None
    action = event.action
    if action in (Action.BACK, Action.SKIP, Action.CANCEL):
        return ButtonRole.NAV
    if action is Action.PAGE:
        return ButtonRole.PAGING
    if action in (Action.CONFIRM, Action.DONE):
        return ButtonRole.PRIMARY
    if action is Action.CHOOSE and button.label.msgid == TICKED:
        return ButtonRole.SELECTED
    return ButtonRole.OPTION
