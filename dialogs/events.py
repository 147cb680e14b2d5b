"""What a person can do in a conversation, as data, plus a compact codec for buttons.

Button events carry the run and the state version they were shown with: a press on a button
from an older version of the conversation, from an earlier run of the flow (a summary left
behind) or from another flow (a stale keyboard, a forged payload) is recognised as such by the
engine instead of being applied to whatever question is current now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """The kinds of event. The single-letter values keep callback payloads short."""

    CHOOSE = "c"  # pick (or, in a multiple choice, toggle) an option
    DONE = "d"  # finish a multiple choice
    TEXT = "t"  # typed text
    BACK = "b"
    SKIP = "s"
    CANCEL = "x"
    EDIT = "e"  # from the summary: change the answer of step `value`
    CONFIRM = "k"
    PAGE = "p"  # show page `value` of a long option list
    RESUME = "r"  # show the current question again


#: The longest run id a payload may carry (`dialogs.state.RUN_LENGTH` is what the engine makes).
MAX_RUN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Event:
    """One input. ``version`` is None for typed text, set for button presses; ``run`` is the
    run of the flow the button was shown in (None: a payload from before runs existed, which
    never matches a conversation)."""

    action: Action
    value: str = ""
    version: int | None = None
    run: str | None = None

    def encode(self) -> str:
        """Serialise a button event as ``<action>:<version>.<run>:<value>`` (or
        ``<action>:<version>:<value>`` without a run); Telegram allows 64 bytes."""
        version = "" if self.version is None else str(self.version)
        if self.run is not None:
            version = f"{version}.{self.run}"
        return f"{self.action.value}:{version}:{self.value}"

    @classmethod
    def decode(cls, payload: str) -> Event | None:
        """Parse `encode`'s output; None for anything malformed (never raises on user input)."""
        parts = payload.split(":", 2)
        if len(parts) != 3:
            return None
        action_code, version_text, value = parts
        run: str | None = None
        if "." in version_text:
            version_text, run = version_text.split(".", 1)
            if len(run) > MAX_RUN_LENGTH or not (run == "" or (run.isascii() and run.isalnum())):
                return None
        try:
            action = Action(action_code)
        except ValueError:
            return None
        if action is Action.TEXT:
            return None  # typed text never arrives through a button
        if not version_text:
            # Every button the engine makes carries its version; one without is forged.
            return None
        # isdigit() alone also accepts "²", which int() rejects; int() also refuses very long
        # digit strings. Both must mean "malformed", not an exception.
        if not (version_text.isascii() and version_text.isdigit()):
            return None
        try:
            return cls(action, value, int(version_text), run)
        except ValueError:
            return None


def typed(text: str) -> Event:
    """The event for text the person typed."""
    return Event(Action.TEXT, text)
