"""Issue 15 in storage: the referral's asks and consents, the rule, recording and withdrawing,
the district coach asked in (refused without consent) and their access (one rule), the
student's own words (asked once, answered once, by that student only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.consent.records import record_consent, withdraw_consent
from services.consent.rules import ConsentFact, consent_holds
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.referrals.student_voice import ask_student_voice, save_student_voice
from services.referrals.submission import submit_referral
from services.trajectories.access import case_trajectory
from services.trajectories.district_coach import ask_district_coach_in, district_coach_cases
from services.trajectories.logbook import add_logbook_entry
from services.trajectories.view import open_trajectory
from storage.models import (
    Absence,
    AuditLog,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    ExternalCare,
    Guardianship,
    ObservationFocus,
    Outbox,
    Person,
    Referral,
    Role,
    School,
    SupportKind,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_school,
    add_trajectory,
    draft,
)

S, P = ConsentGiver.STUDENT, ConsentGiver.PARENT
DC = ConsentPurpose.DISTRICT_COACH


def test_the_rule_needs_the_student_and_a_parent_and_a_withdrawal_ends_it() -> None:
    assert not consent_holds([], DC)
    assert not consent_holds([ConsentFact(S, DC, False)], DC)
    assert not consent_holds([ConsentFact(P, DC, False)], DC)
    assert not consent_holds(
        [ConsentFact(S, DC, False), ConsentFact(P, ConsentPurpose.TRAJECTORY, False)], DC
    )
    assert consent_holds([ConsentFact(S, DC, False), ConsentFact(P, DC, False)], DC)
    assert not consent_holds([ConsentFact(S, DC, True), ConsentFact(P, DC, False)], DC)


@dataclass
class World:
    mentor: Person
    student: Person
    parent: Person
    coordinator: Person
    coach: Person
    district_coach: Person
    other_coordinator: Person
    trajectory_id: int
    referral_id: int


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        other = await add_school(session, "havo-zuid")
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        parent = await add_person(session, school, "p1", Role.PARENT)
        coordinator = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        coach = await add_person(session, school, "c1", Role.COACH)
        # The district coach is registered at another school of the partnership.
        district = await add_person(session, other, "d1", Role.DISTRICT_COACH)
        other_coordinator = await add_person(session, other, "z2", Role.CARE_COORDINATOR)
        await add_mentorship(session, mentor, student)
        session.add(Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id))
        await session.flush()
        trajectory = await add_trajectory(session, mentor, student)
        return World(
            mentor,
            student,
            parent,
            coordinator,
            coach,
            district,
            other_coordinator,
            trajectory.id,
            trajectory.referral_id,
        )


async def test_submission_keeps_the_asks_and_records_each_consent(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session, session.begin():
        referral = await submit_referral(
            session=session,
            mentor=world.mentor,
            draft=draft(
                world.student.id,
                support=(SupportKind.CLASS_OBSERVATION,),
                external_care=ExternalCare.YES,
                external_care_which="Jeugdhulp\u202e wekelijks ",
                absence=Absence.SOME,
                absence_days=3,
                observation_focus=(ObservationFocus.CLASS, ObservationFocus.CLASS),
                parents_language="ar",
                interpreter_needed=True,
                consents=((world.student.id, DC), (world.parent.id, DC)),
                ask_student_now=True,
            ),
            now=NOW,
        )
        referral_id = referral.id
    async with session_factory() as session:
        stored = await session.get(Referral, referral_id)
        assert stored is not None
        # Bidi controls stripped, outer space trimmed, like the other free text.
        assert stored.external_care_which == "Jeugdhulp wekelijks"
        assert (stored.absence, stored.absence_days) == ("some", 3)
        assert stored.observation_focus == ["class"]
        assert (stored.parents_language, stored.interpreter_needed) == ("ar", True)
        consents = list(await session.scalars(select(Consent).order_by(Consent.id)))
        assert [(c.giver, c.giver_id, c.purpose, c.recorded_by_id) for c in consents] == [
            (S, world.student.id, DC, world.mentor.id),
            (P, world.parent.id, DC, world.mentor.id),
        ]
        # Asked now (the mentor's choice): one question to the student.
        asked = list(
            await session.scalars(select(Outbox).where(Outbox.kind == "referral.student_voice"))
        )
        assert [(o.recipient_id, o.payload) for o in asked] == [
            (world.student.id, {"referral_id": referral_id})
        ]


async def test_a_referral_with_one_consent_of_someone_else_stores_nothing(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    # The givers are checked together before anything is written: the student's and the
    # parent's consents are not stored beside a refused one, nor is the referral.
    async with session_factory() as session, session.begin():
        before = await session.scalar(select(func.count()).select_from(Consent))
        referrals = await session.scalar(select(func.count()).select_from(Referral))
        second = await add_person(
            session, await session.get_one(School, world.parent.school_id), "s9", Role.STUDENT
        )
        stranger = await add_person(
            session, await session.get_one(School, world.parent.school_id), "p9", Role.PARENT
        )
        session.add(
            Guardianship(school_id=second.school_id, parent_id=stranger.id, student_id=second.id)
        )
    for giver in (stranger.id, world.mentor.id, world.other_coordinator.id):
        with pytest.raises(NotAllowed):
            async with session_factory() as session, session.begin():
                await submit_referral(
                    session=session,
                    mentor=world.mentor,
                    draft=draft(
                        world.student.id,
                        consents=((world.student.id, DC), (world.parent.id, DC), (giver, DC)),
                    ),
                    now=NOW,
                )
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Consent)) == before
        assert await session.scalar(select(func.count()).select_from(Referral)) == referrals
        # Each stored consent has its own audit row, naming it (the batch keeps that).
        referral = await submit_referral(
            session=session,
            mentor=world.mentor,
            draft=draft(world.student.id, consents=((world.student.id, DC), (world.parent.id, DC))),
            now=NOW,
        )
        stored = list(
            await session.scalars(
                select(Consent).where(Consent.referral_id == referral.id).order_by(Consent.id)
            )
        )
        audits = list(
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.action == "consent.record", AuditLog.subject_id == referral.id)
                .order_by(AuditLog.id)
            )
        )
        assert [(c.giver, c.giver_id) for c in stored] == [
            (S, world.student.id),
            (P, world.parent.id),
        ]
        assert [a.details for a in audits] == [
            {"consent_id": c.id, "purpose": "district_coach", "giver": c.giver.value}
            for c in stored
        ]
        await session.rollback()


async def test_a_consent_of_someone_else_is_refused(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    with pytest.raises(NotAllowed):
        async with session_factory() as session, session.begin():
            await record_consent(
                session=session,
                actor=world.coordinator,
                referral_id=world.referral_id,
                giver_id=world.mentor.id,
                purpose=DC,
                now=NOW,
            )
    with pytest.raises(NotAllowed):  # only the care coordinator records later
        async with session_factory() as session, session.begin():
            await record_consent(
                session=session,
                actor=world.coach,
                referral_id=world.referral_id,
                giver_id=world.parent.id,
                purpose=DC,
                now=NOW,
            )


async def _consent_both(factory: async_sessionmaker[AsyncSession], world: World) -> list[int]:
    async with factory() as session, session.begin():
        return [
            await record_consent(
                session=session,
                actor=world.coordinator,
                referral_id=world.referral_id,
                giver_id=giver.id,
                purpose=DC,
                now=NOW,
            )
            for giver in (world.student, world.parent)
        ]


async def _ask_in(factory: async_sessionmaker[AsyncSession], world: World) -> None:
    async with factory() as session, session.begin():
        await ask_district_coach_in(
            session=session,
            actor=world.coordinator,
            trajectory_id=world.trajectory_id,
            district_coach_id=world.district_coach.id,
            now=NOW,
        )


async def _opens(factory: async_sessionmaker[AsyncSession], person: Person, world: World) -> bool:
    try:
        async with factory() as session, session.begin():
            await open_trajectory(
                session=session, viewer=person, trajectory_id=world.trajectory_id, now=NOW
            )
    except NotAllowed:
        return False
    return True


async def test_the_district_coach_needs_consent_and_to_be_asked_in(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    # Not asked in, no consent: nothing.
    assert not await _opens(session_factory, world.district_coach, world)
    # Asking in without consent is refused.
    with pytest.raises(InvalidTransition):
        await _ask_in(session_factory, world)
    consent_ids = await _consent_both(session_factory, world)
    # Consent but not asked in: still nothing.
    assert not await _opens(session_factory, world.district_coach, world)
    # Only the trajectory school's care coordinator asks in.
    with pytest.raises(NotAllowed):
        async with session_factory() as session, session.begin():
            await ask_district_coach_in(
                session=session,
                actor=world.other_coordinator,
                trajectory_id=world.trajectory_id,
                district_coach_id=world.district_coach.id,
                now=NOW,
            )
    await _ask_in(session_factory, world)
    assert await _opens(session_factory, world.district_coach, world)
    async with session_factory() as session, session.begin():
        cases = await district_coach_cases(session=session, viewer=world.district_coach, now=NOW)
        assert [c.trajectory_id for c in cases] == [world.trajectory_id]
        entry = await add_logbook_entry(
            session=session,
            author=world.district_coach,
            trajectory_id=world.trajectory_id,
            text="Observatie in 2B gedaan.",
            now=NOW,
        )
        assert entry > 0
    # The parent withdraws: the access ends at once.
    async with session_factory() as session, session.begin():
        await withdraw_consent(
            session=session,
            actor=world.coordinator,
            consent_id=consent_ids[1],
            now=NOW + timedelta(days=1),
        )
    assert not await _opens(session_factory, world.district_coach, world)
    with pytest.raises(NotAllowed):
        async with session_factory() as session, session.begin():
            await case_trajectory(
                session=session,
                actor=world.district_coach,
                trajectory_id=world.trajectory_id,
                now=NOW,
            )
    async with session_factory() as session, session.begin():
        assert (
            await district_coach_cases(session=session, viewer=world.district_coach, now=NOW) == []
        )


async def test_a_case_they_were_not_asked_in_on_stays_closed(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _consent_both(session_factory, world)
    await _ask_in(session_factory, world)
    async with session_factory() as session, session.begin():
        school = await session.get(School, world.student.school_id)
        assert school is not None
        student2 = await add_person(session, school, "s2", Role.STUDENT)
        await add_mentorship(session, world.mentor, student2)
        second = await add_trajectory(session, world.mentor, student2)
        second_id = second.id
    with pytest.raises(NotAllowed):
        async with session_factory() as session, session.begin():
            await case_trajectory(
                session=session, actor=world.district_coach, trajectory_id=second_id, now=NOW
            )


async def test_the_students_own_words_are_asked_once_and_kept_beside_the_mentors(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session, session.begin():
        referral = await session.get_one(Referral, world.referral_id)
        assert await ask_student_voice(session=session, referral=referral, now=NOW)
        assert not await ask_student_voice(session=session, referral=referral, now=NOW)
    with pytest.raises(NotAllowed):  # not the referral's student
        async with session_factory() as session, session.begin():
            await save_student_voice(
                session=session,
                person=world.parent,
                referral_id=world.referral_id,
                text="Ik wil hulp bij plannen.",
                now=NOW,
            )
    with pytest.raises(InputInvalid):
        async with session_factory() as session, session.begin():
            await save_student_voice(
                session=session,
                person=world.student,
                referral_id=world.referral_id,
                text="kort",
                now=NOW,
            )
    async with session_factory() as session, session.begin():
        await save_student_voice(
            session=session,
            person=world.student,
            referral_id=world.referral_id,
            text="Ik wil hulp bij plannen.\u202e",
            now=NOW,
        )
    with pytest.raises(InvalidTransition):  # answered once
        async with session_factory() as session, session.begin():
            await save_student_voice(
                session=session,
                person=world.student,
                referral_id=world.referral_id,
                text="Toch iets anders.",
                now=NOW,
            )
    async with session_factory() as session:
        stored = await session.get_one(Referral, world.referral_id)
        assert stored.student_voice == "Ik wil hulp bij plannen."
        assert stored.help_question_student == "Ik wil rustiger worden in de klas."
        asked = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.kind == "referral.student_voice")
        )
        assert asked == 1
