"""Everything stored about or by one person, as plain JSON-able data (the export's content).

One read of every table that holds a row about the person or written by them; the structure
is documented in docs/operations.md ("Export of one person"). Secrets never leave: password
and token hashes, CSRF secrets and a chat's transient flash are left out. Other people appear
by id only (a mentor's id on a referral, the author's id on a note), never by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.privacy.rules import EXPORT_FORMAT, EXPORT_VERSION
from storage.models import (
    Appointment,
    AuditLog,
    Base,
    CareTeamCase,
    CareTeamMeeting,
    CoachAvailability,
    Consent,
    Conversation,
    DistrictCoachRequest,
    Guardianship,
    IndicatorTarget,
    Invite,
    LogbookEntry,
    LoginLink,
    Mentorship,
    Outbox,
    Person,
    QueueFilterSet,
    QueueItem,
    QueueNote,
    Referral,
    School,
    StaffAccount,
    StudentEvent,
    SupportActivity,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TimeoutRequest,
    Trajectory,
    TrajectoryEvaluation,
    VisitationReport,
    WebChatSession,
    WebSession,
)

#: Columns never exported, whatever the table (secrets, and what only the machine needs).
_SECRET = frozenset({"password_hash", "token_hash", "csrf_secret", "flash"})

#: The sections of the export, in order (their titles: `services.privacy.export_pdf`).
SECTIONS = (
    "person",
    "roles",
    "links",
    "referrals_as_student",
    "referrals_as_mentor",
    "queue_items",
    "queue_notes_about",
    "queue_notes_written",
    "trajectories",
    "evaluations",
    "logbook_about",
    "logbook_written",
    "appointments",
    "timeout_requests",
    "survey_invitations",
    "survey_responses",
    "survey_answers",
    "conversations",
    "outbox",
    "audit",
    "web_accounts",
    "web_sessions",
    "login_links",
    "invites",
    "web_chat_sessions",
    "coach_hours",
    "consents",
    "district_coach_requests",
    "care_team_cases",
    "care_team_meetings_created",
    "support_activities",
    "student_events",
    "visitation_reports_recorded",
    "indicator_targets_set",
    "queue_filter_sets",
)

#: Which sections hold each table's rows about or by the person. The guard test
#: (tests/services/privacy/test_coverage.py) fails when a table that can hold something about
#: a person is neither here nor in `services.privacy.coverage.NOT_EXPORTED`.
EXPORTED_TABLES: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "person_role": ("roles",),
    "mentorship": ("links",),
    "guardianship": ("links",),
    "referral": ("referrals_as_student", "referrals_as_mentor"),
    "queue_item": ("queue_items",),
    "queue_note": ("queue_notes_about", "queue_notes_written"),
    "trajectory": ("trajectories",),
    "trajectory_evaluation": ("evaluations",),
    "logbook_entry": ("logbook_about", "logbook_written"),
    "appointment": ("appointments",),
    "timeout_request": ("timeout_requests",),
    "survey_invitation": ("survey_invitations",),
    "survey_response": ("survey_responses",),
    "survey_answer": ("survey_answers",),
    "conversation": ("conversations",),
    "outbox": ("outbox",),
    "audit_log": ("audit",),
    "staff_account": ("web_accounts",),
    "web_session": ("web_sessions",),
    "login_link": ("login_links",),
    "invite": ("invites",),
    "web_chat_session": ("web_chat_sessions",),
    "coach_availability": ("coach_hours",),
    "consent": ("consents",),
    "district_coach_request": ("district_coach_requests",),
    "care_team_case": ("care_team_cases",),
    "care_team_meeting": ("care_team_meetings_created",),
    "support_activity": ("support_activities",),
    "student_event": ("student_events",),
    "visitation_report": ("visitation_reports_recorded",),
    "indicator_target": ("indicator_targets_set",),
    "queue_filter_set": ("queue_filter_sets",),
}

Row = dict[str, Any]


def plain(value: Any) -> Any:
    """A column's value as JSON: dates and times ISO 8601, enums their code."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def row_of(obj: Base, *, only: Sequence[str] | None = None) -> Row:
    """The row's columns (``only`` these, when given) without secrets."""
    mapper = inspect(type(obj))
    names = [c.key for c in mapper.column_attrs if c.key not in _SECRET]
    if only is not None:
        names = [n for n in names if n in only]
    return {name: plain(getattr(obj, name)) for name in names}


def _rows(found: Iterable[Base], *, only: Sequence[str] | None = None) -> list[Row]:
    return [row_of(obj, only=only) for obj in found]


