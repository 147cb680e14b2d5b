""" "My referrals": a mentor's own referrals, newest first, each with its stage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals.progress import referrals_with_stage
from services.referrals.rules import ReferralStage
from storage.models import (
    QueueDecision,
    QueueItem,
    QueueStatus,
    Referral,
    Role,
    TrajectoryStatus,
    WaitingReason,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
    add_trajectory,
)


async def test_newest_first_each_with_its_stage_and_only_the_mentors_own(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        other = await add_person(session, school, "m2", Role.MENTOR)
        students = [
            await add_person(session, school, f"s{n}", Role.STUDENT, given_name=f"Kind{n}")
            for n in range(4)
        ]
        for student in students:
            await add_mentorship(session, mentor, student)
            await add_mentorship(session, other, student)
        new = await add_queued_referral(session, mentor, students[0])
        care_team = await add_queued_referral(session, mentor, students[1])
        care_team.status = QueueStatus.WAITING
        care_team.waiting_reason = WaitingReason.CARE_TEAM
        care_team.waiting_since = NOW
        declined = await add_queued_referral(session, mentor, students[2])
        declined.status = QueueStatus.CLOSED
        declined.decision = QueueDecision.DECLINED
        declined.decision_reason = "Past niet."
        declined.decided_at = NOW
        declined.decided_by_id = other.id
        trajectory = await add_trajectory(
            session, mentor, students[3], status=TrajectoryStatus.ACTIVE
        )
        await add_queued_referral(session, other, students[0])  # not this mentor's
        # Created one hour apart: the new one last.
        order = [trajectory.referral_id, declined.referral_id, care_team.referral_id]
        order.append(new.referral_id)
        for hours, referral_id in enumerate(order):
            await session.execute(
                update(Referral)
                .where(Referral.id == referral_id)
                .values(created_at=NOW + timedelta(hours=hours))
            )
        await session.execute(
            update(QueueItem)
            .where(QueueItem.referral_id == trajectory.referral_id)
            .values(
                status=QueueStatus.CLOSED,
                decision=QueueDecision.ACCEPTED,
                decided_at=NOW,
                decided_by_id=other.id,
            )
        )

    async with session_factory() as session:
        shown = await referrals_with_stage(session=session, mentor=mentor)

    assert [(p.student_name.split()[0], p.stage) for p in shown] == [
        ("Kind0", ReferralStage.SUBMITTED),
        ("Kind1", ReferralStage.WITH_CARE_TEAM),
        ("Kind2", ReferralStage.DECLINED),
        ("Kind3", ReferralStage.RUNNING),
    ]
