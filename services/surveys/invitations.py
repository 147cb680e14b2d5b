"""Exit questionnaire invitations: one per respondent when a trajectory closes, with their
invitation message and reminders, and which ones a person can still answer.

Life of one invitation::

    close_trajectory ─► create_invitations                    (one per respondent, 21 days)
                          Outbox survey:<id>:invite            now
                          Outbox survey:<id>:reminder:1 / :2   +3 d / +7 d (only before expiry;
                                                                never sent after it: not_after)
    respondent answers (services.conversations.survey_chat → the runtime; progress saved per
    answer) ─► services.surveys.completion.complete_survey

Services here take a session already in a transaction and never begin one. Logs and the
audit trail hold ids and codes only: never names, never the free-text answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers
from dialogs.flows.exit_survey import SURVEY_INVITATION
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.adulthood import parents_see
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition
from services.kernel.ids import parse_id
from services.outbox.kinds import OutboxKind
from services.surveys.rules import (
    REMINDERS,
    RESPONDENT_ROLES,
    SURVEY_TTL,
    SurveyUnavailableReason,
    reminder_times,
    unavailable_reason,
)
from storage.models import (
    Guardianship,
    Mentorship,
    Outbox,
    Person,
    PersonRole,
    Referral,
    RespondentType,
    Role,
    SurveyInvitation,
    Trajectory,
)

log = logging.getLogger(__name__)

SURVEY_INVITE = OutboxKind.SURVEY_INVITE
SURVEY_REMINDER = OutboxKind.SURVEY_REMINDER

NOT_AVAILABLE = N_("This questionnaire is not available to you.")

__all__ = [
    "NOT_AVAILABLE",
    "REMINDERS",
    "RESPONDENT_ROLES",
    "SURVEY_INVITE",
    "SURVEY_REMINDER",
    "SURVEY_TTL",
    "OpenInvitation",
    "SurveyUnavailable",
    "SurveyUnavailableReason",
    "TeacherChoice",
    "check_teachers",
    "check_usable",
    "create_invitations",
    "invitation_messages_key",
    "open_invitations",
    "preset_invitation_id",
    "teachers_to_pick",
    "usable_invitation",
]


class SurveyUnavailable(InvalidTransition):
    """The invitation cannot be answered; ``reason`` is the kind sentence to show."""

    def __init__(self, kind: SurveyUnavailableReason, expires_at: datetime | None = None) -> None:
        self.kind = kind
        super().__init__(_unavailable_text(kind, expires_at))


def _unavailable_text(kind: SurveyUnavailableReason, expires_at: datetime | None) -> Text:
    if kind is SurveyUnavailableReason.USED:
        return Text.of(N_("You have already answered this questionnaire. Thank you!"))
    if kind is SurveyUnavailableReason.EXPIRED and expires_at is not None:
        return Text.of(
            N_(
                "This questionnaire has closed: answers were possible until {date}. "
                "Thank you all the same."
            ),
            date=expires_at.astimezone(SCHOOL_TIMEZONE).date(),
        )
    return Text.of(NOT_AVAILABLE)


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    """An invitation a person can still answer; ``student_name`` is for their own chat only."""

    invitation_id: int
    respondent_type: RespondentType
    student_name: str
    expires_at: datetime

    @property
    def label(self) -> Text:
        """How a menu offers it: a parent or teacher sees whose support it is about."""
        if self.respondent_type is RespondentType.STUDENT:
            return Text.of(N_("Exit questionnaire"))
        return Text.of(N_("Exit questionnaire: {name}"), name=Text.raw(self.student_name))


def invitation_messages_key(invitation_id: int) -> str:
    """The dedup-key prefix of every outbox row of one invitation (invite and reminders)."""
    return f"survey:{invitation_id}:"


@dataclass(frozen=True, slots=True)
class TeacherChoice:
    """A teacher (or mentor) of the school the care coordinator may invite at closing."""

    person_id: int
    name: str


async def teachers_to_pick(*, session: AsyncSession, school_id: int) -> list[TeacherChoice]:
    """The school's teachers and mentors, by name: whom the closing form offers to invite."""
    rows = await session.scalars(
        select(Person)
        .where(
            Person.school_id == school_id,
            Person.ended_at.is_(None),
            Person.erased_at.is_(None),
            Person.id.in_(
                select(PersonRole.person_id).where(PersonRole.role.in_([Role.TEACHER, Role.MENTOR]))
            ),
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    return [TeacherChoice(person.id, person.display_name) for person in rows]


async def check_teachers(
    *, session: AsyncSession, school_id: int, teacher_ids: Sequence[int]
) -> tuple[int, ...]:
    """The picked teachers, each once, if every one is a teacher or mentor of ``school_id``.

    `InputInvalid` otherwise (one answer for another school's person, a student, an unknown
    id: the form offers only the school's teachers, so this is a forged or stale form).
    """
    wanted = tuple(dict.fromkeys(teacher_ids))
    if not wanted:
        return ()
    allowed = {
        choice.person_id for choice in await teachers_to_pick(session=session, school_id=school_id)
    }
    if not set(wanted) <= allowed:
        log.info("refused: teachers to invite not all of school_id=%s", school_id)
        raise InputInvalid(Text.of(N_("Please pick only teachers of this school.")))
    return wanted


async def create_invitations(
    *,
    session: AsyncSession,
    trajectory: Trajectory,
    now: datetime,
    ttl: timedelta = SURVEY_TTL,
    teacher_ids: Sequence[int] = (),
) -> list[SurveyInvitation]:
    """One invitation per respondent of a closed trajectory, with its messages.

    Respondents: the student, each parent linked by `Guardianship`, the mentor who referred
    and the student's current mentors (`Mentorship`, from the roster: the student may have a
    new mentor by now), and the teachers the care coordinator picked at closing
    (``teacher_ids``, checked by the caller with `check_teachers`); mentors and teachers
    answer the teacher's questionnaire. Each only while they hold a role that may answer it,
    and each person once (a mentor who is also a parent answers as a parent).
    A person already invited for this trajectory is not invited again. Each invitation gets
    its invitation message now and reminders after 3 and 7 days, all withdrawn when it is
    answered and never sent after it expires.
    """
    student_id = trajectory.student_id
    parent_ids = list(
        await session.scalars(
            select(Guardianship.parent_id)
            .where(
                Guardianship.student_id == student_id,
                Guardianship.school_id == trajectory.school_id,
                parents_see(Guardianship.student_id),
            )
            .order_by(Guardianship.parent_id)
        )
    )
    mentor_id = await session.scalar(
        select(Referral.mentor_id).where(Referral.id == trajectory.referral_id)
    )
    wanted: list[tuple[int, RespondentType]] = [(student_id, RespondentType.STUDENT)]
    wanted += [(parent_id, RespondentType.PARENT) for parent_id in parent_ids]
    if mentor_id is not None:
        wanted.append((mentor_id, RespondentType.TEACHER))
    current_mentors = await session.scalars(
        select(Mentorship.mentor_id)
        .where(
            Mentorship.student_id == student_id,
            Mentorship.school_id == trajectory.school_id,
        )
        .order_by(Mentorship.mentor_id)
    )
    wanted += [(person_id, RespondentType.TEACHER) for person_id in current_mentors]
    wanted += [(person_id, RespondentType.TEACHER) for person_id in teacher_ids]

    people = {
        p.id: p
        for p in await session.scalars(
            select(Person).where(
                Person.id.in_([person_id for person_id, _ in wanted]),
                Person.school_id == trajectory.school_id,
            )
        )
    }
    invited = set(
        await session.scalars(
            select(SurveyInvitation.respondent_id).where(
                SurveyInvitation.trajectory_id == trajectory.id
            )
        )
    )
    created: list[SurveyInvitation] = []
    for person_id, respondent_type in wanted:
        person = people.get(person_id)
        if (
            person_id in invited
            or person is None
            or (person_id == student_id and (respondent_type is not RespondentType.STUDENT))
        ):
            continue
        if not any(person.has_role(role) for role in RESPONDENT_ROLES[respondent_type]):
            log.info(
                "trajectory_id=%s: person_id=%s not invited (no %s role)",
                trajectory.id,
                person_id,
                respondent_type.value,
            )
            continue
        invited.add(person_id)
        created.append(
            await _invite(
                session=session,
                trajectory=trajectory,
                person=person,
                respondent_type=respondent_type,
                now=now,
                ttl=ttl,
            )
        )
    await session.flush()
    log.info(
        "trajectory_id=%s: %s exit questionnaire invitations: %s",
        trajectory.id,
        len(created),
        [invitation.id for invitation in created],
    )
    return created


async def _invite(
    *,
    session: AsyncSession,
    trajectory: Trajectory,
    person: Person,
    respondent_type: RespondentType,
    now: datetime,
    ttl: timedelta,
) -> SurveyInvitation:
    expires_at = now + ttl
    invitation = SurveyInvitation(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        respondent_id=person.id,
        respondent_type=respondent_type,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(invitation)
    await session.flush()
    key = invitation_messages_key(invitation.id)
    # Ids only: the text is built when sent, without names or care details.
    payload = {"invitation_id": invitation.id}
    messages: list[tuple[OutboxKind, str, datetime]] = [(SURVEY_INVITE, f"{key}invite", now)]
    messages += [
        (SURVEY_REMINDER, f"{key}reminder:{number}", due)
        for number, due in reminder_times(now, expires_at)
    ]
    for kind, dedup_key, due in messages:
        session.add(
            Outbox(
                school_id=trajectory.school_id,
                recipient_id=person.id,
                kind=kind,
                payload=payload,
                dedup_key=dedup_key,
                next_attempt_at=due,
                not_after=expires_at,
                created_at=now,
            )
        )
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=None,
        action="survey.invite",
        subject_type="survey_invitation",
        subject_id=invitation.id,
        details={
            "trajectory_id": trajectory.id,
            "respondent_id": person.id,
            "respondent_type": respondent_type.value,
        },
        at=now,
    )
    return invitation


def check_usable(invitation: SurveyInvitation, now: datetime) -> None:
    """`SurveyUnavailable` when the invitation was answered or has expired by ``now``."""
    reason = unavailable_reason(
        completed_at=invitation.completed_at, expires_at=invitation.expires_at, now=now
    )
    if reason is not None:
        raise SurveyUnavailable(reason, invitation.expires_at)


async def usable_invitation(
    *, session: AsyncSession, person: Person, invitation_id: int, now: datetime, lock: bool = False
) -> SurveyInvitation:
    """The person's own invitation, if it can be answered now (`SurveyUnavailable`).

    Someone else's invitation and an unknown id give the same answer (``unknown``).
    """
    query = (
        select(SurveyInvitation)
        .where(
            SurveyInvitation.id == invitation_id,
            SurveyInvitation.respondent_id == person.id,
            SurveyInvitation.school_id == person.school_id,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    invitation = await session.scalar(query)
    if invitation is None:
        log.info("refused: survey invitation_id=%s for person_id=%s", invitation_id, person.id)
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    check_usable(invitation, now)
    return invitation


async def open_invitations(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[OpenInvitation]:
    """The invitations this person can still answer, oldest first."""
    rows = await session.execute(
        _open_invitations_query(),
        {"person_id": person.id, "school_id": person.school_id, "now": now},
    )
    return [
        OpenInvitation(invitation_id, respondent_type, given_name, expires_at)
        for invitation_id, respondent_type, expires_at, given_name in rows
    ]


@cache
def _open_invitations_query() -> Select[int, RespondentType, datetime, str]:
    """Built once per process: every chat menu reads it."""
    return (
        select(
            SurveyInvitation.id,
            SurveyInvitation.respondent_type,
            SurveyInvitation.expires_at,
            Person.given_name,
        )
        .join(
            Trajectory,
            (Trajectory.id == SurveyInvitation.trajectory_id)
            & (Trajectory.school_id == SurveyInvitation.school_id),
        )
        .join(Person, Person.id == Trajectory.student_id)
        .where(
            SurveyInvitation.respondent_id == bindparam("person_id"),
            SurveyInvitation.school_id == bindparam("school_id"),
            SurveyInvitation.completed_at.is_(None),
            SurveyInvitation.expires_at > bindparam("now", type_=SurveyInvitation.expires_at.type),
        )
        .order_by(SurveyInvitation.created_at, SurveyInvitation.id)
    )


def preset_invitation_id(answers: Answers) -> int | None:
    """The invitation a questionnaire run is about (its preset answer), if well-formed."""
    raw = answers.get(SURVEY_INVITATION)
    return parse_id(raw)
