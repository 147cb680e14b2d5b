"""The outbox seen from the worker that sends it: claim due rows, then store each outcome.

Every row is sent **at most once**. `claim_due` moves a row from ``pending`` to ``sending`` with
a conditional UPDATE (``… WHERE status = 'pending'``; on PostgreSQL the candidates are also
picked ``FOR UPDATE SKIP LOCKED``), so of two workers only one gets it, on either database. The
outcome (`mark_sent`, `mark_retry`, `mark_failed`, `mark_unreachable`) is only accepted from
``sending``. A worker that dies between the claim and the outcome leaves the row in
``sending``; it is never picked up again, because nobody can know whether Telegram delivered
it. Operators find such rows with `list_sending`.

Every function here runs inside the caller's transaction and never begins or commits: the
worker (`bot.outbox.worker`) begins each claim and each outcome as one unit of work through
`services.kernel.uow.run_unit_of_work`; services that write a message join their own.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.people import care_coordinators_of
from services.kernel.audit import record_audit
from services.outbox.kinds import OutboxKind
from storage.models import Outbox, OutboxStatus, Person

log = logging.getLogger(__name__)

PERSON_UNREACHABLE = OutboxKind.PERSON_UNREACHABLE

#: ``last_error`` codes `claim_due` writes for rows it settles without sending.
NO_CHAT = "no_chat"
KNOWN_UNREACHABLE = "known_unreachable"
#: ``last_error`` of a row withdrawn because its ``not_after`` had passed before it was sent.
TOO_LATE = "too_late"

__all__ = [
    "KNOWN_UNREACHABLE",
    "NO_CHAT",
    "PERSON_UNREACHABLE",
    "TOO_LATE",
    "ClaimedMessage",
    "SendingMessage",
    "claim_due",
    "list_sending",
    "mark_failed",
    "mark_reachable",
    "mark_retry",
    "mark_sent",
    "mark_unreachable",
    "notify_care_coordinators",
    "release",
]


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """What the sender needs to deliver one claimed row; ids and codes only, never names.

    ``attempt`` counts the claims of this row, this one included (1 on the first try).
    """

    outbox_id: int
    kind: str
    payload: Mapping[str, Any]
    recipient_id: int
    chat_id: int
    language: str
    attempt: int


@dataclass(frozen=True, slots=True)
class SendingMessage:
    """A row in ``sending``, as an operator sees it (ids only)."""

    outbox_id: int
    school_id: int
    recipient_id: int
    kind: str
    attempts: int
    claimed_at: datetime | None


async def claim_due(*, session: AsyncSession, now: datetime, limit: int) -> list[ClaimedMessage]:
    """Claim up to ``limit`` pending rows due at ``now`` (oldest due first) for this worker.

    One unit of work of the worker. The claimed rows are ``sending`` when it commits, with
    ``attempts`` raised by one and ``claimed_at = now``; no other worker can claim them. Rows whose
    recipient cannot be reached by Telegram at all (no chat linked, or already marked
    unreachable) are settled here as ``unreachable`` and not returned: there is nothing to try,
    and the care coordinator was already told when the person became unreachable. Pending rows
    whose ``not_after`` has passed are withdrawn (``cancelled``, ``last_error`` `TOO_LATE`).
    """
    if limit <= 0:
        return []
    # Rows whose deadline passed before they could go (a reminder of an invitation that
    # expired while no worker ran) are withdrawn, never sent late.
    await session.execute(
        update(Outbox)
        .where(
            Outbox.status == OutboxStatus.PENDING,
            Outbox.not_after.is_not(None),
            Outbox.not_after <= now,
        )
        .values(status=OutboxStatus.CANCELLED, last_error=TOO_LATE)
        .execution_options(synchronize_session=False)
    )
    due = (
        select(Outbox.id)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the candidates, skipping rows another worker is claiming right now, so two
        # workers get different rows instead of waiting for each other. A separate
        # statement: inside the UPDATE's WHERE PostgreSQL may run the subquery once per
        # row, and LIMIT would no longer hold.
        candidates: list[int] | Select[int] = list(
            await session.scalars(due.with_for_update(skip_locked=True))
        )
    else:
        # SQLite runs one writer at a time; one statement keeps the pick and the claim in
        # the same write, so a second worker's claim sees this one's result.
        candidates = due
    claimed = await session.scalars(
        update(Outbox)
        # The status test in the UPDATE itself is what makes the claim exclusive: a row
        # another worker claimed after we picked it no longer matches.
        .where(Outbox.id.in_(candidates), Outbox.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, claimed_at=now)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(claimed)
    if not ids:
        return []
    rows = await session.execute(
        select(
            Outbox.id,
            Outbox.kind,
            Outbox.payload,
            Outbox.attempts,
            Person.id,
            Person.telegram_chat_id,
            Person.language,
            Person.unreachable_at,
        )
        .join(Person, Person.id == Outbox.recipient_id)
        .where(Outbox.id.in_(ids))
        .order_by(Outbox.id)
    )
    messages: list[ClaimedMessage] = []
    settle: dict[str, list[int]] = {NO_CHAT: [], KNOWN_UNREACHABLE: []}
    for outbox_id, kind, payload, attempts, person_id, chat_id, language, gone in rows:
        if gone is not None:
            settle[KNOWN_UNREACHABLE].append(outbox_id)
        elif chat_id is None:
            settle[NO_CHAT].append(outbox_id)
        else:
            messages.append(
                ClaimedMessage(
                    outbox_id=outbox_id,
                    kind=kind,
                    payload=MappingProxyType(dict(payload)),
                    recipient_id=person_id,
                    chat_id=chat_id,
                    language=language,
                    attempt=attempts,
                )
            )
    for code, settled in settle.items():
        if settled:
            await session.execute(
                update(Outbox)
                .where(Outbox.id.in_(settled))
                .values(status=OutboxStatus.UNREACHABLE, last_error=code)
                .execution_options(synchronize_session=False)
            )
            log.info("outbox not sendable (%s): outbox_ids=%s", code, settled)
    return messages


async def cancel_pending(*, session: AsyncSession, key_prefix: str) -> int:
    """Withdraw every not-yet-sent row whose ``dedup_key`` starts with ``key_prefix``.

    An operation (joins the caller's transaction): the reminders of an appointment that is
    moved or cancelled, of a questionnaire that was answered, are withdrawn in the same
    transaction as that change, so a restart can never send them. Rows already claimed
    (``sending``) are not touched. Returns how many rows were withdrawn.
    """
    if not key_prefix:
        raise ValueError("an empty prefix would withdraw every pending message")
    escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        update(Outbox)
        .where(
            Outbox.status == OutboxStatus.PENDING,
            Outbox.dedup_key.like(f"{escaped}%", escape="\\"),
        )
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def notify_care_coordinators(
    *,
    session: AsyncSession,
    school_id: int,
    kind: OutboxKind,
    subject_id: int,
    payload: Mapping[str, Any],
    now: datetime,
) -> None:
    """Queue a message of ``kind`` for every care coordinator of the school, due now.

    An operation (joins the caller's transaction), for something new in the coordinator's
    queue. ``payload`` holds ids only: the text is built when sent, without care details.
    The dedup key ``<kind>:<subject_id>:<coordinator id>`` tells each coordinator once per
    subject. A school without a care coordinator gets a warning to the operator: the item
    stays queued, and whoever becomes coordinator sees it.
    """
    coordinators = await care_coordinators_of(session=session, school_id=school_id)
    if not coordinators:
        log.warning("school_id=%s has no care coordinator to notify", school_id)
    for coordinator in coordinators:
        session.add(
            Outbox(
                school_id=school_id,
                recipient_id=coordinator.id,
                kind=kind,
                payload=dict(payload),
                dedup_key=f"{kind}:{subject_id}:{coordinator.id}",
                next_attempt_at=now,
                created_at=now,
            )
        )


async def mark_sent(*, session: AsyncSession, outbox_id: int, now: datetime) -> bool:
    """Record that Telegram accepted the message.

    False (and nothing changes) when the row is not ``sending``, i.e. not this worker's.
    """
    return await _settle(
        session,
        outbox_id,
        status=OutboxStatus.SENT,
        sent_at=now,
        last_error=None,
    )


async def mark_retry(
    *, session: AsyncSession, outbox_id: int, now: datetime, delay: timedelta, error: str
) -> bool:
    """Put the row back to ``pending``, due ``delay`` after ``now``; ``error`` is a short code.

    False when the row is not ``sending``.
    """
    return await _settle(
        session,
        outbox_id,
        status=OutboxStatus.PENDING,
        next_attempt_at=now + max(delay, timedelta(0)),
        last_error=error,
    )


async def mark_failed(*, session: AsyncSession, outbox_id: int, error: str) -> bool:
    """Give the row up as ``failed`` (out of attempts, or a message Telegram refuses).

    ``error`` is a short code. False when the row is not ``sending``.
    """
    return await _settle(session, outbox_id, status=OutboxStatus.FAILED, last_error=error)


async def mark_unreachable(
    *, session: AsyncSession, outbox_id: int, now: datetime, reason: str
) -> bool:
    """The recipient blocked the bot, deleted their account or has no chat: stop trying.

    In the caller's transaction the row becomes ``unreachable``, the recipient gets
    ``Person.unreachable_at = now`` and, if that is news (they were reachable until now), every
    other care coordinator of their school gets a ``person.unreachable`` notice (ids only; the
    dedup key names the row that found out) and the change is audited. Of two workers finding
    out about one person at once only one notifies. ``reason`` is a short code (``blocked``,
    ``deactivated``, ``chat_not_found``). False when the row is not ``sending``.
    """
    if not await _settle(session, outbox_id, status=OutboxStatus.UNREACHABLE, last_error=reason):
        return False
    row = (
        await session.execute(
            select(Outbox.school_id, Outbox.recipient_id).where(Outbox.id == outbox_id)
        )
    ).one()
    school_id, person_id = row
    became = await session.execute(
        update(Person)
        .where(Person.id == person_id, Person.unreachable_at.is_(None))
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(became) != 1:
        log.info("outbox_id=%s: person_id=%s was already unreachable", outbox_id, person_id)
        return True
    notified = []
    for coordinator in await care_coordinators_of(session=session, school_id=school_id):
        if coordinator.id == person_id:
            continue
        session.add(
            Outbox(
                school_id=school_id,
                recipient_id=coordinator.id,
                kind=OutboxKind.PERSON_UNREACHABLE,
                payload={"person_id": person_id, "outbox_id": outbox_id},
                dedup_key=f"{PERSON_UNREACHABLE}:{outbox_id}:{coordinator.id}",
                next_attempt_at=now,
                created_at=now,
            )
        )
        notified.append(coordinator.id)
    if not notified:
        log.warning("school_id=%s: nobody to tell that a person is unreachable", school_id)
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=None,
        action=PERSON_UNREACHABLE,
        subject_type="person",
        subject_id=person_id,
        details={"outbox_id": outbox_id, "reason": reason, "notified": notified},
        at=now,
    )
    await session.flush()
    log.info(
        "person_id=%s unreachable (%s) via outbox_id=%s; notified=%s",
        person_id,
        reason,
        outbox_id,
        notified,
    )
    return True


async def release(*, session: AsyncSession, outbox_ids: Collection[int], now: datetime) -> int:
    """Hand claimed rows that were certainly not sent back to ``pending``, due at ``now``.

    For a worker that stops before it tried them (their claim stays counted in
    ``attempts``). Returns how many rows went back.
    """
    if not outbox_ids:
        return 0
    result = await session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)), Outbox.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def list_sending(
    *, session: AsyncSession, claimed_before: datetime | None = None
) -> list[SendingMessage]:
    """Rows in ``sending``, oldest claim first; with ``claimed_before`` only older claims.

    A query (no writes, joins the caller's transaction if any). A row that stays here longer
    than a send takes belongs to a worker that stopped mid-send: it may or may not have
    reached the person and is deliberately not resent. An operator decides.
    """
    query = select(Outbox).where(Outbox.status == OutboxStatus.SENDING)
    if claimed_before is not None:
        query = query.where(Outbox.claimed_at < claimed_before)
    rows = await session.scalars(query.order_by(Outbox.claimed_at, Outbox.id))
    return [
        SendingMessage(
            outbox_id=row.id,
            school_id=row.school_id,
            recipient_id=row.recipient_id,
            kind=row.kind,
            attempts=row.attempts,
            claimed_at=row.claimed_at,
        )
        for row in rows
    ]


async def mark_reachable(*, session: AsyncSession, person_id: int) -> bool:
    """Clear ``Person.unreachable_at`` (they wrote to the bot again). An operation: flushes.

    True when the person was marked unreachable. Messages given up on stay given up.
    """
    result = await session.execute(
        update(Person)
        .where(Person.id == person_id, Person.unreachable_at.is_not(None))
        .values(unreachable_at=None)
        .execution_options(synchronize_session=False)
    )
    changed = _rowcount(result) == 1
    if changed:
        log.info("person_id=%s reachable again", person_id)
    return changed


async def _settle(
    session: AsyncSession, outbox_id: int, *, status: OutboxStatus, **values: object
) -> bool:
    """Store an outcome, only if the row is still ``sending`` (the claim is this worker's)."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.SENDING)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        log.warning("outbox_id=%s is not sending; outcome %s not stored", outbox_id, status)
        return False
    return True


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0
