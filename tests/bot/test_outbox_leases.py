"""At least once (issue 13): claims are leases, uncertain outcomes are resent or held by kind,
a stale worker is fenced off, and an operator lists, retries and cancels rows (audited).

Against a real database with the fake sender of `tests.bot.test_outbox_worker`; the process
that is killed for real is `tests/bot/test_outbox_kill.py`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiohttp import ClientConnectorError
from aiohttp.client_reqrep import ConnectionKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutgoingMessage, TemporaryFailure, Uncertain
from bot.outbox.telegram_sender import TelegramSender
from services.outbox.kinds import HOLD_WHEN_UNCERTAIN, RESEND_WHEN_UNCERTAIN, OutboxKind
from services.outbox.operations import cancel_rows, list_rows, retry_rows
from services.outbox.store import claim_due, hand_over, mark_sent
from storage.models import AuditLog, OutboxStatus
from tests.bot.test_cli import trajectbot
from tests.bot.test_outbox_worker import (
    METHOD,
    Clock,
    FakeSender,
    StubBot,
    chat_of,
    drain,
    enqueue,
    fast_worker,
    make_school,
    outbox_rows,
)
from tests.support.factories import NOW

LEASE = timedelta(minutes=2)


def test_every_kind_is_either_resent_or_held_when_uncertain() -> None:
    assert RESEND_WHEN_UNCERTAIN.isdisjoint(HOLD_WHEN_UNCERTAIN)
    assert set(OutboxKind) == RESEND_WHEN_UNCERTAIN | HOLD_WHEN_UNCERTAIN


@pytest.mark.parametrize(
    ("kind", "after"),
    [
        (OutboxKind.TIMEOUT_REQUESTED, OutboxStatus.PENDING),
        (OutboxKind.SURVEY_COMPLETED, OutboxStatus.UNCERTAIN),
    ],
)
async def test_a_read_timeout_is_resent_or_held_by_kind(
    session_factory: async_sessionmaker[AsyncSession], kind: OutboxKind, after: OutboxStatus
) -> None:
    school = await make_school(session_factory, people=1)
    [row_id] = await enqueue(session_factory, school.id, school.people, kind=kind)
    sender, clock = FakeSender(), Clock()
    sender.fail(chat_of(school.people[0]), Uncertain("timeout"))
    worker = fast_worker(session_factory, sender, clock)

    await drain(worker)
    row = (await outbox_rows(session_factory))[row_id]
    assert (row.status, row.last_error) == (after, "uncertain")
    clock.advance(3600)
    await drain(worker)
    row = (await outbox_rows(session_factory))[row_id]
    resent = after is OutboxStatus.PENDING
    assert len(sender.calls) == (2 if resent else 1)
    assert row.status == (OutboxStatus.SENT if resent else OutboxStatus.UNCERTAIN)


async def test_a_request_that_never_left_is_retried_even_for_held_kinds(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_school(session_factory, people=1)
    [row_id] = await enqueue(
        session_factory, school.id, school.people, kind=OutboxKind.SURVEY_COMPLETED
    )
    sender, clock = FakeSender(), Clock()
    sender.fail(chat_of(school.people[0]), TemporaryFailure("connect_failed"))
    worker = fast_worker(session_factory, sender, clock)
    await drain(worker)
    clock.advance(60)
    await drain(worker)
    assert sender.delivered_ids() == [row_id]


@pytest.mark.parametrize(
    ("kind", "handed", "status", "error"),
    [
        (OutboxKind.SURVEY_COMPLETED, False, OutboxStatus.SENT, "lease_expired"),
        (OutboxKind.SURVEY_COMPLETED, True, OutboxStatus.UNCERTAIN, "uncertain"),
        (OutboxKind.TIMEOUT_REQUESTED, True, OutboxStatus.SENT, "uncertain"),
        (OutboxKind.REFERRAL_NEW, True, OutboxStatus.UNCERTAIN, "uncertain"),
    ],
)
async def test_a_dead_worker_s_rows_after_the_lease(
    session_factory: async_sessionmaker[AsyncSession],
    kind: OutboxKind,
    handed: bool,
    status: OutboxStatus,
    error: str,
) -> None:
    school = await make_school(session_factory, people=1)
    [row_id] = await enqueue(session_factory, school.id, school.people, kind=kind)
    # A worker claims the row (and perhaps hands it over), then is killed.
    async with session_factory() as session, session.begin():
        [claimed] = await claim_due(session=session, now=NOW, limit=1, lease=LEASE)
        if handed:
            assert await hand_over(
                session=session, outbox_id=row_id, attempt=claimed.attempt, now=NOW, lease=LEASE
            )
    sender, clock = FakeSender(), Clock()
    clock.advance(LEASE.total_seconds() - 1)
    await drain(fast_worker(session_factory, sender, clock, lease=LEASE))
    assert sender.calls == []  # the lease still holds
    clock.advance(2)
    await drain(fast_worker(session_factory, sender, clock, lease=LEASE))

    row = (await outbox_rows(session_factory))[row_id]
    assert row.status == status
    if status is OutboxStatus.SENT:
        assert sender.delivered_ids() == [row_id]
        assert row.attempts == 2
    else:
        assert sender.calls == []
        assert row.last_error == error


async def test_a_worker_whose_lease_was_taken_back_sends_and_stores_nothing(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_school(session_factory, people=1)
    [row_id] = await enqueue(session_factory, school.id, school.people)
    async with session_factory() as session, session.begin():
        [stale] = await claim_due(session=session, now=NOW, limit=1, lease=LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    async with session_factory() as session, session.begin():
        [fresh] = await claim_due(session=session, now=later, limit=1, lease=LEASE)
    assert (stale.attempt, fresh.attempt) == (1, 2)
    async with session_factory() as session, session.begin():
        # The stale worker wakes up: its hand-over and its outcome are refused.
        assert not await hand_over(
            session=session, outbox_id=row_id, attempt=stale.attempt, now=later, lease=LEASE
        )
        assert not await mark_sent(
            session=session, outbox_id=row_id, now=later, attempt=stale.attempt
        )
        assert await hand_over(
            session=session, outbox_id=row_id, attempt=fresh.attempt, now=later, lease=LEASE
        )
        assert await mark_sent(session=session, outbox_id=row_id, now=later, attempt=fresh.attempt)


async def test_telegram_connection_refused_is_retried_a_dropped_answer_is_uncertain() -> None:
    refused = TelegramNetworkError(METHOD, "ClientConnectorError")
    key = ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
    refused.__cause__ = ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    dropped = TelegramNetworkError(METHOD, "ServerDisconnectedError")
    message = OutgoingMessage(outbox_id=1, chat_id=5, text="hi")
    with pytest.raises(TemporaryFailure) as before:
        await TelegramSender(cast(Bot, StubBot(refused))).send(message)
    assert before.value.code == "connect_failed"
    with pytest.raises(Uncertain):
        await TelegramSender(cast(Bot, StubBot(dropped))).send(message)


async def test_operator_lists_retries_and_cancels_audited(
    session_factory: async_sessionmaker[AsyncSession], migrated_url: str
) -> None:
    school = await make_school(session_factory, people=2)
    held, other = await enqueue(
        session_factory, school.id, school.people, kind=OutboxKind.SURVEY_COMPLETED
    )
    sender, clock = FakeSender(), Clock()
    sender.fail(chat_of(school.people[0]), Uncertain("timeout"))
    sender.fail(chat_of(school.people[1]), TemporaryFailure("server_error"))
    await drain(fast_worker(session_factory, sender, clock))

    listed = await asyncio.to_thread(
        trajectbot, migrated_url, "outbox", "list", "--status", "uncertain"
    )
    assert listed.returncode == 0, listed.stderr
    [header, line] = listed.stdout.splitlines()
    assert header.split("\t")[:3] == ["id", "kind", "status"]
    assert line.split("\t")[:4] == [str(held), "survey.completed", "uncertain", "1"]
    everything = await asyncio.to_thread(trajectbot, migrated_url, "outbox", "list")
    assert {row.split("\t")[0] for row in everything.stdout.splitlines()[1:]} == {
        str(held),
        str(other),
    }

    retried = await asyncio.to_thread(trajectbot, migrated_url, "outbox", "retry", str(held))
    assert (retried.returncode, retried.stdout.strip()) == (0, f"#{held}: will be sent again.")
    refused = await asyncio.to_thread(
        trajectbot, migrated_url, "outbox", "retry", str(other), "99999"
    )
    assert refused.returncode == 1
    assert f"#{other} is pending: not changed." in refused.stderr
    assert "#99999: no such outbox row." in refused.stderr
    cancelled = await asyncio.to_thread(trajectbot, migrated_url, "outbox", "cancel", str(other))
    assert cancelled.returncode == 0, cancelled.stderr

    # The command made the row due at the real time.
    clock.now = max(clock.now, datetime.now(UTC)) + timedelta(hours=1)
    await drain(fast_worker(session_factory, sender, clock))
    rows = await outbox_rows(session_factory)
    assert (rows[held].status, rows[other].status) == (OutboxStatus.SENT, OutboxStatus.CANCELLED)
    assert sender.delivered_ids() == [held]
    async with session_factory() as session:
        audits = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.subject_type == "outbox").order_by(AuditLog.id)
            )
        )
        assert [(a.action, a.subject_id, a.details) for a in audits] == [
            ("outbox.retry", held, {"before": "uncertain"}),
            ("outbox.cancel", other, {"before": "pending"}),
        ]
        assert await list_rows(session=session, status=OutboxStatus.UNCERTAIN) == []
        # Nothing to retry or cancel twice.
        [again] = await retry_rows(session=session, outbox_ids=[other], now=NOW)
        assert (again.before, again.changed) == ("cancelled", True)
        [sent] = await cancel_rows(session=session, outbox_ids=[held], now=NOW)
        assert (sent.before, sent.changed) == ("sent", False)
