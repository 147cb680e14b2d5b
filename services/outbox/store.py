"""The outbox seen from the worker that sends it: claim due rows, then store each outcome.

Delivery is **at least once, with duplicates only where a kind asks for them**. A claim is a
lease: `claim_due` moves a row from ``pending`` to ``sending`` with a conditional UPDATE
(``… WHERE status = 'pending'``; on PostgreSQL the candidates are also picked ``FOR UPDATE
SKIP LOCKED``), so of two workers only one gets it, on either database, and sets
``lease_until``. The worker records the hand-over to the channel (`hand_over`: ``handed_at``,
the lease renewed) just before it sends, and only while the claim is still its own (the
claim's attempt number is the fencing token). A row still ``sending`` past its lease belongs to
a worker that died: the next `claim_due` of any worker takes it back. Never handed over, it
surely was not sent and is claimed again; handed over, its outcome is unknown (*uncertain*)
and it is resent only when its kind's loss matters more than a duplicate
(`services.outbox.kinds.resend_when_uncertain`), otherwise it becomes ``uncertain`` for an
operator (``trajectbot outbox list --status uncertain``, ``retry``, ``cancel``). The outcome
(`mark_sent`, `mark_retry`, `mark_failed`, `mark_unreachable`, `mark_uncertain`) is only
accepted from ``sending`` (and, given ``attempt``, only for that claim).

Every function here runs inside the caller's transaction and never begins or commits: the
worker (`bot.outbox.worker`) begins each claim and each outcome as one unit of work through
`services.kernel.uow.run_unit_of_work`; services that write a message join their own.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import CursorResult, Select, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.invites import create_invite, reissue_invite
from services.accounts.leavers import ENDED
from services.accounts.people import care_coordinator_ids, care_coordinators_of
from services.kernel.audit import record_audit
from services.outbox.channels import (
    EMAIL_NOT_CONFIGURED,
    TELEGRAM_NOT_CONFIGURED,
    WEB_CHAT_LINK_KINDS,
    Channel,
    Contact,
    choose_channel,
    not_configured_code,
)
from services.outbox.invitations import INVITE_UNAVAILABLE
from services.outbox.kinds import HOLD_WHEN_UNCERTAIN, OutboxKind, resend_when_uncertain
from storage.models import Outbox, OutboxStatus, Person, Role

log = logging.getLogger(__name__)

PERSON_UNREACHABLE = OutboxKind.PERSON_UNREACHABLE
PERSON_EMAIL_UNREACHABLE = OutboxKind.PERSON_EMAIL_UNREACHABLE

#: ``last_error`` codes `claim_due` writes for rows it settles without sending.
NO_CHAT = "no_chat"
KNOWN_UNREACHABLE = "known_unreachable"
#: ``last_error`` of a row withdrawn because its ``not_after`` had passed before it was sent.
TOO_LATE = "too_late"
#: ``last_error`` of rows waiting for a channel this worker does not have.
WAITING_CODES = (EMAIL_NOT_CONFIGURED, TELEGRAM_NOT_CONFIGURED)
#: How long a row waiting for a channel that is not configured stays out of the claims (a
#: worker started with the channel pulls them forward at once: `wake_waiting`).
WAIT_FOR_CHANNEL = timedelta(minutes=15)
#: ``last_error`` of a row taken back from a worker whose lease ran out before it handed the
#: row over (surely not sent).
LEASE_EXPIRED = "lease_expired"
#: ``last_error`` of a row whose last attempt may or may not have reached the person.
UNCERTAIN = "uncertain"
#: How long a claim holds by default (``OUTBOX_LEASE_SECONDS``): longer than a send may take.
DEFAULT_LEASE = timedelta(minutes=2)
#: How long the web chat link in an e-mail can be used (once).
EMAIL_LINK_TTL = timedelta(days=14)
#: The role an e-mail's web chat link is made out for, in this order of preference.
_LINK_ROLES = (Role.PARENT, Role.STUDENT, Role.MENTOR, Role.TEACHER, Role.COACH)

__all__ = [
    "DEFAULT_LEASE",
    "ENDED",
    "KNOWN_UNREACHABLE",
    "LEASE_EXPIRED",
    "NO_CHAT",
    "PERSON_EMAIL_UNREACHABLE",
    "PERSON_UNREACHABLE",
    "TOO_LATE",
    "UNCERTAIN",
    "WAITING_CODES",
    "ClaimedBatch",
    "ClaimedMessage",
    "SendingMessage",
    "WaitingCount",
    "claim_due",
    "count_waiting",
    "expire_leases",
    "hand_over",
    "list_sending",
    "mark_failed",
    "mark_reachable",
    "mark_retry",
    "mark_sent",
    "mark_uncertain",
    "mark_unreachable",
    "notify_care_coordinators",
    "record_email_bounce",
    "release",
    "wake_waiting",
]


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """What the sender needs to deliver one claimed row; ids and codes only, never names.

    ``attempt`` counts the claims of this row, this one included (1 on the first try).
    ``channel`` is the channel chosen for it: Telegram (``chat_id``) or e-mail (``email``, and
    for the kinds that ask the reader to act, ``link_token``: a one-time web chat link).
    """

    outbox_id: int
    kind: str
    payload: Mapping[str, Any]
    recipient_id: int
    chat_id: int | None
    language: str
    attempt: int
    channel: Channel = Channel.TELEGRAM
    email: str | None = None
    link_token: str | None = None


class ClaimedBatch(list[ClaimedMessage]):
    """What `claim_due` claimed, plus how many rows it put back to wait for a channel."""

    def __init__(self, messages: list[ClaimedMessage] | None = None, waiting: int = 0) -> None:
        super().__init__(messages or [])
        self.waiting = waiting


@dataclass(frozen=True, slots=True)
class WaitingCount:
    """Pending rows of one kind waiting for a channel that is not configured."""

    kind: str
    waiting_for: str
    count: int
    school_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SendingMessage:
    """A row in ``sending``, as an operator sees it (ids only)."""

    outbox_id: int
    school_id: int
    recipient_id: int
    kind: str
    attempts: int
    claimed_at: datetime | None


async def claim_due(
    *,
    session: AsyncSession,
    now: datetime,
    limit: int,
    channels: Collection[Channel] = (Channel.TELEGRAM,),
    lease: timedelta = DEFAULT_LEASE,
) -> ClaimedBatch:
    """Claim up to ``limit`` pending rows due at ``now`` (oldest due first) for this worker.

    One unit of work of the worker. First the rows of workers whose lease ran out are taken
    back (`expire_leases`). The claimed rows are ``sending`` when it commits, with
    ``attempts`` raised by one, ``claimed_at = now`` and ``lease_until = now + lease``; no
    other worker can claim them until the lease runs out. Each
    row's channel is chosen by `services.outbox.channels.choose_channel` among the worker's
    ``channels``. Rows whose recipient cannot be reached at all (no usable channel: no chat
    and no address, or both marked unreachable) are settled here as ``unreachable`` and not
    returned: there is nothing to try, and the care coordinator was already told when the
    person became unreachable. Rows whose only usable channel is not one of ``channels`` go
    back to ``pending`` (their claim uncounted) with ``last_error`` ``email_not_configured`` /
    ``telegram_not_configured``, due `WAIT_FOR_CHANNEL` later: they wait, they are not lost.
    An e-mail of a kind in `WEB_CHAT_LINK_KINDS` gets a one-time web chat link (an invite
    made here). Pending rows whose ``not_after`` has passed are withdrawn (``cancelled``,
    ``last_error`` `TOO_LATE`). Rows addressed to a person who has left (``ended_at``) are
    withdrawn too (``cancelled``, ``last_error`` `ENDED`), on every channel: a leaver is
    sent nothing (`services.accounts.leavers`). A personal invitation (``person.invitation``)
    goes by e-mail only (a linked chat is already in), with a fresh token for the row's own
    invite (`services.accounts.invites.reissue_invite`); an invite used or expired before it
    went withdraws the row (``cancelled``, ``last_error`` ``invite_unavailable``).
    """
    if limit <= 0:
        return ClaimedBatch()
    await expire_leases(session=session, now=now)
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
        .values(
            status=OutboxStatus.SENDING,
            attempts=Outbox.attempts + 1,
            claimed_at=now,
            lease_until=now + lease,
            handed_at=None,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(claimed)
    if not ids:
        return ClaimedBatch()
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
            Person.email,
            Person.email_unreachable_at,
            Person.channel_preference,
            Person.ended_at,
        )
        .join(Person, Person.id == Outbox.recipient_id)
        .where(Outbox.id.in_(ids))
        .order_by(Outbox.id)
    )
    messages: list[ClaimedMessage] = []
    settle: dict[str, list[int]] = {NO_CHAT: [], KNOWN_UNREACHABLE: []}
    waiting: dict[str, list[int]] = {}
    left: list[int] = []
    spent: list[int] = []
    for (
        outbox_id,
        kind,
        payload,
        attempts,
        person_id,
        chat_id,
        language,
        gone,
        email,
        email_gone,
        preference,
        ended_at,
    ) in rows:
        if ended_at is not None:
            left.append(outbox_id)
            continue
        invitation = kind == OutboxKind.PERSON_INVITATION
        choice = choose_channel(
            Contact(
                # A personal invitation to the web chat goes by e-mail only.
                chat_linked=chat_id is not None and not invitation,
                telegram_unreachable=gone is not None,
                has_email=bool(email),
                email_unreachable=email_gone is not None,
                preference=preference,
            ),
            channels,
        )
        if choice.waiting_for is not None:
            waiting.setdefault(not_configured_code(choice.waiting_for), []).append(outbox_id)
        elif choice.channel is None:
            # Nothing usable: as before e-mail existed, a chat that blocked the bot is
            # "known unreachable", no chat at all is "no chat".
            code = KNOWN_UNREACHABLE if gone is not None or email_gone is not None else NO_CHAT
            settle[code].append(outbox_id)
        else:
            token = None
            if invitation:
                # The link of the row's own invite: a fresh token for it, made now.
                token = await reissue_invite(
                    session=session,
                    invite_id=_invite_id(payload),
                    person_id=person_id,
                    now=now,
                )
                if token is None:
                    spent.append(outbox_id)
                    continue
            elif choice.channel is Channel.EMAIL and kind in WEB_CHAT_LINK_KINDS:
                token = await _web_chat_link(session, person_id, now)
            messages.append(
                ClaimedMessage(
                    outbox_id=outbox_id,
                    kind=kind,
                    payload=MappingProxyType(dict(payload)),
                    recipient_id=person_id,
                    chat_id=chat_id if choice.channel is Channel.TELEGRAM else None,
                    language=language,
                    attempt=attempts,
                    channel=choice.channel,
                    email=email if choice.channel is Channel.EMAIL else None,
                    link_token=token,
                )
            )
    for code, parked in waiting.items():
        await session.execute(
            update(Outbox)
            .where(Outbox.id.in_(parked))
            .values(
                status=OutboxStatus.PENDING,
                attempts=Outbox.attempts - 1,
                claimed_at=None,
                lease_until=None,
                next_attempt_at=now + WAIT_FOR_CHANNEL,
                last_error=code,
            )
            .execution_options(synchronize_session=False)
        )
        log.info("outbox waiting for a channel (%s): outbox_ids=%s", code, parked)
    for code, withdrawn in ((ENDED, left), (INVITE_UNAVAILABLE, spent)):
        if withdrawn:
            await session.execute(
                update(Outbox)
                .where(Outbox.id.in_(withdrawn))
                .values(status=OutboxStatus.CANCELLED, last_error=code)
                .execution_options(synchronize_session=False)
            )
            log.info("outbox withdrawn (%s): outbox_ids=%s", code, withdrawn)
    for code, settled in settle.items():
        if settled:
            await session.execute(
                update(Outbox)
                .where(Outbox.id.in_(settled))
                .values(status=OutboxStatus.UNREACHABLE, last_error=code)
                .execution_options(synchronize_session=False)
            )
            log.info("outbox not sendable (%s): outbox_ids=%s", code, settled)
    return ClaimedBatch(messages, waiting=sum(len(parked) for parked in waiting.values()))


async def expire_leases(*, session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Take back the ``sending`` rows whose lease ran out (their worker died or hung).

    An operation (part of every `claim_due`). A row never handed over goes back to
    ``pending``, due now (``last_error`` `LEASE_EXPIRED`). A handed-over row may have reached
    the person: a kind whose loss matters more goes back to ``pending`` too (``last_error``
    `UNCERTAIN`), the others become ``uncertain``. Conditional on the lease, so a live
    worker's renewed claim is never touched. Returns (rows pending again, rows uncertain).
    """
    expired = (
        Outbox.status == OutboxStatus.SENDING,
        or_(Outbox.lease_until.is_(None), Outbox.lease_until <= now),
    )
    held = await session.execute(
        update(Outbox)
        .where(
            *expired,
            Outbox.handed_at.is_not(None),
            Outbox.kind.in_([kind.value for kind in HOLD_WHEN_UNCERTAIN]),
        )
        .values(status=OutboxStatus.UNCERTAIN, last_error=UNCERTAIN, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    back = await session.execute(
        update(Outbox)
        .where(*expired)
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=now,
            lease_until=None,
            last_error=case((Outbox.handed_at.is_(None), LEASE_EXPIRED), else_=UNCERTAIN),
        )
        .execution_options(synchronize_session=False)
    )
    counts = (_rowcount(back), _rowcount(held))
    if any(counts):
        log.warning("outbox: leases ran out: %s rows to send again, %s uncertain (held)", *counts)
    return counts


async def hand_over(
    *, session: AsyncSession, outbox_id: int, attempt: int, now: datetime, lease: timedelta
) -> bool:
    """Record that claim number ``attempt`` hands the row to its channel now; renew the lease.

    An operation, its own unit of work just before the send. False when the claim is no
    longer this worker's (its lease ran out and another worker took the row, or an operator
    cancelled it): then the row must not be sent.
    """
    result = await session.execute(
        update(Outbox)
        .where(
            Outbox.id == outbox_id,
            Outbox.status == OutboxStatus.SENDING,
            Outbox.attempts == attempt,
        )
        .values(handed_at=now, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _invite_id(payload: Mapping[str, Any]) -> int:
    value = payload.get("invite_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _web_chat_link(session: AsyncSession, person_id: int, now: datetime) -> str | None:
    """A one-time web chat link (an onboarding invite's token) for an e-mail to ``person_id``.

    None when the person holds none of the roles the web chat serves.
    """
    person = await session.get(Person, person_id)
    if person is None:  # pragma: no cover - the foreign key keeps the recipient
        return None
    role = next((r for r in _LINK_ROLES if person.has_role(r)), None)
    if role is None:
        return None
    return await create_invite(
        session=session, person=person, role=role, ttl=EMAIL_LINK_TTL, now=now
    )


async def count_waiting(
    *, session: AsyncSession, configured: Collection[Channel]
) -> list[WaitingCount]:
    """Pending rows that wait for a channel not in ``configured``, counted per kind.

    A query (counts only). Decided by the same rule as `claim_due`
    (`services.outbox.channels.choose_channel`) from the recipients' contact channels, so it
    also counts rows no worker has looked at yet (none runs without a channel). Rows whose
    recipient has no usable channel at all, or has left, are not waiting: `claim_due`
    settles them.
    ``waiting_for`` is ``email`` or ``telegram``.
    """
    rows = await session.execute(
        select(
            Outbox.kind,
            Outbox.school_id,
            Person.telegram_chat_id.is_not(None),
            Person.unreachable_at.is_not(None),
            Person.email.is_not(None),
            Person.email_unreachable_at.is_not(None),
            Person.channel_preference,
            func.count(),
        )
        .join(Person, Person.id == Outbox.recipient_id)
        .where(Outbox.status == OutboxStatus.PENDING, Person.ended_at.is_(None))
        .group_by(
            Outbox.kind,
            Outbox.school_id,
            Person.telegram_chat_id.is_not(None),
            Person.unreachable_at.is_not(None),
            Person.email.is_not(None),
            Person.email_unreachable_at.is_not(None),
            Person.channel_preference,
        )
    )
    totals: dict[tuple[str, str], tuple[int, set[int]]] = {}
    for kind, school_id, chat, blocked, email, bounced, preference, count in rows:
        choice = choose_channel(
            Contact(
                # As `claim_due`: a personal invitation goes by e-mail only.
                chat_linked=bool(chat) and kind != OutboxKind.PERSON_INVITATION,
                telegram_unreachable=bool(blocked),
                has_email=bool(email),
                email_unreachable=bool(bounced),
                preference=preference,
            ),
            configured,
        )
        if choice.waiting_for is None:
            continue
        key = (kind, choice.waiting_for.value)
        total, schools = totals.get(key, (0, set()))
        totals[key] = (total + int(count), schools | {school_id})
    return [
        WaitingCount(kind, channel, total, tuple(sorted(schools)))
        for (kind, channel), (total, schools) in sorted(totals.items())
    ]


async def wake_waiting(
    *, session: AsyncSession, channels: Collection[Channel], now: datetime
) -> int:
    """Make rows waiting for one of ``channels`` due now (a worker that has it just started).

    An operation; returns how many rows were woken.
    """
    codes = [not_configured_code(channel) for channel in channels]
    if not codes:
        return 0
    result = await session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.last_error.in_(codes))
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


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
    coordinators = await care_coordinator_ids(session=session, school_id=school_id)
    if not coordinators:
        log.warning("school_id=%s has no care coordinator to notify", school_id)
    for coordinator_id in coordinators:
        session.add(
            Outbox(
                school_id=school_id,
                recipient_id=coordinator_id,
                kind=kind,
                payload=dict(payload),
                dedup_key=f"{kind}:{subject_id}:{coordinator_id}",
                next_attempt_at=now,
                created_at=now,
            )
        )


async def mark_sent(
    *,
    session: AsyncSession,
    outbox_id: int,
    now: datetime,
    channel: Channel = Channel.TELEGRAM,
    attempt: int | None = None,
) -> bool:
    """Record that the channel (Telegram, or the SMTP server) accepted the message.

    ``outbox.channel`` records which. False (and nothing changes) when the row is not
    ``sending``, i.e. not this worker's.
    """
    return await _settle(
        session,
        outbox_id,
        attempt=attempt,
        status=OutboxStatus.SENT,
        sent_at=now,
        last_error=None,
        channel=channel.value,
        lease_until=None,
    )


async def mark_retry(
    *,
    session: AsyncSession,
    outbox_id: int,
    now: datetime,
    delay: timedelta,
    error: str,
    attempt: int | None = None,
) -> bool:
    """Put the row back to ``pending``, due ``delay`` after ``now``; ``error`` is a short code.

    False when the row is not ``sending``.
    """
    return await _settle(
        session,
        outbox_id,
        attempt=attempt,
        status=OutboxStatus.PENDING,
        next_attempt_at=now + max(delay, timedelta(0)),
        last_error=error,
        lease_until=None,
    )


async def mark_uncertain(
    *,
    session: AsyncSession,
    outbox_id: int,
    now: datetime,
    delay: timedelta,
    attempt: int | None = None,
) -> OutboxStatus | None:
    """The attempt may or may not have reached the person (the request went out, no answer).

    A kind whose loss matters more than a duplicate goes back to ``pending``, due ``delay``
    after ``now``; the others become ``uncertain`` (not resent; an operator decides). Both
    with ``last_error`` `UNCERTAIN`. Returns the new status, None when the row is not this
    claim's.
    """
    kind = await session.scalar(select(Outbox.kind).where(Outbox.id == outbox_id))
    if kind is None:
        return None
    if resend_when_uncertain(kind):
        status = OutboxStatus.PENDING
        stored = await _settle(
            session,
            outbox_id,
            attempt=attempt,
            status=status,
            next_attempt_at=now + max(delay, timedelta(0)),
            last_error=UNCERTAIN,
            lease_until=None,
        )
    else:
        status = OutboxStatus.UNCERTAIN
        stored = await _settle(
            session,
            outbox_id,
            attempt=attempt,
            status=status,
            last_error=UNCERTAIN,
            lease_until=None,
        )
    return status if stored else None


async def mark_failed(
    *, session: AsyncSession, outbox_id: int, error: str, attempt: int | None = None
) -> bool:
    """Give the row up as ``failed`` (out of attempts, or a message Telegram refuses).

    ``error`` is a short code. False when the row is not ``sending``.
    """
    return await _settle(
        session,
        outbox_id,
        attempt=attempt,
        status=OutboxStatus.FAILED,
        last_error=error,
        lease_until=None,
    )


async def mark_unreachable(
    *,
    session: AsyncSession,
    outbox_id: int,
    now: datetime,
    reason: str,
    channel: Channel = Channel.TELEGRAM,
    attempt: int | None = None,
) -> bool:
    """The recipient cannot be reached by ``channel``: stop trying it (that channel).

    Telegram: they blocked the bot, deleted their account or have no chat. E-mail: the
    server refused the address. In the caller's transaction the row becomes ``unreachable``
    (``outbox.channel`` says by which channel), the recipient gets ``Person.unreachable_at``
    (Telegram) or ``Person.email_unreachable_at`` (e-mail) ``= now`` and, if that is news,
    every other care coordinator of their school gets a ``person.unreachable`` /
    ``person.email_unreachable`` notice (ids only; the dedup key names the row that found
    out) and the change is audited. Of two workers finding out about one person at once only
    one notifies. When the person still has another usable channel (an address after a
    blocked bot, a chat after a refused address) the row goes back to ``pending``, due now, to
    be sent by it. ``reason`` is a short code (``blocked``, ``deactivated``,
    ``chat_not_found``, ``email_refused``). False when the row is not ``sending``.
    """
    if not await _settle(
        session,
        outbox_id,
        attempt=attempt,
        lease_until=None,
        status=OutboxStatus.UNREACHABLE,
        last_error=reason,
        channel=channel.value,
    ):
        return False
    row = (
        await session.execute(
            select(Outbox.school_id, Outbox.recipient_id).where(Outbox.id == outbox_id)
        )
    ).one()
    school_id, person_id = row
    mark = Person.email_unreachable_at if channel is Channel.EMAIL else Person.unreachable_at
    became = await session.execute(
        update(Person)
        .where(Person.id == person_id, mark.is_(None))
        .values({mark: now})
        .execution_options(synchronize_session=False)
    )
    if _rowcount(became) != 1:
        log.info("outbox_id=%s: person_id=%s was already unreachable", outbox_id, person_id)
    else:
        await _tell_unreachable(
            session,
            school_id=school_id,
            person_id=person_id,
            kind=PERSON_EMAIL_UNREACHABLE if channel is Channel.EMAIL else PERSON_UNREACHABLE,
            found_by=f"{outbox_id}",
            payload={"person_id": person_id, "outbox_id": outbox_id},
            details={"outbox_id": outbox_id, "reason": reason},
            now=now,
        )
        log.info(
            "person_id=%s unreachable (%s, %s) via outbox_id=%s",
            person_id,
            channel,
            reason,
            outbox_id,
        )
    if await _other_channel_left(session, person_id):
        # Telegram blocked but an address works (or the reverse): this notice is not lost,
        # the next claim sends it by the other channel (or waits for it).
        await session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.UNREACHABLE)
            .values(status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        log.info("outbox_id=%s: tried again by the other channel", outbox_id)
    return True


async def _other_channel_left(session: AsyncSession, person_id: int) -> bool:
    """Whether ``person_id`` still has a usable channel (configured here or not)."""
    row = (
        await session.execute(
            select(
                Person.telegram_chat_id,
                Person.unreachable_at,
                Person.email,
                Person.email_unreachable_at,
                Person.channel_preference,
            ).where(Person.id == person_id)
        )
    ).one()
    chat, blocked, email, bounced, preference = row
    choice = choose_channel(
        Contact(
            chat_linked=chat is not None,
            telegram_unreachable=blocked is not None,
            has_email=bool(email),
            email_unreachable=bounced is not None,
            preference=preference,
        ),
        (Channel.TELEGRAM, Channel.EMAIL),
    )
    return choice.channel is not None


async def record_email_bounce(*, session: AsyncSession, address: str, now: datetime) -> list[int]:
    """A bounce arrived later for ``address``: mark it unreachable and tell the coordinators.

    An operation (the command line's ``trajectbot email bounce``). Every person with this
    address (compared case-insensitively) whose address was not yet marked gets
    ``email_unreachable_at = now``; their school's care coordinators get a
    ``person.email_unreachable`` notice and it is audited. Returns the ids of the people newly
    marked (empty: unknown address, or already marked).
    """
    wanted = address.strip().lower()
    if not wanted:
        return []
    people = list(
        await session.scalars(
            select(Person)
            .where(func.lower(Person.email) == wanted, Person.email_unreachable_at.is_(None))
            .order_by(Person.id)
        )
    )
    marked = []
    for person in people:
        became = await session.execute(
            update(Person)
            .where(Person.id == person.id, Person.email_unreachable_at.is_(None))
            .values(email_unreachable_at=now)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(became) != 1:
            continue
        marked.append(person.id)
        await _tell_unreachable(
            session,
            school_id=person.school_id,
            person_id=person.id,
            kind=PERSON_EMAIL_UNREACHABLE,
            found_by=f"bounce-{person.id}-{int(now.timestamp())}",
            payload={"person_id": person.id, "bounce": True},
            details={"reason": "bounce"},
            now=now,
        )
    log.info("e-mail bounce recorded for person_ids=%s", marked)
    return marked


async def _tell_unreachable(
    session: AsyncSession,
    *,
    school_id: int,
    person_id: int,
    kind: OutboxKind,
    found_by: str,
    payload: Mapping[str, int | bool],
    details: Mapping[str, int | str],
    now: datetime,
) -> None:
    """Tell every other care coordinator of the school that ``person_id`` is unreachable."""
    notified = []
    for coordinator in await care_coordinators_of(session=session, school_id=school_id):
        if coordinator.id == person_id:
            continue
        session.add(
            Outbox(
                school_id=school_id,
                recipient_id=coordinator.id,
                kind=kind,
                payload=dict(payload),
                dedup_key=f"{kind}:{found_by}:{coordinator.id}",
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
        action=kind,
        subject_type="person",
        subject_id=person_id,
        details={**details, "notified": notified},
        at=now,
    )
    await session.flush()


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
        .values(status=OutboxStatus.PENDING, next_attempt_at=now, lease_until=None, handed_at=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def list_sending(
    *, session: AsyncSession, claimed_before: datetime | None = None
) -> list[SendingMessage]:
    """Rows in ``sending``, oldest claim first; with ``claimed_before`` only older claims.

    A query (no writes, joins the caller's transaction if any). A row that stays here past
    its lease belongs to a worker that stopped mid-send; the next claim of any worker takes it
    back (`expire_leases`).
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
    session: AsyncSession,
    outbox_id: int,
    *,
    status: OutboxStatus,
    attempt: int | None = None,
    **values: object,
) -> bool:
    """Store an outcome, only if the row is still ``sending`` (the claim is this worker's).

    With ``attempt``, only if it is still that claim (not taken back after its lease).
    """
    same_claim = () if attempt is None else (Outbox.attempts == attempt,)
    result = await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.SENDING, *same_claim)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        log.warning("outbox_id=%s is not sending; outcome %s not stored", outbox_id, status)
        return False
    return True


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0
