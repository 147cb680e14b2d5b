"""The care team (zorgadviesteam, ZAT): its meetings, the referrals on their agenda, and the
team's advice and decision per referral (issue 15).

::

    plan_meeting      a meeting: a date of the school (one per day)
    put_on_agenda     a referral's queue item on a meeting's agenda, with the question for the
                      team; the item waits for the care team (`decisions.mark_for_care_team`)
    agenda            the meeting's cases with the essentials of each referral (a read, audited)
    record_advice     the team's advice (free text) and decision: `rules.care_team_outcome`
                      says what it implies (back to analysis, the next step); the mentor who
                      referred is told (``referral.care_team``, ids only)
    cases_of_referral the care team's cases of one referral (the referral and trajectory pages)

Only a care coordinator of the school plans, adds and records (the care team advises; only
the coordinator places). Every function is an operation in the caller's unit of work; audit
rows carry ids and codes only, never the question or the advice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dialogs.text import N_, Text
from services.kernel.access import reload_actor, require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text
from services.outbox.kinds import OutboxKind
from services.queue.access import coordinator_item
from services.referrals.decisions import mark_for_care_team, resume_analysis
from services.referrals.rules import (
    CareTeamOutcome,
    care_team_outcome,
    validate_care_team_advice,
    validate_care_team_question,
)
from services.trajectories.access import school_zone
from storage.models import (
    CareTeamCase,
    CareTeamDecision,
    CareTeamMeeting,
    Outbox,
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    Role,
    School,
    Urgency,
    WaitingReason,
)

log = logging.getLogger(__name__)

REFERRAL_CARE_TEAM = OutboxKind.REFERRAL_CARE_TEAM
_NO_MEETING = N_("This care team meeting is not available to you.")

__all__ = [
    "REFERRAL_CARE_TEAM",
    "Agenda",
    "AgendaCase",
    "Candidate",
    "CaseLine",
    "MeetingSummary",
    "agenda",
    "cases_of_referral",
    "meetings",
    "plan_meeting",
    "put_on_agenda",
    "record_advice",
]


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """A meeting as the list shows it."""

    meeting_id: int
    held_on: date
    cases: int
    undecided: int


@dataclass(frozen=True, slots=True)
class AgendaCase:
    """One referral on the agenda with the essentials the team needs, and its outcome."""

    case_id: int
    queue_item_id: int
    referral_id: int
    student_name: str
    group_name: str | None
    mentor_name: str
    urgency: Urgency
    referred_on: datetime
    help_question_student: str
    help_question_teacher: str
    tried: str
    support: tuple[str, ...]
    question: str
    advice: str | None
    decision: CareTeamDecision | None
    outcome: CareTeamOutcome | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A referral that can be put on an agenda (open, not decided)."""

    queue_item_id: int
    student_name: str
    group_name: str | None


@dataclass(frozen=True, slots=True)
class Agenda:
    """A meeting, its cases (in the order they were added) and what can still be added."""

    meeting_id: int
    held_on: date
    school_name: str
    cases: tuple[AgendaCase, ...]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One care team discussion of a referral, for the referral and trajectory pages."""

    held_on: date
    question: str
    advice: str | None
    decision: CareTeamDecision | None
    outcome: CareTeamOutcome | None


async def _today(session: AsyncSession, school_id: int, now: datetime) -> date:
    return now.astimezone(await school_zone(session=session, school_id=school_id)).date()


async def plan_meeting(
    *, session: AsyncSession, actor: Person, held_on: date, now: datetime
) -> CareTeamMeeting:
    """A care team meeting of the actor's school on ``held_on`` (today or later); the one
    already planned that day if there is one. Care coordinators only; audited."""
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    if held_on < await _today(session, actor.school_id, now):
        raise InputInvalid(Text.of(N_("A meeting cannot be planned in the past.")))
    existing = await session.scalar(
        select(CareTeamMeeting).where(
            CareTeamMeeting.school_id == actor.school_id, CareTeamMeeting.held_on == held_on
        )
    )
    if existing is not None:
        return existing
    meeting = CareTeamMeeting(
        school_id=actor.school_id, held_on=held_on, created_by_id=actor.id, created_at=now
    )
    session.add(meeting)
    await session.flush()
    record_audit(
        session=session,
        school_id=actor.school_id,
        actor_id=actor.id,
        action="care_team.meeting_plan",
        subject_type="care_team_meeting",
        subject_id=meeting.id,
        details={"held_on": held_on.isoformat()},
        at=now,
    )
    log.info("care team meeting_id=%s planned by person_id=%s", meeting.id, actor.id)
    return meeting


async def meetings(*, session: AsyncSession, viewer: Person, now: datetime) -> list[MeetingSummary]:
    """The school's meetings, the coming ones first (soonest first), then the past ones."""
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    today = await _today(session, viewer.school_id, now)
    rows = list(
        await session.scalars(
            select(CareTeamMeeting).where(CareTeamMeeting.school_id == viewer.school_id)
        )
    )
    cases = list(
        await session.scalars(
            select(CareTeamCase).where(CareTeamCase.school_id == viewer.school_id)
        )
    )
    summaries = [
        MeetingSummary(
            meeting.id,
            meeting.held_on,
            sum(1 for case in cases if case.meeting_id == meeting.id),
            sum(1 for case in cases if case.meeting_id == meeting.id and case.decision is None),
        )
        for meeting in rows
    ]
    coming = sorted((m for m in summaries if m.held_on >= today), key=lambda m: m.held_on)
    past = sorted((m for m in summaries if m.held_on < today), key=lambda m: m.held_on)
    return [*coming, *reversed(past)]


