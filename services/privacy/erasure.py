"""Erasing a person (AVG art. 17) and erasing the care data of trajectories (retention).

An erased person's row stays as a pseudonymised anchor ("Verwijderd 1234", no external id,
no contact, no Telegram ids, no links, no accounts; the roles stay, they are counted, e.g. the
enrolled students, and name nobody; ``ended_at`` ends all access): every row that points at it
(referrals, trajectories, appointments, outbox, queue items) keeps its foreign key, so the
erasure never fails on one and the indicators count what they counted before. Free text the
person wrote, and free text about them as a student, is removed (NOT NULL text columns become
empty); the audit trail stays with its ids, and any name, address or username in an audit
row's details is replaced by ``[erased]``. Consents, district coach requests, student events
and care-team cases stay as records (ids, codes, dates: the audit of "who consented to what,
when" needs them) pointing at the pseudonymised anchor; their free text goes. The person's
saved queue views go with their web accounts.

Services here take a session already in a transaction and never begin one; who may erase is
checked by `services.privacy.views`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments.cancelling import release_and_cancel
from services.kernel.errors import InputInvalid
from services.privacy.rules import (
    answers_about,
    erased_external_id,
    erased_names,
    identity_tokens,
    needs_scrub,
    scrub,
)
from services.queue.status import close_for_erasure, erase_decision_reasons
from storage.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    CareTeamCase,
    CoachAvailability,
    Conversation,
    DistrictCoachRequest,
    Guardianship,
    Invite,
    LogbookEntry,
    LoginLink,
    Mentorship,
    Outbox,
    OutboxStatus,
    Person,
    QueueFilterSet,
    QueueItem,
    QueueNote,
    Referral,
    StaffAccount,
    SupportActivity,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TimeoutRequest,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    WebChatSession,
    WebSession,
)

log = logging.getLogger(__name__)

#: The referral's free text: NOT NULL columns become empty, the others NULL.
_REFERRAL_TEXT_EMPTY = {"help_question_student": "", "help_question_teacher": "", "tried": ""}
_REFERRAL_TEXT_NULL = {
    "works_at_home": None,
    "works_at_school": None,
    "parents_not_informed_reason": None,
    # Issue 15: which external care (free text) and the student's own words. The codes beside
    # them stay (external care yes/no, OPP, absence, the parents' language and whether an
    # interpreter is needed, the language of the student's words): they name nobody and
    # the indicators may count them.
    "external_care_which": None,
}
#: The student's own words on the referral: removed with the care data and when the student is
#: erased, not when the mentor who wrote the rest of the referral is.
_REFERRAL_STUDENT_TEXT = {"student_voice": None}


async def _erase_care_team_texts(session: AsyncSession, where: Any) -> int:
    """Empty the question and the advice of the care-team cases ``where`` says (the decision
    and the dates stay; the advice stays non-NULL so a decided case remains decided)."""
    done = await _rowcount(
        session,
        update(CareTeamCase).where(where, CareTeamCase.question != "").values(question=""),
    )
    done += await _rowcount(
        session,
        update(CareTeamCase)
        .where(where, CareTeamCase.advice.is_not(None), CareTeamCase.advice != "")
        .values(advice=""),
    )
    return done


class ErasureRefused(InputInvalid):
    """The person cannot be erased now (an open trajectory without ``force``, or already
    erased); ``reason`` says why and what to do."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did (counts only, for the audit row and the answer)."""

    person_id: int
    trajectories: int
    closed_by_force: int
    texts_removed: int
    rows_deleted: int
    audit_rows_scrubbed: int

    def details(self) -> dict[str, int]:
        """The counts, for the audit row."""
        return {
            "trajectories": self.trajectories,
            "closed_by_force": self.closed_by_force,
            "texts_removed": self.texts_removed,
            "rows_deleted": self.rows_deleted,
            "audit_rows_scrubbed": self.audit_rows_scrubbed,
        }


