"""A mentor's own referrals: what was sent and where it stands."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.app import App
from bot.telegram.callbacks import MenuCallback, ReferralCallback
from bot.telegram.handlers.menu import MY_REFERRALS
from bot.telegram.handlers.referral_outcome import on_referral_outcome
from bot.telegram.render import send_text
from dialogs.i18n import SCHOOL_TIMEZONE, Catalog
from dialogs.text import N_, Text
from services.kernel.uow import run_unit_of_work
from services.referrals.progress import SHOWN, referrals_with_stage
from services.referrals.rules import stage_label
from storage.models import Person


async def on_my_referrals(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """List the referrals this mentor sent, newest first, each with where it stands (their
    own only: the query is by mentor)."""
    await query.answer()
    if person is None or query.message is None:
        return
    referrals = await run_unit_of_work(
        app.sessions, lambda session: referrals_with_stage(session=session, mentor=person)
    )
    if not referrals:
        text = catalog.render(Text.of(N_("You have not sent any referrals yet.")))
    else:
        lines = [
            catalog.render(
                Text.plural_of(
                    "You sent {count} referral:", "You sent {count} referrals:", len(referrals)
                )
            )
        ]
        lines += [
            catalog.render(
                Text.of(
                    N_("• {date}: {student} – {status}"),
                    date=r.created_at.astimezone(SCHOOL_TIMEZONE).date(),
                    student=Text.raw(r.student_name),
                    status=stage_label(r.stage),
                )
            )
            for r in referrals[:SHOWN]
        ]
        text = "\n".join(lines)
    # Twenty referrals with long names can pass Telegram's limit: sent in parts then.
    await send_text(bot, query.message.chat.id, text)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_my_referrals, MenuCallback.filter(F.action == MY_REFERRALS))
    router.callback_query.register(on_referral_outcome, ReferralCallback.filter())
    return router
