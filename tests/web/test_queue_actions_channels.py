"""One rule, every channel: for every state a queue item can be in, the actions the Telegram
keyboard offers equal the forms the web page shows equal `services.queue.rules.allowed_actions`
(which the services enforce: `tests/services/queue/test_rules_enforced.py`), with and without
another open referral of the student (a duplicate can be merged into it while undecided).

Each channel maps its own controls to actions here — the Telegram callback's action, the web
form's path — so a channel that drifts from the rule (a button too many, a form missing) fails.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.callbacks import QueueCallback, SurveyItemCallback, TimeoutRequestCallback
from bot.telegram.handlers import appointments as telegram_appointments
from bot.telegram.handlers import care as telegram_care
from bot.telegram.handlers import surveys as telegram_surveys
from dialogs.i18n import Catalogs
from services.appointments.timeout_requests import open_timeout_request, request_timeout
from services.queue.referral_view import open_referral
from services.queue.rules import ItemState, QueueAction, allowed_actions
from services.surveys.results import SurveyResultView
from storage.models import (
    Person,
    QueueDecision,
    QueueKind,
    RespondentType,
    TimeoutRequestReason,
    utcnow,
)
from tests.support.factories import NOW, add_trajectory
from tests.support.queue_states import (
    EXIT_SURVEY_STATES,
    REFERRAL_STATES,
    TIMEOUT_REQUEST_STATES,
    put_in_state,
    state_id,
)
from tests.support.survey_items import add_survey_item
from tests.support.units import unit
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import StaffWorld
from web.routes.queue import item_path

EN = Catalogs().get("en")

#: The web: the last part of a form's path on the item's page → the action it performs.
WEB_FORMS: dict[QueueKind, dict[str, QueueAction]] = {
    QueueKind.REFERRAL: {
        "take": QueueAction.TAKE,
        "care-team": QueueAction.CARE_TEAM,
        "resume": QueueAction.RESUME,
        "accept": QueueAction.ACCEPT,
        "decline": QueueAction.DECLINE,
        "notes": QueueAction.NOTE,
        "merge": QueueAction.MERGE,
    },
    QueueKind.TIMEOUT_REQUEST: {
        "approve": QueueAction.APPROVE_TIMEOUT,
        "decline": QueueAction.DECLINE_TIMEOUT,
    },
    # The open result's one human action: "read" here (it resolves the item as read, the
    # system action ``survey_read``), "Mark as handled" in Telegram.
    QueueKind.EXIT_SURVEY: {"read": QueueAction.CLOSE},
}
#: Telegram: a time-out request's callback action → the action the handler performs.
TELEGRAM_TIMEOUT: dict[str, QueueAction] = {
    "approve": QueueAction.APPROVE_TIMEOUT,
    "decline": QueueAction.DECLINE_TIMEOUT,
}


def _rule(state: ItemState, *, coordinator: bool = True) -> frozenset[QueueAction]:
    return allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        coordinator=coordinator,
        open_duplicate=state.open_duplicate,
    )


def _callbacks(markup: InlineKeyboardMarkup | None) -> list[str]:
    if markup is None:
        return []
    return [button.callback_data or "" for row in markup.inline_keyboard for button in row]


def _web_actions(page: str, kind: QueueKind, item_id: int) -> frozenset[QueueAction]:
    path = item_path(kind, item_id)
    assert path is not None
    main = page[page.index("<main") : page.index("</main>")]
    posted = re.findall(rf'<form method="post" action="{re.escape(path)}/([\w-]+)"', main)
    assert len(posted) == len(set(posted)), posted
    return frozenset(WEB_FORMS[kind][name] for name in posted)


async def _person(demo: StaffWorld, external_id: str) -> Person:
    async with demo.app.sessions() as session:
        return await session.get_one(Person, demo.ids[external_id])


@pytest.mark.parametrize("state", REFERRAL_STATES, ids=state_id)
async def test_a_referral_offers_the_same_actions_in_every_channel(
    state: ItemState, demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session, session.begin():
        await put_in_state(session, demo.item_id, state, by=demo.ids["zoco"], at=NOW)
    expected = _rule(state)

    zoco = await _person(demo, "zoco")
    view = await unit(
        demo.app.sessions, open_referral, viewer=zoco, queue_item_id=demo.item_id, now=utcnow()
    )
    keyboard = _callbacks(telegram_care.actions(view, EN))
    telegram = [QueueAction(QueueCallback.unpack(data).action) for data in keyboard]
    assert len(telegram) == len(set(telegram)), telegram

    browser = await browsers()
    assert (await browser.log_in("zoco")).status_code == 303
    page = await browser.get(f"/queue/{demo.item_id}")
    assert page.status_code == 200

    assert frozenset(telegram) == expected
    assert _web_actions(page.text, QueueKind.REFERRAL, demo.item_id) == expected


@pytest.mark.parametrize(
    "state", [s for s in REFERRAL_STATES if s.decision is QueueDecision.ACCEPTED], ids=state_id
)
async def test_a_coach_reading_an_accepted_referral_is_offered_nothing_anywhere(
    state: ItemState, demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session, session.begin():
        await put_in_state(session, demo.item_id, state, by=demo.ids["zoco"], at=NOW)
    coach = await _person(demo, "coach")
    assert _rule(state, coordinator=False) == frozenset()
    view = await unit(
        demo.app.sessions, open_referral, viewer=coach, queue_item_id=demo.item_id, now=utcnow()
    )
    assert _callbacks(telegram_care.actions(view, EN)) == []
    browser = await browsers()
    assert (await browser.log_in("coach")).status_code == 303
    page = await browser.get(f"/queue/{demo.item_id}")
    assert page.status_code == 200
    assert _web_actions(page.text, QueueKind.REFERRAL, demo.item_id) == frozenset()


@pytest.mark.parametrize("state", TIMEOUT_REQUEST_STATES, ids=state_id)
async def test_a_time_out_request_offers_the_same_actions_in_every_channel(
    state: ItemState, demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session, session.begin():
        student = await session.get_one(Person, demo.ids["lln13"])
        mentor = await session.get_one(Person, demo.ids["mentor2"])
        trajectory = await add_trajectory(session, mentor, student, timeouts_per_week=0)
        requested = await request_timeout(
            session=session,
            actor=student,
            trajectory=trajectory,
            starts_at=NOW + timedelta(days=2),
            reason=TimeoutRequestReason.OVER_CAP,
            now=NOW,
        )
        await put_in_state(session, requested.queue_item_id, state, by=demo.ids["zoco"], at=NOW)
    item_id = requested.queue_item_id
    expected = _rule(state)

    zoco = await _person(demo, "zoco")
    view = await unit(demo.app.sessions, open_timeout_request, viewer=zoco, queue_item_id=item_id)
    keyboard = _callbacks(telegram_appointments.timeout_request_actions(view, EN))
    telegram = [TELEGRAM_TIMEOUT[TimeoutRequestCallback.unpack(data).action] for data in keyboard]
    assert len(telegram) == len(set(telegram)), telegram

    browser = await browsers()
    assert (await browser.log_in("zoco")).status_code == 303
    page = await browser.get(f"/queue/timeout-requests/{item_id}")
    assert page.status_code == 200

    assert frozenset(telegram) == expected
    assert _web_actions(page.text, QueueKind.TIMEOUT_REQUEST, item_id) == expected


@pytest.mark.parametrize("state", EXIT_SURVEY_STATES, ids=state_id)
async def test_an_exit_questionnaire_offers_the_same_actions_in_every_channel(
    state: ItemState, demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session, session.begin():
        item_id = await add_survey_item(
            session,
            mentor=await session.get_one(Person, demo.ids["mentor2"]),
            student=await session.get_one(Person, demo.ids["lln13"]),
            now=NOW,
            status=state.status,
        )
    browser = await browsers()
    assert (await browser.log_in("zoco")).status_code == 303
    page = await browser.get(f"/queue/questionnaires/{item_id}")
    assert page.status_code == 200
    assert _web_actions(page.text, QueueKind.EXIT_SURVEY, item_id) == _rule(state)
    view = SurveyResultView(
        queue_item_id=7,
        status=state.status,
        response_id=1,
        trajectory_id=1,
        respondent_type=RespondentType.STUDENT,
        respondent_name="Daan",
        student_name="Daan",
        group_name=None,
        version=1,
        language="nl",
        completed_at=NOW,
        answers=(),
    )
    keyboard = _callbacks(telegram_surveys.result_actions(view, EN))
    telegram = [QueueAction(SurveyItemCallback.unpack(data).action) for data in keyboard]
    assert frozenset(telegram) == _rule(state)
