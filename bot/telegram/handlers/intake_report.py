"""The intake report in the chat: the button of the ``trajectory.intake_report`` notice.

The notice names no student and carries no goals (lock screens); here, after the Telegram
layer has identified who pressed, `services.trajectories.intake_report` checks that the
presser is the trajectory's student, a parent or a mentor of the student, and the chat shows
the report in their language (split into parts when it passes Telegram's limit).
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import CallbackQuery

from bot.app import App
from bot.telegram.callbacks import IntakeReportCallback
from bot.telegram.presses import accept_press, run_or_refuse
from bot.telegram.render import send_text
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.trajectories.intake_report import (
    ReaderReport,
    intake_report_for_reader,
    report_lines,
)
from storage.models import Person, utcnow

log = logging.getLogger(__name__)

SHOW = "show"


def render_report(view: ReaderReport, catalog: Catalog) -> str:
    """The report as one text in the reader's language (paragraphs apart)."""
    return "\n\n".join(catalog.render(line) for line in report_lines(view))


async def on_intake_report(
    query: CallbackQuery,
    *,
    callback_data: IntakeReportCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Show the intake report of the button's trajectory, if the presser may read it."""
    press = await accept_press(query, person)
    if press is None:
        return
    chat_id = press.chat_id
    if callback_data.action != SHOW:
        await bot.send_message(chat_id, catalog.render(Text.of(N_("This button no longer works."))))
        return
    view = await run_or_refuse(
        lambda session: intake_report_for_reader(
            session=session,
            reader=press.person,
            trajectory_id=callback_data.trajectory,
            now=utcnow(),
        ),
        app=app,
        bot=bot,
        chat_id=chat_id,
        catalog=catalog,
    )
    if view is None:
        return
    await send_text(bot, chat_id, render_report(view, catalog))
    log.info("intake report %s shown to person_id=%s", callback_data.trajectory, press.person.id)


def build_router() -> Router:
    """A fresh router with this module's handler (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_intake_report, IntakeReportCallback.filter())
    return router
