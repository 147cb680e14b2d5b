"""Demo data: invented, complete enough for the bot, created once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.people import care_coordinators_of, get_person_by_external_id, mentees_of
from services.demo.school import create_demo_data
from storage.models import Guardianship, Person, School
from tests.support.factories import add_school, count
from tests.support.units import unit


async def test_demo_data_is_created_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        first = await unit(session, create_demo_data, if_empty=True)
    assert first.created
    assert first.school_id is not None
    assert {"zoco", "coach", "mentor1", "mentor2", "admin"} <= set(first.external_ids)

    async with session_factory() as session:
        again = await unit(session, create_demo_data, if_empty=True)
        also_again = await unit(session, create_demo_data, if_empty=False)
    assert not again.created
    assert not also_again.created

    async with session_factory() as session:
        assert await count(session, School) == 1
        assert await count(session, Person) == len(first.external_ids)
        mentor1 = await get_person_by_external_id(
            session=session, school_id=first.school_id, external_id="mentor1"
        )
        mentor2 = await get_person_by_external_id(
            session=session, school_id=first.school_id, external_id="mentor2"
        )
        assert mentor1 is not None
        assert mentor2 is not None
        mentees = await mentees_of(session=session, mentor=mentor1)
        assert len(mentees) == 12
        assert [p.family_name for p in mentees] == sorted(p.family_name for p in mentees)
        assert len(await mentees_of(session=session, mentor=mentor2)) == 3
        coordinators = await care_coordinators_of(session=session, school_id=first.school_id)
        assert [p.external_id for p in coordinators] == ["zoco"]
        assert await count(session, Guardianship) >= 4


async def test_if_empty_respects_other_schools(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        await add_school(session, "echt")
    async with session_factory() as session:
        skipped = await unit(session, create_demo_data, if_empty=True)
        created = await unit(session, create_demo_data, if_empty=False)
    assert not skipped.created
    assert created.created
