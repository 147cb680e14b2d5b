"""A mentor's own referrals and where each stands ("My referrals")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.access import reload_actor
from services.referrals.rules import ReferralStage, referral_stage
from storage.models import Person, QueueItem, QueueKind, Referral, Trajectory

#: "My referrals" shows at most this many (the newest).
SHOWN = 20


@dataclass(frozen=True, slots=True)
class ReferralProgress:
    """One referral the mentor sent: when, about whom, and its stage."""

    referral_id: int
    created_at: datetime
    student_name: str
    stage: ReferralStage


async def referrals_with_stage(
    *, session: AsyncSession, mentor: Person, limit: int | None = None
) -> list[ReferralProgress]:
    """The referrals ``mentor`` sent in their school, newest first, each with its stage
    (at most ``limit``).

    A query (no writes). Only the mentor's own: the query is by the mentor re-read from the
    database, so nothing about other mentors' referrals can show.
    """
    mentor = await reload_actor(session=session, actor=mentor)
    rows = await session.execute(
        select(Referral, Person, QueueItem, Trajectory.status)
        .join(
            Person,
            (Person.id == Referral.student_id) & (Person.school_id == Referral.school_id),
        )
        .outerjoin(
            QueueItem,
            (QueueItem.referral_id == Referral.id) & (QueueItem.kind == QueueKind.REFERRAL),
        )
        .outerjoin(Trajectory, Trajectory.referral_id == Referral.id)
        .where(Referral.mentor_id == mentor.id, Referral.school_id == mentor.school_id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(limit)
    )
    found: dict[int, ReferralProgress] = {}
    for referral, student, item, trajectory_status in rows:
        found.setdefault(  # one line per referral, whatever else joined
            referral.id,
            ReferralProgress(
                referral_id=referral.id,
                created_at=referral.created_at,
                student_name=student.display_name,
                stage=referral_stage(
                    item_status=None if item is None else item.status,
                    waiting_reason=None if item is None else item.waiting_reason,
                    decision=None if item is None else item.decision,
                    trajectory_status=trajectory_status,
                    merged=item is not None and item.merged_into_id is not None,
                ),
            ),
        )
    return list(found.values())
