"""The retention rule and the pruning (issue 13): care data of a trajectory closed 2 years and
a day ago is erased, of one closed 2 years less a day ago kept; a school's own period; a dry
run changes nothing; processed update ids, expired sessions, used or expired invitations and
login links pruned, live ones kept; the daily run of the worker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.housekeeping import run_daily
from services.privacy.retention import RETENTION, run_housekeeping
from services.privacy.rules import months_before, retention_cutoff
from services.privacy.views import set_retention
from storage.models import (
    AuditLog,
    CareTeamCase,
    CareTeamDecision,
    Conversation,
    ConversationStatus,
    Invite,
    LogbookEntry,
    LoginLink,
    ProcessedUpdate,
    QueueItem,
    Referral,
    School,
    SlotHold,
    StudentEvent,
    SupportActivity,
    Trajectory,
    WebChatSession,
    WebSession,
)
from tests.support.privacy_world import PrivacyWorld, build_privacy_world
from tests.support.units import in_unit

NOW = datetime(2028, 9, 1, 9, 0, tzinfo=UTC)
TWO_YEARS_AGO = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def test_months_are_calendar_months() -> None:
    assert months_before(datetime(2026, 3, 31, 8, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 8, tzinfo=UTC
    )
    assert months_before(datetime(2028, 2, 29, tzinfo=UTC), 24) == datetime(2026, 2, 28, tzinfo=UTC)
    assert retention_cutoff(NOW, 24) == TWO_YEARS_AGO


async def _world(
    session: AsyncSession, sam_closed: datetime, otto_closed: datetime
) -> PrivacyWorld:
    async with session.begin():
        world = await build_privacy_world(session, sam_closed_at=sam_closed)
        otto = await session.get_one(Trajectory, world.trajectories["otto"])
        otto.closed_at = otto_closed
    session.expunge_all()
    return world


async def _texts(session: AsyncSession, trajectory_id: int) -> tuple[object, ...]:
    async with session.begin():
        trajectory = await session.get_one(Trajectory, trajectory_id, populate_existing=True)
        referral = await session.get_one(Referral, trajectory.referral_id, populate_existing=True)
        logbook = await session.scalar(
            select(func.count()).where(LogbookEntry.trajectory_id == trajectory_id)
        )
        return trajectory.goals, trajectory.advice, referral.tried, logbook


async def test_care_data_is_erased_two_years_and_a_day_after_closing_not_a_day_before(
    session: AsyncSession,
) -> None:
    day = timedelta(days=1)
    world = await _world(session, TWO_YEARS_AGO - day, TWO_YEARS_AGO + day)

    dry = await in_unit(run_housekeeping, session=session, now=NOW, dry_run=True)
    assert dry.trajectories == 1
    assert (await _texts(session, world.trajectories["sam"]))[0] == "PLANT-sam-goals"

    done = await in_unit(run_housekeeping, session=session, now=NOW)

    assert done.trajectories == 1
    assert [r.trajectory_ids for r in done.schools if r.school_id == world.school.id] == [
        (world.trajectories["sam"],)
    ]
    assert await _texts(session, world.trajectories["sam"]) == (None, None, "", 0)
    assert await _texts(session, world.trajectories["otto"]) == (
        "PLANT-otto-goals",
        "PLANT-otto-advice",
        "PLANT-otto-tried",
        1,
    )
    async with session.begin():
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == RETENTION))
    assert audit is not None
    assert audit.details == {"trajectory_ids": [world.trajectories["sam"]], "months": 24}
    # Once erased, a trajectory is not counted again.
    again = await in_unit(run_housekeeping, session=session, now=NOW + day)
    assert again.trajectories == 0


async def _newer_texts(session: AsyncSession, trajectory_id: int) -> tuple[object, ...]:
    """The care texts of issues 14/15 on this trajectory: the student's own words, the
    external care named, the care team's question and advice, the observation's outcome."""
    async with session.begin():
        trajectory = await session.get_one(Trajectory, trajectory_id, populate_existing=True)
        referral = await session.get_one(Referral, trajectory.referral_id, populate_existing=True)
        case = await session.scalar(
            select(CareTeamCase)
            .join(QueueItem, QueueItem.id == CareTeamCase.queue_item_id)
            .where(QueueItem.referral_id == referral.id)
            .execution_options(populate_existing=True)
        )
        activity = await session.scalar(
            select(SupportActivity)
            .where(SupportActivity.trajectory_id == trajectory_id)
            .execution_options(populate_existing=True)
        )
        assert case is not None
        assert activity is not None
        return (
            referral.student_voice,
            referral.external_care_which,
            case.question,
            case.advice,
            activity.outcome,
        )


async def test_the_newer_care_texts_expire_with_the_rest_and_the_counts_stay(
    session: AsyncSession,
) -> None:
    day = timedelta(days=1)
    world = await _world(session, TWO_YEARS_AGO - day, TWO_YEARS_AGO + day)

    await in_unit(run_housekeeping, session=session, now=NOW)

    assert await _newer_texts(session, world.trajectories["sam"]) == (None, None, "", "", None)
    assert await _newer_texts(session, world.trajectories["otto"]) == (
        "PLANT-otto-student-voice",
        "PLANT-otto-external-care",
        "PLANT-otto-team-question",
        "PLANT-otto-team-advice",
        "PLANT-otto-observation",
    )
    # The rows stay for the indicators: the decision, the observation held, the OPP, the codes.
    async with session.begin():
        referral = await session.scalar(select(Referral).where(Referral.student_id == world.sam.id))
        decisions = list(await session.scalars(select(CareTeamCase.decision)))
        held = await session.scalar(
            select(func.count())
            .select_from(SupportActivity)
            .where(SupportActivity.held_on.is_not(None))
        )
        events = await session.scalar(select(func.count()).select_from(StudentEvent))
    assert referral is not None
    assert (referral.parents_language, referral.student_voice_language) == ("tr", "nl")
    assert decisions == [CareTeamDecision.TRAJECTORY, CareTeamDecision.TRAJECTORY]
    assert (held, events) == (2, 2)


async def test_a_school_sets_its_own_period(session: AsyncSession) -> None:
    world = await _world(session, NOW - timedelta(days=200), NOW - timedelta(days=400))

    await in_unit(
        set_retention,
        session=session,
        actor=world.admin,
        school_id=world.school.id,
        months=12,
        now=NOW,
    )

    done = await in_unit(run_housekeeping, session=session, now=NOW)
    assert done.trajectories == 1
    assert (await _texts(session, world.trajectories["otto"]))[0] is None
    assert (await _texts(session, world.trajectories["sam"]))[0] == "PLANT-sam-goals"
    async with session.begin():
        school = await session.get_one(School, world.school.id)
        assert school.care_retention_months == 12


async def test_pruning_removes_what_expired_and_keeps_what_lives(session: AsyncSession) -> None:
    world = await _world(session, NOW, NOW)  # the world's sessions and links expire in 2026
    async with session.begin():
        session.add_all(
            [
                ProcessedUpdate(update_id=1, processed_at=NOW - timedelta(days=15)),
                ProcessedUpdate(update_id=2, processed_at=NOW - timedelta(days=1)),
            ]
        )
        live = await session.get_one(School, world.school.id)
        del live
        chat = await session.scalar(select(WebChatSession).limit(1))
        assert chat is not None
        chat.expires_at = NOW + timedelta(days=1)
        # A time kept while someone read a booking summary: one ended, one still running.
        for minutes in (-1, 4):
            session.add(
                SlotHold(
                    school_id=world.school.id,
                    holder_id=world.sam.id,
                    resource="room:time_out",
                    starts_at=NOW + timedelta(days=1, minutes=minutes),
                    expires_at=NOW + timedelta(minutes=minutes),
                )
            )

    pruned = (await in_unit(run_housekeeping, session=session, now=NOW)).pruned

    assert (pruned.processed_updates, pruned.web_sessions, pruned.login_links) == (1, 2, 2)
    assert (pruned.invites, pruned.web_chat_sessions) == (2, 1)
    assert pruned.conversations == 2  # the mentor's two finished ones; the active ones stay
    assert pruned.slot_holds == 1
    async with session.begin():
        assert list(await session.scalars(select(ProcessedUpdate.update_id))) == [2]
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
        assert await session.scalar(select(func.count()).select_from(LoginLink)) == 0
        assert await session.scalar(select(func.count()).select_from(Invite)) == 0
        assert await session.scalar(select(func.count()).select_from(WebChatSession)) == 1
        statuses = list(await session.scalars(select(Conversation.status)))
        assert statuses == [ConversationStatus.ACTIVE] * 2
        kept = list(await session.scalars(select(SlotHold.expires_at)))
        assert kept == [NOW + timedelta(minutes=4)]


async def test_the_worker_runs_it_and_keeps_running(
    session_factory: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    world = await _world(session, TWO_YEARS_AGO - timedelta(days=1), NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_daily(
            session_factory,
            stop,
            every=timedelta(seconds=0.05),
            first_after=timedelta(0),
            clock=lambda: NOW,
        )
    )
    for _ in range(200):
        if (await _texts(session, world.trajectories["sam"]))[0] is None:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert (await _texts(session, world.trajectories["sam"]))[0] is None
