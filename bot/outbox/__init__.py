"""The outbox worker: sends what storage queued, paced to Telegram's limits, at least once.

Channel-free except `bot.outbox.telegram_sender`, the only module that imports aiogram (and is
therefore not imported here).
"""

from bot.outbox.messages import OutgoingButton, OutgoingMessage, UnknownMessageError, build_message
from bot.outbox.pacing import ChatPacer, overall_limiter
from bot.outbox.sender import (
    PermanentFailure,
    RetryAfter,
    Sender,
    SendError,
    TemporaryFailure,
    Uncertain,
    Unreachable,
)
from bot.outbox.worker import OutboxWorker, RetryPolicy

__all__ = [
    "ChatPacer",
    "OutboxWorker",
    "OutgoingButton",
    "OutgoingMessage",
    "PermanentFailure",
    "RetryAfter",
    "RetryPolicy",
    "SendError",
    "Sender",
    "TemporaryFailure",
    "Uncertain",
    "UnknownMessageError",
    "Unreachable",
    "build_message",
    "overall_limiter",
]
