"""The student's own help question (issue 15): the button of the ``referral.student_voice``
notice opens the question in the chat, in the student's language.

The notice names nothing (lock screens); here storage checks the presser is the referral's
student, was asked and has not answered yet (`services.conversations.voice_chat`), on every
press.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.types import CallbackQuery

from bot.app import App
from bot.telegram.callbacks import StudentVoiceCallback
from bot.telegram.handlers.flows import show_turn
from bot.telegram.presses import accept_press, run_or_refuse
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.conversations.voice_chat import open_student_voice
from services.kernel.errors import InvalidTransition, NotAllowed
from storage.models import Person

log = logging.getLogger(__name__)

OPEN = "open"


async def on_student_voice(
    query: CallbackQuery,
    *,
    callback_data: StudentVoiceCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Start (or resume) the help question of the button's referral, checked again first."""
    press = await accept_press(query, person)
    if press is None:
        return
    chat_id = press.chat_id
    if callback_data.action != OPEN:
        await bot.send_message(chat_id, catalog.render(Text.of(N_("This button no longer works."))))
        return
    turn = await run_or_refuse(
        lambda session: open_student_voice(
            session=session,
            person=press.person,
            referral_id=callback_data.referral,
            now=datetime.now(UTC),
        ),
        app=app,
        bot=bot,
        chat_id=chat_id,
        catalog=catalog,
        refusals=(NotAllowed, InvalidTransition),
    )
    if turn is None:
        log.info("student voice refused for person %s", press.person.id)
        return
    await show_turn(bot, chat_id, turn, catalog)


def build_router() -> Router:
    """A fresh router with this module's handler (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_student_voice, StudentVoiceCallback.filter())
    return router
