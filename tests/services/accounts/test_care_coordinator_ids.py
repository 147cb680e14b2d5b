"""`care_coordinator_ids`: whom a new item in the queue is told about, read once per cache
version inside a Telegram update, and anew once a role changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.accounts.people import care_coordinator_ids, care_coordinators_of
from services.kernel.uow import run_unit_of_work, run_update_unit
from storage.models import Role, School
from tests.support.factories import add_person, add_school
from tests.support.statements import statements_reading


async def test_ids_in_the_order_of_the_coordinators_and_cached_per_version(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        await add_person(session, school, "zc-2", Role.CARE_COORDINATOR, family_name="Zwart")
        await add_person(session, school, "zc-1", Role.CARE_COORDINATOR, family_name="Aalders")
        await add_person(session, school, "mentor", Role.MENTOR)
        school_id = school.id

    async def ids_in_an_update() -> tuple[int, ...]:
        return (
            await run_update_unit(
                session_factory,
                lambda: run_unit_of_work(
                    session_factory,
                    lambda s: care_coordinator_ids(session=s, school_id=school_id),
                ),
            )
            or ()
        )

    async with session_factory() as session:
        people = await care_coordinators_of(session=session, school_id=school_id)
    expected = tuple(person.id for person in people)
    assert len(expected) == 2
    with statements_reading(engine, "person") as reads:
        assert await ids_in_an_update() == expected
        assert await ids_in_an_update() == expected  # the process cache: no read
    assert len(reads) == 1

    # A coordinator added (the cache version moves): the next update sees them.
    async with session_factory() as session, session.begin():
        school = await session.get_one(School, school_id)
        added = await add_person(
            session, school, "zc-3", Role.CARE_COORDINATOR, family_name="Mulder"
        )
    assert set(await ids_in_an_update()) == {*expected, added.id}
