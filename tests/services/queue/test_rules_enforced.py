"""The services enforce the rule: in every state a referral's item can be in, an action
succeeds exactly when `services.queue.rules.allowed_actions` allows it, and is refused with
the rule's reason otherwise (nothing written)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.i18n import Catalogs
from services.kernel.errors import InvalidTransition
from services.kernel.uow import run_unit_of_work
from services.queue.notes import add_note
from services.queue.rules import ItemState, QueueAction, allowed_actions, refusal
from services.referrals.decisions import (
    accept_for_intake,
    decline,
    mark_for_care_team,
    resume_analysis,
    take_in_analysis,
)
from services.referrals.merging import merge_duplicate
from storage.models import (
    Person,
    QueueItem,
    Role,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
)
from tests.support.queue_states import REFERRAL_STATES, put_in_state, state_id

LATER = NOW + timedelta(hours=1)
EN = Catalogs().get("en")

Service = Callable[[AsyncSession, Person, int], Awaitable[object]]

SERVICES: dict[QueueAction, Service] = {
    QueueAction.TAKE: lambda s, actor, item: take_in_analysis(
        session=s, actor=actor, queue_item_id=item, now=LATER
    ),
    QueueAction.CARE_TEAM: lambda s, actor, item: mark_for_care_team(
        session=s, actor=actor, queue_item_id=item, now=LATER
    ),
    QueueAction.RESUME: lambda s, actor, item: resume_analysis(
        session=s, actor=actor, queue_item_id=item, now=LATER
    ),
    QueueAction.ACCEPT: lambda s, actor, item: accept_for_intake(
        session=s, actor=actor, queue_item_id=item, now=LATER
    ),
    QueueAction.DECLINE: lambda s, actor, item: decline(
        session=s, actor=actor, queue_item_id=item, reason="Eerst een gesprek.", now=LATER
    ),
    QueueAction.NOTE: lambda s, actor, item: add_note(
        session=s, actor=actor, queue_item_id=item, text="Gebeld.", now=LATER
    ),
    QueueAction.MERGE: lambda s, actor, item: merge_duplicate(
        session=s, actor=actor, queue_item_id=item, now=LATER, render=EN.render
    ),
}


@pytest.mark.parametrize("action", list(SERVICES))
@pytest.mark.parametrize("state", REFERRAL_STATES, ids=state_id)
async def test_an_action_succeeds_exactly_when_the_rule_allows_it(
    state: ItemState, action: QueueAction, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        item = await add_queued_referral(session, mentor, student)
        await put_in_state(session, item.id, state, by=zoco.id, at=NOW)
    allowed = action in allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        open_duplicate=state.open_duplicate,
    )
    if allowed:
        await run_unit_of_work(session_factory, lambda s: SERVICES[action](s, zoco, item.id))
        return
    with pytest.raises(InvalidTransition) as refused:
        await run_unit_of_work(session_factory, lambda s: SERVICES[action](s, zoco, item.id))
    assert refused.value.reason == refusal(state, action)
    async with session_factory() as session:
        stored = await session.get_one(QueueItem, item.id)
        assert ItemState.of(stored, open_duplicate=state.open_duplicate) == state
