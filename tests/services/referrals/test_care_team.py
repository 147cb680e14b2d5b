"""The care team (issue 15): meetings, the agenda, the team's advice and decision, what it
implies for the care coordinator (one rule) and what the mentor is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.i18n import Catalogs
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.outbox.kinds import OutboxKind
from services.referrals.care_team import (
    agenda,
    cases_of_referral,
    meetings,
    plan_meeting,
    put_on_agenda,
    record_advice,
)
from services.referrals.decisions import decline, take_in_analysis
from services.referrals.outcome import outcome_lines, referral_outcome
from services.referrals.rules import CareTeamNextStep, care_team_outcome
from services.referrals.submission import submit_referral
from storage.models import (
    AuditLog,
    CareTeamDecision,
    Outbox,
    Person,
    QueueItem,
    QueueStatus,
    Role,
    WaitingReason,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_school, draft
from tests.support.units import unit

TODAY = date(2026, 3, 2)
NEXT_WEEK = TODAY + timedelta(days=7)
EN = Catalogs().get("en")


@dataclass
class World:
    zoco: Person
    mentor: Person
    student: Person
    other_student: Person
    other_school_zoco: Person
    item_id: int
    other_item_id: int
    referral_id: int


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        other = await add_school(session, "havo-zuid")
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT, group_name="2B")
        other_student = await add_person(session, school, "s2", Role.STUDENT)
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        stranger = await add_person(session, other, "z9", Role.CARE_COORDINATOR)
        await add_mentorship(session, mentor, student)
        await add_mentorship(session, mentor, other_student)
        referral = await submit_referral(
            session=session, mentor=mentor, draft=draft(student.id), now=NOW
        )
        second = await submit_referral(
            session=session, mentor=mentor, draft=draft(other_student.id), now=NOW
        )
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == referral.id)
        )
        other_item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == second.id)
        )
    assert item_id is not None
    assert other_item_id is not None
    return World(
        zoco, mentor, student, other_student, stranger, item_id, other_item_id, referral.id
    )


async def _meeting_with_case(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> tuple[int, int]:
    meeting = await unit(
        session_factory, plan_meeting, actor=world.zoco, held_on=NEXT_WEEK, now=NOW
    )
    case = await unit(
        session_factory,
        put_on_agenda,
        actor=world.zoco,
        meeting_id=meeting.id,
        queue_item_id=world.item_id,
        question="  Past de trajectvoorziening, of is externe hulp nodig?\u202e ",
        now=NOW,
    )
    return meeting.id, case.id


def test_the_decision_implies_one_next_step() -> None:
    assert care_team_outcome(CareTeamDecision.TRAJECTORY).next_step is CareTeamNextStep.ACCEPT
    assert care_team_outcome(CareTeamDecision.OTHER_SUPPORT).next_step is (CareTeamNextStep.DECLINE)
    assert care_team_outcome(CareTeamDecision.EXTERNAL).next_step is CareTeamNextStep.DECLINE
    again = care_team_outcome(CareTeamDecision.DISCUSS_AGAIN)
    assert again.next_step is CareTeamNextStep.NEXT_MEETING
    assert not again.back_to_analysis
    assert all(
        care_team_outcome(d).back_to_analysis
        for d in CareTeamDecision
        if d is not CareTeamDecision.DISCUSS_AGAIN
    )


async def test_a_referral_on_the_agenda_waits_for_the_care_team(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    meeting_id, case_id = await _meeting_with_case(session_factory, world)
    # Planning the same day again gives the same meeting.
    again = await unit(session_factory, plan_meeting, actor=world.zoco, held_on=NEXT_WEEK, now=NOW)
    assert again.id == meeting_id
    async with session_factory() as session:
        item = await session.get_one(QueueItem, world.item_id)
        assert (item.status, item.waiting_reason) == (QueueStatus.WAITING, WaitingReason.CARE_TEAM)
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert "care_team.meeting_plan" in actions
    assert "care_team.case_add" in actions
    assert "queue.care_team" in actions

    view = await unit(session_factory, agenda, viewer=world.zoco, meeting_id=meeting_id, now=NOW)
    assert view.held_on == NEXT_WEEK
    [case] = view.cases
    assert case.case_id == case_id
    assert case.student_name == world.student.display_name
    assert case.group_name == "2B"
    assert case.mentor_name == world.mentor.display_name
    # Stored cleaned: outer whitespace and the bidi override gone.
    assert case.question == "Past de trajectvoorziening, of is externe hulp nodig?"
    assert case.help_question_student == "Ik wil rustiger worden in de klas."
    assert case.decision is None
    # The other open referral can still be added; this one not twice.
    assert [c.queue_item_id for c in view.candidates] == [world.other_item_id]
    with pytest.raises(InputInvalid):
        await unit(
            session_factory,
            put_on_agenda,
            actor=world.zoco,
            meeting_id=meeting_id,
            queue_item_id=world.item_id,
            question="Nog een keer bespreken.",
            now=NOW,
        )
    listed = await unit(session_factory, meetings, viewer=world.zoco, now=NOW)
    assert [(m.meeting_id, m.cases, m.undecided) for m in listed] == [(meeting_id, 1, 1)]


async def test_advice_sends_the_referral_back_to_analysis_and_tells_the_mentor(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    meeting_id, case_id = await _meeting_with_case(session_factory, world)
    later = NOW + timedelta(days=7)
    with pytest.raises(InputInvalid):  # too short
        await unit(
            session_factory,
            record_advice,
            actor=world.zoco,
            case_id=case_id,
            advice="ok",
            decision=CareTeamDecision.EXTERNAL,
            now=later,
        )
    await unit(
        session_factory,
        record_advice,
        actor=world.zoco,
        case_id=case_id,
        advice="Aanmelden bij het jeugdteam; school blijft betrokken.\u2066",
        decision=CareTeamDecision.EXTERNAL,
        now=later,
    )
    async with session_factory() as session:
        item = await session.get_one(QueueItem, world.item_id)
        assert item.status is QueueStatus.IN_PROGRESS  # back with the care coordinator
        assert item.decision is None  # the care team advises; only the coordinator decides
        notice = await session.scalar(
            select(Outbox).where(Outbox.kind == OutboxKind.REFERRAL_CARE_TEAM)
        )
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "care_team.advice"))
    assert notice is not None
    assert notice.recipient_id == world.mentor.id
    assert notice.payload == {
        "referral_id": world.referral_id,
        "care_team_case_id": case_id,
        "decision": "external",
    }
    assert audit is not None
    assert audit.details == {
        "queue_item_id": world.item_id,
        "decision": "external",
        "next_step": "decline",
    }
    lines = await unit(
        session_factory, cases_of_referral, viewer=world.zoco, referral_id=world.referral_id
    )
    assert [(c.held_on, c.decision) for c in lines] == [(NEXT_WEEK, CareTeamDecision.EXTERNAL)]
    assert lines[0].advice == "Aanmelden bij het jeugdteam; school blijft betrokken."
    # Recorded once.
    with pytest.raises(InvalidTransition):
        await unit(
            session_factory,
            record_advice,
            actor=world.zoco,
            case_id=case_id,
            advice="Toch anders besloten.",
            decision=CareTeamDecision.TRAJECTORY,
            now=later,
        )
    # The mentor reads the outcome in the chat, with the student's name.
    outcome = await unit(
        session_factory,
        referral_outcome,
        viewer=world.mentor,
        referral_id=world.referral_id,
        now=later,
    )
    assert outcome.care_team is CareTeamDecision.EXTERNAL
    shown = [EN.render(line) for line in outcome_lines(outcome)]
    assert shown[1] == (
        "The care team advises a referral outside the school. The care coordinator will "
        "contact you about it."
    )
    # The next step the outcome names: decline (the coordinator's own step).
    await unit(
        session_factory,
        decline,
        actor=world.zoco,
        queue_item_id=world.item_id,
        reason="Externe hulp via het jeugdteam.",
        now=later,
    )
    view = await unit(session_factory, agenda, viewer=world.zoco, meeting_id=meeting_id, now=later)
    assert view.cases[0].outcome is not None
    assert view.cases[0].outcome.next_step is CareTeamNextStep.DECLINE


async def test_discuss_again_keeps_it_waiting_for_a_next_meeting(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    _meeting_id, case_id = await _meeting_with_case(session_factory, world)
    await unit(
        session_factory,
        record_advice,
        actor=world.zoco,
        case_id=case_id,
        advice="Eerst observatie in de klas, dan opnieuw bespreken.",
        decision=CareTeamDecision.DISCUSS_AGAIN,
        now=NOW,
    )
    async with session_factory() as session:
        item = await session.get_one(QueueItem, world.item_id)
        assert item.waiting_reason is WaitingReason.CARE_TEAM
    # It can go on the next meeting's agenda (already waiting: no status change needed).
    later = await unit(
        session_factory,
        plan_meeting,
        actor=world.zoco,
        held_on=NEXT_WEEK + timedelta(days=14),
        now=NOW,
    )
    await unit(
        session_factory,
        put_on_agenda,
        actor=world.zoco,
        meeting_id=later.id,
        queue_item_id=world.item_id,
        question="Wat liet de observatie zien?",
        now=NOW,
    )
    lines = await unit(
        session_factory, cases_of_referral, viewer=world.zoco, referral_id=world.referral_id
    )
    assert [c.decision for c in lines] == [CareTeamDecision.DISCUSS_AGAIN, None]


async def test_refusals(session_factory: async_sessionmaker[AsyncSession], world: World) -> None:
    meeting_id, case_id = await _meeting_with_case(session_factory, world)
    with pytest.raises(InputInvalid):  # in the past
        await unit(
            session_factory,
            plan_meeting,
            actor=world.zoco,
            held_on=TODAY - timedelta(days=1),
            now=NOW,
        )
    # Another school's coordinator: the meeting, the case and the item do not exist for them.
    with pytest.raises(NotAllowed):
        await unit(
            session_factory,
            agenda,
            viewer=world.other_school_zoco,
            meeting_id=meeting_id,
            now=NOW,
        )
    with pytest.raises(NotAllowed):
        await unit(
            session_factory,
            record_advice,
            actor=world.other_school_zoco,
            case_id=case_id,
            advice="Niet van jouw school.",
            decision=CareTeamDecision.TRAJECTORY,
            now=NOW,
        )
    # A mentor may not plan or add.
    with pytest.raises(NotAllowed):
        await unit(session_factory, plan_meeting, actor=world.mentor, held_on=NEXT_WEEK, now=NOW)
    # A decided referral cannot go to the care team.
    await unit(
        session_factory,
        take_in_analysis,
        actor=world.zoco,
        queue_item_id=world.other_item_id,
        now=NOW,
    )
    await unit(
        session_factory,
        decline,
        actor=world.zoco,
        queue_item_id=world.other_item_id,
        reason="Geen trajectvoorziening nodig.",
        now=NOW,
    )
    with pytest.raises(InvalidTransition):
        await unit(
            session_factory,
            put_on_agenda,
            actor=world.zoco,
            meeting_id=meeting_id,
            queue_item_id=world.other_item_id,
            question="Toch bespreken?",
            now=NOW,
        )
