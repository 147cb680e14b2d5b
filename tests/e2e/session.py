"""A test-only aiogram session that smooths over where the emulator differs from the Bot API.

The product builds ``AiohttpSession(api=TelegramAPIServer.from_base(TELEGRAM_API_BASE))``
(`bot.telegram.dispatcher.create_bot`); the end-to-end tests build the same session with this
subclass instead. Every change below is to an emulator answer, before aiogram validates it,
so the product code sees what the real Bot API would have sent:

=========================================  =================================================
telegram-test-api 4.2.1 answers            the real Bot API answers
=========================================  =================================================
errors: HTTP 500 ``{"message": …}``        ``{"ok": false, "error_code", "description"}``
getMe without ``is_bot``                   ``is_bot: true``
callback queries without ``chat_instance``  always present
``date`` in milliseconds                   seconds
``link_preview_options`` as a JSON string  an object
``result: null`` (answerCallbackQuery,     ``true`` (or the edited Message, which aiogram
edit*, deleteMessage, set/deleteWebhook)   also accepts as ``true``)
getUpdates returns at once, even empty     long polling: waits up to ``timeout``
=========================================  =================================================

For the last one an empty poll is followed by a short pause, else polling burns a core.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import GetMe, GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

#: Seconds between two empty polls: ≈12 ms round trips without spinning.
EMPTY_POLL_PAUSE = 0.005
_MILLISECONDS = 10**11  # a Unix time in seconds stays below this until the year 5138


class EmulatorSession(AiohttpSession):
    """`AiohttpSession` for the emulator at ``base``, with its answers made Bot API shaped."""

    def __init__(self, base: str, *, empty_poll_pause: float = EMPTY_POLL_PAUSE) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base))
        self._empty_poll_pause = empty_poll_pause

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        result = await super().make_request(bot, method, timeout)
        if isinstance(method, GetUpdates) and not result:
            await asyncio.sleep(self._empty_poll_pause)  # no long polling in the emulator
        return result

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        try:
            data = json.loads(content)
        except ValueError:
            return super().check_response(bot, method, status_code, content)
        smoothed = json.dumps(smooth(method, status_code, data))
        return super().check_response(bot, method, status_code, smoothed)


def smooth(method: TelegramMethod[Any], status_code: int, data: Any) -> Any:
    """The emulator's answer ``data`` to ``method`` as the Bot API would have shaped it."""
    if not isinstance(data, dict) or "ok" not in data:
        message = data.get("message") if isinstance(data, dict) else None
        return {
            "ok": False,
            "error_code": status_code,
            "description": str(message or f"emulator answered HTTP {status_code}"),
        }
    if not data["ok"]:
        return data
    result = data.get("result")
    if result is None:
        return {**data, "result": True}
    if isinstance(method, GetMe) and isinstance(result, dict):
        return {**data, "result": {"is_bot": True, **result}}
    if isinstance(method, GetUpdates) and isinstance(result, list):
        return {**data, "result": [_update(update) for update in result]}
    if isinstance(result, dict) and "message_id" in result:
        return {**data, "result": _message(result)}
    return data


def _update(update: dict[str, Any]) -> dict[str, Any]:
    update = dict(update)
    if isinstance(update.get("message"), dict):
        update["message"] = _message(update["message"])
    query = update.get("callback_query")
    if isinstance(query, dict):
        query = {"chat_instance": "emulator", **query}
        if isinstance(query.get("message"), dict):
            query["message"] = _message(query["message"])
        update["callback_query"] = query
    return update


def _message(message: dict[str, Any]) -> dict[str, Any]:
    message = dict(message)
    date = message.get("date")
    if isinstance(date, int | float) and date > _MILLISECONDS:
        message["date"] = int(date // 1000)
    preview = message.get("link_preview_options")
    if isinstance(preview, str):
        message["link_preview_options"] = json.loads(preview)
    return message
