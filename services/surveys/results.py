"""Exit questionnaire results as the care coordinator reads them: the answers behind a queue
item ``exit_survey``. Reading them is the item's step: the first read by a care coordinator
resolves the item itself (system action ``survey_read`` of `services.queue.rules`, through
`move_item`, audited ``queue.resolve``); `close_survey_item` stays for a result marked handled
without reading it there (and answers an old "Mark as handled" button kindly).

Only a care coordinator of the item's school; views are audited with ids only. Services here
take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition, NotAllowed
from services.queue.rules import ItemState, QueueAction, refusal, system_actions
from services.queue.status import move_item
from storage.models import (
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    RespondentType,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
)

log = logging.getLogger(__name__)

_RESULT_NOT_AVAILABLE = N_("This questionnaire result is not available to you.")

__all__ = [
    "SurveyAnswerView",
    "SurveyResultView",
    "close_survey_item",
    "mark_survey_read",
    "open_survey_result",
]


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
    #: ``None``, like the names, for an anonymous response: nothing links it to a person.
    trajectory_id: int | None
    respondent_type: RespondentType
    respondent_name: str
    student_name: str
    group_name: str | None
    version: int
    language: str
    completed_at: datetime
    answers: tuple[SurveyAnswerView, ...]
    #: The respondent chose to answer anonymously (no names, the day only).
    anonymous: bool = False


async def _authorized_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, SurveyResponse, SurveyInvitation | None]:
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    query = (
        select(QueueItem, SurveyResponse, SurveyInvitation)
        .join(SurveyResponse, SurveyResponse.id == QueueItem.survey_response_id)
        # An anonymous response has no invitation.
        .outerjoin(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
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
    *,
    session: AsyncSession,
    viewer: Person,
    queue_item_id: int,
    now: datetime,
    resolve: bool = True,
) -> SurveyResultView:
    """A completed questionnaire behind a queue item (audited ``survey.view``); reading it
    resolves the item when it is still open (issue 11: queue items resolve themselves when
    their step is done), so the view shows it closed. ``resolve`` false: only read (the web
    page, where the coordinator marks it read with a button: `mark_survey_read`).

    Only a care coordinator of the item's school; anyone else, and any id that is not an
    exit-questionnaire item of their school, gets `NotAllowed`.
    """
    viewer, item, response, invitation = await _authorized_item(
        session=session, actor=viewer, queue_item_id=queue_item_id, lock=True
    )
    if resolve:
        await _resolve_on_read(session=session, viewer=viewer, item=item, now=now)
    answers = tuple(
        SurveyAnswerView(a.code, a.value, a.text, a.text_language)
        for a in await session.scalars(
            select(SurveyAnswer)
            .where(SurveyAnswer.response_id == response.id)
            .order_by(SurveyAnswer.code)
        )
    )
    if invitation is None:
        # Anonymous: no name, no student, no trajectory; the day only.
        view = SurveyResultView(
            queue_item_id=item.id,
            status=item.status,
            response_id=response.id,
            trajectory_id=None,
            respondent_type=response.respondent_type,
            respondent_name="",
            student_name="",
            group_name=None,
            anonymous=True,
            version=response.version,
            language=response.language,
            completed_at=response.completed_at,
            answers=answers,
        )
    else:
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
            anonymous=False,
            version=response.version,
            language=response.language,
            completed_at=response.completed_at,
            answers=answers,
        )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=viewer.id,
        action="survey.view",
        subject_type="survey_response",
        subject_id=response.id,
        details={"queue_item_id": item.id},
        at=now,
    )
    log.info("survey queue_item_id=%s opened by person_id=%s", item.id, viewer.id)
    return view


async def _resolve_on_read(
    *, session: AsyncSession, viewer: Person, item: QueueItem, now: datetime
) -> None:
    """Close an open result item because its answers were read (`QueueAction.SURVEY_READ`).

    Of two coordinators reading at once one resolves it; the other reads it closed (a lost
    compare-and-set changes nothing and is not an error here).
    """
    if QueueAction.SURVEY_READ not in system_actions(
        kind=item.kind, status=item.status, waiting_reason=item.waiting_reason
    ):
        return
    try:
        before = await move_item(
            session=session,
            item=item,
            action=QueueAction.SURVEY_READ,
            to=QueueStatus.CLOSED,
            now=now,
            values={"assignee_id": item.assignee_id or viewer.id},
        )
    except InvalidTransition:
        log.info("survey queue_item_id=%s was resolved meanwhile", item.id)
        return
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=viewer.id,
        action="queue.resolve",
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "survey_response_id": item.survey_response_id,
            "because": QueueAction.SURVEY_READ.value,
            "from_status": before.value,
            "to_status": QueueStatus.CLOSED.value,
        },
        at=now,
    )


async def mark_survey_read(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> None:
    """The web page's "Read": the care coordinator has read the answers, so the item's step is
    done and it resolves (`QueueAction.SURVEY_READ`, as reading in the chat does; audited
    ``queue.resolve``). `NotAllowed` as for `open_survey_result`; `InvalidTransition` when it
    was handled already."""
    actor, item, _response, _invitation = await _authorized_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    refused = refusal(ItemState.of(item), QueueAction.SURVEY_READ)
    if refused is not None:
        raise InvalidTransition(refused)
    await _resolve_on_read(session=session, viewer=actor, item=item, now=now)


async def close_survey_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Mark a questionnaire result as read and handled: status ``closed``.

    `NotAllowed` as for `open_survey_result`; `InvalidTransition` when it is closed already.
    The status only changes from the one read (compare-and-set), so of two coordinators
    closing at once one is told it was closed already.
    """
    actor, item, response, _invitation = await _authorized_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    # The queue's one status writer: refused ("already handled") once closed, compare-and-set.
    before = await move_item(
        session=session,
        item=item,
        action=QueueAction.CLOSE,
        to=QueueStatus.CLOSED,
        now=now,
        values={"assignee_id": item.assignee_id or actor.id},
    )
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
