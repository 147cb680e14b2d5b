"""The outbox's `Sender` for Telegram (aiogram 3): the only outbox module that imports aiogram.

Telegram's answers, in the worker's terms:

=====================================================  ====================================
429 Too Many Requests (``TelegramRetryAfter``)         `RetryAfter` (its ``retry_after``)
5xx; the request never left (connection refused, DNS,  `TemporaryFailure`
a connect timeout)
a timeout or a dropped connection after the request    `Uncertain` (Telegram may have
went out                                               delivered it)
403 "bot was blocked by the user", "user is            `Unreachable` (``blocked``,
deactivated", kicked; 400/404 "chat not found"         ``deactivated``, ``chat_not_found``…)
other 400s (the message itself is refused)             `PermanentFailure`
401 (the token was revoked)                            `TemporaryFailure` (logged as error)
=====================================================  ====================================
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import ClientConnectorError, ConnectionTimeoutError

from bot.outbox.messages import OutgoingMessage
from bot.outbox.sender import (
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
    Uncertain,
    Unreachable,
)

log = logging.getLogger(__name__)

#: Telegram's descriptions (lower case) that mean the person cannot be reached, and the code
#: stored for each. Checked in this order; the first match wins.
_UNREACHABLE = (
    ("bot was blocked by the user", "blocked"),
    ("user is deactivated", "deactivated"),
    ("chat not found", "chat_not_found"),
    ("bot was kicked", "kicked"),
    ("bot can't initiate conversation", "not_started"),
)


class TelegramSender:
    """Sends outbox messages through an aiogram `Bot` (built by the composition root)."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutgoingMessage) -> None:
        """Send ``message`` as plain text with its inline buttons, one per row.

        With an attachment (an appointment's .ics) it goes as a document, the text as its
        caption.
        """
        if message.chat_id is None:
            # Not a Telegram message (the worker routes e-mail elsewhere): nothing to try.
            raise PermanentFailure("no_chat")
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=button.label, callback_data=button.payload)]
                    for button in message.buttons
                ]
            )
            if message.buttons
            else None
        )
        try:
            if message.attachment is not None:
                await self._bot.send_document(
                    chat_id=message.chat_id,
                    document=BufferedInputFile(
                        message.attachment.data, filename=message.attachment.filename
                    ),
                    caption=message.text,
                    parse_mode=None,
                    reply_markup=markup,
                )
            else:
                await self._bot.send_message(
                    chat_id=message.chat_id,
                    text=message.text,
                    # Plain text whatever the bot's default: translations are not markup.
                    parse_mode=None,
                    reply_markup=markup,
                )
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after) from exc
        except TelegramServerError as exc:
            raise TemporaryFailure("server_error") from exc
        except TelegramNetworkError as exc:
            if never_left(exc):
                raise TemporaryFailure("connect_failed") from exc
            raise Uncertain("network_error") from exc
        except TimeoutError as exc:
            raise Uncertain("timeout") from exc
        except TelegramUnauthorizedError as exc:
            log.error("outbox_id=%s: Telegram refuses the bot token", message.outbox_id)  # noqa: TRY400
            raise TemporaryFailure("unauthorized") from exc
        except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound) as exc:
            reason = _unreachable_reason(exc)
            if reason is not None:
                raise Unreachable(reason) from exc
            if isinstance(exc, TelegramForbiddenError):
                raise Unreachable("forbidden") from exc
            raise PermanentFailure("bad_request") from exc


def _unreachable_reason(exc: TelegramAPIError) -> str | None:
    description = exc.message.lower()
    for needle, code in _UNREACHABLE:
        if needle in description:
            return code
    return None


def never_left(exc: BaseException) -> bool:
    """Whether a network error happened before the request was sent: no connection was made.

    aiohttp raises `ClientConnectorError` (refused, DNS, TLS handshake) and
    `ConnectionTimeoutError` (the connect timeout) before writing anything; aiogram wraps them
    in `TelegramNetworkError` (the cause). Anything else may have reached Telegram.
    """
    cause = exc.__cause__
    return isinstance(cause, ClientConnectorError | ConnectionTimeoutError)
