"""The verwijzing's mentee and parent options kept per process between updates (issue 16):
built once per cache version, and built again on the next update after a person, a
mentorship or a guardianship changed anywhere (the web, another worker, the CLI).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.flow import FlowContext
from dialogs.flows.verwijzing import MENTEES, VERWIJZING, parents_key
from services.conversations.bindings import binding_for
from services.kernel.uow import current_update_unit, run_update_unit
from storage.models import Guardianship, Person, Role
from tests.support.factories import add_mentorship, add_person, add_school
from tests.support.statements import statements_reading

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _context_in_update(
    factory: async_sessionmaker[AsyncSession], mentor: Person
) -> FlowContext:
    """What one step of a Telegram update builds (the update's unit of work and cache)."""
    builder = binding_for(VERWIJZING.id).answers_context
    assert builder is not None

    async def work() -> FlowContext:
        current = current_update_unit()
        assert current is not None
        # A step in the middle of the flow: the open referrals are not read there.
        return await builder(
            session=current.session, person=mentor, now=NOW, answers={}, step="urgency"
        )

    context = await run_update_unit(factory, work)
    assert context is not None
    return context


def _labels(context: FlowContext, key: str) -> list[str]:
    return [str(option.label.params["value"]) for option in context.choices.get(key, ())]


async def test_kept_between_steps_and_rebuilt_after_a_change_to_the_people(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        sam = await add_person(session, school, "s1", Role.STUDENT, given_name="Sam")
        await add_mentorship(session, mentor, sam)

    with statements_reading(engine, "mentorship", "guardianship") as reads:
        first = await _context_in_update(session_factory, mentor)
        built = len(reads)
        again = await _context_in_update(session_factory, mentor)
        assert len(reads) == built, "nothing changed: the options come from the process cache"
    assert built > 0
    assert again == first
    assert _labels(first, MENTEES) == ["Sam Persoon-s1"]
    assert parents_key(str(sam.id)) not in first.choices

    # A parent and a second mentee added outside any update.
    async with session_factory() as session, session.begin():
        stored_school = await session.get_one(type(school), school.id)
        parent = await add_person(session, stored_school, "p1", Role.PARENT, given_name="Pia")
        ada = await add_person(session, stored_school, "s2", Role.STUDENT, given_name="Ada")
        session.add(Guardianship(school_id=school.id, parent_id=parent.id, student_id=sam.id))
        await add_mentorship(session, mentor, ada)

    changed = await _context_in_update(session_factory, mentor)
    assert sorted(_labels(changed, MENTEES)) == ["Ada Persoon-s2", "Sam Persoon-s1"]
    assert _labels(changed, parents_key(str(sam.id))) == ["Pia Persoon-p1"]