async def _rowcount(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def erase_care_data(
    *, session: AsyncSession, trajectory_ids: list[int], now: datetime
) -> int:
    """Remove the free text of these trajectories and of what hangs on them (the referral,
    its queue items' notes, decline reason and care-team question and advice, evaluations,
    the logbook, observation and teacher-support outcomes, the exit questionnaire's written
    answers); the rows stay for the indicators. The number of rows
    whose text was removed or that were deleted."""
    if not trajectory_ids:
        return 0
    done = 0
    referral_ids = list(
        await session.scalars(
            select(Trajectory.referral_id).where(Trajectory.id.in_(trajectory_ids))
        )
    )
    done += await _rowcount(
        session,
        update(Trajectory)
        .where(Trajectory.id.in_(trajectory_ids))
        .values(goals=None, advice=None, care_erased_at=now),
    )
    done += await _rowcount(
        session,
        update(TrajectoryEvaluation)
        .where(
            TrajectoryEvaluation.trajectory_id.in_(trajectory_ids),
            TrajectoryEvaluation.notes.is_not(None),
        )
        .values(notes=None),
    )
    done += await _rowcount(
        session, delete(LogbookEntry).where(LogbookEntry.trajectory_id.in_(trajectory_ids))
    )
    # Observations and teacher support stay counted; their outcome text goes.
    done += await _rowcount(
        session,
        update(SupportActivity)
        .where(
            or_(
                SupportActivity.trajectory_id.in_(trajectory_ids),
                SupportActivity.referral_id.in_(referral_ids),
            ),
            SupportActivity.outcome.is_not(None),
        )
        .values(outcome=None),
    )
    done += await _rowcount(
        session,
        update(Referral)
        .where(Referral.id.in_(referral_ids))
        .values(**_REFERRAL_TEXT_EMPTY, **_REFERRAL_TEXT_NULL, **_REFERRAL_STUDENT_TEXT),
    )
    invitation_ids = select(SurveyInvitation.id).where(
        SurveyInvitation.trajectory_id.in_(trajectory_ids)
    )
    response_ids = select(SurveyResponse.id).where(SurveyResponse.invitation_id.in_(invitation_ids))
    item_ids = list(
        await session.scalars(
            select(QueueItem.id).where(
                or_(
                    QueueItem.referral_id.in_(referral_ids),
                    QueueItem.survey_response_id.in_(response_ids),
                    QueueItem.id.in_(
                        select(TimeoutRequest.queue_item_id).where(
                            TimeoutRequest.trajectory_id.in_(trajectory_ids)
                        )
                    ),
                )
            )
        )
    )
    done += await _rowcount(session, delete(QueueNote).where(QueueNote.queue_item_id.in_(item_ids)))
    done += await _erase_care_team_texts(session, CareTeamCase.queue_item_id.in_(item_ids))
    done += await erase_decision_reasons(session=session, where=QueueItem.id.in_(item_ids))
    done += await _rowcount(
        session,
        update(SurveyAnswer)
        .where(SurveyAnswer.response_id.in_(response_ids), SurveyAnswer.text.is_not(None))
        .values(text=""),
    )
    return done


async def open_trajectories(*, session: AsyncSession, person_id: int) -> list[Trajectory]:
    """The person's trajectories (as a student) that are not closed."""
    return list(
        await session.scalars(
            select(Trajectory).where(
                Trajectory.student_id == person_id, Trajectory.status != TrajectoryStatus.CLOSED
            )
        )
    )


def open_trajectory_refusal() -> Text:
    """Why a person with an open trajectory is not erased, and what to do."""
    return Text.of(
        N_(
            "This student has a trajectory that is still open: close it first (its "
            "appointments are cancelled and the people involved are told), or erase anyway "
            "with --force (CLI) or by ticking “erase anyway” (web): the trajectory is then "
            "closed without a closing report and its coming appointments are cancelled."
        )
    )


async def _force_close(
    session: AsyncSession, trajectory: Trajectory, *, actor_id: int | None, now: datetime
) -> None:
    """Close an open trajectory for an erasure: coming appointments cancelled (places
    released; the erased student is not told), open queue items closed."""
    future = list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.trajectory_id == trajectory.id,
                Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)),
                Appointment.starts_at > now,
            )
            .order_by(Appointment.id)
        )
    )
    for appointment in future:
        await release_and_cancel(
            session=session,
            actor_id=actor_id if actor_id is not None else trajectory.student_id,
            appointment=appointment,
            now=now,
            notify_except=(trajectory.student_id,),
        )
    trajectory.status = TrajectoryStatus.CLOSED
    trajectory.closed_at = now
    trajectory.closed_by_id = actor_id
    await session.flush()
    await close_for_erasure(
        session=session,
        where=or_(
            QueueItem.referral_id == trajectory.referral_id,
            QueueItem.id.in_(
                select(TimeoutRequest.queue_item_id).where(
                    TimeoutRequest.trajectory_id == trajectory.id
                )
            ),
        ),
        now=now,
    )


