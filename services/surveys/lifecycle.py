"""The exit questionnaire: invitations on closing, completion, personal links, results.

Life of one invitation::

    close_trajectory ─► create_invitations_in_transaction      (one per respondent, 21 days)
                          Outbox survey:<id>:invite            now
                          Outbox survey:<id>:reminder:1 / :2   +3 d / +7 d (only before expiry;
                                                                never sent after it: not_after)
    respondent answers (services.conversations.survey_chat → dialog_runtime; progress saved per
    answer)
    confirm ─► complete_survey_in_transaction                  (one transaction)
                 invitation used, SurveyResponse + SurveyAnswer rows by question code,
                 pending reminders withdrawn, QueueItem exit_survey, care coordinators told

Operations (``*_in_transaction``, `issue_survey_link`, `redeem_survey_token`) join the
caller's transaction; `open_survey_result` and `close_survey_item` are units of work. Logs and
the audit trail hold ids and codes only: never names, never the free-text answers.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, FlowContext
from dialogs.flows.exit_survey import (
    OPEN_ANSWER_MAX,
    QUESTIONS,
    SCALE_CODES,
    SURVEY_INVITATION,
    VERSION,
    remaining_time,
)
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.access import reload_actor, require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from services.kernel.text_input import clean_text, validate_length
from services.outbox.store import cancel_pending, notify_care_coordinators
from storage.models import (
    Guardianship,
    Outbox,
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    RespondentType,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
)

log = logging.getLogger(__name__)

#: How long an invitation can be answered.
SURVEY_TTL = timedelta(days=21)
#: When the reminders go out, counted from the invitation (at most two; none after expiry).
REMINDERS: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=7))

SURVEY_INVITE = "survey.invite"
SURVEY_REMINDER = "survey.reminder"
SURVEY_COMPLETED = "survey.completed"

#: The roles that may answer each questionnaire (the mentor answers the teacher's).
RESPONDENT_ROLES: Mapping[RespondentType, frozenset[Role]] = {
    RespondentType.STUDENT: frozenset({Role.STUDENT}),
    RespondentType.PARENT: frozenset({Role.PARENT}),
    RespondentType.TEACHER: frozenset({Role.MENTOR, Role.TEACHER}),
}

_NOT_AVAILABLE = N_("This questionnaire is not available to you.")
_RESULT_NOT_AVAILABLE = N_("This questionnaire result is not available to you.")
#: Longer than any token `issue_survey_link` makes; longer input is not even hashed.
_TOKEN_MAX = 200

__all__ = [
    "REMINDERS",
    "RESPONDENT_ROLES",
    "SURVEY_COMPLETED",
    "SURVEY_INVITE",
    "SURVEY_REMINDER",
    "SURVEY_TTL",
    "OpenInvitation",
    "SurveyAnswerView",
    "SurveyLink",
    "SurveyResultView",
    "SurveyUnavailable",
    "SurveyUnavailableReason",
    "close_survey_item",
    "complete_survey_in_transaction",
    "create_invitations_in_transaction",
    "invitation_messages_key",
    "issue_survey_link",
    "open_invitations",
    "open_survey_result",
    "redeem_survey_token",
    "survey_context",
    "usable_invitation",
]


class SurveyUnavailableReason(StrEnum):
    """Why an invitation cannot be answered (now)."""

    #: No such invitation, or not this person's: one answer, so ids cannot be probed.
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


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
    return Text.of(_NOT_AVAILABLE)


@dataclass(frozen=True, slots=True)
class SurveyLink:
    """What a personal link opens: the invitation and the person who may answer it."""

    invitation: SurveyInvitation
    respondent: Person


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


@dataclass(frozen=True, slots=True)
class SurveyAnswerView:
    """One stored answer: a scale code, or free text as written in ``text_language``."""

    code: str
    value: str | None
    text: str | None
    text_language: str | None


@dataclass(frozen=True, slots=True)
class SurveyResultView:
    """A completed questionnaire as the care coordinator reads it (inside the chat only)."""

    queue_item_id: int
    status: QueueStatus
    response_id: int
    trajectory_id: int
    respondent_type: RespondentType
    respondent_name: str
    student_name: str
    group_name: str | None
    version: int
    language: str
    completed_at: datetime
    answers: tuple[SurveyAnswerView, ...]


def invitation_messages_key(invitation_id: int) -> str:
    """The dedup-key prefix of every outbox row of one invitation (invite and reminders)."""
    return f"survey:{invitation_id}:"


# -- invitations -----------------------------------------------------------------------------


async def create_invitations_in_transaction(
    *, session: AsyncSession, trajectory: Trajectory, now: datetime, ttl: timedelta = SURVEY_TTL
) -> list[SurveyInvitation]:
    """One invitation per respondent of a closed trajectory, with its messages (an operation).

    Respondents: the student, each parent linked by `Guardianship`, and the mentor who
    referred (who answers the teacher's questionnaire); each only while they hold a role that
    may answer it, and each person once (a mentor who is also a parent answers as a parent).
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
        if person_id in invited or person is None:
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
    messages = [(SURVEY_INVITE, f"{key}invite", now)]
    messages += [
        (SURVEY_REMINDER, f"{key}reminder:{number}", now + delay)
        for number, delay in enumerate(REMINDERS, start=1)
        if now + delay < expires_at
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


def _check_usable(invitation: SurveyInvitation, now: datetime) -> None:
    if invitation.completed_at is not None:
        raise SurveyUnavailable(SurveyUnavailableReason.USED)
    if invitation.expires_at <= now:
        raise SurveyUnavailable(SurveyUnavailableReason.EXPIRED, invitation.expires_at)


async def usable_invitation(
    *, session: AsyncSession, person: Person, invitation_id: int, now: datetime, lock: bool = False
) -> SurveyInvitation:
    """The person's own invitation, if it can be answered now (a query; `SurveyUnavailable`).

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
    _check_usable(invitation, now)
    return invitation


async def open_invitations(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[OpenInvitation]:
    """The invitations this person can still answer, oldest first (a query)."""
    rows = await session.execute(
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
            SurveyInvitation.respondent_id == person.id,
            SurveyInvitation.school_id == person.school_id,
            SurveyInvitation.completed_at.is_(None),
            SurveyInvitation.expires_at > now,
        )
        .order_by(SurveyInvitation.created_at, SurveyInvitation.id)
    )
    return [
        OpenInvitation(invitation_id, respondent_type, given_name, expires_at)
        for invitation_id, respondent_type, expires_at, given_name in rows
    ]


def _preset_invitation_id(answers: Answers) -> int | None:
    raw = answers.get(SURVEY_INVITATION)
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


async def survey_context(
    *,
    session: AsyncSession,
    person: Person,
    respondent_type: RespondentType,
    now: datetime,
    answers: Answers,
) -> FlowContext:
    """What the questionnaire shows besides its questions (a query).

    Under every question the honest time left; under the first one whose support it is about
    (for a parent their child's first name, for a teacher the student's name and class), read
    from the invitation in ``answers`` and only when it is this person's own.
    """
    details = dict(remaining_time(respondent_type.value))
    first = QUESTIONS[respondent_type.value][0].code
    intro = Text.of(
        N_("Your time with the support room has ended. How much do you agree with each sentence?")
    )
    invitation_id = _preset_invitation_id(answers)
    if respondent_type is not RespondentType.STUDENT and invitation_id is not None:
        student = await session.scalar(
            select(Person)
            .join(Trajectory, Trajectory.student_id == Person.id)
            .join(
                SurveyInvitation,
                (SurveyInvitation.trajectory_id == Trajectory.id)
                & (SurveyInvitation.school_id == Trajectory.school_id),
            )
            .where(
                SurveyInvitation.id == invitation_id,
                SurveyInvitation.respondent_id == person.id,
                SurveyInvitation.school_id == person.school_id,
            )
        )
        if student is None:
            intro = Text.of(N_("How much do you agree with each sentence?"))
        elif respondent_type is RespondentType.PARENT:
            intro = Text.of(
                N_(
                    "The support for {name} at the support room has ended. How much do you "
                    "agree with each sentence?"
                ),
                name=Text.raw(student.given_name),
            )
        else:
            name = (
                f"{student.display_name} ({student.group_name})"
                if student.group_name
                else student.display_name
            )
            intro = Text.of(
                N_(
                    "The support for {name} at the support room has ended. How much do you "
                    "agree with each sentence?"
                ),
                name=Text.raw(name),
            )
    details[first] = (intro, *details[first])
    return FlowContext(today=now.astimezone(SCHOOL_TIMEZONE).date(), details=details)


# -- completion ------------------------------------------------------------------------------


def _answer_rows(
    respondent_type: RespondentType, answers: Answers
) -> list[tuple[str, str | None, str | None]]:
    """(code, scale value, free text) per answered question; `InputInvalid` for a bad one."""
    rows: list[tuple[str, str | None, str | None]] = []
    for question in QUESTIONS[respondent_type.value]:
        value = answers.get(question.code)
        if question.open:
            if value is None:
                continue
            if not isinstance(value, str):
                raise InputInvalid(Text.of(N_("Please type your answer as a message.")))
            text = clean_text(value)
            if not text:
                continue
            problem = validate_length(text, 1, OPEN_ANSWER_MAX)
            if problem is not None:
                raise InputInvalid(problem)
            rows.append((question.code, None, text))
        elif isinstance(value, str) and value in SCALE_CODES:
            rows.append((question.code, value, None))
        else:
            raise InputInvalid(Text.of(N_("Please answer every statement before sending.")))
    return rows


async def complete_survey_in_transaction(
    *,
    session: AsyncSession,
    person: Person,
    respondent_type: RespondentType,
    answers: Answers,
    now: datetime,
) -> SurveyResponse:
    """Store a confirmed questionnaire (an operation: the chat flow's confirm).

    In the caller's transaction: the invitation (the preset `SURVEY_INVITATION`, re-read and
    locked) must be this person's and of this questionnaire (else `NotAllowed`), unused and not
    expired (else `SurveyUnavailable`, which the runtime shows while keeping the answers). Then
    it is marked used (a conditional UPDATE, so two confirmations cannot both count), the
    answers are stored by question code, free text with the person's language, its pending
    messages are withdrawn, a queue item ``exit_survey`` is created and every care coordinator
    of the school gets a name-free notification.
    """
    person = await reload_actor(session=session, actor=person)
    if not any(person.has_role(role) for role in RESPONDENT_ROLES[respondent_type]):
        log.info("refused: person_id=%s may not answer as %s", person.id, respondent_type)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    invitation_id = _preset_invitation_id(answers)
    if invitation_id is None:
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    invitation = await usable_invitation(
        session=session, person=person, invitation_id=invitation_id, now=now, lock=True
    )
    if invitation.respondent_type is not respondent_type:
        log.info("refused: invitation_id=%s is not a %s one", invitation.id, respondent_type)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    language = person.language if person.language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    rows = _answer_rows(respondent_type, answers)

    claimed: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.completed_at.is_(None))
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise SurveyUnavailable(SurveyUnavailableReason.USED)
    response = SurveyResponse(
        school_id=invitation.school_id,
        invitation_id=invitation.id,
        respondent_type=respondent_type,
        version=VERSION,
        language=language,
        completed_at=now,
    )
    session.add(response)
    await session.flush()
    for code, value, text in rows:
        session.add(
            SurveyAnswer(
                school_id=invitation.school_id,
                response_id=response.id,
                code=code,
                value=value,
                text=text,
                text_language=None if text is None else language,
            )
        )
    withdrawn = await cancel_pending(
        session=session, key_prefix=invitation_messages_key(invitation.id)
    )
    item = QueueItem(
        school_id=invitation.school_id,
        kind=QueueKind.EXIT_SURVEY,
        survey_response_id=response.id,
        status=QueueStatus.NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    await notify_care_coordinators(
        session=session,
        school_id=invitation.school_id,
        kind=SURVEY_COMPLETED,
        subject_id=response.id,
        payload={"queue_item_id": item.id, "survey_response_id": response.id},
        now=now,
    )
    record_audit(
        session=session,
        school_id=invitation.school_id,
        actor_id=person.id,
        action="survey.complete",
        subject_type="survey_invitation",
        subject_id=invitation.id,
        details={
            "trajectory_id": invitation.trajectory_id,
            "survey_response_id": response.id,
            "queue_item_id": item.id,
            "respondent_type": respondent_type.value,
            "reminders_withdrawn": withdrawn,
        },
        at=now,
    )
    await session.flush()
    log.info(
        "survey invitation_id=%s completed by person_id=%s: response_id=%s queue_item_id=%s",
        invitation.id,
        person.id,
        response.id,
        item.id,
    )
    return response


# -- personal links (the web chat, issue 6) --------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_survey_link(
    *, session: AsyncSession, actor: Person, invitation_id: int, now: datetime
) -> str:
    """A new personal token for an invitation (an operation; care coordinator of its school).

    For respondents without Telegram: the web chat opens the questionnaire from this token.
    Only its SHA-256 is stored, so the returned value is the one chance to hand it out; a new
    link replaces the previous one. `NotAllowed` for another school's or an unknown
    invitation, `SurveyUnavailable` when it was answered or has expired.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    invitation = await session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id, SurveyInvitation.school_id == actor.school_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        log.info("refused: survey link for invitation_id=%s by %s", invitation_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    _check_usable(invitation, now)
    token = secrets.token_urlsafe(24)
    invitation.token_hash = _hash(token)
    invitation.token_issued_at = now
    record_audit(
        session=session,
        school_id=invitation.school_id,
        actor_id=actor.id,
        action="survey.link",
        subject_type="survey_invitation",
        subject_id=invitation.id,
        at=now,
    )
    await session.flush()
    log.info("survey link issued for invitation_id=%s by person_id=%s", invitation.id, actor.id)
    return token


async def redeem_survey_token(*, session: AsyncSession, token: str, now: datetime) -> SurveyLink:
    """The invitation and respondent a personal link opens (a query; `SurveyUnavailable`).

    The link is not used up by opening it: only completing the questionnaire uses the
    invitation, so a respondent can stop halfway and come back with the same link.
    """
    if not token or len(token) > _TOKEN_MAX:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    invitation = await session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.token_hash == _hash(token))
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    _check_usable(invitation, now)
    respondent = await session.get(Person, invitation.respondent_id)
    if respondent is None:  # pragma: no cover - the foreign key cascades
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    return SurveyLink(invitation=invitation, respondent=respondent)


# -- the care coordinator's queue ------------------------------------------------------------


async def _authorized_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, SurveyResponse, SurveyInvitation]:
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    query = (
        select(QueueItem, SurveyResponse, SurveyInvitation)
        .join(SurveyResponse, SurveyResponse.id == QueueItem.survey_response_id)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(
            QueueItem.id == queue_item_id,
            QueueItem.kind == QueueKind.EXIT_SURVEY,
            QueueItem.school_id == actor.school_id,
            SurveyResponse.school_id == actor.school_id,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=QueueItem)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        log.info("refused: survey queue_item_id=%s for person_id=%s", queue_item_id, actor.id)
        raise NotAllowed(Text.of(_RESULT_NOT_AVAILABLE))
    item, response, invitation = row
    return actor, item, response, invitation


async def open_survey_result(
    *, session: AsyncSession, viewer: Person, queue_item_id: int
) -> SurveyResultView:
    """A completed questionnaire behind a queue item (a unit of work; audited).

    Only a care coordinator of the item's school; anyone else, and any id that is not an
    exit-questionnaire item of their school, gets `NotAllowed`.
    """
    async with session.begin():
        viewer, item, response, invitation = await _authorized_item(
            session=session, actor=viewer, queue_item_id=queue_item_id, lock=False
        )
        trajectory = await session.get(Trajectory, invitation.trajectory_id)
        assert trajectory is not None  # noqa: S101 - a foreign key guarantees it
        people = {
            p.id: p
            for p in await session.scalars(
                select(Person).where(
                    Person.id.in_([invitation.respondent_id, trajectory.student_id]),
                    Person.school_id == item.school_id,
                )
            )
        }
        answers = await session.scalars(
            select(SurveyAnswer)
            .where(SurveyAnswer.response_id == response.id)
            .order_by(SurveyAnswer.code)
        )
        student = people[trajectory.student_id]
        view = SurveyResultView(
            queue_item_id=item.id,
            status=item.status,
            response_id=response.id,
            trajectory_id=trajectory.id,
            respondent_type=response.respondent_type,
            respondent_name=people[invitation.respondent_id].display_name,
            student_name=student.display_name,
            group_name=student.group_name,
            version=response.version,
            language=response.language,
            completed_at=response.completed_at,
            answers=tuple(
                SurveyAnswerView(a.code, a.value, a.text, a.text_language) for a in answers
            ),
        )
        record_audit(
            session=session,
            school_id=item.school_id,
            actor_id=viewer.id,
            action="survey.view",
            subject_type="survey_response",
            subject_id=response.id,
            details={"queue_item_id": item.id},
        )
    log.info("survey queue_item_id=%s opened by person_id=%s", item.id, viewer.id)
    return view


async def close_survey_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Mark a questionnaire result as read and handled: status ``closed`` (a unit of work).

    `NotAllowed` as for `open_survey_result`; `InvalidTransition` when it is closed already.
    The status only changes from the one read (compare-and-set), so of two coordinators
    closing at once one is told it was closed already.
    """
    async with session.begin():
        actor, item, response, _invitation = await _authorized_item(
            session=session, actor=actor, queue_item_id=queue_item_id, lock=True
        )
        before = item.status
        changed = None
        if before is not QueueStatus.CLOSED:
            changed = await session.scalar(
                update(QueueItem)
                .where(QueueItem.id == item.id, QueueItem.status == before)
                .values(
                    status=QueueStatus.CLOSED,
                    assignee_id=item.assignee_id or actor.id,
                    updated_at=now,
                )
                .returning(QueueItem.id)
                .execution_options(synchronize_session=False)
            )
        if changed is None:
            raise InvalidTransition(Text.of(N_("This questionnaire result is already handled.")))
        await session.refresh(item)
        record_audit(
            session=session,
            school_id=item.school_id,
            actor_id=actor.id,
            action="queue.close",
            subject_type="queue_item",
            subject_id=item.id,
            details={
                "survey_response_id": response.id,
                "from_status": before.value,
                "to_status": QueueStatus.CLOSED.value,
            },
            at=now,
        )
    log.info("survey queue_item_id=%s closed by person_id=%s", item.id, actor.id)
    return item
