"""Last in line: whatever no other router took."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message

from bot.app import App
from bot.telegram.filters import CommandLike
from bot.telegram.handlers.menu import send_menu
from bot.telegram.handlers.onboarding import not_linked_text
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.web_sessions import STAFF_ROLES
from storage.models import Person


async def on_unknown_button(
    query: CallbackQuery, *, person: Person | None, catalog: Catalog
) -> None:
    """An old or unknown button: say so, never fail silently."""
    if person is None:
        await query.answer(not_linked_text(catalog)[:200], show_alert=True)
        return
    await query.answer(catalog.render(Text.of(N_("This button no longer works."))))


def commands_text(person: Person) -> list[Text]:
    """The commands that exist, in plain words (the staff's /login only for staff)."""
    lines = [
        Text.of(
            N_(
                "I do not know that command. These are the commands:\n"
                "/start – the menu\n"
                "/help – how this chat works\n"
                "/taal or /language – change the language\n"
                "/stop – stop the questions you are answering"
            )
        )
    ]
    if any(person.has_role(role) for role in STAFF_ROLES):
        lines.append(Text.of(N_("/login – a link to log in to the web app (staff)")))
    return lines


async def on_unknown_command(
    message: Message, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """A command no router knows (``/foo``): the commands that exist, then the menu."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    await message.answer("\n".join(catalog.render(line) for line in commands_text(person)))
    await send_menu(bot, app, message.chat.id, person, catalog)


async def on_anything_else(
    message: Message, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """Stickers, photos, anything but text and buttons: the explanation and the menu."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    await message.answer(
        catalog.render(Text.of(N_("I can only read text and button presses. Here is the menu.")))
    )
    await send_menu(bot, app, message.chat.id, person, catalog)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_unknown_button)
    router.message.register(on_unknown_command, CommandLike())
    router.message.register(on_anything_else)
    return router
