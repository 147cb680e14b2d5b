"""Submitting referrals: the four writes together, authorization from the database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.errors import DraftInvalid, NotAllowed
from services.referrals.submission import SupportKind, list_referrals_by_mentor, submit_referral
from storage.models import (
    AuditLog,
    Outbox,
    OutboxStatus,
    Person,
    PersonRole,
    QueueItem,
    QueueStatus,
    Referral,
    Role,
    School,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_school, count, draft


@dataclass
class World:
    school: School
    mentor: Person
    other_mentor: Person
    student: Person
    parent: Person
    coordinators: tuple[Person, Person]


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m1", Role.MENTOR, Role.TEACHER)
        other_mentor = await add_person(session, school, "m2", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT, group_name="2B")
        parent = await add_person(session, school, "p1", Role.PARENT)
        zoco1 = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        zoco2 = await add_person(session, school, "z2", Role.CARE_COORDINATOR, Role.COACH)
        await add_mentorship(session, mentor, student)
    return World(school, mentor, other_mentor, student, parent, (zoco1, zoco2))


async def _counts(session: AsyncSession) -> tuple[int, int, int, int]:
    return (
        await count(session, Referral),
        await count(session, QueueItem),
        await count(session, Outbox),
        await count(session, AuditLog),
    )


async def test_submit_writes_referral_queue_outbox_and_audit(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        referral = await submit_referral(
            session=session,
            mentor=world.mentor,
            draft=draft(world.student.id, support=(SupportKind.TIME_OUT, SupportKind.TIME_OUT)),
            now=NOW,
        )

    async with session_factory() as session:
        stored = await session.get_one(Referral, referral.id)
        assert stored.school_id == world.school.id
        assert stored.mentor_id == world.mentor.id
        assert stored.support == ["time_out"]
        assert stored.intake_days == ["mon", "wed"]
        assert stored.created_at == NOW

        item = (await session.scalars(select(QueueItem))).one()
        assert (item.referral_id, item.status, item.school_id) == (
            referral.id,
            QueueStatus.NEW,
            world.school.id,
        )

        outbox = list(await session.scalars(select(Outbox).order_by(Outbox.recipient_id)))
        assert [o.recipient_id for o in outbox] == sorted(c.id for c in world.coordinators)
        for message in outbox:
            assert message.kind == "referral.new"
            assert message.status is OutboxStatus.PENDING
            assert message.payload == {"referral_id": referral.id, "queue_item_id": item.id}
            assert message.dedup_key == f"referral.new:{referral.id}:{message.recipient_id}"

        audit = (await session.scalars(select(AuditLog))).one()
        assert (audit.action, audit.actor_id, audit.subject_id) == (
            "referral.submit",
            world.mentor.id,
            referral.id,
        )
        # Ids only: no free text from the referral leaks into the audit trail.
        assert audit.details == {"student_id": world.student.id, "queue_item_id": item.id}


async def test_submit_is_atomic(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # A notification that cannot be written (its dedup key is taken) must take the referral
    # and the queue item down with it.
    async with session_factory() as session, session.begin():
        session.add(
            Outbox(
                school_id=world.school.id,
                recipient_id=world.coordinators[1].id,
                kind="referral.new",
                payload={},
                dedup_key=f"referral.new:1:{world.coordinators[1].id}",
            )
        )
    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            await submit_referral(
                session=session, mentor=world.mentor, draft=draft(world.student.id), now=NOW
            )
    async with session_factory() as session:
        assert await _counts(session) == (0, 0, 1, 0)


@pytest.mark.parametrize("who", ["other_mentor", "parent", "student", "coordinator"])
async def test_only_the_students_mentor_may_refer(
    world: World, session_factory: async_sessionmaker[AsyncSession], who: str
) -> None:
    actor = {
        "other_mentor": world.other_mentor,
        "parent": world.parent,
        "student": world.student,
        "coordinator": world.coordinators[0],
    }[who]
    async with session_factory() as session:
        with pytest.raises(NotAllowed) as refused:
            async with session.begin():
                await submit_referral(
                    session=session, mentor=actor, draft=draft(world.student.id), now=NOW
                )
        assert refused.value.reason.msgid
        assert await _counts(session) == (0, 0, 0, 0)


async def test_mentor_of_another_school_is_refused(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        elsewhere = await add_school(session, "havo-zuid")
        outsider = await add_person(session, elsewhere, "m1", Role.MENTOR)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            async with session.begin():
                await submit_referral(
                    session=session, mentor=outsider, draft=draft(world.student.id), now=NOW
                )
        assert await _counts(session) == (0, 0, 0, 0)


async def test_roles_are_read_from_the_database_not_the_object(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # The caller's Person still says "mentor"; the database no longer does.
    assert world.mentor.has_role(Role.MENTOR)
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(PersonRole).where(
                PersonRole.person_id == world.mentor.id, PersonRole.role == Role.MENTOR
            )
        )
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            async with session.begin():
                await submit_referral(
                    session=session, mentor=world.mentor, draft=draft(world.student.id), now=NOW
                )
        assert await count(session, Referral) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"help_question_student": "   "}, "help_question_student"),
        ({"tried": "x" * 2001}, "tried"),
        ({"works_at_home": ""}, "works_at_home"),
        ({"support": ()}, "support"),
        ({"parents_informed": False}, "parents_not_informed_reason"),
        ({"text_language": "xx"}, "text_language"),
        ({"urgency": "asap"}, "urgency"),
    ],
)
async def test_invalid_drafts_are_refused(
    world: World,
    session_factory: async_sessionmaker[AsyncSession],
    changes: dict[str, object],
    field: str,
) -> None:
    async with session_factory() as session:
        with pytest.raises(DraftInvalid) as invalid:
            async with session.begin():
                await submit_referral(
                    session=session,
                    mentor=world.mentor,
                    draft=draft(world.student.id, **changes),
                    now=NOW,
                )
        assert set(invalid.value.problems) == {field}
        assert await count(session, Referral) == 0


async def test_reason_is_kept_only_when_parents_were_not_informed(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        informed = await submit_referral(
            session=session,
            mentor=world.mentor,
            draft=draft(world.student.id, parents_not_informed_reason="n.v.t."),
            now=NOW,
        )
        not_informed = await submit_referral(
            session=session,
            mentor=world.mentor,
            draft=draft(
                world.student.id,
                parents_informed=False,
                parents_not_informed_reason="Eerst met leerling bespreken.",
            ),
            now=NOW,
        )
    assert informed.parents_not_informed_reason is None
    assert not_informed.parents_not_informed_reason == "Eerst met leerling bespreken."


async def test_list_referrals_by_mentor(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        first = await submit_referral(
            session=session, mentor=world.mentor, draft=draft(world.student.id), now=NOW
        )
    async with session_factory() as session:
        mine = await list_referrals_by_mentor(session=session, mentor=world.mentor)
        theirs = await list_referrals_by_mentor(session=session, mentor=world.other_mentor)
    assert [r.id for r in mine] == [first.id]
    assert theirs == []