async def _meeting(session: AsyncSession, actor: Person, meeting_id: int) -> CareTeamMeeting:
    meeting = await session.scalar(
        select(CareTeamMeeting).where(
            CareTeamMeeting.id == meeting_id, CareTeamMeeting.school_id == actor.school_id
        )
    )
    if meeting is None:
        log.info("refused: care team meeting_id=%s for person_id=%s", meeting_id, actor.id)
        raise NotAllowed(Text.of(_NO_MEETING))
    return meeting


async def put_on_agenda(
    *,
    session: AsyncSession,
    actor: Person,
    meeting_id: int,
    queue_item_id: int,
    question: str,
    now: datetime,
) -> CareTeamCase:
    """Put a referral on a coming meeting's agenda with the question for the team.

    The referral's queue item must be undecided: new or in analysis (it then waits for the
    care team, `mark_for_care_team`) or already waiting for the care team (a case to discuss
    again). `InputInvalid` for a bad question, a past meeting or a referral already on this
    agenda; `InvalidTransition` for a decided or closed referral; `NotAllowed` for another
    school's meeting or item. Audited (ids only).
    """
    problem = validate_care_team_question(question)
    if problem is not None:
        raise InputInvalid(problem)
    actor, item, _referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    meeting = await _meeting(session, actor, meeting_id)
    if meeting.held_on < await _today(session, actor.school_id, now):
        raise InputInvalid(Text.of(N_("This meeting has already taken place.")))
    already = await session.scalar(
        select(CareTeamCase.id).where(
            CareTeamCase.meeting_id == meeting.id, CareTeamCase.queue_item_id == item.id
        )
    )
    if already is not None:
        raise InputInvalid(Text.of(N_("This referral is already on this meeting's agenda.")))
    waiting = item.status is QueueStatus.WAITING and item.waiting_reason is WaitingReason.CARE_TEAM
    if item.decision is not None or not (
        waiting or item.status in (QueueStatus.NEW, QueueStatus.IN_PROGRESS)
    ):
        raise InvalidTransition(
            Text.of(N_("This referral has been decided already: it cannot go to the care team."))
        )
    if not waiting:
        await mark_for_care_team(session=session, actor=actor, queue_item_id=item.id, now=now)
    case = CareTeamCase(
        school_id=actor.school_id,
        meeting_id=meeting.id,
        queue_item_id=item.id,
        question=clean_text(question),
        added_by_id=actor.id,
        added_at=now,
    )
    session.add(case)
    await session.flush()
    record_audit(
        session=session,
        school_id=actor.school_id,
        actor_id=actor.id,
        action="care_team.case_add",
        subject_type="care_team_case",
        subject_id=case.id,
        details={"meeting_id": meeting.id, "queue_item_id": item.id},
        at=now,
    )
    log.info("queue_item_id=%s on care team meeting_id=%s", item.id, meeting.id)
    return case


async def agenda(
    *, session: AsyncSession, viewer: Person, meeting_id: int, now: datetime
) -> Agenda:
    """A meeting's agenda with the essentials of each referral (audited: it shows care data).

    Care coordinators of the school only (`NotAllowed` otherwise, and for an unknown id).
    """
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    meeting = await _meeting(session, viewer, meeting_id)
    school = await session.get(School, viewer.school_id)
    student = aliased(Person)
    mentor = aliased(Person)
    rows = await session.execute(
        select(CareTeamCase, QueueItem, Referral, student, mentor)
        .join(QueueItem, QueueItem.id == CareTeamCase.queue_item_id)
        .join(Referral, Referral.id == QueueItem.referral_id)
        .join(student, student.id == Referral.student_id)
        .join(mentor, mentor.id == Referral.mentor_id)
        .where(CareTeamCase.meeting_id == meeting.id, CareTeamCase.school_id == viewer.school_id)
        .order_by(CareTeamCase.added_at, CareTeamCase.id)
    )
    cases = tuple(
        AgendaCase(
            case_id=case.id,
            queue_item_id=item.id,
            referral_id=referral.id,
            student_name=pupil.display_name,
            group_name=pupil.group_name,
            mentor_name=teacher.display_name,
            urgency=referral.urgency,
            referred_on=referral.created_at,
            help_question_student=referral.help_question_student,
            help_question_teacher=referral.help_question_teacher,
            tried=referral.tried,
            support=tuple(referral.support),
            question=case.question,
            advice=case.advice,
            decision=case.decision,
            outcome=None if case.decision is None else care_team_outcome(case.decision),
        )
        for case, item, referral, pupil, teacher in rows
    )
    on_agenda = {case.queue_item_id for case in cases}
    open_items = await session.execute(
        select(QueueItem.id, student.given_name, student.family_name, student.group_name)
        .join(Referral, Referral.id == QueueItem.referral_id)
        .join(student, student.id == Referral.student_id)
        .where(
            QueueItem.school_id == viewer.school_id,
            QueueItem.kind == QueueKind.REFERRAL,
            QueueItem.decision.is_(None),
            QueueItem.merged_into_id.is_(None),
            QueueItem.status != QueueStatus.CLOSED,
        )
        .order_by(student.family_name, student.given_name, QueueItem.id)
    )
    candidates = tuple(
        Candidate(item_id, f"{given} {family}", group)
        for item_id, given, family, group in open_items
        if item_id not in on_agenda
    )
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="care_team.agenda_view",
        subject_type="care_team_meeting",
        subject_id=meeting.id,
        details={"cases": len(cases)},
        at=now,
    )
    return Agenda(
        meeting_id=meeting.id,
        held_on=meeting.held_on,
        school_name="" if school is None else school.name,
        cases=cases,
        candidates=candidates,
    )


