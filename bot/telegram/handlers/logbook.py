"""The logbook in chat: what the coaches wrote, for the student, their parents and their mentor.

The service decides whose entries the person may read (`services.trajectories.logbook.logbook_for`,
from the links in the database); the button only carries the page's offset, never authority.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app import App
from bot.telegram.callbacks import MenuCallback
from bot.telegram.handlers.menu import LOGBOOK
from bot.telegram.render import send_text
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.kernel.uow import run_unit_of_work
from services.trajectories.logbook import ChatLogbookEntry, LogbookPage, logbook_for
from storage.models import Person

log = logging.getLogger(__name__)

#: Telegram allows 4,096 characters per message; entries are packed below this, leaving room
#: for the header (an entry is at most 2,000 characters).
MESSAGE_BUDGET = 3500
#: Offsets beyond this are not a page anyone reached by pressing "Older entries".
MAX_OFFSET = 100_000


def _entry_text(entry: ChatLogbookEntry, page: LogbookPage, catalog: Catalog) -> str:
    if page.several_students:
        heading = Text.of(
            N_("{student} · {author} · {date}"),
            student=Text.raw(entry.student_given_name),
            author=entry.author_role.label,
            date=entry.created_at,
        )
    else:
        heading = Text.of(
            N_("{author} · {date}"), author=entry.author_role.label, date=entry.created_at
        )
    # The entry's text is shown as written (Text.raw: never looked up in a catalog).
    return f"{catalog.render(heading)}\n{catalog.render(Text.raw(entry.text))}"


def render_page(page: LogbookPage, catalog: Catalog) -> list[str]:
    """The page as one or more messages (each within Telegram's length limit)."""
    if not page.entries:
        if page.offset:
            return [catalog.render(Text.of(N_("There are no older logbook entries.")))]
        return [catalog.render(Text.of(N_("There are no logbook entries yet.")))]
    header = catalog.render(
        Text.of(
            N_("Logbook, newest first ({first}–{last} of {total}):"),
            first=page.offset + 1,
            last=page.offset + len(page.entries),
            total=page.total,
        )
    )
    messages: list[str] = []
    current = header
    for entry in page.entries:
        block = _entry_text(entry, page, catalog)
        if len(current) + 2 + len(block) > MESSAGE_BUDGET:
            messages.append(current)
            current = block
        else:
            current = f"{current}\n\n{block}"
    messages.append(current)
    return messages


async def on_logbook(
    query: CallbackQuery,
    callback_data: MenuCallback,
    *,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Show one page of the logbook entries this person may read, newest first."""
    await query.answer()
    if person is None or query.message is None:
        return
    offset = int(callback_data.value) if callback_data.value.isdigit() else 0
    offset = min(offset, MAX_OFFSET)
    if callback_data.value and isinstance(query.message, Message):
        # "Older entries" was pressed: that button has done its work (a clean transcript).
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None
        )
    page = await run_unit_of_work(
        app.sessions,
        lambda session: logbook_for(
            session=session, reader=person, now=datetime.now(UTC), offset=offset
        ),
    )
    messages = render_page(page, catalog)
    markup = None
    if page.has_more:
        older = MenuCallback(action=LOGBOOK, value=str(page.offset + len(page.entries)))
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=catalog.render(Text.of(N_("Older entries"))),
                        callback_data=older.pack(),
                    )
                ]
            ]
        )
    for index, text in enumerate(messages):
        last = index == len(messages) - 1
        # The budget counts characters, Telegram UTF-16 units (an emoji is two): a message
        # that still passes the limit is sent in parts.
        await send_text(bot, query.message.chat.id, text, markup if last else None)
    log.info("logbook page shown to person_id=%s (offset %s)", person.id, offset)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_logbook, MenuCallback.filter(F.action == LOGBOOK))
    return router
