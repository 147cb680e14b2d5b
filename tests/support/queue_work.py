"""A fuller queue for the queue-work tests (issue 14), on top of `tests.web.staff_client`'s
world (the demo school with Noor's new referral, #``demo.item_id``): three more referrals of
mentor1's mentees (high, low, normal urgency, received on different days), a time-out request
of Bram (received last, asked for in two days) and an exit questionnaire of Lieke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.timeout_requests import request_timeout
from services.referrals.submission import submit_referral
from storage.models import (
    Person,
    QueueDecision,
    QueueItem,
    QueueStatus,
    TimeoutRequestReason,
    Trajectory,
    Urgency,
)
from tests.support.factories import NOW, add_trajectory, draft
from tests.support.survey_items import add_survey_item


@dataclass(frozen=True)
class QueueWork:
    """The items' ids by what they are."""

    high: int  # Sem Coldewey (lln03), high urgency, 5 days old
    low: int  # Finn van Eemsteden (lln05), low urgency, 9 days old
    normal: int  # Milan Gorterhof (lln07), normal urgency, 2 days old
    timeout: int  # Bram Moerdijkstra (lln13): a time-out request received last
    survey: int  # Lieke Noordeloos (lln14): her exit questionnaire, 1 day old


async def _referral(
    session: AsyncSession, mentor: Person, student: Person, urgency: Urgency, days: int
) -> int:
    referral = await submit_referral(
        session=session,
        mentor=mentor,
        draft=draft(student.id, urgency=urgency),
        now=NOW - timedelta(days=days),
    )
    item = await session.scalar(select(QueueItem.id).where(QueueItem.referral_id == referral.id))
    assert item is not None
    return item


async def fill_queue(sessions: async_sessionmaker[AsyncSession], ids: dict[str, int]) -> QueueWork:
    """Add the items (``ids``: the demo school's people by external id)."""
    async with sessions() as session, session.begin():

        async def person(external_id: str) -> Person:
            return await session.get_one(Person, ids[external_id])

        mentor1, mentor2 = await person("mentor1"), await person("mentor2")
        high = await _referral(session, mentor1, await person("lln03"), Urgency.HIGH, 5)
        low = await _referral(session, mentor1, await person("lln05"), Urgency.LOW, 9)
        normal = await _referral(session, mentor1, await person("lln07"), Urgency.NORMAL, 2)
        survey = await add_survey_item(
            session,
            mentor=mentor2,
            student=await person("lln14"),
            now=NOW - timedelta(days=1),
        )
        bram = await person("lln13")
        trajectory = await add_trajectory(session, mentor2, bram, timeouts_per_week=0)
        requested = await request_timeout(
            session=session,
            actor=bram,
            trajectory=trajectory,
            starts_at=NOW + timedelta(days=2),
            reason=TimeoutRequestReason.OVER_CAP,
            now=NOW,
        )
        # The trajectories' own referrals were accepted long ago: closed, out of the open queue.
        await session.execute(
            update(QueueItem)
            .where(
                QueueItem.referral_id.in_(
                    select(Trajectory.referral_id).where(
                        Trajectory.student_id.in_([ids["lln13"], ids["lln14"]])
                    )
                )
            )
            .values(
                status=QueueStatus.CLOSED,
                decision=QueueDecision.ACCEPTED,
                decided_at=NOW - timedelta(days=40),
                decided_by_id=ids["zoco"],
            )
        )
    return QueueWork(
        high=high, low=low, normal=normal, timeout=requested.queue_item_id, survey=survey
    )