async def _erase_newer_texts(session: AsyncSession, pid: int, referral_ids: Any) -> int:
    """The care-team cases' and the observations' texts about the student ``pid`` (their
    referrals), and the care-team and observation texts they wrote about others."""
    texts = 0
    texts += await _erase_care_team_texts(
        session,
        CareTeamCase.queue_item_id.in_(
            select(QueueItem.id).where(QueueItem.referral_id.in_(referral_ids))
        ),
    )
    texts += await _rowcount(
        session,
        update(SupportActivity)
        .where(
            or_(
                SupportActivity.student_id == pid,
                SupportActivity.referral_id.in_(referral_ids),
                SupportActivity.performer_id == pid,
            ),
            SupportActivity.outcome.is_not(None),
        )
        .values(outcome=None),
    )
    texts += await _erase_care_team_texts(
        session, or_(CareTeamCase.added_by_id == pid, CareTeamCase.decided_by_id == pid)
    )
    return texts


async def _end_views_and_district_coaching(session: AsyncSession, pid: int, now: datetime) -> int:
    """Delete the saved queue views of ``pid``'s web accounts (a saved search may hold a
    student's name; the accounts themselves go after this) and end their involvement as a
    district coach. The number of rows deleted."""
    deleted = 0
    deleted += await _rowcount(
        session,
        delete(QueueFilterSet).where(
            QueueFilterSet.account_id.in_(
                select(StaffAccount.id).where(StaffAccount.person_id == pid)
            )
        ),
    )
    # A district coach who is erased is no longer involved anywhere.
    await _rowcount(
        session,
        update(DistrictCoachRequest)
        .where(
            DistrictCoachRequest.district_coach_id == pid, DistrictCoachRequest.ended_at.is_(None)
        )
        .values(ended_at=now),
    )
    return deleted


