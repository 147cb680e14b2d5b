"""What every button handler does first and on a refusal: who pressed, and where to answer.

A press is acknowledged at once (Telegram stops the spinner); it counts only when the
middleware resolved the presser to a person and the message is still there to answer in.
A service's refusal (`NotAllowed`, `InvalidTransition`) is answered in the presser's language
with its reason, which names no one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.i18n import Catalog
from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import Person

T = TypeVar("T")

#: What a press may be refused with: each carries a ``reason`` to show as is.
Refusal = NotAllowed | InvalidTransition


@dataclass(frozen=True)
class Press:
    """A button press by a known person: who pressed and the chat to answer in."""

    person: Person
    chat_id: int


async def accept_press(query: CallbackQuery, person: Person | None) -> Press | None:
    """Acknowledge the press; who pressed and where to answer, or None when the presser is
    not a known person or the message is gone (then there is nothing to do)."""
    await query.answer()
    if person is None or query.message is None:
        return None
    return Press(person=person, chat_id=query.message.chat.id)


async def run_or_refuse(
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    app: App,
    bot: Bot,
    chat_id: int,
    catalog: Catalog,
    refusals: tuple[type[Refusal], ...] = (NotAllowed,),
) -> T | None:
    """Run ``work`` in one unit of work and return what it returns; None when the service
    refused with one of ``refusals``, after the reason was sent to ``chat_id`` in the
    presser's language (for work that never returns None itself)."""
    try:
        return await run_unit_of_work(app.sessions, work)
    except refusals as refusal:
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return None
