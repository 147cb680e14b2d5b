"""The mentor's open referrals kept per process between updates (issue 16): valid until a case
changes (``cache_version.case_version``), read again on the next update after any change, and
never kept from a transaction that wrote a case itself.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.accounts.people import set_language
from services.kernel.uow import current_update_unit, run_update_unit
from services.referrals.decisions import decline
from services.referrals.duplicates import OpenReferral, open_referrals_of_mentees
from storage.models import CacheVersion, Person, Role
from tests.support.factories import NOW, add_mentorship, add_person, add_queued_referral, add_school
from tests.support.statements import statements_reading
from tests.support.units import unit


async def _world(factory: async_sessionmaker[AsyncSession]) -> tuple[Person, Person, Person]:
    async with factory() as session, session.begin():
        school = await add_school(session)
        zoco = await add_person(session, school, "zoco", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m1", Role.MENTOR, given_name="Mira")
        sam = await add_person(session, school, "s1", Role.STUDENT, given_name="Sam")
        await add_mentorship(session, mentor, sam)
    return zoco, mentor, sam


async def _in_update(
    factory: async_sessionmaker[AsyncSession], mentor: Person
) -> dict[int, tuple[OpenReferral, ...]]:
    """What a Telegram update's step reads (the update's unit of work and process cache)."""

    async def work() -> dict[int, tuple[OpenReferral, ...]]:
        current = current_update_unit()
        assert current is not None
        return await open_referrals_of_mentees(session=current.session, mentor=mentor)

    found = await run_update_unit(factory, work)
    assert found is not None
    return found


async def _versions(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with factory() as session:
        row = (
            await session.execute(
                select(CacheVersion.version, CacheVersion.case_version).where(CacheVersion.id == 1)
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_kept_between_updates_until_a_case_changes_anywhere(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    zoco, mentor, sam = await _world(session_factory)
    assert await _in_update(session_factory, mentor) == {}

    # A referral written outside any update (the web, another worker, the CLI).
    async with session_factory() as session, session.begin():
        item = await add_queued_referral(session, mentor, sam)

    with statements_reading(engine, "referral") as reads:
        first = await _in_update(session_factory, mentor)
        assert len(reads) == 1, "the write bumped the case version: read again"
        again = await _in_update(session_factory, mentor)
        assert len(reads) == 1, "nothing changed: kept from the update before"
    assert set(first) == {sam.id}
    assert again == first

    await unit(
        session_factory,
        decline,
        actor=zoco,
        queue_item_id=item.id,
        reason="Eerst een gesprek.",
        now=NOW + timedelta(days=1),
    )
    with statements_reading(engine, "referral") as reads:
        assert await _in_update(session_factory, mentor) == {}, "declined: no longer open"
        assert len(reads) == 1


async def test_a_change_to_a_person_is_not_a_change_to_a_case_and_the_other_way_round(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _zoco, mentor, sam = await _world(session_factory)
    people, cases = await _versions(session_factory)

    async with session_factory() as session, session.begin():
        await add_queued_referral(session, mentor, sam)
    after_referral = await _versions(session_factory)
    assert after_referral[0] == people, "the people cache stays"
    assert after_referral[1] > cases, "the cases cache is dropped"

    async with session_factory() as session, session.begin():
        stored = await session.get_one(Person, mentor.id)
        await set_language(session=session, person=stored, language="en")
    assert await _versions(session_factory) == (people + 1, after_referral[1])


async def test_an_update_that_wrote_a_case_does_not_keep_what_it_read(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _zoco, mentor, sam = await _world(session_factory)

    class UndoneError(Exception):
        pass

    async def write_read_and_fail() -> None:
        current = current_update_unit()
        assert current is not None
        await add_queued_referral(current.session, mentor, sam)
        seen = await open_referrals_of_mentees(session=current.session, mentor=mentor)
        assert set(seen) == {sam.id}  # its own write, not committed
        raise UndoneError

    with suppress(UndoneError):
        await run_update_unit(session_factory, write_read_and_fail)
    assert await _in_update(session_factory, mentor) == {}, "the rolled-back referral is gone"


async def test_a_transaction_that_writes_cases_in_several_flushes_bumps_the_version_once(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    _zoco, mentor, sam = await _world(session_factory)
    bumps: list[str] = []

    def on_statement(_c: object, _cur: object, statement: str, *_args: object) -> None:
        if statement.startswith("UPDATE cache_version"):
            bumps.append(statement)

    async with session_factory() as session:
        before = await session.scalar(select(CacheVersion.case_version))
    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    try:
        async with session_factory() as session, session.begin():
            # Sending a referral: its referral, consents, queue item and notices, flushed in turns.
            await add_queued_referral(session, mentor, sam)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
    async with session_factory() as session:
        after = await session.scalar(select(CacheVersion.case_version))
    assert len(bumps) == 1
    assert after == (before or 0) + 1
