"""Running flows in chat: menu buttons start them, buttons and typed text advance them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.app import App
from bot.telegram.callbacks import FlowCallback, MenuCallback
from bot.telegram.filters import TypedText
from bot.telegram.handlers.menu import OPEN_FLOW, menu_keyboard, send_menu
from bot.telegram.handlers.onboarding import not_linked_text
from bot.telegram.render import deliver
from dialogs.events import Action, Event, typed
from dialogs.i18n import Catalog
from dialogs.render import render_reply
from dialogs.text import N_, Text
from services.conversations.runtime import (
    ConcurrentUpdateError,
    Turn,
    active_flow,
    handle_event,
    open_flow,
)
from services.kernel.access import fresh_actor
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import Person

log = logging.getLogger(__name__)


async def _advance(app: App, person: Person, flow_id: str, event: Event) -> Turn:
    # One retry (a new unit of work) when another update of the same conversation committed
    # in between.
    for attempt in (1, 2):
        try:
            return await run_unit_of_work(
                app.sessions,
                lambda session: handle_event(
                    session=session,
                    person=person,
                    flow_id=flow_id,
                    event=event,
                    now=datetime.now(UTC),
                ),
            )
        except ConcurrentUpdateError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def show_turn(
    bot: Bot,
    chat_id: int,
    turn: Turn,
    catalog: Catalog,
    origin: Message | None = None,
    *,
    closing: InlineKeyboardMarkup | None = None,
) -> None:
    """Render a turn's replies in the reader's language and show them in the chat
    (``closing``: the buttons for the flow's last message, when it ended)."""
    rendered = [render_reply(reply, catalog) for reply in turn.replies]
    await deliver(bot, chat_id, turn.flow, rendered, origin=origin, closing=closing)


async def show_turn_then_menu(
    bot: Bot,
    chat_id: int,
    turn: Turn,
    catalog: Catalog,
    *,
    app: App,
    person: Person,
    origin: Message | None = None,
) -> None:
    """`show_turn`; when the flow ended (sent or stopped) its last message carries the
    person's menu, so the chat always offers what to do next (issue 11)."""
    closing = None
    if turn.finished:
        current = person
        if turn.changed_person:
            # Read again: the flow changed the person (an adult student's answer about their
            # parents decides the menu's order), and the process cache holds them as they were
            # when this update began.
            current = await run_unit_of_work(
                app.sessions, lambda session: fresh_actor(session=session, actor=person)
            )
        closing = await menu_keyboard(app, current, catalog)
    await show_turn(bot, chat_id, turn, catalog, origin, closing=closing)


async def on_flow_chosen(
    query: CallbackQuery,
    *,
    callback_data: MenuCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Start (or resume) the chosen flow."""
    await query.answer()
    if person is None or query.message is None:
        return
    try:
        turn = await run_unit_of_work(
            app.sessions,
            lambda session: open_flow(
                session=session, person=person, flow_id=callback_data.value, now=datetime.now(UTC)
            ),
        )
    except (NotAllowed, KeyError):
        await bot.send_message(
            query.message.chat.id, catalog.render(Text.of(N_("This is not available to you.")))
        )
        return
    origin = query.message if isinstance(query.message, Message) else None
    if origin is not None:
        await origin.edit_reply_markup(reply_markup=None)
    await show_turn(bot, query.message.chat.id, turn, catalog)


async def on_flow_button(
    query: CallbackQuery,
    *,
    callback_data: FlowCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """A button of a question: the engine decides whether it still applies."""
    await query.answer()
    if person is None or query.message is None:
        return
    event = callback_data.to_event()
    if event is None:
        event = Event(Action.RESUME)
    try:
        turn = await _advance(app, person, callback_data.flow, event)
    except (NotAllowed, KeyError):
        # Someone else's or a forged button: refuse kindly, reveal nothing.
        log.info("flow button refused for person %s", person.id)
        await bot.send_message(
            query.message.chat.id,
            catalog.render(Text.of(N_("This button is not for you, or no longer works."))),
        )
        return
    origin = query.message if isinstance(query.message, Message) else None
    await show_turn_then_menu(
        bot, query.message.chat.id, turn, catalog, app=app, person=person, origin=origin
    )


async def cmd_stop(
    message: Message, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """Stop the current flow (nothing is sent); a stranger hears how to get access."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    flow_id = await run_unit_of_work(
        app.sessions, lambda session: active_flow(session=session, person=person)
    )
    if flow_id is None:
        await message.answer(catalog.render(Text.of(N_("There is nothing to stop."))))
        return
    turn = await _advance(app, person, flow_id, Event(Action.CANCEL))
    await show_turn_then_menu(bot, message.chat.id, turn, catalog, app=app, person=person)


async def on_text(
    message: Message, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """Typed text answers the current question; without one, show the menu."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    if message.text is None:
        return
    flow_id = await run_unit_of_work(
        app.sessions, lambda session: active_flow(session=session, person=person)
    )
    if flow_id is None:
        await send_menu(bot, app, message.chat.id, person, catalog)
        return
    turn = await _advance(app, person, flow_id, typed(message.text))
    await show_turn_then_menu(bot, message.chat.id, turn, catalog, app=app, person=person)


def build_button_router() -> Router:
    """A fresh router for what most updates are, tried before every other router: a button of
    a flow's question and a typed answer (text that is not a command).

    Only this router's filters know a question button's callback prefix, and no other router
    takes text that is not a command (the catch-all, last, never sees a typed answer: this
    router takes it first either way). Trying it first spares each of these updates the other
    routers' filters; no other order changes (tests/bot/test_dispatcher_filters.py).
    """
    router = Router(name=f"{__name__}.buttons")
    router.callback_query.register(on_flow_button, FlowCallback.filter())
    router.message.register(on_text, TypedText())
    return router


def build_router() -> Router:
    """A fresh router with this module's other handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_flow_chosen, MenuCallback.filter(F.action == OPEN_FLOW))
    router.message.register(cmd_stop, Command("stop"))
    return router
