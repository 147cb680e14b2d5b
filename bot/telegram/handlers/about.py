""" "About the support room" in Telegram (issue 15.7): the school's text, or the default, in
the person's language; a long text goes in parts within Telegram's limit
(`bot.telegram.render.send_text`, `bot.telegram.chunks`)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.app import App
from bot.telegram.callbacks import MenuCallback
from bot.telegram.handlers.menu import ABOUT
from bot.telegram.render import send_text
from dialogs.i18n import Catalog
from dialogs.text import Text
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.settings.about import TITLE, AboutView, about_for
from storage.models import Person

log = logging.getLogger(__name__)


def about_text(view: AboutView, catalog: Catalog) -> str:
    """The title and the paragraphs, one empty line between them (the web chat's page too)."""
    parts = [catalog.render(Text.of(TITLE))]
    parts.extend(catalog.render(paragraph) for paragraph in view.paragraphs)
    return "\n\n".join(parts)


async def on_about(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """Show the text; the service checks the person is a student or a parent."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id
    try:
        view = await run_unit_of_work(
            app.sessions, lambda session: about_for(session=session, reader=person)
        )
    except NotAllowed as refusal:
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    await send_text(bot, chat_id, about_text(view, catalog))
    log.info("about text shown to person_id=%s", person.id)


def build_router() -> Router:
    """A fresh router with this module's handler (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_about, MenuCallback.filter(F.action == ABOUT))
    return router
