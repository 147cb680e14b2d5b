"""The care coordinator's queue, as the coordinator sees it."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.kernel.access import require_role
from services.kernel.audit import record_audit
from storage.models import (
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    RespondentType,
    Role,
    SurveyInvitation,
    SurveyResponse,
    TimeoutRequest,
    Trajectory,
    Urgency,
    WaitingReason,
)

log = logging.getLogger(__name__)

#: What the queue shows when no statuses are asked for: everything not yet closed.
OPEN_STATUSES: tuple[QueueStatus, ...] = (
    QueueStatus.NEW,
    QueueStatus.IN_PROGRESS,
    QueueStatus.WAITING,
)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One line of the queue. Names are for display inside the chat only, never for logs."""

    queue_item_id: int
    kind: QueueKind
    status: QueueStatus
    created_at: datetime
    student_name: str | None
    group_name: str | None
    mentor_name: str | None
    urgency: Urgency | None
    assignee_id: int | None = None
    assignee_name: str | None = None
    waiting_reason: WaitingReason | None = None
    waiting_since: datetime | None = None
    paused_seconds: int = 0
    updated_at: datetime | None = None
    #: Who answered, for an exit questionnaire (``kind`` ``exit_survey``); the student is the
    #: one whose trajectory it was about.
    respondent_type: RespondentType | None = None

    def age(self, now: datetime) -> timedelta:
        """How long the item has been open, not counting the time it spent waiting."""
        return age(
            created_at=self.created_at,
            status=self.status,
            waiting_since=self.waiting_since,
            paused_seconds=self.paused_seconds,
            closed_at=self.updated_at if self.status is QueueStatus.CLOSED else None,
            now=now,
        )


def age(
    *,
    created_at: datetime,
    status: QueueStatus,
    waiting_since: datetime | None,
    paused_seconds: int,
    closed_at: datetime | None,
    now: datetime,
) -> timedelta:
    """An item's age: from ``created_at`` to now (or to ``closed_at``), minus its pauses.

    The clock stops while the item is ``waiting`` (from ``waiting_since``); earlier waits are
    in ``paused_seconds``. Never negative.
    """
    end = closed_at if status is QueueStatus.CLOSED and closed_at is not None else now
    if status is QueueStatus.WAITING and waiting_since is not None:
        end = min(end, waiting_since)
    return max(end - created_at - timedelta(seconds=paused_seconds), timedelta(0))


class AssigneeFilter(StrEnum):
    """Whose items the queue shows."""

    ANYONE = "any"
    ME = "me"
    NOBODY = "none"


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """What the queue page filters on; ``statuses`` ``None`` means the open ones."""

    statuses: tuple[QueueStatus, ...] | None = None
    kind: QueueKind | None = None
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    urgency: Urgency | None = None


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """The filtered entries and, for the same filters but any status, the count per status."""

    entries: list[QueueEntry]
    counts: dict[QueueStatus, int] = field(default_factory=dict)


async def list_queue(
    *,
    session: AsyncSession,
    viewer: Person,
    statuses: Collection[QueueStatus] | None = None,
) -> list[QueueEntry]:
    """The queue of the viewer's school: high urgency first, then oldest first.

    An operation in the caller's unit of work (the view is audited as ``queue.view``). Only a
    care coordinator sees the queue, and only of their own school; anyone else gets
    `NotAllowed`. ``statuses`` defaults to the open ones (`OPEN_STATUSES`).
    """
    overview = await queue_overview(
        session=session,
        viewer=viewer,
        filters=QueueFilters(statuses=None if statuses is None else tuple(statuses)),
    )
    return overview.entries


