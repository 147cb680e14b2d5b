"""Answering the exit questionnaire: what the chat shows besides the questions, and storing a
confirmed questionnaire (the flow's confirm) with its queue item for the care coordinators.

::

    confirm ─► complete_survey                 (the runtime's transaction)
                 invitation used, SurveyResponse + SurveyAnswer rows by question code,
                 pending reminders withdrawn, QueueItem exit_survey, care coordinators told

Services here take a session already in a transaction and never begin one. Logs and the
audit trail hold ids and codes only: never names, never the free-text answers.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, FlowContext
from dialogs.flows.exit_survey import (
    ANONYMOUS,
    GOAL_CODES,
    SURVEY_FLOWS,
    VERSION,
    chose_anonymous,
    remaining_time,
)
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.kernel.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from services.outbox.kinds import OutboxKind
from services.outbox.store import cancel_pending
from services.queue.items import Audit, Notice, open_item
from services.surveys.invitations import (
    NOT_AVAILABLE,
    RESPONDENT_ROLES,
    SurveyUnavailable,
    SurveyUnavailableReason,
    invitation_messages_key,
    preset_invitation_id,
    usable_invitation,
)
from services.surveys.rules import anonymous_time, answer_rows
from storage.models import (
    Person,
    QueueKind,
    RespondentType,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
)

log = logging.getLogger(__name__)

SURVEY_COMPLETED = OutboxKind.SURVEY_COMPLETED

__all__ = ["SURVEY_COMPLETED", "complete_survey", "survey_context"]


async def survey_context(
    *,
    session: AsyncSession,
    person: Person,
    respondent_type: RespondentType,
    now: datetime,
    answers: Answers,
) -> FlowContext:
    """What the questionnaire shows besides its questions.

    Under every question the honest time left; under the first one whose support it is about
    (for a parent their child's first name, for a teacher the student's name and class), read
    from the invitation in ``answers`` and only when it is this person's own.
    """
    details = dict(remaining_time(respondent_type.value))
    # The intro goes with the first statement, not with the question whether to answer
    # anonymously that students and parents get first (a yes/no under "how much do you
    # agree" read wrongly).
    first = next(
        step.key for step in SURVEY_FLOWS[respondent_type.value].steps if step.key != ANONYMOUS
    )
    intro = Text.of(
        N_("Your time with the support room has ended. How much do you agree with each sentence?")
    )
    invitation_id = preset_invitation_id(answers)
    found = None
    if invitation_id is not None:
        found = (
            await session.execute(
                select(Person, Trajectory.goals)
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
        ).one_or_none()
    if respondent_type is not RespondentType.STUDENT and invitation_id is not None:
        student = None if found is None else found[0]
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
    goals = None if found is None else found[1]
    preface: dict[str, tuple[Text, ...]] = {}
    if goals:
        # The goals as written at the intake, above the statements about them, framed in the
        # respondent's language.
        shown = Text.of(
            N_("The goals agreed at the start of the support:\n{goals}"), goals=Text.raw(goals)
        )
        preface = dict.fromkeys(GOAL_CODES & set(details), (shown,))
    details[first] = (intro, *details[first])
    return FlowContext(
        today=now.astimezone(SCHOOL_TIMEZONE).date(), details=details, preface=preface
    )


async def complete_survey(
    *,
    session: AsyncSession,
    person: Person,
    respondent_type: RespondentType,
    answers: Answers,
    now: datetime,
) -> SurveyResponse:
    """Store a confirmed questionnaire (the chat flow's confirm).

    The invitation (the preset `SURVEY_INVITATION`, re-read and
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
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    invitation_id = preset_invitation_id(answers)
    if invitation_id is None:
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    invitation = await usable_invitation(
        session=session, person=person, invitation_id=invitation_id, now=now, lock=True
    )
    if invitation.respondent_type is not respondent_type:
        log.info("refused: invitation_id=%s is not a %s one", invitation.id, respondent_type)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    language = person.language if person.language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    rows = answer_rows(respondent_type, answers)
    anonymous = chose_anonymous(respondent_type.value, answers)
    if anonymous:
        # Every time kept about an anonymous answer is its day only (as LimeSurvey keeps no
        # completion time with anonymised responses), so times cannot pair it with a person.
        now = anonymous_time(now)

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
        invitation_id=None if anonymous else invitation.id,
        anonymous=anonymous,
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
    if anonymous:
        # The invitation's audit row names neither the response nor the queue item; the
        # item's own row names no person.
        record_audit(
            session=session,
            school_id=invitation.school_id,
            actor_id=None,
            action="survey.complete_anonymous",
            subject_type="survey_invitation",
            subject_id=invitation.id,
            details={
                "trajectory_id": invitation.trajectory_id,
                "reminders_withdrawn": withdrawn,
            },
            at=now,
        )
        audit = Audit(
            "survey.anonymous_response",
            subject_type="survey_response",
            subject_id=response.id,
            details={"respondent_type": respondent_type.value},
        )
    else:
        audit = Audit(
            "survey.complete",
            subject_type="survey_invitation",
            subject_id=invitation.id,
            details={
                "trajectory_id": invitation.trajectory_id,
                "survey_response_id": response.id,
                "respondent_type": respondent_type.value,
                "reminders_withdrawn": withdrawn,
            },
        )
    # The care coordinator's queue item, their notices and the audit row (``queue_item_id``
    # is added to both payload and details).
    item = await open_item(
        session=session,
        school_id=invitation.school_id,
        kind=QueueKind.EXIT_SURVEY,
        actor_id=None if anonymous else person.id,
        survey_response_id=response.id,
        notice=Notice(
            SURVEY_COMPLETED,
            subject_id=response.id,
            payload={"survey_response_id": response.id},
        ),
        audit=audit,
        now=now,
    )
    await session.flush()
    if anonymous:
        log.info("survey invitation_id=%s completed anonymously", invitation.id)
    else:
        log.info(
            "survey invitation_id=%s completed by person_id=%s: response_id=%s queue_item_id=%s",
            invitation.id,
            person.id,
            response.id,
            item.id,
        )
    return response
