"""Age 18 (domain.md): a student of 18 or older decides whether their parents still see their
data. The pure rule, the answer's write and what it withdraws, and every parent-facing read and
notice that reaches the student through `Guardianship` (one rule: `parents_see`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.i18n import SCHOOL_TIMEZONE
from services.appointments.access import bookable_students
from services.consent.records import has_consent, record_consent
from services.consent.rules import ConsentFact, consent_holds
from services.kernel.access import is_parent_of
from services.kernel.adulthood import (
    ADULT_AGE,
    age_on,
    is_adult,
    may_decide,
    must_ask,
    years_before,
)
from services.kernel.errors import NotAllowed
from services.outbox.kinds import OutboxKind
from services.privacy.parents_access import (
    AUDIT_ACTION,
    answer_parents_access,
)
from services.privacy.retention import run_housekeeping
from services.queue.referral_view import extra_lines, open_referral
from services.referrals.decisions import accept_for_intake, take_in_analysis
from services.trajectories.intake_report import intake_report_readers
from services.trajectories.logbook import can_read_logbook
from storage.models import (
    AuditLog,
    ConsentGiver,
    ConsentPurpose,
    Guardianship,
    Outbox,
    OutboxStatus,
    Person,
    RespondentType,
    Role,
    School,
    SurveyInvitation,
    Trajectory,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
    add_trajectory,
)

#: 20 and 12 on the factories' `NOW` (every check reads the caller's clock).
ADULT_BIRTH = date(NOW.year - 20, 1, 15)
CHILD_BIRTH = date(NOW.year - 12, 1, 15)


# -- the pure rule ----------------------------------------------------------------------------


def test_age_counts_whole_years_and_a_leap_day_birthday_turns_on_the_first_of_march() -> None:
    assert age_on(date(2008, 12, 4), date(2026, 12, 4)) == 18
    assert age_on(date(2008, 12, 5), date(2026, 12, 4)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert is_adult(date(2008, 12, 4), date(2026, 12, 4))
    assert not is_adult(date(2008, 12, 5), date(2026, 12, 4))
    assert not is_adult(None, date(2026, 12, 4))  # no birth date supplied: not an adult


def test_only_an_adult_student_decides_and_is_asked_until_they_answered() -> None:
    today = date(2026, 12, 4)
    student = Person(birth_date=date(2008, 1, 1), parents_access_answered_at=None)
    student.roles = []
    assert not may_decide(student, today)  # a birth date alone is not a student
    from storage.models import PersonRole

    student.roles = [PersonRole(role=Role.STUDENT)]
    assert may_decide(student, today)
    assert must_ask(student, today)
    student.parents_access_answered_at = datetime(2026, 12, 1, tzinfo=NOW.tzinfo)
    assert may_decide(student, today)
    assert not must_ask(student, today)
    student.birth_date = date(2010, 1, 1)
    assert not may_decide(student, today)


def test_an_adult_student_consents_alone() -> None:
    s, p, dc = ConsentGiver.STUDENT, ConsentGiver.PARENT, ConsentPurpose.DISTRICT_COACH
    assert consent_holds([ConsentFact(s, dc, False)], dc, adult=True)
    assert not consent_holds([ConsentFact(s, dc, False)], dc)  # a minor needs a parent too
    assert not consent_holds([ConsentFact(p, dc, False)], dc, adult=True)
    assert not consent_holds([ConsentFact(s, dc, True), ConsentFact(p, dc, False)], dc, adult=True)


# -- the write and what it withdraws ----------------------------------------------------------


@dataclass
class Family:
    adult: Person
    sibling: Person
    parent: Person
    mentor: Person
    coordinator: Person
    adult_trajectory: Trajectory
    sibling_trajectory: Trajectory


@pytest.fixture
async def family(session_factory: async_sessionmaker[AsyncSession]) -> Family:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        adult = await add_person(session, school, "s-adult", Role.STUDENT)
        adult.birth_date = ADULT_BIRTH
        sibling = await add_person(session, school, "s-child", Role.STUDENT)
        sibling.birth_date = CHILD_BIRTH
        parent = await add_person(session, school, "p1", Role.PARENT)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        coordinator = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        for student in (adult, sibling):
            await add_mentorship(session, mentor, student)
            session.add(
                Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id)
            )
        await session.flush()
        adult_trajectory = await add_trajectory(session, mentor, adult)
        sibling_trajectory = await add_trajectory(session, mentor, sibling)
        return Family(
            adult, sibling, parent, mentor, coordinator, adult_trajectory, sibling_trajectory
        )


def _pending(school_id: int, parent_id: int, kind: OutboxKind, **payload: int) -> Outbox:
    return Outbox(
        school_id=school_id,
        recipient_id=parent_id,
        kind=kind,
        payload=payload,
        dedup_key=f"test:{kind}:{sorted(payload.items())}",
        next_attempt_at=NOW + timedelta(days=1),
    )


async def test_no_ends_what_the_parents_see_of_that_student_only_and_yes_gives_it_back(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    school_id = family.adult.school_id
    async with session_factory() as session, session.begin():
        about_adult = _pending(
            school_id,
            family.parent.id,
            OutboxKind.INTAKE_REPORT,
            trajectory_id=family.adult_trajectory.id,
        )
        about_sibling = _pending(
            school_id,
            family.parent.id,
            OutboxKind.INTAKE_REPORT,
            trajectory_id=family.sibling_trajectory.id,
        )
        session.add_all([about_adult, about_sibling])
        invitation = SurveyInvitation(
            school_id=school_id,
            trajectory_id=family.adult_trajectory.id,
            respondent_id=family.parent.id,
            respondent_type=RespondentType.PARENT,
            created_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=14),
        )
        session.add(invitation)
        await session.flush()
        ids = (about_adult.id, about_sibling.id, invitation.id)
        # Before: the parent sees both children.
        parent = await session.get(Person, family.parent.id)
        assert parent is not None
        assert await is_parent_of(session=session, parent=parent, student_id=family.adult.id)
        booking = {sid for sid, _ in await bookable_students(session=session, person=parent)}
        assert booking == {family.adult.id, family.sibling.id}

    async with session_factory() as session, session.begin():
        await answer_parents_access(session=session, student=family.adult, share=False, now=NOW)

    async with session_factory() as session, session.begin():
        adult = await session.get(Person, family.adult.id)
        parent = await session.get(Person, family.parent.id)
        assert adult is not None
        assert parent is not None
        assert adult.parents_access_withdrawn_at is not None
        assert adult.parents_access_answered_at is not None
        assert not await is_parent_of(session=session, parent=parent, student_id=adult.id)
        assert await is_parent_of(session=session, parent=parent, student_id=family.sibling.id)
        booking = {sid for sid, _ in await bookable_students(session=session, person=parent)}
        assert booking == {family.sibling.id}
        readers = await intake_report_readers(session=session, trajectory=family.adult_trajectory)
        assert parent.id not in readers
        assert adult.id in readers
        sibling_readers = await intake_report_readers(
            session=session, trajectory=family.sibling_trajectory
        )
        assert parent.id in sibling_readers
        statuses = {
            row.id: row.status
            for row in await session.scalars(select(Outbox).where(Outbox.id.in_(ids[:2])))
        }
        assert statuses == {ids[0]: OutboxStatus.CANCELLED, ids[1]: OutboxStatus.PENDING}
        expired = await session.get(SurveyInvitation, ids[2])
        assert expired is not None
        assert expired.expires_at <= NOW
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == AUDIT_ACTION))
        ).one()
        assert audit.actor_id == adult.id
        assert audit.details == {"share": False}

    async with session_factory() as session, session.begin():
        await answer_parents_access(session=session, student=family.adult, share=True, now=NOW)
    async with session_factory() as session, session.begin():
        parent = await session.get(Person, family.parent.id)
        adult = await session.get(Person, family.adult.id)
        assert parent is not None
        assert adult is not None
        assert adult.parents_access_withdrawn_at is None
        assert await is_parent_of(session=session, parent=parent, student_id=adult.id)


async def test_the_logbook_menu_follows_the_answer(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    """A parent whose only child with a trajectory withdrew their access loses the logbook."""
    async with session_factory() as session, session.begin():
        await session.delete(await session.get(Trajectory, family.sibling_trajectory.id))
    async with session_factory() as session, session.begin():
        parent = await session.get(Person, family.parent.id)
        assert parent is not None
        assert await can_read_logbook(session=session, reader=parent)
        await answer_parents_access(session=session, student=family.adult, share=False, now=NOW)
    async with session_factory() as session, session.begin():
        parent = await session.get(Person, family.parent.id)
        assert parent is not None
        assert not await can_read_logbook(session=session, reader=parent)


async def test_a_minor_or_a_parent_cannot_answer(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    for who in (family.sibling, family.parent):
        async with session_factory() as session, session.begin():
            with pytest.raises(NotAllowed):
                await answer_parents_access(session=session, student=who, share=False, now=NOW)
    async with session_factory() as session:
        sibling = await session.get(Person, family.sibling.id)
        assert sibling is not None
        assert sibling.parents_access_answered_at is None
        audits = await session.scalars(select(AuditLog).where(AuditLog.action == AUDIT_ACTION))
        assert audits.all() == []


async def test_an_adult_students_own_consent_holds_on_the_referral(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    purpose = ConsentPurpose.DISTRICT_COACH
    for trajectory in (family.adult_trajectory, family.sibling_trajectory):
        async with session_factory() as session, session.begin():
            await record_consent(
                session=session,
                actor=family.coordinator,
                referral_id=trajectory.referral_id,
                giver_id=trajectory.student_id,
                purpose=purpose,
                now=NOW,
            )
    async with session_factory() as session:
        referral_ids = (family.adult_trajectory.referral_id, family.sibling_trajectory.referral_id)
        adult, minor = [
            await has_consent(session=session, referral_id=rid, purpose=purpose, now=NOW)
            for rid in referral_ids
        ]
        assert adult
        assert not minor


async def test_the_consent_rule_reads_the_age_on_the_callers_day(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    # The sibling turns 18 tomorrow (school time): their own consent holds from then on,
    # whatever the machine's clock says.
    purpose = ConsentPurpose.DISTRICT_COACH
    referral_id = family.sibling_trajectory.referral_id
    tomorrow = NOW + timedelta(days=1)
    async with session_factory() as session, session.begin():
        sibling = await session.get(Person, family.sibling.id)
        assert sibling is not None
        sibling.birth_date = years_before(tomorrow.astimezone(SCHOOL_TIMEZONE).date(), 18)
        await record_consent(
            session=session,
            actor=family.coordinator,
            referral_id=referral_id,
            giver_id=sibling.id,
            purpose=purpose,
            now=NOW,
        )
    async with session_factory() as session:
        assert not await has_consent(
            session=session, referral_id=referral_id, purpose=purpose, now=NOW
        )
        assert await has_consent(
            session=session, referral_id=referral_id, purpose=purpose, now=tomorrow
        )


async def test_acceptance_asks_the_adult_student_to_book_and_not_the_parents_they_shut_out(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    async with session_factory() as session, session.begin():
        for trajectory in (family.adult_trajectory, family.sibling_trajectory):
            await session.delete(await session.get(Trajectory, trajectory.id))
    async with session_factory() as session, session.begin():
        await answer_parents_access(session=session, student=family.adult, share=False, now=NOW)
        item = await add_queued_referral(session, family.mentor, family.adult)
        sibling_item = await add_queued_referral(session, family.mentor, family.sibling)
    for queued in (item, sibling_item):
        async with session_factory() as session, session.begin():
            await take_in_analysis(
                session=session, actor=family.coordinator, queue_item_id=queued.id, now=NOW
            )
            await accept_for_intake(
                session=session, actor=family.coordinator, queue_item_id=queued.id, now=NOW
            )
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(Outbox.recipient_id, Outbox.kind, Outbox.payload).where(
                    Outbox.kind.in_(
                        (OutboxKind.REFERRAL_ACCEPTED_PARENT, OutboxKind.REFERRAL_ACCEPTED_ADULT)
                    )
                )
            )
        ).all()
        asked = {(recipient, kind, payload["student_id"]) for recipient, kind, payload in rows}
        assert asked == {
            (family.adult.id, OutboxKind.REFERRAL_ACCEPTED_ADULT, family.adult.id),
            (family.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT, family.sibling.id),
        }


async def test_the_daily_housekeeping_asks_each_adult_student_with_parents_once(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    async with session_factory() as session, session.begin():
        school = await session.get(School, family.adult.school_id)
        assert school is not None
        alone = await add_person(session, school, "s-alone", Role.STUDENT)
        alone.birth_date = ADULT_BIRTH  # an adult without a parent linked: nothing to decide
        answered = await add_person(session, school, "s-answered", Role.STUDENT)
        answered.birth_date = ADULT_BIRTH
        answered.parents_access_answered_at = NOW
        session.add(
            Guardianship(school_id=school.id, parent_id=family.parent.id, student_id=answered.id)
        )
    now = NOW
    async with session_factory() as session, session.begin():
        first = await run_housekeeping(session=session, now=now)
    async with session_factory() as session, session.begin():
        again = await run_housekeeping(session=session, now=now + timedelta(days=1))
    async with session_factory() as session:
        asked = (
            await session.execute(
                select(Outbox.recipient_id, Outbox.payload).where(
                    Outbox.kind == OutboxKind.PARENTS_ACCESS_ASK
                )
            )
        ).all()
    assert first.adults_asked == 1
    assert again.adults_asked == 0
    assert asked == [(family.adult.id, {"person_id": family.adult.id})]


def test_the_latest_adult_birth_date_is_exact_around_leap_days() -> None:
    for today in (date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29), date(2026, 12, 4)):
        latest = years_before(today, ADULT_AGE)
        assert is_adult(latest, today)
        assert not is_adult(latest + timedelta(days=1), today)


async def test_the_referral_tells_staff_in_both_channels(
    session_factory: async_sessionmaker[AsyncSession], family: Family
) -> None:
    """The referral view's lines (rendered by the web page and the Telegram summary alike)."""
    async with session_factory() as session, session.begin():
        adult_item = await add_queued_referral(session, family.mentor, family.adult)
        child_item = await add_queued_referral(session, family.mentor, family.sibling)
    async with session_factory() as session, session.begin():
        adult = await open_referral(
            session=session, viewer=family.coordinator, queue_item_id=adult_item.id, now=NOW
        )
        child = await open_referral(
            session=session, viewer=family.coordinator, queue_item_id=child_item.id, now=NOW
        )
        await answer_parents_access(session=session, student=family.adult, share=False, now=NOW)
    async with session_factory() as session, session.begin():
        withdrawn = await open_referral(
            session=session, viewer=family.coordinator, queue_item_id=adult_item.id, now=NOW
        )
    ids = [[line.msgid for line in extra_lines(view)] for view in (adult, child, withdrawn)]
    assert any("their own consent is enough" in msgid for msgid in ids[0])
    assert not any("18 or older" in msgid for msgid in ids[1])
    assert any("no longer see their support" in msgid for msgid in ids[2])
