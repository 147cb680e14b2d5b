"""The care coordinator's queue, as the coordinator sees it."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.access import require_role
from storage.audit import record_audit
from storage.models import Person, QueueItem, QueueKind, QueueStatus, Referral, Role, Urgency

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


async def list_queue(
    *,
    session: AsyncSession,
    viewer: Person,
    statuses: Collection[QueueStatus] | None = None,
) -> list[QueueEntry]:
    """The queue of the viewer's school: high urgency first, then oldest first.

    A unit of work: opens and commits its own transaction (the view is audited as
    ``queue.view``), so ``session`` must not be inside one. Only a care coordinator sees the
    queue, and only of their own school; anyone else gets `NotAllowed`. ``statuses`` defaults
    to the open ones (`OPEN_STATUSES`).
    """
    wanted = tuple(OPEN_STATUSES if statuses is None else statuses)
    async with session.begin():
        viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
        student = aliased(Person, name="student")
        mentor = aliased(Person, name="mentor")
        urgency_rank = case(
            (Referral.urgency == Urgency.HIGH, 0),
            (Referral.urgency == Urgency.NORMAL, 1),
            (Referral.urgency == Urgency.LOW, 2),
            else_=3,
        )
        rows = await session.execute(
            select(
                QueueItem.id,
                QueueItem.kind,
                QueueItem.status,
                QueueItem.created_at,
                student.given_name,
                student.family_name,
                student.group_name,
                mentor.given_name,
                mentor.family_name,
                Referral.urgency,
            )
            .outerjoin(Referral, Referral.id == QueueItem.referral_id)
            .outerjoin(student, student.id == Referral.student_id)
            .outerjoin(mentor, mentor.id == Referral.mentor_id)
            .where(QueueItem.school_id == viewer.school_id, QueueItem.status.in_(wanted))
            .order_by(urgency_rank, QueueItem.created_at, QueueItem.id)
        )
        entries = [
            QueueEntry(
                queue_item_id=item_id,
                kind=kind,
                status=status,
                created_at=created_at,
                student_name=_name(student_given, student_family),
                group_name=group_name,
                mentor_name=_name(mentor_given, mentor_family),
                urgency=urgency,
            )
            for (
                item_id,
                kind,
                status,
                created_at,
                student_given,
                student_family,
                group_name,
                mentor_given,
                mentor_family,
                urgency,
            ) in rows
        ]
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
    return entries


def _name(given: str | None, family: str | None) -> str | None:
    if given is None or family is None:
        return None
    return f"{given} {family}"
