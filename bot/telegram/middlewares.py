"""Outer middlewares: run each update once, keep to private chats, identify the person, pick
the language, throttle.

What handlers receive arrives as keyword data (`HandlerData`), never from globals.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ChatType, MessageEntityType
from aiogram.methods import AnswerCallbackQuery, GetMe, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.i18n import pick_language
from dialogs.text import N_, Text
from services.accounts.people import get_person_by_telegram_id
from services.conversations.updates import claim_update, release_update
from services.kernel.uow import (
    current_update_unit,
    run_unit_of_work,
    run_update_unit,
    update_cache,
)
from services.outbox.store import mark_reachable
from storage.models import Person

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class IdempotencyMiddleware(BaseMiddleware):
    """One update, one unit of work, and an update delivered twice takes effect once.

    The whole update — identity, the handler's reads and writes — runs in one transaction
    (`services.kernel.uow.run_update_unit`), committed right before the first message leaves
    for Telegram and at the end. The first commit claims the update id; a duplicate fails
    there, before anything was shown. A failed handling releases a committed claim, so
    Telegram's redelivery can try again.
    """

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id = event.update_id
        bot: Bot | None = data.get("bot")
        if bot is not None:
            commit_before_sending(bot)
        handled = False

        async def work() -> Any:
            nonlocal handled
            handled = True
            # A fresh copy per attempt: a redone update starts from what aiogram passed in.
            return await handler(event, dict(data))

        result = await run_update_unit(
            self._app.sessions,
            work,
            claim=lambda session: claim_update(
                session=session, update_id=update_id, savepoint=False
            ),
            release=lambda session: release_update(session=session, update_id=update_id),
        )
        if result is None and not handled:
            log.info("update %s already handled; skipped", update_id)
        return result


class _CommitBeforeSending(BaseRequestMiddleware):
    """Commits the update's unit of work before a message leaves (see `UpdateUnit`).

    Answering a button press (the spinner) shows no state and does not commit what was written;
    a transaction that only read takes a fresh snapshot before it (`UpdateUnit.before_waiting`).
    When the update is done again after a lost lock, the press is not answered twice.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        unit = current_update_unit()
        if unit is not None:
            if isinstance(method, AnswerCallbackQuery):
                if method.callback_query_id in unit.answered:
                    return Response[TelegramType](ok=True, result=cast(TelegramType, True))
                unit.answered.add(method.callback_query_id)
                await unit.before_waiting()
            elif not isinstance(method, GetMe):
                await unit.before_effect()
        return await make_request(bot, method)


def commit_before_sending(bot: Bot) -> None:
    """Let ``bot``'s messages commit the current update's unit of work first (once per bot)."""
    middlewares = bot.session.middleware
    if not any(isinstance(middlewares[i], _CommitBeforeSending) for i in range(len(middlewares))):
        middlewares(_CommitBeforeSending())


#: The one line the bot says outside a private chat.
PRIVATE_CHAT_ONLY = N_("Please talk to me in a private chat.")


