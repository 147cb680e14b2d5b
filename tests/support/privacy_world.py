"""A school where two students, Samira and Ottokar, each have one row in every table that can
hold something about a person, every free text planted with a marker (``PLANT-sam-…`` /
``PLANT-otto-…``) so an export or an erasure can be checked by grepping. Every name is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActivityKind,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    CareTeamCase,
    CareTeamDecision,
    CareTeamMeeting,
    CoachAvailability,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Conversation,
    ConversationStatus,
    DistrictCoachRequest,
    EvaluationKind,
    Guardianship,
    Invite,
    LogbookEntry,
    LoginLink,
    ObservationAim,
    Outbox,
    Person,
    QueueDecision,
    QueueFilterSet,
    QueueItem,
    QueueKind,
    QueueNote,
    QueueStatus,
    Referral,
    RespondentType,
    Role,
    School,
    StaffAccount,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TimeoutRequest,
    TimeoutRequestReason,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    WebChatSession,
    WebSession,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_queued_referral, add_school

#: Names of the two students (distinctive, so a grep finds nothing else).
SAM = ("Samira", "Quispelvaandel")
OTTO = ("Ottokar", "Anderlingveld")


@dataclass
class PrivacyWorld:
    school: School
    other_school: School
    admin: Person
    zoco: Person
    mentor: Person
    coach: Person
    parent: Person
    sam: Person
    otto: Person
    other_admin: Person
    trajectories: dict[str, int]


async def _plant(
    session: AsyncSession,
    school: School,
    student: Person,
    *,
    tag: str,
    mentor: Person,
    coach: Person,
    zoco: Person,
    parent: Person,
    closed_at: datetime | None,
) -> Trajectory:
    """One row of each kind about ``student``; every text carries ``PLANT-<tag>-``."""
    mark = f"PLANT-{tag}-"
    item = await add_queued_referral(
        session,
        mentor,
        student,
        help_question_student=f"{mark}help-student",
        help_question_teacher=f"{mark}help-teacher",
        tried=f"{mark}tried",
        works_at_home=f"{mark}home",
        works_at_school=f"{mark}school",
    )
    assert item.referral_id is not None
    referral = await session.get_one(Referral, item.referral_id)
    referral.external_care = "yes"
    referral.external_care_which = f"{mark}external-care"
    referral.parents_language = "tr"
    referral.interpreter_needed = True
    referral.student_voice = f"{mark}student-voice"
    referral.student_voice_language = "nl"
    referral.student_voice_at = NOW
    referral.student_voice_asked_at = NOW
    item.status = QueueStatus.CLOSED
    item.decision = QueueDecision.ACCEPTED
    item.decided_at = NOW
    item.decided_by_id = zoco.id
    closed = closed_at is not None
    trajectory = Trajectory(
        school_id=school.id,
        student_id=student.id,
        referral_id=item.referral_id,
        status=TrajectoryStatus.CLOSED if closed else TrajectoryStatus.ACTIVE,
        goals=f"{mark}goals",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 6, 26),
        timeouts_in_plan=True,
        coach_id=coach.id,
        intake_held_at=NOW,
        activated_at=NOW,
        closed_at=closed_at,
        closed_by_id=zoco.id if closed else None,
        advice=f"{mark}advice" if closed else None,
        created_at=NOW,
    )
    session.add(trajectory)
    await session.flush()
    session.add_all(
        [
            QueueNote(
                school_id=school.id, queue_item_id=item.id, author_id=zoco.id, text=f"{mark}note"
            ),
            TrajectoryEvaluation(
                school_id=school.id,
                trajectory_id=trajectory.id,
                kind=EvaluationKind.FINAL,
                due_on=date(2026, 6, 20),
                held_on=date(2026, 6, 20) if closed else None,
                notes=f"{mark}evaluation",
            ),
            LogbookEntry(
                school_id=school.id,
                trajectory_id=trajectory.id,
                author_id=coach.id,
                text=f"{mark}logbook",
            ),
        ]
    )
    meeting = CareTeamMeeting(
        school_id=school.id,
        held_on=date(2026, 2, 10) if tag == "sam" else date(2026, 2, 17),
        created_by_id=zoco.id,
    )
    session.add(meeting)
    await session.flush()
    session.add_all(
        [
            CareTeamCase(
                school_id=school.id,
                meeting_id=meeting.id,
                queue_item_id=item.id,
                question=f"{mark}team-question",
                added_by_id=zoco.id,
                advice=f"{mark}team-advice",
                decision=CareTeamDecision.TRAJECTORY,
                decided_at=NOW,
                decided_by_id=zoco.id,
            ),
            Consent(
                school_id=school.id,
                referral_id=item.referral_id,
                student_id=student.id,
                giver_id=parent.id,
                giver=ConsentGiver.PARENT,
                purpose=ConsentPurpose.TRAJECTORY,
                given_at=NOW,
                recorded_by_id=zoco.id,
            ),
            Consent(
                school_id=school.id,
                referral_id=item.referral_id,
                student_id=student.id,
                giver_id=student.id,
                giver=ConsentGiver.STUDENT,
                purpose=ConsentPurpose.DISTRICT_COACH,
                given_at=NOW,
                recorded_by_id=zoco.id,
            ),
            DistrictCoachRequest(
                school_id=school.id,
                trajectory_id=trajectory.id,
                district_coach_id=coach.id,
                asked_by_id=zoco.id,
                asked_at=NOW,
            ),
            SupportActivity(
                school_id=school.id,
                kind=ActivityKind.CLASS_OBSERVATION,
                trajectory_id=trajectory.id,
                referral_id=item.referral_id,
                student_id=student.id,
                aim=ObservationAim.STUDENT,
                requested_by_id=mentor.id,
                requested_at=NOW,
                performer_id=coach.id,
                held_on=date(2026, 3, 3),
                outcome=f"{mark}observation",
                recorded_at=NOW,
            ),
            StudentEvent(
                school_id=school.id,
                student_id=student.id,
                trajectory_id=trajectory.id,
                kind=StudentEventKind.OPP,
                on_day=date(2026, 3, 1),
                source=StudentEventSource.WEB,
                recorded_by_id=zoco.id,
            ),
        ]
    )
    starts = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    appointment = Appointment(
        school_id=school.id,
        trajectory_id=trajectory.id,
        student_id=student.id,
        kind=AppointmentKind.GESPREK,
        status=AppointmentStatus.ATTENDED,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        busy_until=starts + timedelta(minutes=30),
        resource=f"coach:{coach.id}",
        coach_id=coach.id,
        booked_by_id=student.id,
    )
    session.add(appointment)
    timeout_item = QueueItem(
        school_id=school.id, kind=QueueKind.TIMEOUT_REQUEST, status=QueueStatus.CLOSED
    )
    session.add(timeout_item)
    await session.flush()
    session.add(
        TimeoutRequest(
            school_id=school.id,
            queue_item_id=timeout_item.id,
            trajectory_id=trajectory.id,
            student_id=student.id,
            requested_by_id=student.id,
            starts_at=starts,
            reason=TimeoutRequestReason.OVER_CAP,
        )
    )
    invitation = SurveyInvitation(
        school_id=school.id,
        trajectory_id=trajectory.id,
        respondent_id=student.id,
        respondent_type=RespondentType.STUDENT,
        created_at=NOW,
        expires_at=NOW + timedelta(days=14),
        completed_at=NOW,
    )
    session.add(invitation)
    await session.flush()
    response = SurveyResponse(
        school_id=school.id,
        invitation_id=invitation.id,
        respondent_type=RespondentType.STUDENT,
        version=1,
        language="nl",
        completed_at=NOW,
    )
    session.add(response)
    await session.flush()
    session.add_all(
        [
            SurveyAnswer(school_id=school.id, response_id=response.id, code="q1", value="4"),
            SurveyAnswer(
                school_id=school.id,
                response_id=response.id,
                code="q9",
                text=f"{mark}survey",
                text_language="nl",
            ),
            Conversation(
                school_id=school.id,
                person_id=student.id,
                flow="logbook",
                step="text",
                state={"answers": {"text": f"{mark}conversation"}},
                version=1,
            ),
            # The mentor's finished conversation about the student: its answers hold the text.
            Conversation(
                school_id=school.id,
                person_id=mentor.id,
                flow="verwijzing" if tag == "sam" else "afspraken",
                step=None,
                state={"answers": {"student_id": str(student.id), "tried": f"{mark}mentor-typed"}},
                status=ConversationStatus.COMPLETED,
                version=1,
            ),
            Outbox(
                school_id=school.id,
                recipient_id=student.id,
                kind="referral_outcome",
                payload={"referral_id": item.referral_id},
                dedup_key=f"{tag}:outbox",
            ),
            AuditLog(
                school_id=school.id,
                actor_id=zoco.id,
                action="test.about",
                subject_type="person",
                subject_id=student.id,
                details={"username": f"{tag}.login", "name": student.display_name},
            ),
            StaffAccount(
                school_id=school.id,
                person_id=student.id,
                username=f"{tag}.login",
                password_hash=f"HASH-{tag}",
            ),
            Invite(
                school_id=school.id,
                person_id=student.id,
                role=Role.STUDENT,
                token_hash=f"invite-{tag}".ljust(64, "0"),
                expires_at=NOW + timedelta(days=7),
            ),
            LoginLink(
                school_id=school.id,
                person_id=student.id,
                token_hash=f"link-{tag}".ljust(64, "0"),
                expires_at=NOW + timedelta(minutes=10),
            ),
            WebChatSession(
                school_id=school.id,
                person_id=student.id,
                token_hash=f"chat-{tag}".ljust(64, "0"),
                csrf_secret=f"CSRF-{tag}",
                flash={"draft": f"{mark}flash"},
                expires_at=NOW + timedelta(days=7),
            ),
            CoachAvailability(
                school_id=school.id,
                coach_id=student.id,
                weekday=0,
                starts_at=time(9),
                ends_at=time(12),
            ),
            Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id),
        ]
    )
    await session.flush()
    account = await session.get_one(StaffAccount, await _account_id(session, tag))
    # A saved queue view whose search names the student.
    session.add(
        QueueFilterSet(
            school_id=school.id,
            account_id=account.id,
            name=f"{mark}view",
            query=f"q={student.family_name}&status=open",
        )
    )
    session.add(
        WebSession(
            school_id=school.id,
            person_id=student.id,
            account_id=account.id,
            token_hash=f"session-{tag}".ljust(64, "0"),
            csrf_secret=f"CSRF2-{tag}",
            expires_at=NOW + timedelta(hours=8),
        )
    )
    await session.flush()
    return trajectory


async def _account_id(session: AsyncSession, tag: str) -> int:
    found = await session.scalar(
        select(StaffAccount.id).where(StaffAccount.username == f"{tag}.login")
    )
    assert found is not None
    return found


async def build_privacy_world(
    session: AsyncSession, *, sam_closed_at: datetime | None = NOW
) -> PrivacyWorld:
    school = await add_school(session, "vmbo-privacy")
    other = await add_school(session, "vmbo-anders")
    admin = await add_person(session, school, "A1", Role.ADMIN, given_name="Anton")
    zoco = await add_person(session, school, "Z1", Role.CARE_COORDINATOR, given_name="Zora")
    mentor = await add_person(session, school, "M1", Role.MENTOR, given_name="Marit")
    coach = await add_person(session, school, "C1", Role.COACH, given_name="Coby")
    parent = await add_person(session, school, "P1", Role.PARENT, given_name="Pieter")
    sam = await add_person(
        session, school, "S1001", Role.STUDENT, given_name=SAM[0], family_name=SAM[1]
    )
    sam.email = "samira.quispelvaandel@example.org"
    sam.telegram_user_id = 987654321
    sam.telegram_chat_id = 987654321
    sam.group_name = "3B"
    sam.birth_date = date(2008, 5, 17)
    otto = await add_person(
        session, school, "S1002", Role.STUDENT, given_name=OTTO[0], family_name=OTTO[1]
    )
    otto.email = "ottokar@example.org"
    other_admin = await add_person(session, other, "A9", Role.ADMIN, Role.CARE_COORDINATOR)
    await add_mentorship(session, mentor, sam)
    await add_mentorship(session, mentor, otto)
    common = {"mentor": mentor, "coach": coach, "zoco": zoco, "parent": parent}
    sam_t = await _plant(session, school, sam, tag="sam", closed_at=sam_closed_at, **common)
    otto_t = await _plant(session, school, otto, tag="otto", closed_at=NOW, **common)
    await session.flush()
    return PrivacyWorld(
        school,
        other,
        admin,
        zoco,
        mentor,
        coach,
        parent,
        sam,
        otto,
        other_admin,
        {"sam": sam_t.id, "otto": otto_t.id},
    )
