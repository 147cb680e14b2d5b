"""A student's referrals in one school with their queue items and trajectories: the facts
behind "is this a duplicate?" (issue 11, item 5).

A referral is *open* while its queue item is not closed, or while the trajectory its
acceptance created is not closed. The mentor's warning (`services.referrals.duplicates`), the
referral page's list of a student's earlier referrals and trajectories
(`services.queue.referral_view`) and the merge (`services.referrals.merging`) all read them
here, so they agree on what "open" means. Queries only: no writes, no authorization (the
callers have authorized the reader and pass the school).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    Trajectory,
    TrajectoryStatus,
    WaitingReason,
)


@dataclass(frozen=True, slots=True)
class StudentCase:
    """One referral of a student, its queue item (``None``: none) and its trajectory."""

    referral_id: int
    student_id: int
    mentor_id: int
    sent_at: datetime
    queue_item_id: int | None
    item_status: QueueStatus | None
    waiting_reason: WaitingReason | None
    decision: QueueDecision | None
    merged_into_id: int | None
    trajectory_id: int | None
    trajectory_status: TrajectoryStatus | None
    trajectory_started: datetime | None

    @property
    def is_open(self) -> bool:
        """Still being handled: the item is not closed, or the trajectory is not closed."""
        item_open = self.item_status is not None and self.item_status is not QueueStatus.CLOSED
        running = (
            self.trajectory_status is not None
            and self.trajectory_status is not TrajectoryStatus.CLOSED
        )
        return item_open or running


@cache
def _cases_query() -> Select[*tuple[Any, ...]]:
    """Built once per process: the mentor's verwijzing reads it on the steps that warn, and
    building the expression cost more than running it. Columns in `StudentCase` order."""
    return (
        select(
            Referral.id.label("referral_id"),
            Referral.student_id,
            Referral.mentor_id,
            Referral.created_at,
            QueueItem.id,
            QueueItem.status,
            QueueItem.waiting_reason,
            QueueItem.decision,
            QueueItem.merged_into_id,
            Trajectory.id,
            Trajectory.status,
            Trajectory.created_at,
        )
        .outerjoin(
            QueueItem,
            (QueueItem.referral_id == Referral.id)
            & (QueueItem.school_id == Referral.school_id)
            & (QueueItem.kind == QueueKind.REFERRAL),
        )
        .outerjoin(
            Trajectory,
            (Trajectory.referral_id == Referral.id) & (Trajectory.school_id == Referral.school_id),
        )
        .where(
            Referral.school_id == bindparam("school_id"),
            Referral.student_id.in_(bindparam("student_ids", expanding=True)),
        )
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )


async def cases_of_students(
    *, session: AsyncSession, school_id: int, student_ids: Collection[int]
) -> dict[int, list[StudentCase]]:
    """Every referral of ``student_ids`` in ``school_id``, newest first, by student id."""
    if not student_ids:
        return {}
    rows = await session.execute(
        _cases_query(), {"school_id": school_id, "student_ids": list(student_ids)}
    )
    found: dict[int, list[StudentCase]] = {}
    seen: set[int] = set()
    for row in rows:
        if row.referral_id in seen:  # one case per referral, whatever else joined
            continue
        seen.add(row.referral_id)
        found.setdefault(row.student_id, []).append(StudentCase(*row))
    return found


async def cases_of_student(
    *, session: AsyncSession, school_id: int, student_id: int
) -> list[StudentCase]:
    """Every referral of one student in ``school_id``, newest first."""
    found = await cases_of_students(session=session, school_id=school_id, student_ids=[student_id])
    return found.get(student_id, [])


def merge_target(cases: Collection[StudentCase], *, referral_id: int) -> StudentCase | None:
    """The open case a duplicate (``referral_id``) would be merged into, or ``None``.

    The one with a running trajectory first (at most one per student), else the oldest open
    referral: the duplicate joins what was there first. Only cases with a queue item (where
    the note goes).
    """
    others = [
        case
        for case in cases
        if case.referral_id != referral_id and case.is_open and case.queue_item_id is not None
    ]
    running = [
        case
        for case in others
        if case.trajectory_status is not None
        and case.trajectory_status is not TrajectoryStatus.CLOSED
    ]
    if running:
        return running[0]
    return min(others, key=lambda case: (case.sent_at, case.referral_id), default=None)