class PrivateChatOnlyMiddleware(BaseMiddleware):
    """Only private chats reach the handlers: a group, supergroup or channel gets nothing personal.

    In a group or supergroup a command, a mention of the bot or a reply to one of its messages
    gets one line (`PRIVATE_CHAT_ONLY`, in the sender's language) and nothing else: no invite
    is bound, no login link sent, no flow continued, no menu or name shown. A button pressed on
    a message outside a private chat is answered with that line as a notification and changes
    nothing. Other group messages and every channel post are ignored. Runs before
    `IdentityMiddleware`, so nothing about the person is written either.
    """

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if event.callback_query is not None:
            message = event.callback_query.message
            if message is not None and message.chat.type == ChatType.PRIVATE:
                return await handler(event, data)
            await event.callback_query.answer(await self._line(data))
            return None
        chat: Chat | None = data.get("event_chat")
        if chat is None or chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        log.info("update %s from a %s chat refused", event.update_id, chat.type)
        bot: Bot | None = data.get("bot")
        message = event.message
        if bot is not None and message is not None and await _addressed_to_bot(message, bot):
            await bot.send_message(chat.id, await self._line(data))
        return None

    async def _line(self, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        stored = None
        if user is not None:
            person = await run_unit_of_work(
                self._app.sessions,
                lambda session: get_person_by_telegram_id(
                    session=session, telegram_user_id=user.id
                ),
            )
            stored = person.language if person is not None else None
        language = pick_language(stored, user.language_code if user else None)
        return self._app.catalogs.get(language).render(Text.of(PRIVATE_CHAT_ONLY))


async def _addressed_to_bot(message: Message, bot: Bot) -> bool:
    """A command (not one meant for another bot: ``/help@otherbot``), a mention of the bot or
    a reply to one of its messages."""
    text = message.text or message.caption or ""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
        return True
    me = await bot.me()
    mention = f"@{me.username}".lower() if me.username else None
    if text.startswith("/"):
        _, at, addressee = text.split(maxsplit=1)[0].partition("@")
        return not at or mention == f"@{addressee}".lower()
    if mention is None:
        return False
    # Offsets count UTF-16 code units: extract_from counts them so.
    return any(
        entity.type == MessageEntityType.MENTION and entity.extract_from(text).lower() == mention
        for entity in message.entities or message.caption_entities or ()
    )


class IdentityMiddleware(BaseMiddleware):
    """Looks the sender up by Telegram id and sets ``person`` (or None) and ``catalog``.

    Language: the person's stored choice, then Telegram's ``language_code``, then Dutch.
    """

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        person = None
        if user is not None:
            person = await run_unit_of_work(self._app.sessions, partial(_identify, user.id))
        language = pick_language(
            person.language if person else None, user.language_code if user else None
        )
        data["person"] = person
        data["catalog"] = self._app.catalogs.get(language)
        return await handler(event, data)


async def _identify(telegram_user_id: int, session: AsyncSession) -> Person | None:
    # Who someone is and their roles come from the process cache while the cache version
    # stands (one cheap statement per update instead of the person and their roles).
    cache = await update_cache()
    key = ("person_by_telegram_id", telegram_user_id)
    if cache is not None and key in cache:
        cached: Person | None = cache.get(key)
        return cached
    person = await get_person_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if person is not None and person.unreachable_at is not None:
        # They wrote to us, so messages reach them again (the write bumps the cache version).
        await mark_reachable(session=session, person_id=person.id)
        session.expunge(person)
        return person
    if person is not None:
        # Handed to the handlers detached, as read: a unit of work of the update that is
        # rolled back (a refusal) does not expire it, and it can be kept for later updates.
        session.expunge(person)
    if cache is not None:
        cache.put(key, person)
        if person is not None:
            cache.put(("person", person.id), person)
    return person


class ThrottlingMiddleware(BaseMiddleware):
    """Drops floods: more than ``limit`` updates from one user within ``window`` seconds.

    The first dropped update gets one kind message; the rest are dropped silently. Memory is
    bounded: only the most recently active ``max_users`` users are tracked.
    """

    def __init__(
        self,
        limit: int = 20,
        window: float = 10.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window
        self._max_users = max_users
        self._clock = clock
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        now = self._clock()
        stamps = self._seen.pop(user.id, deque())
        while stamps and now - stamps[0] > self._window:
            stamps.popleft()
        stamps.append(now)
        self._seen[user.id] = stamps
        if len(self._seen) > self._max_users:
            dropped, _ = self._seen.popitem(last=False)
            self._warned.discard(dropped)
        if len(stamps) <= self._limit:
            self._warned.discard(user.id)
            return await handler(event, data)
        log.info("throttled an update of user %s", user.id)
        if user.id not in self._warned:
            self._warned.add(user.id)
            await _tell_to_slow_down(event, data)
        return None


async def _tell_to_slow_down(event: TelegramObject, data: dict[str, Any]) -> None:
    catalog = data.get("catalog")
    if catalog is None:
        return
    text = catalog.render(Text.of(N_("That was a lot at once. Please wait a moment.")))
    if isinstance(event, Message | CallbackQuery):
        await event.answer(text)
