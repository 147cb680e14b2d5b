"""The refusals of the appointment services (besides the kernel's `NotAllowed`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.text import Text
from services.kernel.errors import StorageError

if TYPE_CHECKING:
    from services.appointments.slots import Slot


class SlotTaken(StorageError):  # noqa: N818 - the agreed API name
    """The time has no free place (any more); ``alternatives`` are the nearest free slots."""

    def __init__(self, reason: Text, alternatives: tuple[Slot, ...]) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
        self.alternatives = alternatives


class BookingRefused(StorageError):  # noqa: N818 - the agreed API name
    """A rule says no (no active trajectory, closed day, lead time, ...): ``reason`` says it."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
