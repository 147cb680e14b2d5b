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
from dialogs.i18n import SCHOOL_TIMEZONE, Catalog
from dialogs.text import N_, Param, Text
from services.referrals.outcome import ReferralOutcome, referral_outcome
from storage.models import Person, QueueDecision, utcnow

log = logging.getLogger(__name__)

SHOW = "show"


def outcome_lines(outcome: ReferralOutcome) -> list[Text]:
    """What the mentor reads about one decision, one `Text` per paragraph."""
    params: dict[str, Param] = {
        "student": Text.raw(outcome.student_name),
        "date": outcome.sent_at.astimezone(SCHOOL_TIMEZONE).date(),
    }
    if outcome.merged:
        return [
            Text.of(
                N_(
                    "Your referral for {student} (sent {date}) has been added to the referral "
                    "for this student that was already open. What you wrote is kept with it; "
                    "the care coordinator handles both together."
                ),
                **params,
            )
        ]
    if outcome.decision is QueueDecision.ACCEPTED:
        return [
            Text.of(N_("Your referral for {student} (sent {date}) has been accepted."), **params),
            Text.of(
                N_(
                    "The parents have been asked to book the intake meeting. You will be "
                    "asked whether you can be there."
                )
                if outcome.parents_informed
                else N_(
                    "The parents were not informed yet, so the bot did not ask them: the care "
                    "coordinator contacts them about the intake meeting. You will be asked "
                    "whether you can be there."
                )
            ),
        ]
    if outcome.decision is QueueDecision.DECLINED:
        return [
            Text.of(
                N_("Your referral for {student} (sent {date}) has not been accepted."), **params
            ),
            Text.of(
                N_("The care coordinator's reason: {reason}"),
                reason=Text.raw(outcome.reason or ""),
            ),
        ]
    return [Text.of(N_("Your referral for {student} (sent {date}) is not decided yet."), **params)]


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
