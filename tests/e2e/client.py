"""The simulated people's side of the emulator: typing, pressing buttons, reading their chat.

Each person talks to the emulator's client API over HTTP (``/sendMessage``, ``/sendCommand``,
``/sendCallback``, ``/getUpdatesHistory``), exactly as the bot's updates would originate.
After every action the person waits, bounded, until the bot has finished handling that one
update (`UpdateCounter`), so a test reads the chat only once the bot's answer is in it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

#: How long one step may take before a test fails with a timeout (generous for slow CI).
STEP_TIMEOUT = 10.0
#: The emulator's own bot user (its getMe); callback queries quote the bot's message with it.
EMULATOR_BOT_USER = {
    "id": 666,
    "is_bot": True,
    "first_name": "Test First name",
    "username": "TestNameBot",
}

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateCounter(BaseMiddleware):
    """Test-only outer middleware: counts updates the dispatcher has finished handling."""

    def __init__(self) -> None:
        self.handled = 0
        self._changed = asyncio.Condition()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        finally:
            async with self._changed:
                self.handled += 1
                self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = STEP_TIMEOUT) -> None:  # noqa: ASYNC109
        """Until ``count`` updates have been handled; `TimeoutError` with context otherwise."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self.handled >= count)
        except TimeoutError:
            raise TimeoutError(
                f"the bot handled {self.handled} of {count} updates within {timeout} s"
            ) from None


@dataclass
class BotMessage:
    """One message from the bot as the person's chat shows it now (the emulator edits in place).

    Unlike Telegram, the emulator keeps a keyboard that an edit removes (it ignores
    ``reply_markup`` absent or empty), so answered questions still show their old buttons.
    """

    message_id: int
    chat_id: int
    text: str
    buttons: list[tuple[str, str]]

    def data_for(self, label_part: str) -> str:
        """The callback data of the first button whose label contains ``label_part``."""
        for label, data in self.buttons:
            if label_part in label:
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.buttons} of {self.text!r}")


@dataclass
class Emulator:
    """The emulator's client API for one bot token, shared by the simulated people."""

    http: aiohttp.ClientSession
    url: str
    token: str
    counter: UpdateCounter
    #: Seconds from a person's request to the bot having handled it, one entry per action.
    round_trips: list[float] = field(default_factory=list)
    _sent: int = 0

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST JSON to the emulator; its ``result``, or `AssertionError` with its answer."""
        async with self.http.post(f"{self.url}{path}", json=payload) as response:
            body = await response.json(content_type=None)
        if response.status != 200 or not isinstance(body, dict) or not body.get("ok"):
            raise AssertionError(f"emulator {path} answered {response.status}: {body}")
        return body.get("result")

    async def act(self, path: str, payload: dict[str, Any]) -> None:
        """Produce one update and wait until the bot has handled it."""
        self._sent += 1
        started = time.perf_counter()
        await self.post(path, {"botToken": self.token, **payload})
        await self.counter.wait_for(self._sent)
        self.round_trips.append(time.perf_counter() - started)

    async def chat(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in ``chat_id``, oldest first, as they look now."""
        history = await self.post("/getUpdatesHistory", {"token": self.token})
        messages = []
        for item in history:
            message = item.get("message") or {}
            if "chat_id" not in message or str(message["chat_id"]) != str(chat_id):
                continue  # the people's own messages and presses have no chat_id
            markup = message.get("reply_markup") or {}
            buttons = [
                (str(button["text"]), str(button.get("callback_data", "")))
                for row in markup.get("inline_keyboard", [])
                for button in row
            ]
            messages.append(
                BotMessage(int(item["messageId"]), chat_id, str(message.get("text", "")), buttons)
            )
        return messages

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str,
        timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        """The first bot message in the chat containing ``contains``, once it has arrived.

        For what does not answer an update (the outbox worker's notifications).
        """
        deadline = time.monotonic() + timeout
        while True:
            for message in await self.chat(chat_id):
                if contains in message.text:
                    return message
            if time.monotonic() > deadline:
                texts = [m.text for m in await self.chat(chat_id)]
                raise TimeoutError(f"no {contains!r} in chat {chat_id} after {timeout} s: {texts}")
            await asyncio.sleep(0.02)

    def person(self, user_id: int, language_code: str = "en") -> SimulatedPerson:
        """A Telegram user in a private chat with the bot."""
        return SimulatedPerson(self, user_id, language_code)


class SimulatedPerson:
    """A Telegram user who types and presses through the emulator."""

    def __init__(self, emulator: Emulator, user_id: int, language_code: str) -> None:
        self.emulator = emulator
        self.id = user_id
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": f"Person {user_id}",
            "language_code": language_code,
        }
        self.private_chat = {"id": user_id, "type": "private", "first_name": f"Person {user_id}"}

    async def send(self, text: str) -> None:
        """Type ``text`` (a leading ``/command`` is sent as a command, with its entity)."""
        message: dict[str, Any] = {
            "from": self.user,
            "chat": self.private_chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            await self.emulator.act("/sendCommand", message)
        else:
            await self.emulator.act("/sendMessage", message)

    async def press(self, message: BotMessage, label_part: str) -> None:
        """Press the button of ``message`` whose label contains ``label_part``."""
        await self.press_data(message, message.data_for(label_part))

    async def press_data(self, message: BotMessage, data: str) -> None:
        """Press a button of ``message`` carrying ``data`` (which may be forged or stale)."""
        quoted = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self.private_chat,
            "from": EMULATOR_BOT_USER,
            "text": message.text,
        }
        await self.emulator.act(
            "/sendCallback", {"from": self.user, "message": quoted, "data": data}
        )

    async def chat(self) -> list[BotMessage]:
        """The bot's messages to this person, as they look now."""
        return await self.emulator.chat(self.id)

    async def last(self) -> BotMessage:
        """The bot's newest message to this person."""
        messages = await self.chat()
        assert messages, f"the bot has not written to {self.id}"
        return messages[-1]

    async def texts(self) -> list[str]:
        return [m.text for m in await self.chat()]