async def erase_person(
    *, session: AsyncSession, person: Person, actor_id: int | None, force: bool, now: datetime
) -> Erasure:
    """Erase ``person`` (already authorized; see the module's docstring). `ErasureRefused`
    when they have an open trajectory and not ``force``, or were erased before."""
    if person.erased_at is not None:
        raise ErasureRefused(Text.of(N_("This person has already been erased.")))
    pid = person.id
    still_open = await open_trajectories(session=session, person_id=pid)
    if still_open and not force:
        raise ErasureRefused(open_trajectory_refusal())
    for trajectory in still_open:
        await _force_close(session, trajectory, actor_id=actor_id, now=now)

    usernames = list(
        await session.scalars(select(StaffAccount.username).where(StaffAccount.person_id == pid))
    )
    tokens = identity_tokens(
        [
            person.given_name,
            person.family_name,
            person.display_name,
            person.email,
            person.external_id,
            *usernames,
        ]
    )

    # Care data about them as a student.
    trajectory_ids = list(
        await session.scalars(select(Trajectory.id).where(Trajectory.student_id == pid))
    )
    texts = await erase_care_data(session=session, trajectory_ids=trajectory_ids, now=now)
    referral_ids = select(Referral.id).where(Referral.student_id == pid)
    texts += await _rowcount(
        session,
        update(Referral)
        .where(Referral.student_id == pid)
        .values(**_REFERRAL_TEXT_EMPTY, **_REFERRAL_TEXT_NULL, **_REFERRAL_STUDENT_TEXT),
    )
    texts += await _rowcount(
        session,
        delete(QueueNote).where(
            QueueNote.queue_item_id.in_(
                select(QueueItem.id).where(QueueItem.referral_id.in_(referral_ids))
            )
        ),
    )
    texts += await erase_decision_reasons(
        session=session, where=QueueItem.referral_id.in_(referral_ids)
    )
    texts += await _erase_newer_texts(session, pid, referral_ids)
    # Free text they wrote about others.
    texts += await _rowcount(
        session,
        update(Referral)
        .where(Referral.mentor_id == pid)
        .values(**_REFERRAL_TEXT_EMPTY, **_REFERRAL_TEXT_NULL),
    )
    texts += await _rowcount(session, delete(QueueNote).where(QueueNote.author_id == pid))
    texts += await _rowcount(session, delete(LogbookEntry).where(LogbookEntry.author_id == pid))
    texts += await erase_decision_reasons(session=session, where=QueueItem.decided_by_id == pid)
    texts += await _rowcount(
        session,
        update(SurveyAnswer)
        .where(
            SurveyAnswer.text.is_not(None),
            SurveyAnswer.response_id.in_(
                select(SurveyResponse.id).where(
                    SurveyResponse.invitation_id.in_(
                        select(SurveyInvitation.id).where(SurveyInvitation.respondent_id == pid)
                    )
                )
            ),
        )
        .values(text=""),
    )

    # Other people's conversations about them (a mentor's referral or booking in progress or
    # finished: its answers hold the texts typed about the student).
    deleted = 0
    for conversation in list(
        await session.scalars(
            select(Conversation).where(
                Conversation.school_id == person.school_id, Conversation.person_id != pid
            )
        )
    ):
        if answers_about(conversation.state or {}, pid, trajectory_ids):
            await session.delete(conversation)
            deleted += 1

    # Access, links and what only served them (their saved queue views first: a saved search
    # may hold a student's name, and the account they hang on goes below).
    deleted += await _end_views_and_district_coaching(session, pid, now)
    for model, column in (
        (Conversation, Conversation.person_id),
        (Invite, Invite.person_id),
        (LoginLink, LoginLink.person_id),
        (WebSession, WebSession.person_id),
        (WebChatSession, WebChatSession.person_id),
        (StaffAccount, StaffAccount.person_id),
        (CoachAvailability, CoachAvailability.coach_id),
    ):
        deleted += await _rowcount(session, delete(model).where(column == pid))
    deleted += await _rowcount(
        session,
        delete(Mentorship).where(or_(Mentorship.mentor_id == pid, Mentorship.student_id == pid)),
    )
    deleted += await _rowcount(
        session,
        delete(Guardianship).where(
            or_(Guardianship.parent_id == pid, Guardianship.student_id == pid)
        ),
    )
    await _rowcount(
        session,
        update(Outbox)
        .where(Outbox.recipient_id == pid, Outbox.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error="erased"),
    )

    # The audit trail keeps its ids; names, addresses and usernames leave its details.
    scrubbed = 0
    for row in await session.scalars(
        select(AuditLog).where(
            AuditLog.school_id == person.school_id, AuditLog.details.is_not(None)
        )
    ):
        if row.details and needs_scrub(row.details, tokens):
            row.details = scrub(row.details, tokens)
            scrubbed += 1

    _pseudonymise(person, now)
    await session.flush()
    log.info("person erased person_id=%s trajectories=%s", pid, len(trajectory_ids))
    return Erasure(
        person_id=pid,
        trajectories=len(trajectory_ids),
        closed_by_force=len(still_open),
        texts_removed=texts,
        rows_deleted=deleted,
        audit_rows_scrubbed=scrubbed,
    )


def _pseudonymise(person: Person, now: datetime) -> None:
    """The person row as the anchor that stays: "Verwijderd <id>", no contact, no birth date."""
    given, family = erased_names(person.id)
    person.given_name = given
    person.family_name = family
    person.external_id = erased_external_id(person.id)
    person.group_name = None
    person.telegram_user_id = None
    person.telegram_chat_id = None
    person.unreachable_at = None
    person.email = None
    person.email_unreachable_at = None
    person.channel_preference = None
    person.birth_date = None
    person.ended_at = person.ended_at or now
    person.erased_at = now