async def collect_person(*, session: AsyncSession, person: Person, made_at: datetime) -> Row:
    """The export of ``person`` (already authorized): a dict in the documented structure."""
    pid, sid = person.id, person.school_id
    school = await session.get_one(School, sid)

    async def all_of(statement: Any) -> list[Any]:
        return list(await session.scalars(statement))

    referrals_student = await all_of(
        select(Referral).where(Referral.student_id == pid).order_by(Referral.id)
    )
    referrals_mentor = await all_of(
        select(Referral).where(Referral.mentor_id == pid).order_by(Referral.id)
    )
    referral_ids = [r.id for r in referrals_student]
    items = await all_of(
        select(QueueItem).where(QueueItem.referral_id.in_(referral_ids)).order_by(QueueItem.id)
    )
    trajectories = await all_of(
        select(Trajectory).where(Trajectory.student_id == pid).order_by(Trajectory.id)
    )
    trajectory_ids = [t.id for t in trajectories]
    invitations = await all_of(
        select(SurveyInvitation)
        .where(SurveyInvitation.respondent_id == pid)
        .order_by(SurveyInvitation.id)
    )
    responses = await all_of(
        select(SurveyResponse)
        .where(SurveyResponse.invitation_id.in_([i.id for i in invitations]))
        .order_by(SurveyResponse.id)
    )
    answers = await all_of(
        select(SurveyAnswer)
        .where(SurveyAnswer.response_id.in_([r.id for r in responses]))
        .order_by(SurveyAnswer.id)
    )
    referral_ids_any = referral_ids + [r.id for r in referrals_mentor]
    account_ids = list(
        await session.scalars(select(StaffAccount.id).where(StaffAccount.person_id == pid))
    )
    subjects = or_(
        (AuditLog.subject_type == "person") & (AuditLog.subject_id == pid),
        AuditLog.actor_id == pid,
        (AuditLog.subject_type == "referral") & AuditLog.subject_id.in_(referral_ids),
        (AuditLog.subject_type == "trajectory") & AuditLog.subject_id.in_(trajectory_ids),
    )
    export: Row = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "made_at": plain(made_at),
        "school": {"code": school.code, "name": school.name},
        "person": row_of(person),
        "roles": sorted(role.role.value for role in person.roles),
        "links": {
            "mentors": [
                m.mentor_id
                for m in await all_of(select(Mentorship).where(Mentorship.student_id == pid))
            ],
            "mentees": [
                m.student_id
                for m in await all_of(select(Mentorship).where(Mentorship.mentor_id == pid))
            ],
            "parents": [
                g.parent_id
                for g in await all_of(select(Guardianship).where(Guardianship.student_id == pid))
            ],
            "children": [
                g.student_id
                for g in await all_of(select(Guardianship).where(Guardianship.parent_id == pid))
            ],
        },
        "referrals_as_student": _rows(referrals_student),
        "referrals_as_mentor": _rows(referrals_mentor),
        "queue_items": _rows(items),
        "queue_notes_about": _rows(
            await all_of(
                select(QueueNote)
                .where(QueueNote.queue_item_id.in_([i.id for i in items]))
                .order_by(QueueNote.id)
            )
        ),
        "queue_notes_written": _rows(
            await all_of(select(QueueNote).where(QueueNote.author_id == pid).order_by(QueueNote.id))
        ),
        "trajectories": _rows(trajectories),
        "evaluations": _rows(
            await all_of(
                select(TrajectoryEvaluation)
                .where(TrajectoryEvaluation.trajectory_id.in_(trajectory_ids))
                .order_by(TrajectoryEvaluation.id)
            )
        ),
        "logbook_about": _rows(
            await all_of(
                select(LogbookEntry)
                .where(LogbookEntry.trajectory_id.in_(trajectory_ids))
                .order_by(LogbookEntry.id)
            )
        ),
        "logbook_written": _rows(
            await all_of(
                select(LogbookEntry).where(LogbookEntry.author_id == pid).order_by(LogbookEntry.id)
            )
        ),
        "appointments": _rows(
            await all_of(
                select(Appointment)
                .where(
                    or_(
                        Appointment.student_id == pid,
                        Appointment.booked_by_id == pid,
                        Appointment.coach_id == pid,
                        Appointment.teacher_id == pid,
                    )
                )
                .order_by(Appointment.id)
            )
        ),
        "timeout_requests": _rows(
            await all_of(
                select(TimeoutRequest)
                .where(or_(TimeoutRequest.student_id == pid, TimeoutRequest.requested_by_id == pid))
                .order_by(TimeoutRequest.id)
            )
        ),
        "survey_invitations": _rows(invitations),
        "survey_responses": _rows(responses),
        "survey_answers": _rows(answers),
        "conversations": _rows(
            await all_of(
                select(Conversation).where(Conversation.person_id == pid).order_by(Conversation.id)
            )
        ),
        # What was sent to the person: its kind and dates only (the payload holds other ids).
        "outbox": _rows(
            await all_of(select(Outbox).where(Outbox.recipient_id == pid).order_by(Outbox.id)),
            only=("id", "kind", "status", "channel", "created_at", "sent_at"),
        ),
        "audit": _rows(await all_of(select(AuditLog).where(subjects).order_by(AuditLog.id))),
        "web_accounts": _rows(
            await all_of(select(StaffAccount).where(StaffAccount.person_id == pid))
        ),
        "web_sessions": _rows(
            await all_of(
                select(WebSession).where(WebSession.person_id == pid).order_by(WebSession.id)
            )
        ),
        "login_links": _rows(
            await all_of(select(LoginLink).where(LoginLink.person_id == pid).order_by(LoginLink.id))
        ),
        "invites": _rows(
            await all_of(select(Invite).where(Invite.person_id == pid).order_by(Invite.id))
        ),
        "web_chat_sessions": _rows(
            await all_of(
                select(WebChatSession)
                .where(WebChatSession.person_id == pid)
                .order_by(WebChatSession.id)
            )
        ),
        "coach_hours": _rows(
            await all_of(
                select(CoachAvailability)
                .where(CoachAvailability.coach_id == pid)
                .order_by(CoachAvailability.id)
            )
        ),
        # Consents they gave, that concern them as the student, or that they recorded or
        # withdrew (kept as records after an erasure: see docs/decisions.md).
        "consents": _rows(
            await all_of(
                select(Consent)
                .where(
                    or_(
                        Consent.student_id == pid,
                        Consent.giver_id == pid,
                        Consent.recorded_by_id == pid,
                        Consent.withdrawn_by_id == pid,
                    )
                )
                .order_by(Consent.id)
            )
        ),
        "district_coach_requests": _rows(
            await all_of(
                select(DistrictCoachRequest)
                .where(
                    or_(
                        DistrictCoachRequest.trajectory_id.in_(trajectory_ids),
                        DistrictCoachRequest.district_coach_id == pid,
                        DistrictCoachRequest.asked_by_id == pid,
                    )
                )
                .order_by(DistrictCoachRequest.id)
            )
        ),
        "care_team_cases": _rows(
            await all_of(
                select(CareTeamCase)
                .where(
                    or_(
                        CareTeamCase.queue_item_id.in_([i.id for i in items]),
                        CareTeamCase.added_by_id == pid,
                        CareTeamCase.decided_by_id == pid,
                    )
                )
                .order_by(CareTeamCase.id)
            )
        ),
        "care_team_meetings_created": _rows(
            await all_of(
                select(CareTeamMeeting)
                .where(CareTeamMeeting.created_by_id == pid)
                .order_by(CareTeamMeeting.id)
            )
        ),
        "support_activities": _rows(
            await all_of(
                select(SupportActivity)
                .where(
                    or_(
                        SupportActivity.student_id == pid,
                        SupportActivity.trajectory_id.in_(trajectory_ids),
                        SupportActivity.referral_id.in_(referral_ids_any),
                        SupportActivity.requested_by_id == pid,
                        SupportActivity.performer_id == pid,
                    )
                )
                .order_by(SupportActivity.id)
            )
        ),
        "student_events": _rows(
            await all_of(
                select(StudentEvent)
                .where(or_(StudentEvent.student_id == pid, StudentEvent.recorded_by_id == pid))
                .order_by(StudentEvent.id)
            )
        ),
        "visitation_reports_recorded": _rows(
            await all_of(
                select(VisitationReport)
                .where(VisitationReport.recorded_by_id == pid)
                .order_by(VisitationReport.id)
            )
        ),
        "indicator_targets_set": _rows(
            await all_of(
                select(IndicatorTarget)
                .where(IndicatorTarget.set_by_id == pid)
                .order_by(IndicatorTarget.school_year, IndicatorTarget.indicator)
            )
        ),
        # Their saved queue views (a saved search may hold a student's name).
        "queue_filter_sets": _rows(
            await all_of(
                select(QueueFilterSet)
                .where(QueueFilterSet.account_id.in_(account_ids))
                .order_by(QueueFilterSet.id)
            )
        ),
    }
    return export
