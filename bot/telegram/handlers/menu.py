"""The role menu: what this person can do here, as buttons."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.telegram.callbacks import MenuCallback, SurveyCallback
from dialogs.flow import Flow
from dialogs.flows import get_flow
from dialogs.flows.parents_access import MENU_NOTE as PARENTS_MENU_NOTE
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.web_sessions import STAFF_ROLES
from services.conversations.runtime import active_flow, flows_for, school_today
from services.conversations.survey_chat import invitations_to_offer
from services.kernel.adulthood import must_ask
from services.kernel.uow import run_unit_of_work
from services.settings.about import TITLE as ABOUT_TITLE
from services.settings.about import may_read_about
from services.surveys.invitations import OpenInvitation
from services.trajectories.logbook import can_read_logbook
from storage.models import Person, Role, utcnow

OPEN_FLOW = "flow"
MY_REFERRALS = "referrals"
QUEUE = "queue"
LOGBOOK = "logbook"
MY_APPOINTMENTS = "appointments"
TODAY = "today"
WEB_LOGIN = "web_login"
PLANS = "plans"
WEEK = "week"
ABOUT = "about"


@dataclass(frozen=True, slots=True)
class _MenuFacts:
    """What the menu is built from, read in one short unit of work."""

    unfinished: str | None
    flows: list[Flow]
    invitations: list[OpenInvitation]
    logbook: bool


async def send_menu(bot: Bot, app: App, chat_id: int, person: Person, catalog: Catalog) -> None:
    """Send the menu for this person's roles (an unfinished flow is offered first)."""
    markup = await menu_keyboard(app, person, catalog)
    if markup is None:
        await bot.send_message(
            chat_id,
            catalog.render(
                Text.of(
                    N_(
                        "There is nothing for you to do here yet. "
                        "You will get a message when there is."
                    )
                )
            ),
        )
        return
    text = catalog.render(Text.of(N_("What would you like to do?")))
    if must_ask(person, school_today(utcnow())):
        # An adult student who has not answered about their parents' access: say why the
        # first button is there (`services.kernel.adulthood`).
        text = f"{catalog.render(Text.of(PARENTS_MENU_NOTE))}\n\n{text}"
    await bot.send_message(chat_id, text, reply_markup=markup)


async def menu_keyboard(app: App, person: Person, catalog: Catalog) -> InlineKeyboardMarkup | None:
    """The buttons of this person's menu (None when there is nothing for them to do yet)."""

    async def read(session: AsyncSession) -> _MenuFacts:
        return _MenuFacts(
            unfinished=await active_flow(session=session, person=person),
            flows=await flows_for(session=session, person=person),
            invitations=await invitations_to_offer(session=session, person=person, now=utcnow()),
            logbook=await can_read_logbook(session=session, reader=person),
        )

    facts = await run_unit_of_work(app.sessions, read)
    unfinished, flows, invitations = facts.unfinished, facts.flows, facts.invitations
    logbook = facts.logbook
    rows: list[list[InlineKeyboardButton]] = []

    def add(label: Text, action: str, value: str = "") -> None:
        data = MenuCallback(action=action, value=value).pack()
        rows.append([InlineKeyboardButton(text=catalog.render(label), callback_data=data)])

    if unfinished is not None:
        add(
            Text.of(N_("Continue: {flow}"), flow=Text.of(get_flow(unfinished).title)),
            OPEN_FLOW,
            unfinished,
        )
    for invitation in invitations:  # exit questionnaires to answer, each its own button
        data = SurveyCallback(action="open", invitation=invitation.invitation_id).pack()
        rows.append(
            [InlineKeyboardButton(text=catalog.render(invitation.label), callback_data=data)]
        )
    for flow in flows:
        if flow.id != unfinished:
            add(Text.of(flow.title), OPEN_FLOW, flow.id)
    if person.has_role(Role.MENTOR):
        add(Text.of(N_("My referrals")), MY_REFERRALS)
    if person.has_role(Role.STUDENT) or person.has_role(Role.PARENT):
        add(Text.of(N_("My appointments")), MY_APPOINTMENTS)
    if person.has_role(Role.COACH):
        add(Text.of(N_("Today's appointments")), TODAY)
        add(Text.of(N_("This week's appointments")), WEEK)
    if person.has_role(Role.CARE_COORDINATOR):
        add(Text.of(N_("Queue")), QUEUE)
    if person.has_role(Role.COACH) or person.has_role(Role.CARE_COORDINATOR):
        add(Text.of(N_("Plans to complete")), PLANS)  # the plan made at the intake
    if logbook:
        add(Text.of(N_("Logbook")), LOGBOOK)
    if may_read_about(person):
        add(Text.of(ABOUT_TITLE), ABOUT)
    if any(person.has_role(role) for role in STAFF_ROLES):
        add(Text.of(N_("Log in to the web app")), WEB_LOGIN)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