async def queue_overview(
    *, session: AsyncSession, viewer: Person, filters: QueueFilters
) -> QueueOverview:
    """The queue of the viewer's school, filtered, with counts per status (the web's queue).

    Same rules as `list_queue` (an operation; care coordinators of the school only; audited
    as ``queue.view`` with the item ids shown).
    """
    wanted = tuple(OPEN_STATUSES if filters.statuses is None else filters.statuses)
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    student = aliased(Person, name="student")
    mentor = aliased(Person, name="mentor")
    assignee = aliased(Person, name="assignee")
    urgency_rank = case(
        (Referral.urgency == Urgency.HIGH, 0),
        (Referral.urgency == Urgency.NORMAL, 1),
        (Referral.urgency == Urgency.LOW, 2),
        else_=3,
    )
    conditions = _filter_conditions(viewer=viewer, filters=filters)
    rows = await session.execute(
        select(
            QueueItem,
            student.given_name,
            student.family_name,
            student.group_name,
            mentor.given_name,
            mentor.family_name,
            assignee.given_name,
            assignee.family_name,
            Referral.urgency,
            SurveyResponse.respondent_type,
        )
        .outerjoin(Referral, Referral.id == QueueItem.referral_id)
        # An exit questionnaire is about the student of the trajectory it closed.
        .outerjoin(SurveyResponse, SurveyResponse.id == QueueItem.survey_response_id)
        .outerjoin(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .outerjoin(Trajectory, Trajectory.id == SurveyInvitation.trajectory_id)
        # A time-out request is about the student who asked.
        .outerjoin(TimeoutRequest, TimeoutRequest.queue_item_id == QueueItem.id)
        .outerjoin(
            student,
            student.id
            == func.coalesce(Referral.student_id, Trajectory.student_id, TimeoutRequest.student_id),
        )
        .outerjoin(mentor, mentor.id == Referral.mentor_id)
        .outerjoin(assignee, assignee.id == QueueItem.assignee_id)
        .where(*conditions, QueueItem.status.in_(wanted))
        .order_by(urgency_rank, QueueItem.created_at, QueueItem.id)
    )
    entries = [
        QueueEntry(
            queue_item_id=item.id,
            kind=item.kind,
            status=item.status,
            created_at=item.created_at,
            student_name=_name(student_given, student_family),
            group_name=group_name,
            mentor_name=_name(mentor_given, mentor_family),
            urgency=urgency,
            assignee_id=item.assignee_id,
            assignee_name=_name(assignee_given, assignee_family),
            waiting_reason=item.waiting_reason,
            waiting_since=item.waiting_since,
            paused_seconds=item.paused_seconds,
            updated_at=item.updated_at,
            respondent_type=respondent_type,
        )
        for (
            item,
            student_given,
            student_family,
            group_name,
            mentor_given,
            mentor_family,
            assignee_given,
            assignee_family,
            urgency,
            respondent_type,
        ) in rows
    ]
    counted = await session.execute(
        select(QueueItem.status, func.count(QueueItem.id))
        .outerjoin(Referral, Referral.id == QueueItem.referral_id)
        .where(*conditions)
        .group_by(QueueItem.status)
    )
    counts = dict.fromkeys(QueueStatus, 0)
    counts.update({status: int(number) for status, number in counted})
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="queue.view",
        subject_type="school",
        subject_id=viewer.school_id,
        details={
            "statuses": [status.value for status in wanted],
            "queue_item_ids": [entry.queue_item_id for entry in entries],
        },
    )
    log.info("queue viewed by person_id=%s: %s items", viewer.id, len(entries))
    return QueueOverview(entries=entries, counts=counts)


def _filter_conditions(*, viewer: Person, filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [QueueItem.school_id == viewer.school_id]
    if filters.kind is not None:
        conditions.append(QueueItem.kind == filters.kind)
    if filters.assignee is AssigneeFilter.ME:
        conditions.append(QueueItem.assignee_id == viewer.id)
    elif filters.assignee is AssigneeFilter.NOBODY:
        conditions.append(QueueItem.assignee_id.is_(None))
    if filters.urgency is not None:
        conditions.append(Referral.urgency == filters.urgency)
    return conditions


def _name(given: str | None, family: str | None) -> str | None:
    if given is None or family is None:
        return None
    return f"{given} {family}"
