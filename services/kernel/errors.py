"""Errors raised by the storage services. User-facing details are `Text` values."""

# ruff: noqa: N818 - the names are part of the agreed API (NotAllowed, InviteInvalid, ...)

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from dialogs.flow import AnswerValue
from dialogs.text import Text


class StorageError(Exception):
    """Base class of the errors below."""


class NotAllowed(StorageError):
    """The acting person may not do this (checked from their rows in the database).

    ``reason`` is shown to the person as is; it names no one and no care details.
    """

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


class NotFound(StorageError):
    """A row the caller referred to does not exist (or is not visible to them)."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


class InviteInvalidReason(StrEnum):
    """Why an invite could not be redeemed."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    #: The Telegram account is already linked to another person.
    ACCOUNT_IN_USE = "account_in_use"


class InviteInvalid(StorageError):
    """An invite token cannot be redeemed; ``reason`` says why."""

    def __init__(self, reason: InviteInvalidReason) -> None:
        super().__init__(f"invite invalid: {reason}")
        self.reason = reason


class ImportFailed(StorageError):
    """An import was refused; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, errors: Iterable[Text]) -> None:
        self.errors: tuple[Text, ...] = tuple(errors)
        super().__init__(f"import failed with {len(self.errors)} error(s)")


class DraftInvalid(StorageError):
    """A referral draft failed validation; ``problems`` maps field name to what is wrong."""

    def __init__(self, problems: Mapping[str, Text]) -> None:
        self.problems: Mapping[str, Text] = MappingProxyType(dict(problems))
        super().__init__(f"draft invalid: {', '.join(sorted(self.problems))}")


class InvalidTransition(StorageError):
    """The queue item is not in a state that allows this action (accepting before analysis,
    declining twice, ...). ``reason`` is shown to the person as is and says what to do instead.
    """

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


class InputInvalid(StorageError):
    """A free-text input (a decline reason, a note) breaks its limits; nothing was written.

    ``reason`` is shown to the person as is.
    """

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


class Reroute(StorageError):
    """A completion was refused, with a way on: ask ``step`` again, after changing ``answers``
    (None removes one). The time the person chose was just taken: back to the time question,
    with the nearest free times offered. ``lines`` say why, and are shown as they are.
    """

    def __init__(self, *lines: Text, step: str, answers: Mapping[str, AnswerValue | None]) -> None:
        super().__init__(lines[0].msgid if lines else "reroute")
        self.lines: tuple[Text, ...] = lines
        self.step = step
        self.answers: Mapping[str, AnswerValue | None] = MappingProxyType(dict(answers))
