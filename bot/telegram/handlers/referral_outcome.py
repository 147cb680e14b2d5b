"""The mentor reads the decision on a referral they sent (the button of the outbox notice).

The notice names no student and no reason (lock screens); here, after the Telegram layer has
identified who pressed, `services.referrals.outcome` checks it is the mentor who sent it and
the chat shows which student, the decision and a decline's reason.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import CallbackQuery

from bot.app import App
from bot.telegram.callbacks import ReferralCallback
from bot.telegram.presses import accept_press, run_or_refuse
from bot.telegram.render import send_text
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.referrals.outcome import outcome_lines, referral_outcome
from storage.models import Person, utcnow

log = logging.getLogger(__name__)

SHOW = "show"

__all__ = ["SHOW", "on_referral_outcome", "outcome_lines"]


async def on_referral_outcome(
    query: CallbackQuery,
    *,
    callback_data: ReferralCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Show the decision on the referral of the button, if the presser sent it."""
    press = await accept_press(query, person)
    if press is None:
        return
    chat_id = press.chat_id
    if callback_data.action != SHOW:
        await bot.send_message(chat_id, catalog.render(Text.of(N_("This button no longer works."))))
        return
    outcome = await run_or_refuse(
        lambda session: referral_outcome(
            session=session, viewer=press.person, referral_id=callback_data.referral, now=utcnow()
        ),
        app=app,
        bot=bot,
        chat_id=chat_id,
        catalog=catalog,
    )
    if outcome is None:
        return
    await send_text(bot, chat_id, "\n\n".join(catalog.render(t) for t in outcome_lines(outcome)))
