"""Model behaviour that the runtime relies on: UTC datetimes, optimistic locking, lookups."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from services.accounts.people import (
    care_coordinators_of,
    get_person_by_external_id,
    get_person_by_telegram_id,
    set_language,
)
from storage.models import Conversation, ConversationStatus, Person, Role
from tests.support.factories import NOW, add_person, add_school


async def test_datetimes_come_back_aware_in_utc(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    amsterdam = timezone(timedelta(hours=1))
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        person = await add_person(session, school, "p", Role.PARENT)
        person.unreachable_at = datetime(2026, 3, 2, 10, 30, tzinfo=amsterdam)
    async with session_factory() as session:
        stored = await session.get_one(Person, person.id)
        assert stored.unreachable_at == NOW
        assert stored.unreachable_at.tzinfo is not None
        assert stored.unreachable_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None


async def test_naive_datetimes_are_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        school.created_at = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
        with pytest.raises(StatementError, match="naive"):
            await session.flush()


async def test_conversation_version_bumps_and_stale_writes_fail(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        person = await add_person(session, school, "s", Role.STUDENT)
        conversation = Conversation(
            school_id=school.id, person_id=person.id, flow="verwijzing", state={"step": 1}
        )
        session.add(conversation)
    assert conversation.version == 1
    assert conversation.status is ConversationStatus.ACTIVE

    async with session_factory() as first, session_factory() as second:
        theirs = await second.get_one(Conversation, conversation.id)
        # The reader's transaction ends (as between two updates); its object stays loaded.
        # On SQLite an open transaction holds the write lock (BEGIN IMMEDIATE), so the
        # interleaving of two open transactions cannot happen there.
        await second.commit()
        mine = await first.get_one(Conversation, conversation.id)
        mine.state = {"step": 2}
        await first.commit()
        assert mine.version == 2

        theirs.state = {"step": 99}
        with pytest.raises(StaleDataError):
            await second.commit()

    async with session_factory() as session:
        stored = await session.get_one(Conversation, conversation.id)
        assert (stored.state, stored.version) == ({"step": 2}, 2)


async def test_people_lookups(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        other = await add_school(session, "ander")
        parent = await add_person(session, school, "p", Role.PARENT)
        parent.telegram_user_id = 4242
        await add_person(session, school, "z2", Role.CARE_COORDINATOR, family_name="Zwart")
        await add_person(session, school, "z1", Role.CARE_COORDINATOR, family_name="Aalders")
        await add_person(session, other, "z3", Role.CARE_COORDINATOR)

    async with session_factory() as session:
        found = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="p"
        )
        assert found is not None
        assert found.id == parent.id
        assert found.display_name == "Test Persoon-p"
        assert (
            await get_person_by_external_id(session=session, school_id=other.id, external_id="p")
            is None
        )
        by_telegram = await get_person_by_telegram_id(session=session, telegram_user_id=4242)
        assert by_telegram is not None
        assert by_telegram.id == parent.id
        coordinators = await care_coordinators_of(session=session, school_id=school.id)
        assert [p.external_id for p in coordinators] == ["z1", "z2"]

    async with session_factory() as session, session.begin():
        person = await session.get_one(Person, parent.id)
        await set_language(session=session, person=person, language="ar")
        with pytest.raises(ValueError, match="unsupported"):
            await set_language(session=session, person=person, language="fr")
    async with session_factory() as session:
        language = await session.scalar(select(Person.language).where(Person.id == parent.id))
        assert language == "ar"
