"""Getting in: `/start <token>` links an account, then the language screen; `/taal`, `/help`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.telegram.callbacks import LanguageCallback
from bot.telegram.handlers.menu import send_menu
from dialogs.i18n import LANGUAGE_NAMES, LANGUAGES, Catalog
from dialogs.text import N_, Text
from services.accounts.invites import redeem_invite
from services.accounts.people import get_person_by_telegram_id, set_language
from services.kernel.errors import InviteInvalid, InviteInvalidReason
from services.kernel.uow import run_unit_of_work
from storage.models import Person, Role

log = logging.getLogger(__name__)

INVITE_PROBLEMS: dict[InviteInvalidReason, str] = {
    InviteInvalidReason.UNKNOWN: N_(
        "This invitation link is not valid. Please ask the school for a new one."
    ),
    InviteInvalidReason.EXPIRED: N_(
        "This invitation link has expired. Please ask the school for a new one."
    ),
    InviteInvalidReason.USED: N_(
        "This invitation link has already been used. Each link works "
        "once; ask the school for a new one if you need it."
    ),
    InviteInvalidReason.ACCOUNT_IN_USE: N_(
        "This Telegram account is already linked to someone else at the school."
    ),
}


def not_linked_text(catalog: Catalog) -> str:
    """What anyone who is not linked gets: how to get access, nothing more."""
    return catalog.render(
        Text.of(
            N_(
                "Hello! This is the assistant of the school's support room (trajectvoorziening). "
                "It only works with a personal invitation link from the school. Do you have one? "
                "Open that link. No link? Ask your mentor or the care coordinator."
            )
        )
    )


def language_keyboard() -> InlineKeyboardMarkup:
    """The six languages, each in its own name, two per row."""
    buttons = [
        InlineKeyboardButton(
            text=LANGUAGE_NAMES[code], callback_data=LanguageCallback(code=code).pack()
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, 6, 2)])


async def send_language_screen(bot: Bot, chat_id: int, catalog: Catalog) -> None:
    """Ask for the language (the first screen after linking, and `/taal`)."""
    await bot.send_message(
        chat_id,
        catalog.render(Text.of(N_("Choose your language:"))),
        reply_markup=language_keyboard(),
    )


async def cmd_start_with_token(
    message: Message, *, command: CommandObject, bot: Bot, app: App, catalog: Catalog
) -> None:
    """Redeem a personal invitation: link this Telegram account, then ask the language."""
    if message.from_user is None or not command.args:
        return
    now = datetime.now(UTC)
    try:
        token, user_id = command.args, message.from_user.id
        person = await run_unit_of_work(
            app.sessions,
            lambda session: redeem_invite(
                session=session,
                token=token,
                telegram_user_id=user_id,
                telegram_chat_id=message.chat.id,
                now=now,
            ),
        )
        person_id = person.id
    except InviteInvalid as invalid:
        log.info("invite refused: %s", invalid.reason.value)
        await message.answer(catalog.render(Text.of(INVITE_PROBLEMS[invalid.reason])))
        return
    log.info("telegram account linked to person %s", person_id)
    await message.answer(
        catalog.render(
            Text.of(
                N_("Welcome, {name}! Your account is linked."), name=Text.raw(person.given_name)
            )
        )
    )
    await send_language_screen(bot, message.chat.id, catalog)


async def cmd_start(
    message: Message, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """A plain /start: the menu for a linked person, an explanation for anyone else."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    await send_menu(bot, app, message.chat.id, person, catalog)


async def cmd_language(
    message: Message, *, bot: Bot, person: Person | None, catalog: Catalog
) -> None:
    """Change the language any time."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    await send_language_screen(bot, message.chat.id, catalog)


async def on_language_chosen(
    query: CallbackQuery,
    *,
    callback_data: LanguageCallback,
    bot: Bot,
    app: App,
    person: Person | None,
) -> None:
    """Store the chosen language and continue in it."""
    if person is None or callback_data.code not in LANGUAGES or query.message is None:
        await query.answer()
        return

    async def choose(session: AsyncSession) -> Person | None:
        found = await get_person_by_telegram_id(
            session=session, telegram_user_id=query.from_user.id
        )
        if found is not None:
            await set_language(session=session, person=found, language=callback_data.code)
        return found

    fresh = await run_unit_of_work(app.sessions, choose)
    if fresh is None:
        await query.answer()
        return
    catalog = app.catalogs.get(callback_data.code)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            catalog.render(
                Text.of(
                    N_("Language: {language} ✓"),
                    language=Text.raw(LANGUAGE_NAMES[callback_data.code]),
                )
            )
        )
    await send_menu(bot, app, query.message.chat.id, fresh, catalog)


async def cmd_help(message: Message, *, person: Person | None, catalog: Catalog) -> None:
    """What the bot can do, and the commands."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    lines = [
        Text.of(
            N_(
                "Use the buttons to answer. You can always go back, skip a question that is "
                "optional, or stop.\n"
                "/start: the menu\n"
                "/taal or /language: change the language\n"
                "/stop: stop what you are doing now (nothing is sent)\n"
                "Your answers are saved as you go: if you leave, you continue where you "
                "stopped."
            )
        )
    ]
    if person.has_role(Role.CARE_COORDINATOR):
        lines.append(Text.of(N_("/queue and a name or number: find an open item in the queue")))
    await message.answer("\n".join(catalog.render(line) for line in lines))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(cmd_start_with_token, CommandStart(deep_link=True))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_language, Command("taal", "language"))
    router.callback_query.register(on_language_chosen, LanguageCallback.filter())
    router.message.register(cmd_help, Command("help"))
    return router
