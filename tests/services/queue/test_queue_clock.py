"""The queue's age clock, the care team (ZAT) transitions, the filtered overview and the coach's
read-only view of an accepted referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.listing import AssigneeFilter, QueueFilters, age, queue_overview
from services.queue.notes import add_note
from services.queue.referral_view import open_referral
from services.referrals.decisions import (
    accept_for_intake,
    decline,
    mark_for_care_team,
    resume_analysis,
    take_in_analysis,
)
from storage.models import (
    AuditLog,
    Person,
    QueueDecision,
    QueueItem,
    QueueStatus,
    Role,
    Urgency,
    WaitingReason,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
)

DAY = timedelta(days=1)


@dataclass
class World:
    zoco: Person
    coach: Person
    other_coach: Person
    item_id: int
    urgent_item_id: int


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        coach = await add_person(session, school, "c1", Role.COACH)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        first = await add_person(session, school, "s1", Role.STUDENT)
        second = await add_person(session, school, "s2", Role.STUDENT)
        await add_mentorship(session, mentor, first)
        await add_mentorship(session, mentor, second)
        item = await add_queued_referral(session, mentor, first)
        urgent = await add_queued_referral(session, mentor, second, urgency=Urgency.HIGH)
        other = await add_school(session, "vmbo-zuid")
        other_coach = await add_person(session, other, "c2", Role.COACH)
    return World(zoco, coach, other_coach, item.id, urgent.id)


async def _item(factory: async_sessionmaker[AsyncSession], item_id: int) -> QueueItem:
    async with factory() as session:
        return await session.get_one(QueueItem, item_id)


def test_age_counts_open_time_and_skips_pauses() -> None:
    assert (
        age(
            created_at=NOW,
            status=QueueStatus.NEW,
            waiting_since=None,
            paused_seconds=0,
            closed_at=None,
            now=NOW + 3 * DAY,
        )
        == 3 * DAY
    )
    # Waiting since day 2: the clock stands still at 2 days, however long it waits.
    assert (
        age(
            created_at=NOW,
            status=QueueStatus.WAITING,
            waiting_since=NOW + 2 * DAY,
            paused_seconds=0,
            closed_at=None,
            now=NOW + 30 * DAY,
        )
        == 2 * DAY
    )
    # Back in progress after a 5-day pause.
    assert (
        age(
            created_at=NOW,
            status=QueueStatus.IN_PROGRESS,
            waiting_since=None,
            paused_seconds=int((5 * DAY).total_seconds()),
            closed_at=None,
            now=NOW + 8 * DAY,
        )
        == 3 * DAY
    )
    # Closed: the clock stopped at the close.
    assert (
        age(
            created_at=NOW,
            status=QueueStatus.CLOSED,
            waiting_since=None,
            paused_seconds=0,
            closed_at=NOW + DAY,
            now=NOW + 9 * DAY,
        )
        == DAY
    )


async def test_the_care_team_round_trip_keeps_the_clock(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: mark_for_care_team(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + DAY
            ),
        )
    item = await _item(session_factory, world.item_id)
    assert (item.status, item.waiting_reason) == (QueueStatus.WAITING, WaitingReason.CARE_TEAM)
    assert (item.waiting_since, item.assignee_id) == (NOW + DAY, world.zoco.id)
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as refused:
            await run_unit_of_work(
                session,
                lambda s: take_in_analysis(
                    session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + DAY
                ),
            )
    assert refused.value.reason.msgid == "This referral is already waiting for the care team."
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: resume_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + 8 * DAY
            ),
        )
    item = await _item(session_factory, world.item_id)
    assert item.status is QueueStatus.IN_PROGRESS
    assert (item.waiting_since, item.waiting_reason) == (None, None)
    assert item.paused_seconds == 7 * 86_400
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await run_unit_of_work(
                session,
                lambda s: resume_analysis(
                    session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + 8 * DAY
                ),
            )
        actions = await session.scalars(
            select(AuditLog.action)
            .where(AuditLog.subject_id == world.item_id)
            .order_by(AuditLog.id)
        )
        assert [a for a in actions if a.startswith("queue.")] == ["queue.care_team", "queue.resume"]


async def test_accept_and_decline_work_straight_from_the_care_team(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    for item_id in (world.item_id, world.urgent_item_id):
        async with session_factory() as session:
            await run_unit_of_work(
                session,
                lambda s, item_id=item_id: mark_for_care_team(  # type: ignore[misc]
                    session=s, actor=world.zoco, queue_item_id=item_id, now=NOW + DAY
                ),
            )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: accept_for_intake(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + 4 * DAY
            ),
        )
    accepted = await _item(session_factory, world.item_id)
    assert accepted.decision is QueueDecision.ACCEPTED
    assert (accepted.status, accepted.waiting_reason) == (QueueStatus.WAITING, WaitingReason.INTAKE)
    assert accepted.waiting_since == NOW + DAY  # still the same pause
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: decline(
                session=s,
                actor=world.zoco,
                queue_item_id=world.urgent_item_id,
                reason="Past beter bij de wijkteams.",
                now=NOW + 4 * DAY,
            ),
        )
    declined = await _item(session_factory, world.urgent_item_id)
    assert declined.status is QueueStatus.CLOSED
    assert declined.paused_seconds == 3 * 86_400
    assert declined.waiting_since is None


async def test_the_overview_filters_and_counts(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )

    async def ids(**filters: object) -> tuple[list[int], dict[QueueStatus, int]]:
        async with session_factory() as session:
            found = await run_unit_of_work(
                session,
                lambda s: queue_overview(
                    session=s,
                    viewer=world.zoco,
                    filters=QueueFilters(**filters),  # type: ignore[arg-type]
                ),
            )
        return [e.queue_item_id for e in found.entries], found.counts

    everything, counts = await ids()
    assert everything == [world.urgent_item_id, world.item_id]  # high urgency first
    assert counts[QueueStatus.NEW] == counts[QueueStatus.IN_PROGRESS] == 1
    mine, mine_counts = await ids(assignee=AssigneeFilter.ME)
    assert mine == [world.item_id]
    assert mine_counts[QueueStatus.NEW] == 0
    assert (await ids(assignee=AssigneeFilter.NOBODY))[0] == [world.urgent_item_id]
    assert (await ids(urgency=Urgency.HIGH))[0] == [world.urgent_item_id]
    assert (await ids(statuses=(QueueStatus.CLOSED,)))[0] == []
    async with session_factory() as session:
        entry = next(
            e
            for e in (
                await run_unit_of_work(
                    session,
                    lambda s: queue_overview(session=s, viewer=world.zoco, filters=QueueFilters()),
                )
            ).entries
            if e.queue_item_id == world.item_id
        )
    assert entry.assignee_id == world.zoco.id
    assert entry.age(NOW + 2 * DAY) == 2 * DAY


async def test_a_coach_reads_only_accepted_referrals_of_their_school_without_notes(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s, actor=world.zoco, queue_item_id=world.item_id, text="Intern.", now=NOW
            ),
        )
    async with session_factory() as session:
        with pytest.raises(NotAllowed) as not_yet:
            await run_unit_of_work(
                session,
                lambda s: open_referral(
                    session=s, viewer=world.coach, queue_item_id=world.item_id, now=NOW
                ),
            )
        with pytest.raises(NotAllowed) as unknown:
            await run_unit_of_work(
                session,
                lambda s: open_referral(
                    session=s, viewer=world.coach, queue_item_id=987_654, now=NOW
                ),
            )
    assert not_yet.value.reason == unknown.value.reason
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: accept_for_intake(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )
    async with session_factory() as session:
        view = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.coach, queue_item_id=world.item_id, now=NOW
            ),
        )
    assert view.coordinator_view is False
    assert view.notes == ()
    assert view.trajectory_id is not None
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await run_unit_of_work(
                session,
                lambda s: open_referral(
                    session=s, viewer=world.other_coach, queue_item_id=world.item_id, now=NOW
                ),
            )
    async with session_factory() as session:
        coordinator = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )
    assert coordinator.coordinator_view is True
    assert [note.text for note in coordinator.notes] == ["Intern."]
