"""A small driver for the engine: press buttons by their English label, type text, inspect.

Everything is rendered with the English catalog, which renders from the msgids even when no
compiled catalog exists, so the assertions read like the chat a person would see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from types import MappingProxyType

from dialogs.engine import advance, reask, start
from dialogs.events import Action, Event, typed
from dialogs.flow import Answers, Flow, FlowContext, Option, Step, StepKind
from dialogs.flows.verwijzing import MENTEES, VERWIJZING
from dialogs.i18n import Catalogs
from dialogs.render import render_reply
from dialogs.replies import Button, Reply, ReplyKind
from dialogs.state import DialogState
from dialogs.text import Text

#: A Monday; every test anchors its dates here.
TODAY = date(2026, 11, 23)
CATALOGS = Catalogs()
EN = CATALOGS.get("en")

MENTEE_NAMES = (
    "Zoë de Vries",
    "Ahmed Çelik",
    "Daan Jansen",
    "Emma de Boer",
    "Fatima El Amrani",
    "Bram Visser",
    "Lotte Smit",
    "Noah Bakker",
    "Sem Mulder",
    "Julia de Graaf",
    "Liam Meijer",
    "Sara Bos",
    "Milan Vos",
    "Tess Peters",
    "Lucas Hendriks",
    "Eva van Dijk",
    "Finn Dekker",
    "Yara Brouwer",
    "Olivia de Wit",
)
#: Codes are s01, s02, ... in the order above.
MENTEE_OPTIONS = tuple(
    Option(f"s{index:02d}", Text.raw(name)) for index, name in enumerate(MENTEE_NAMES, start=1)
)


def mentee_context(options: tuple[Option, ...] = MENTEE_OPTIONS) -> FlowContext:
    """The context of a mentor with these mentees."""
    return FlowContext(today=TODAY, choices=MappingProxyType({MENTEES: options}))


def options(*codes: str) -> tuple[Option, ...]:
    """Options whose label is the capitalised code (literal, never looked up in a catalog)."""
    return tuple(Option(code, Text.raw(code.capitalize())) for code in codes)


def toy_flow(*steps: Step, summary: bool = True) -> Flow:
    """A flow of the given steps, closed by a summary unless told otherwise."""
    tail = (Step("summary", StepKind.SUMMARY, prompt="Check:", label="Summary"),)
    return Flow(
        id="toy",
        version=1,
        title="Toy",
        steps=steps + (tail if summary else ()),
        done="Sent.",
    )


def day(value: date) -> str:
    """A date as the English catalog writes it (the format itself is tested in test_render)."""
    return EN.render(Text.raw(value))


def opt(key: str, code: str, flow: Flow = VERWIJZING) -> str:
    """The English label of option ``code`` of step ``key`` (wording lives in the flow)."""
    found = [o.label for o in flow.step(key).options if o.code == code]
    assert found, f"{key} has no option {code!r}"
    return EN.render(found[0])


def label(key: str, flow: Flow = VERWIJZING) -> str:
    """The English short name of step ``key`` (as in the summary and the answer picker)."""
    return EN.render(Text.of(flow.step(key).label))


def prompt(key: str, flow: Flow = VERWIJZING) -> str:
    """The English question of step ``key``."""
    return EN.render(Text.of(flow.step(key).prompt))


def render(reply: Reply) -> str:
    """The reply's text in English."""
    return render_reply(reply, EN).text


def labels(reply: Reply) -> list[str]:
    """The reply's button labels in English, row by row."""
    return [EN.render(button.label) for button in reply.buttons]


def rows(reply: Reply) -> list[list[str]]:
    """The reply's keyboard as rows of English labels."""
    return [[EN.render(button.label) for button in row] for row in reply.rows]


def option_buttons(reply: Reply) -> list[Button]:
    """The buttons that choose an option (not navigation, paging or Done)."""
    return [b for b in reply.buttons if b.event.action in (Action.CHOOSE, Action.EDIT)]


def kinds(replies: Iterable[Reply]) -> list[ReplyKind]:
    """The kinds of the replies, in order."""
    return [reply.kind for reply in replies]


#: The run id of every test chat (the runtime makes a random one per run).
RUN = "run001"


class Chat:
    """One conversation driven like a person would: tap a labelled button or type."""

    def __init__(self, flow: Flow, context: FlowContext | None = None) -> None:
        self.flow = flow
        self.context = context if context is not None else FlowContext(today=TODAY)
        self.state, self.replies = start(flow, self.context, run=RUN)
        self.states: list[DialogState] = [self.state]

    @property
    def question(self) -> Reply:
        """The last question shown (what the keyboard on screen is)."""
        questions = [r for r in self.replies if r.kind is ReplyKind.QUESTION]
        assert questions, f"no question in {kinds(self.replies)}"
        return questions[-1]

    @property
    def texts(self) -> list[str]:
        """The last replies rendered in English."""
        return [render(reply) for reply in self.replies]

    def button(self, label: str) -> Button:
        """The button with exactly this English label on the current question."""
        found = [b for b in self.question.buttons if EN.render(b.label) == label]
        assert found, f"no button {label!r} in {labels(self.question)}"
        assert len(found) == 1, f"several buttons {label!r}"
        return found[0]

    def send(self, event: Event) -> list[Reply]:
        """Apply one event; remember the new state and replies."""
        self.state, self.replies = advance(self.flow, self.state, event, self.context)
        self.states.append(self.state)
        return self.replies

    def press(self, *labels: str) -> list[Reply]:
        """Press buttons by label, one after another."""
        for label in labels:
            self.send(self.button(label).event)
        return self.replies

    def type(self, text: str) -> list[Reply]:
        """Type a message."""
        return self.send(typed(text))

    def act(self, action: Action, value: str = "") -> list[Reply]:
        """Send a button event for the current run and version (as if the button were shown)."""
        return self.send(Event(action, value, self.state.version, self.state.run))


class LiveChat(Chat):
    """A chat whose context is rebuilt from the answers, as `services.conversations.runtime`
    does."""

    def __init__(self, flow: Flow, build: Callable[[Answers], FlowContext], **preset: str) -> None:
        self.build = build
        self.flow = flow
        self.context = build(preset)
        self.state, self.replies = start(flow, self.context, preset, run=RUN)
        self.states = [self.state]

    def send(self, event: Event) -> list[Reply]:
        before = self.state
        self.context = self.build(before.answers)
        self.state, replies = advance(self.flow, before, event, self.context)
        if self.state.answers != before.answers:
            self.context = self.build(self.state.answers)
            replies = reask(self.flow, self.state, replies, self.context)
        self.replies = replies
        self.states.append(self.state)
        return replies


def ticks(chat: Chat) -> tuple[str, ...]:
    """The ticks of the multiple choice on screen (a call, so mypy does not narrow it)."""
    return chat.state.selection


def notices(replies: Sequence[Reply]) -> list[str]:
    """The notices among the replies, rendered."""
    return [render(r) for r in replies if r.kind is ReplyKind.NOTICE]