async def record_advice(
    *,
    session: AsyncSession,
    actor: Person,
    case_id: int,
    advice: str,
    decision: CareTeamDecision,
    now: datetime,
) -> CareTeamCase:
    """Record the care team's advice (5-2000 characters, cleaned) and decision on a case.

    What the decision implies is `care_team_outcome`: back to analysis (the item waits no
    longer; the coordinator's next step is shown with the case) or still waiting for a next
    meeting. The mentor who referred is told (``referral.care_team``; the outcome is read in
    the chat). `InputInvalid` for a bad advice, `InvalidTransition` once recorded,
    `NotAllowed` for another school's case. Audited with the decision code only.
    """
    problem = validate_care_team_advice(advice)
    if problem is not None:
        raise InputInvalid(problem)
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    case = await session.scalar(
        select(CareTeamCase)
        .where(CareTeamCase.id == case_id, CareTeamCase.school_id == actor.school_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case is None:
        log.info("refused: care team case_id=%s for person_id=%s", case_id, actor.id)
        raise NotAllowed(Text.of(_NO_MEETING))
    if case.decision is not None:
        raise InvalidTransition(
            Text.of(N_("The care team's advice on this referral has been recorded already."))
        )
    _actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=case.queue_item_id, lock=True
    )
    case.advice = clean_text(advice)
    case.decision = decision
    case.decided_at = now
    case.decided_by_id = actor.id
    outcome = care_team_outcome(decision)
    if (
        outcome.back_to_analysis
        and item.status is QueueStatus.WAITING
        and item.waiting_reason is WaitingReason.CARE_TEAM
    ):
        await resume_analysis(session=session, actor=actor, queue_item_id=item.id, now=now)
    kind: OutboxKind = REFERRAL_CARE_TEAM
    session.add(
        Outbox(
            school_id=case.school_id,
            recipient_id=referral.mentor_id,
            kind=kind,
            # The student and the advice are read inside the chat, after being identified.
            payload={
                "referral_id": referral.id,
                "care_team_case_id": case.id,
                # A code, as "accepted" / "declined" are: no name, no advice text.
                "decision": decision.value,
            },
            dedup_key=f"{kind}:{case.id}",
            next_attempt_at=now,
            created_at=now,
        )
    )
    record_audit(
        session=session,
        school_id=case.school_id,
        actor_id=actor.id,
        action="care_team.advice",
        subject_type="care_team_case",
        subject_id=case.id,
        details={
            "queue_item_id": item.id,
            "decision": decision.value,
            "next_step": outcome.next_step.value,
        },
        at=now,
    )
    await session.flush()
    log.info("care team case_id=%s decided (%s)", case.id, decision.value)
    return case


async def cases_of_referral(
    *, session: AsyncSession, viewer: Person, referral_id: int
) -> list[CaseLine]:
    """The care team's discussions of one referral of the viewer's school, oldest first
    (for staff pages that already showed the referral or trajectory to ``viewer``)."""
    viewer = await reload_actor(session=session, actor=viewer)
    rows = await session.execute(
        select(CareTeamCase, CareTeamMeeting.held_on)
        .join(
            CareTeamMeeting,
            (CareTeamMeeting.id == CareTeamCase.meeting_id)
            & (CareTeamMeeting.school_id == CareTeamCase.school_id),
        )
        .join(QueueItem, QueueItem.id == CareTeamCase.queue_item_id)
        .where(
            QueueItem.referral_id == referral_id,
            CareTeamCase.school_id == viewer.school_id,
        )
        .order_by(CareTeamMeeting.held_on, CareTeamCase.id)
    )
    return [
        CaseLine(
            held_on,
            case.question,
            case.advice,
            case.decision,
            None if case.decision is None else care_team_outcome(case.decision),
        )
        for case, held_on in rows
    ]
