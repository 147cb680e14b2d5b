"""What the engine answers: channel-free messages with optional buttons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.events import Event
from dialogs.text import Text


class ReplyKind(StrEnum):
    """How a channel should present a reply."""

    QUESTION = "question"  # a question, possibly with buttons; replaces the previous question
    ANSWERED = "answered"  # the previous question, now showing its answer (edit it in place)
    NOTICE = "notice"  # an explanation (invalid input, stale button); sent as a new message
    DONE = "done"  # the flow ended (sent or stopped)


@dataclass(frozen=True, slots=True)
class Button:
    """One button: its label and the event a press produces."""

    label: Text
    event: Event


@dataclass(frozen=True, slots=True)
class Reply:
    """One message. ``lines`` are joined with newlines; ``rows`` are rows of buttons."""

    kind: ReplyKind
    lines: tuple[Text, ...]
    rows: tuple[tuple[Button, ...], ...] = ()
    step: str | None = None
    accepts_text: bool = False

    @property
    def buttons(self) -> tuple[Button, ...]:
        """All buttons, row by row."""
        return tuple(button for row in self.rows for button in row)
