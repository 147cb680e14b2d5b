"""/login: a linked staff member asks for a one-time link into the web app.

The link (``WEB_BASE_URL/login/link/<token>``) works once, for 10 minutes; storage checks the
person's roles and web account (`services.accounts.web_sessions.create_login_link`). Link previews
are
off, so Telegram does not fetch the page (which would not spend the link anyway: only the
confirmation page's POST does).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message

from bot.app import App
from bot.telegram.callbacks import MenuCallback
from bot.telegram.handlers.menu import WEB_LOGIN
from bot.telegram.handlers.onboarding import not_linked_text
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.web_sessions import create_login_link
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import Person


async def login_link_text(app: App, person: Person, catalog: Catalog) -> str:
    """The reply to /login: the link, or why there is none."""
    try:
        token = await run_unit_of_work(
            app.sessions,
            lambda session: create_login_link(
                session=session, person=person, now=datetime.now(UTC)
            ),
        )
    except NotAllowed as refused:
        return catalog.render(refused.reason)
    url = f"{app.settings.web_url}/login/link/{token}"
    return catalog.render(
        Text.of(
            N_(
                "Your login link for the web app. It works once, within 10 minutes; do not "
                "pass it on.\n{url}"
            ),
            url=Text.raw(url),
        )
    )


async def cmd_login(message: Message, *, app: App, person: Person | None, catalog: Catalog) -> None:
    """Send a one-time login link to a staff member with a web account."""
    if person is None:
        await message.answer(not_linked_text(catalog))
        return
    await message.answer(
        await login_link_text(app, person, catalog),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def on_web_login(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """The menu's "Log in to the web app" button: the same as /login."""
    await query.answer()
    if person is None or query.message is None:
        return
    await bot.send_message(
        query.message.chat.id,
        await login_link_text(app, person, catalog),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(cmd_login, Command("login"))
    router.callback_query.register(on_web_login, MenuCallback.filter(F.action == WEB_LOGIN))
    return router
