"""A recording Bot API session (no network) and builders for the updates a person produces."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BufferedInputFile,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

#: Telegram's limit on a message's text, in UTF-16 code units (the real API refuses more).
MESSAGE_LIMIT = 4096


def _check_length(method: TelegramMethod[Any], text: str) -> None:
    if len(text.encode("utf-16-le")) // 2 > MESSAGE_LIMIT:
        raise TelegramBadRequest(method=method, message="Bad Request: message is too long")


BOT_USER = User(id=42, is_bot=True, first_name="Trajectbot", username="trajectbot_test_bot")


@dataclass
class Sent:
    """One message as the person's chat shows it now (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None
    #: A document sent with the message (its caption is ``text``): file name and bytes.
    document: tuple[str, bytes] | None = None

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every button, row by row."""
        if self.markup is None:
            return []
        return [(b.text, b.callback_data or "") for row in self.markup.inline_keyboard for b in row]

    def data_for(self, label_part: str) -> str:
        """The callback data of the first button whose label contains ``label_part``."""
        for label, data in self.buttons():
            if label_part in label:
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.buttons()}")


class RecordingSession(BaseSession):
    """Answers Bot API calls like Telegram would and keeps every chat's transcript."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.messages: dict[int, Sent] = {}
        self._ids = itertools.count(1000)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        self.calls.append(method)
        result: Any
        if isinstance(method, GetMe):
            result = BOT_USER
        elif isinstance(method, SendMessage):
            _check_length(method, method.text)
            sent = Sent(
                next(self._ids),
                int(method.chat_id),
                method.text,
                method.reply_markup
                if isinstance(method.reply_markup, InlineKeyboardMarkup)
                else None,
            )
            self.messages[sent.message_id] = sent
            result = self._message(sent)
        elif isinstance(method, SendDocument):
            upload = method.document
            if not isinstance(upload, BufferedInputFile):
                raise TypeError("tests only send documents from memory")
            sent = Sent(
                next(self._ids),
                int(method.chat_id),
                method.caption or "",
                method.reply_markup
                if isinstance(method.reply_markup, InlineKeyboardMarkup)
                else None,
                (upload.filename or "", upload.data),
            )
            self.messages[sent.message_id] = sent
            result = self._message(sent)
        elif isinstance(method, EditMessageText):
            _check_length(method, method.text or "")
            sent = self.messages[int(method.message_id or 0)]
            sent.text = method.text or ""
            sent.markup = method.reply_markup
            result = self._message(sent)
        elif isinstance(method, EditMessageReplyMarkup):
            sent = self.messages[int(method.message_id or 0)]
            sent.markup = method.reply_markup
            result = self._message(sent)
        elif isinstance(method, AnswerCallbackQuery):
            result = True
        else:
            raise TypeError(f"unexpected Bot API call {type(method).__name__}")
        return result  # type: ignore[no-any-return]

    def _message(self, sent: Sent) -> Message:
        document = (
            None
            if sent.document is None
            else Document(file_id=f"doc{sent.message_id}", file_unique_id=f"u{sent.message_id}")
        )
        return Message(
            message_id=sent.message_id,
            date=datetime.now(UTC),
            chat=Chat(id=sent.chat_id, type="private"),
            text=None if document else sent.text,
            caption=sent.text if document else None,
            document=document,
            reply_markup=sent.markup,
            from_user=BOT_USER,
        )

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        for _ in ():  # an async generator that yields nothing: tests download nothing
            yield b""

    async def close(self) -> None:
        return None

    def chat(self, chat_id: int) -> list[Sent]:
        """The chat's messages from the bot, oldest first, as they look now."""
        return [m for m in self.messages.values() if m.chat_id == chat_id]

    def last(self, chat_id: int) -> Sent:
        """The newest message from the bot in this chat."""
        return self.chat(chat_id)[-1]

    def answered_alerts(self) -> list[str]:
        """Texts shown as callback answers (toasts)."""
        return [c.text for c in self.calls if isinstance(c, AnswerCallbackQuery) and c.text]


class Person:
    """A simulated Telegram user producing updates with increasing ids."""

    _update_ids = itertools.count(1)

    def __init__(self, user_id: int, language_code: str = "nl") -> None:
        self.id = user_id
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": "Test",
            "language_code": language_code,
        }
        self.chat: dict[str, Any] = {"id": user_id, "type": "private"}

    def in_chat(self, chat_id: int, kind: str = "group") -> Person:
        """The same user writing in another chat (a group, supergroup or channel)."""
        other = Person.__new__(Person)
        other.id, other.user = self.id, self.user
        other.chat = {"id": chat_id, "type": kind, "title": "Class 3A"}
        return other

    def text(self, text: str) -> dict[str, Any]:
        """An update carrying a typed message (commands get their entity)."""
        message: dict[str, Any] = {
            "message_id": next(self._update_ids),
            "date": 1_700_000_000,
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def press(self, message: Sent, data: str) -> dict[str, Any]:
        """An update for a press on a button of ``message`` (with its keyboard, as Telegram
        sends the message a pressed button belongs to)."""
        pressed: dict[str, Any] = {
            "message_id": message.message_id,
            "date": 1_700_000_000,
            "chat": self.chat,
            "text": message.text,
            "from": BOT_USER.model_dump(),
        }
        if message.markup is not None:
            pressed["reply_markup"] = message.markup.model_dump(exclude_none=True)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids)),
                "from": self.user,
                "chat_instance": "ci",
                "data": data,
                "message": pressed,
            },
        }


def update(bot: Bot, data: dict[str, Any]) -> Update:
    """Validate raw update data the way aiogram does for real updates."""
    return Update.model_validate(data, context={"bot": bot})
