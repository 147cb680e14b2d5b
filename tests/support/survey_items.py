"""A completed exit questionnaire waiting in the queue, inserted directly (no chat run): the
invitation, the response, its answers and the ``exit_survey`` queue item."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    RespondentType,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from tests.support.factories import add_trajectory

#: A student's answers: S1–S4 on the scale (S3 "don't know"), S5 free text.
STUDENT_ANSWERS: dict[str, tuple[str | None, str | None]] = {
    "S1": ("4", None),
    "S2": ("2", None),
    "S3": ("na", None),
    "S4": ("5", None),
    "S5": (None, "De rustige plek hielp, maar ik miste de les."),
}


async def add_survey_item(
    session: AsyncSession,
    *,
    mentor: Person,
    student: Person,
    answers: dict[str, tuple[str | None, str | None]] | None = None,
    now: datetime,
    created_at: datetime | None = None,
    status: QueueStatus = QueueStatus.NEW,
) -> int:
    """``student``'s answers to their exit questionnaire (in Dutch) about a trajectory on a
    referral by ``mentor``, in the queue as ``status``; the queue item's id."""
    trajectory = await add_trajectory(session, mentor, student)
    invitation = SurveyInvitation(
        school_id=student.school_id,
        trajectory_id=trajectory.id,
        respondent_id=student.id,
        respondent_type=RespondentType.STUDENT,
        created_at=now - timedelta(days=2),
        expires_at=now + timedelta(days=19),
        completed_at=now,
    )
    session.add(invitation)
    await session.flush()
    response = SurveyResponse(
        school_id=student.school_id,
        invitation_id=invitation.id,
        respondent_type=RespondentType.STUDENT,
        version=1,
        language="nl",
        completed_at=now,
    )
    session.add(response)
    await session.flush()
    for code, (value, text) in (answers or STUDENT_ANSWERS).items():
        session.add(
            SurveyAnswer(
                school_id=student.school_id,
                response_id=response.id,
                code=code,
                value=value,
                text=text,
                text_language=None if text is None else "nl",
            )
        )
    item = QueueItem(
        school_id=student.school_id,
        kind=QueueKind.EXIT_SURVEY,
        survey_response_id=response.id,
        status=status,
        created_at=created_at or now,
        updated_at=created_at or now,
    )
    session.add(item)
    await session.flush()
    return item.id
