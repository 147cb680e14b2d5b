"""More than one worker on one PostgreSQL (issue 16): Telegram's limits kept by all the outbox
workers together, an update handled once by whichever dispatcher gets it, and one person's
events handled one after the other.

Each worker has an engine of its own (its own connections, as a second process would).
PostgreSQL only: on SQLite the product runs one process.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutgoingMessage
from bot.outbox.worker import OutboxWorker, SharedRate
from dialogs.flows.verwijzing import VERWIJZING
from services.conversations.runtime import open_flow
from services.outbox.rate import Reservation, reserve_send
from storage.db import create_engine, create_sessionmaker
from storage.models import OutboxStatus, Role
from tests.bot.demo_bot import DemoBot, demo_bot
from tests.bot.telegram_fakes import Person as TelegramUser
from tests.bot.telegram_fakes import update
from tests.bot.test_outbox_worker import CATALOGS, Clock, enqueue, make_school, outbox_rows
from tests.support.factories import add_mentorship, add_person, add_school
from tests.support.units import unit

pytestmark = pytest.mark.postgres_only

WORKERS = 3
NOW_FLOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in Amsterdam


@dataclass
class SharedLog:
    """Every send of every worker: (the event loop's clock, chat, outbox id, worker)."""

    sends: list[tuple[float, int, int, int]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0


@dataclass
class LoggingSender:
    log: SharedLog
    worker: int

    async def send(self, message: OutgoingMessage) -> None:
        assert message.chat_id is not None
        self.log.sends.append(
            (asyncio.get_running_loop().time(), message.chat_id, message.outbox_id, self.worker)
        )
        if len(self.log.sends) >= self.log.expected:
            self.log.done.set()


async def test_workers_keep_the_bot_and_chat_limits_together(migrated_url: str) -> None:
    engines = [create_engine(migrated_url) for _ in range(WORKERS)]
    try:
        sessions = [create_sessionmaker(engine) for engine in engines]
        school = await make_school(sessions[0], people=30)
        # 45 notices at once: every person one, fifteen of them two (a chat's 1 a second).
        recipients = school.people + school.people[:15]
        ids = await enqueue(sessions[0], school.id, recipients)
        log = SharedLog(expected=len(ids))
        stop = asyncio.Event()
        workers = [
            OutboxWorker(
                sender=LoggingSender(log, number),
                sessions=factory,
                catalogs=CATALOGS,
                clock=Clock(),
                batch_size=30,
                poll_interval=0.05,
                start_pause=0.0,
                shared=SharedRate(),
            )
            for number, factory in enumerate(sessions)
        ]
        running = [asyncio.create_task(worker.run(stop)) for worker in workers]
        await asyncio.wait_for(log.done.wait(), timeout=60)
        stop.set()
        await asyncio.gather(*running)
    finally:
        for engine in engines:
            await engine.dispose()

    sent_ids = [outbox_id for _, _, outbox_id, _ in log.sends]
    assert sorted(sent_ids) == sorted(ids), "every row once, none twice"
    times = sorted(at for at, _, _, _ in log.sends)
    busiest = max(
        sum(1 for other in times[index:] if other - at < 1.0) for index, at in enumerate(times)
    )
    assert busiest <= 30, f"{busiest} sends within one second"
    per_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat, _, _ in log.sends:
        per_chat[chat].append(at)
    gaps = [b - a for stamps in per_chat.values() for a, b in pairwise(sorted(stamps))]
    assert len(gaps) == 15, "fifteen chats got two notices"
    assert min(gaps) >= 1.0, f"two sends to one chat {min(gaps):.3f} s apart"
    # More than one worker sent: the limits were kept together, not by one worker alone.
    assert len({worker for _, _, _, worker in log.sends}) > 1
    rows = await _statuses(migrated_url)
    assert set(rows) == {OutboxStatus.SENT}


async def _statuses(url: str) -> list[OutboxStatus]:
    engine = create_engine(url)
    try:
        rows = await outbox_rows(create_sessionmaker(engine))
        return [row.status for row in rows.values()]
    finally:
        await engine.dispose()


async def test_a_chat_reserved_by_one_worker_waits_for_another(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rate = SharedRate(per_second=0.1)  # a slot every 10.5 s: a second chat waits for it

    async def reserve(chat: int, held: float | None = None) -> Reservation:
        reservation: Reservation = await unit(
            session_factory,
            reserve_send,
            chat_key=chat,
            overall_interval=rate.overall_interval,
            chat_interval=rate.chat_gap,
            lead=rate.lead,
            held=held,
        )
        return reservation

    first = await reserve(7001)
    assert first.reserved
    again = await reserve(7001)
    other = await reserve(7002)
    assert not again.reserved, "the chat's clock is a second ahead: nothing reserved"
    assert again.wait > 1.0
    assert again.at == pytest.approx(first.at + rate.chat_gap, abs=0.001)
    # Another chat gets the bot's next slot, one overall interval after the first's.
    assert other.reserved
    async with session_factory() as session:
        clocks = {
            row[0]: row[1]
            for row in await session.execute(text("SELECT key, next_at FROM outbox_rate"))
        }
    apart = (clocks[7002] - clocks[7001]).total_seconds()
    assert apart == pytest.approx(rate.overall_interval, abs=0.005)
    ahead = (clocks[0] - clocks[7002]).total_seconds()
    assert ahead == pytest.approx(rate.overall_interval - rate.chat_gap, abs=0.005)


@pytest.fixture
async def two_dispatchers(migrated_url: str) -> AsyncIterator[tuple[DemoBot, DemoBot]]:
    async with demo_bot(migrated_url) as first, demo_bot(migrated_url) as second:
        yield first, second


async def test_two_dispatchers_fed_the_same_update_handle_it_once(
    two_dispatchers: tuple[DemoBot, DemoBot],
) -> None:
    first, second = two_dispatchers
    stranger = TelegramUser(91_000_001, "en")
    for _ in range(5):
        data = stranger.text("hello")
        await asyncio.gather(
            *(
                harness.dispatcher.feed_update(harness.bot, update(harness.bot, data))
                for harness in (first, second)
            )
        )
    answers = [
        [call for call in harness.api.calls if isinstance(call, SendMessage)]
        for harness in (first, second)
    ]
    # Five updates, each answered by exactly one of the two dispatchers, once.
    assert len(answers[0]) + len(answers[1]) == 5


async def test_two_updates_of_one_person_are_handled_one_after_the_other(
    migrated_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m", Role.MENTOR)
        student = await add_person(session, school, "s", Role.STUDENT, given_name="Kind")
        await add_mentorship(session, mentor, student)
    other_engine = create_engine(migrated_url)
    try:
        other_worker = create_sessionmaker(other_engine)
        async with session_factory() as first:
            await first.begin()
            # Worker one opens the referral flow and has not committed yet.
            opened = await open_flow(
                session=first, person=mentor, flow_id=VERWIJZING.id, now=NOW_FLOW
            )
            second = asyncio.create_task(
                unit(other_worker, open_flow, person=mentor, flow_id=VERWIJZING.id, now=NOW_FLOW)
            )
            # Worker two waits for the person's lock instead of starting a second run.
            await asyncio.wait_for(_someone_waits_for_a_lock(session_factory), timeout=30)
            assert not second.done()
            await first.commit()
        resumed = await asyncio.wait_for(second, timeout=30)
    finally:
        await other_engine.dispose()
    # The second update saw what the first wrote: the same run, resumed.
    assert resumed.state.run == opened.state.run


async def _someone_waits_for_a_lock(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        async with sessions() as session:
            waiting = await session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.02)


async def test_a_missed_slot_does_not_make_its_chat_wait_for_itself(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rate = SharedRate()

    async def reserve(held: float | None = None) -> Reservation:
        reservation: Reservation = await unit(
            session_factory,
            reserve_send,
            chat_key=7003,
            overall_interval=rate.overall_interval,
            chat_interval=rate.chat_gap,
            lead=rate.lead,
            held=held,
        )
        return reservation

    missed = await reserve()
    held = missed.at + rate.chat_gap
    assert (await reserve(held)).reserved
    # Someone else's clock on the chat (not the one this worker's missed slot set) is waited for.
    assert not (await reserve(held)).reserved
