"""Engine replies → Telegram messages, keeping the chat a clean transcript (ux.md).

After a button press the pressed question is edited to show the answer and loses its keyboard;
a question that is only re-drawn (a tick, a page, a search) is edited in place; everything else
is sent as a new message. A text over Telegram's 4,096 characters (a summary of long answers)
is sent as several messages (`bot.telegram.chunks`), the keyboard on the last; an edit that
would be too long shows the first part in place and sends the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.telegram.callbacks import FlowCallback
from bot.telegram.chunks import split_message
from dialogs.events import Event
from dialogs.render import RenderedReply
from dialogs.replies import ReplyKind

log = logging.getLogger(__name__)


def keyboard(flow: str, reply: RenderedReply) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a rendered reply (None when it has no buttons)."""
    rows: list[list[InlineKeyboardButton]] = []
    for row in reply.rows:
        buttons = []
        for button in row:
            event = Event.decode(button.payload)
            if event is None:  # the engine only makes decodable payloads; be safe anyway
                continue
            data = FlowCallback.data_for(flow, event)
            buttons.append(InlineKeyboardButton(text=button.label, callback_data=data))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def deliver(
    bot: Bot,
    chat_id: int,
    flow: str,
    replies: Sequence[RenderedReply],
    *,
    origin: Message | None = None,
    closing: InlineKeyboardMarkup | None = None,
) -> None:
    """Show ``replies`` in the chat; ``origin`` is the message whose button was pressed;
    ``closing`` goes on the flow's last message when it ended (the person's menu)."""
    pending = origin
    if pending is not None and len(replies) == 1 and replies[0].kind is ReplyKind.QUESTION:
        await edit_text(bot, pending, replies[0].text, keyboard(flow, replies[0]))
        return
    for reply in replies:
        if reply.kind is ReplyKind.ANSWERED and pending is not None:
            await edit_text(bot, pending, reply.text)
            pending = None
            continue
        if pending is not None:
            # The pressed message is answered otherwise (a notice, the end): drop its keyboard
            # so the transcript has one live question only.
            await _drop_keyboard(bot, pending)
            pending = None
        if reply.kind is ReplyKind.ANSWERED:
            continue  # typed answers are already visible as the person's own message
        markup = keyboard(flow, reply)
        if markup is None and reply.kind is ReplyKind.DONE:
            markup = closing
        await send_text(bot, chat_id, reply.text, markup)


async def send_text(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send ``text`` as one message, or as several when it is over Telegram's limit; the
    keyboard goes on the last, which is returned."""
    return await _send_parts(bot, chat_id, split_message(text), markup)


async def edit_text(
    bot: Bot, message: Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Show ``text`` in ``message`` (edited in place); when it is over Telegram's limit, the
    first part is shown there without a keyboard and the rest is sent after it, the keyboard
    on the last part."""
    first, *rest = split_message(text)
    await _edit(bot, message, first, None if rest else markup)
    if rest:
        await _send_parts(bot, message.chat.id, rest, markup)


async def _send_parts(
    bot: Bot, chat_id: int, parts: Sequence[str], markup: InlineKeyboardMarkup | None
) -> Message:
    for part in parts[:-1]:
        await bot.send_message(chat_id, part)
    return await bot.send_message(chat_id, parts[-1], reply_markup=markup)


async def _edit(bot: Bot, message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await bot.edit_message_text(
            text=text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
        )
    except TelegramBadRequest as error:
        # "message is not modified" (same text) or too old to edit: both are harmless.
        log.debug("edit skipped: %s", error.message)


async def _drop_keyboard(bot: Bot, message: Message) -> None:
    try:
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
        )
    except TelegramBadRequest as error:
        log.debug("keyboard removal skipped: %s", error.message)
