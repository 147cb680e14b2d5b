"""What the worker asks of a channel: send one message, or say why not in the worker's terms."""

# ruff: noqa: N818 - the names are the agreed API (RetryAfter, TemporaryFailure, Unreachable)

from __future__ import annotations

from typing import Protocol

from bot.outbox.messages import OutgoingMessage


class SendError(Exception):
    """Base of what a `Sender` raises; ``code`` is a short, data-free reason for the logs."""

    code: str = "error"

    def __init__(self, code: str | None = None) -> None:
        super().__init__(code or self.code)
        if code is not None:
            self.code = code


class RetryAfter(SendError):
    """Flood control (HTTP 429): wait ``seconds`` before trying this chat again."""

    code = "retry_after"

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds


class TemporaryFailure(SendError):
    """Surely not delivered, try again later with backoff: the server said so (5xx, an SMTP
    4xx) or the request never left (connection refused, DNS, a connect timeout)."""

    code = "temporary"


class Uncertain(SendError):
    """The request went out and no answer came (a read timeout, the connection dropped): it
    may have been delivered. Resent only for the kinds whose loss matters more than a
    duplicate (`services.outbox.kinds.resend_when_uncertain`)."""

    code = "uncertain"


class Unreachable(SendError):
    """The recipient blocked the bot, deleted their account, or the chat does not exist."""

    code = "unreachable"


class PermanentFailure(SendError):
    """Telegram refuses this message as it is (a bad request): retrying would not help."""

    code = "refused"


class Sender(Protocol):
    """Delivers one message; raises a `SendError` subclass when it could not."""

    async def send(self, message: OutgoingMessage) -> None:
        """Send ``message``; return once the channel accepted it."""
