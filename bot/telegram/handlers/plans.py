"""The plan in chat (issue 11): a coach or care coordinator opens "Plans to complete" (the
trajectories of their school whose intake was held without a complete plan, or that are
accepted without one) and fills in the plan of one as a flow (`dialogs.flows.plan`).

Buttons carry ids only. Storage checks every press against the person who made it: the list
and the start of the flow (`services.trajectories.plans`) and the save
(`services.trajectories.lifecycle.set_plan`, through the flow's binding) accept only staff of
the trajectory's school, and only while it is open.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import App
from bot.telegram.callbacks import MenuCallback, PlanCallback
from bot.telegram.handlers.flows import show_turn
from bot.telegram.handlers.menu import PLANS
from bot.telegram.presses import accept_press, run_or_refuse
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.conversations.plan_chat import open_plan
from services.kernel.errors import InvalidTransition, NotAllowed
from services.trajectories.plans import PlanToComplete, plans_to_complete
from storage.models import Person, TrajectoryStatus

log = logging.getLogger(__name__)

OPEN = "open"
STATE: dict[TrajectoryStatus, str] = {
    TrajectoryStatus.INTAKE_HELD: N_("intake held"),
    TrajectoryStatus.PLANNED: N_("before the intake"),
}


def entry_label(plan: PlanToComplete) -> Text:
    """One trajectory in the list: the student, and whether the intake was held."""
    student = f"{plan.student_name} ({plan.group_name})" if plan.group_name else plan.student_name
    return Text.of(
        N_("{student} · {state}"),
        student=Text.raw(student),
        state=Text.of(STATE.get(plan.status, N_("open"))),
    )


async def on_plans(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """The plans to complete, as buttons (or why there are none)."""
    press = await accept_press(query, person)
    if press is None:
        return
    chat_id = press.chat_id
    plans = await run_or_refuse(
        lambda session: plans_to_complete(
            session=session, viewer=press.person, now=datetime.now(UTC)
        ),
        app=app,
        bot=bot,
        chat_id=chat_id,
        catalog=catalog,
    )
    if plans is None:
        return
    if not plans:
        await bot.send_message(
            chat_id, catalog.render(Text.of(N_("There is no plan to complete right now.")))
        )
        return
    rows = [
        [
            InlineKeyboardButton(
                text=catalog.render(entry_label(plan)),
                callback_data=PlanCallback(action=OPEN, trajectory=plan.trajectory_id).pack(),
            )
        ]
        for plan in plans
    ]
    await bot.send_message(
        chat_id,
        catalog.render(Text.of(N_("Whose plan do you want to complete?"))),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_plan(
    query: CallbackQuery,
    *,
    callback_data: PlanCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Start (or resume) the plan flow of one trajectory, checked again first."""
    press = await accept_press(query, person)
    if press is None:
        return
    chat_id = press.chat_id
    if callback_data.action != OPEN:
        return
    turn = await run_or_refuse(
        lambda session: open_plan(
            session=session,
            person=press.person,
            trajectory_id=callback_data.trajectory,
            now=datetime.now(UTC),
        ),
        app=app,
        bot=bot,
        chat_id=chat_id,
        catalog=catalog,
        refusals=(NotAllowed, InvalidTransition),
    )
    if turn is None:
        log.info("plan of a trajectory refused for person %s", press.person.id)
        return
    await show_turn(bot, chat_id, turn, catalog)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_plans, MenuCallback.filter(F.action == PLANS))
    router.callback_query.register(on_plan, PlanCallback.filter())
    return router
