"""The queue: one school's care coordinators only, urgent and old first, every view audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.listing import list_queue
from services.referrals.submission import submit_referral
from storage.models import (
    AuditLog,
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    School,
    Urgency,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_school, draft


async def _school_with_referrals(
    session_factory: async_sessionmaker[AsyncSession], code: str
) -> tuple[Person, Person, list[int]]:
    """A school with a coordinator, a mentor and three referrals; returns queue item ids."""
    async with session_factory() as session, session.begin():
        school = await add_school(session, code)
        zoco = await add_person(session, school, "zoco", Role.CARE_COORDINATOR)
        mentor = await add_person(
            session, school, "m", Role.MENTOR, given_name="Anouk", family_name="Klasema"
        )
        students = [
            await add_person(
                session, school, f"s{i}", Role.STUDENT, given_name=f"Kind{i}", group_name="2B"
            )
            for i in range(3)
        ]
        for student in students:
            await add_mentorship(session, mentor, student)
        urgencies = (Urgency.LOW, Urgency.HIGH, Urgency.NORMAL)
        item_ids = []
        for minutes, (student, urgency) in enumerate(zip(students, urgencies, strict=True)):
            referral = await submit_referral(
                session=session,
                mentor=mentor,
                draft=draft(student.id, urgency=urgency),
                now=NOW + timedelta(minutes=minutes),
            )
            item = await session.scalar(
                select(QueueItem).where(QueueItem.referral_id == referral.id)
            )
            assert item is not None
            item_ids.append(item.id)
    return zoco, mentor, item_ids


async def test_coordinator_sees_own_school_urgent_first(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, _mentor, (low, high, normal) = await _school_with_referrals(session_factory, "a")
    async with session_factory() as session:
        entries = await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=zoco))
    assert [e.queue_item_id for e in entries] == [high, normal, low]
    first = entries[0]
    assert first.kind is QueueKind.REFERRAL
    assert first.status is QueueStatus.NEW
    assert first.urgency is Urgency.HIGH
    assert first.student_name == "Kind1 Persoon-s1"
    assert first.group_name == "2B"
    assert first.mentor_name == "Anouk Klasema"
    assert first.created_at == NOW + timedelta(minutes=1)


async def test_oldest_first_within_one_urgency(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, mentor, (_low, high, normal) = await _school_with_referrals(session_factory, "a")
    async with session_factory() as session, session.begin():
        school = await session.get_one(School, zoco.school_id)
        student = await add_person(session, school, "s9", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        # Submitted last, but dated before the other normal one.
        earlier = await submit_referral(
            session=session,
            mentor=mentor,
            draft=draft(student.id, urgency=Urgency.NORMAL),
            now=NOW - timedelta(days=1),
        )
        earlier_item = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == earlier.id)
        )
    async with session_factory() as session:
        entries = await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=zoco))
    assert [e.queue_item_id for e in entries][:3] == [high, earlier_item, normal]


async def test_view_is_audited(session_factory: async_sessionmaker[AsyncSession]) -> None:
    zoco, _mentor, items = await _school_with_referrals(session_factory, "a")
    async with session_factory() as session:
        await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=zoco))
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "queue.view"))
        ).one()
    assert audit.actor_id == zoco.id
    assert sorted(audit.details["queue_item_ids"]) == sorted(items)


async def test_coordinator_of_another_school_sees_nothing_of_this_one(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _zoco_a, _mentor, items_a = await _school_with_referrals(session_factory, "a")
    zoco_b, _mentor_b, items_b = await _school_with_referrals(session_factory, "b")
    async with session_factory() as session:
        entries = await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=zoco_b))
    assert sorted(e.queue_item_id for e in entries) == sorted(items_b)
    assert not set(items_a) & {e.queue_item_id for e in entries}


async def test_non_coordinators_are_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _zoco, mentor, _items = await _school_with_referrals(session_factory, "a")
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=mentor))
        assert (await session.scalars(select(AuditLog.action))).all().count("queue.view") == 0


async def test_status_filter_and_closed_hidden_by_default(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, _mentor, (low, high, normal) = await _school_with_referrals(session_factory, "a")
    async with session_factory() as session, session.begin():
        (await session.get_one(QueueItem, low)).status = QueueStatus.CLOSED
        (await session.get_one(QueueItem, normal)).status = QueueStatus.WAITING
    async with session_factory() as session:
        open_items = await run_unit_of_work(session, lambda s: list_queue(session=s, viewer=zoco))
        closed = await run_unit_of_work(
            session, lambda s: list_queue(session=s, viewer=zoco, statuses=[QueueStatus.CLOSED])
        )
    assert [e.queue_item_id for e in open_items] == [high, normal]
    assert [e.queue_item_id for e in closed] == [low]
