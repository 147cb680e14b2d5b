"""The conversation runtime: engine + database in one transaction per event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action, Event, typed
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.state import Status
from services.conversations.runtime import Turn, active_flow, flows_for, handle_event, open_flow
from services.kernel.errors import NotAllowed
from storage.models import Mentorship, Outbox, Person, QueueItem, Referral, Role
from tests.support.factories import add_mentorship, add_person, add_school, count

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in Amsterdam
MENTORS = 4


async def _world(factory: async_sessionmaker[AsyncSession]) -> tuple[list[Person], Person]:
    async with factory() as session, session.begin():
        school = await add_school(session)
        await add_person(session, school, "zoco", Role.CARE_COORDINATOR)
        mentors = []
        for n in range(MENTORS):
            mentor = await add_person(session, school, f"m{n}", Role.MENTOR)
            student = await add_person(
                session, school, f"s{n}", Role.STUDENT, given_name=f"Kind{n}"
            )
            await add_mentorship(session, mentor, student)
            mentors.append(mentor)
        parent = await add_person(session, school, "p", Role.PARENT)
    return mentors, parent


def _button(turn: Turn, action: Action, value: str | None = None) -> Event:
    for reply in reversed(turn.replies):
        for button in reply.buttons:
            if button.event.action is action and (value is None or button.event.value == value):
                return button.event
    raise AssertionError(f"no {action} {value} button")


def _first_option(turn: Turn) -> Event:
    for reply in reversed(turn.replies):
        for button in reply.buttons:
            if button.event.action is Action.CHOOSE:
                return button.event
    raise AssertionError("no option")


async def _referral(factory: async_sessionmaker[AsyncSession], mentor: Person) -> Turn:
    """Drive one whole verwijzing; every step is its own transaction, like in a chat."""

    async def step(event: Event) -> Turn:
        async with factory() as session, session.begin():
            return await handle_event(
                session=session, person=mentor, flow_id=VERWIJZING.id, event=event, now=NOW
            )

    async with factory() as session, session.begin():
        turn = await open_flow(session=session, person=mentor, flow_id=VERWIJZING.id, now=NOW)
    turn = await step(_first_option(turn))
    for text in (
        "Wil rustiger worden in de klas.",
        "Hoe help ik hem plannen?",
        "Vaste plek en korte gesprekjes.",
    ):
        turn = await step(typed(text))
    turn = await step(_button(turn, Action.SKIP))
    turn = await step(_button(turn, Action.SKIP))
    turn = await step(_button(turn, Action.CHOOSE, "normal"))
    turn = await step(_button(turn, Action.CHOOSE, "yes"))
    turn = await step(_button(turn, Action.CHOOSE, "conversations"))
    turn = await step(_button(turn, Action.DONE))
    turn = await step(_first_option(turn))
    turn = await step(_button(turn, Action.CHOOSE, "mon"))
    turn = await step(_button(turn, Action.DONE))
    turn = await step(_button(turn, Action.CHOOSE, "no"))  # the optional questions (issue 15)
    return await step(_button(turn, Action.CONFIRM))


async def test_confirming_writes_referral_queue_item_and_outbox_together(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    mentors, _ = await _world(session_factory)
    done = await _referral(session_factory, mentors[0])
    assert done.state.status is Status.COMPLETED
    async with session_factory() as session:
        assert await count(session, Referral) == 1
        assert await count(session, QueueItem) == 1
        assert await count(session, Outbox) == 1
        assert await active_flow(session=session, person=mentors[0]) is None


async def test_concurrent_conversations_all_land(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # Updates are handled as concurrent tasks in production (polling and webhook alike).
    mentors, _ = await _world(session_factory)
    turns = await asyncio.gather(*(_referral(session_factory, m) for m in mentors))
    assert all(t.state.status is Status.COMPLETED for t in turns)
    async with session_factory() as session:
        assert await count(session, Referral) == MENTORS
        assert await count(session, QueueItem) == MENTORS


async def test_a_refused_confirm_keeps_every_answer(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    mentors, _ = await _world(session_factory)
    mentor = mentors[0]
    async with session_factory() as session, session.begin():
        turn = await open_flow(session=session, person=mentor, flow_id=VERWIJZING.id, now=NOW)
    # The mentorship ends while the mentor is still typing: sending must be refused.
    done_before_last = await _referral_until_summary(session_factory, mentor, turn)
    async with session_factory() as session, session.begin():
        link = await session.get_one(Mentorship, 1)
        await session.delete(link)
    async with session_factory() as session, session.begin():
        refused = await handle_event(
            session=session,
            person=mentor,
            flow_id=VERWIJZING.id,
            event=_button(done_before_last, Action.CONFIRM),
            now=NOW,
        )
    assert refused.state.status is Status.ACTIVE
    assert refused.state.step == "summary"
    assert refused.state.answers == done_before_last.state.answers
    async with session_factory() as session:
        assert await count(session, Referral) == 0
        assert await count(session, Outbox) == 0


async def _referral_until_summary(
    factory: async_sessionmaker[AsyncSession], mentor: Person, turn: Turn
) -> Turn:
    async def step(event: Event) -> Turn:
        async with factory() as session, session.begin():
            return await handle_event(
                session=session, person=mentor, flow_id=VERWIJZING.id, event=event, now=NOW
            )

    turn = await step(_first_option(turn))
    for text in (
        "Wil rustiger worden in de klas.",
        "Hoe help ik hem plannen?",
        "Vaste plek en korte gesprekjes.",
    ):
        turn = await step(typed(text))
    for event in (Action.SKIP, Action.SKIP):
        turn = await step(_button(turn, event))
    turn = await step(_button(turn, Action.CHOOSE, "high"))
    turn = await step(_button(turn, Action.CHOOSE, "yes"))
    turn = await step(_button(turn, Action.CHOOSE, "time_out"))
    turn = await step(_button(turn, Action.DONE))
    turn = await step(_first_option(turn))
    turn = await step(_button(turn, Action.CHOOSE, "fri"))
    turn = await step(_button(turn, Action.DONE))
    return await step(_button(turn, Action.CHOOSE, "no"))  # the optional questions


async def test_a_parent_may_not_run_the_verwijzing(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _, parent = await _world(session_factory)
    async with session_factory() as session, session.begin():
        flows = await flows_for(session=session, person=parent)
        assert VERWIJZING.id not in [flow.id for flow in flows]
        with pytest.raises(NotAllowed):
            await open_flow(session=session, person=parent, flow_id=VERWIJZING.id, now=NOW)
