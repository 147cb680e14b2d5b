"""The outbox worker: claims due rows (leases), sends each at least once, paced, stores outcomes.

One row's life here::

    claim_due (pending -> sending with a lease, one unit of work, exclusive)
      -> build the text in the recipient's language (no names, no care details)
      -> wait for the chat's turn (1 per chat per second) and the overall limiter (30/s)
      -> the send gate (one at a time, the same rate measured at the request):
         hand_over (still our claim? handed_at, lease renewed; one unit of work)
      -> Sender.send
      -> sent | pending again later (429, 5xx, not connected) | uncertain (a read timeout:
         resent or held by kind) | failed | unreachable (+ coordinator told)

Each claim, each hand-over and each outcome is one unit of work begun here
(`run_unit_of_work`, with its SQLite busy retry); `services.outbox.store` never begins.
At least once: a claim is a lease (``lease``, default 2 minutes, ``OUTBOX_LEASE_SECONDS``); a
row left ``sending`` by a worker that died is taken back by the next claim of any worker, and
resent unless it was handed over and its kind is held when uncertain (see
`services.outbox.store`). The claim's attempt number fences every write: a worker whose claim
was taken back sends nothing and stores nothing. Duplicates come only from an attempt whose
outcome is unknown, and only for the kinds that want it.
A row that was claimed but certainly not handed to the sender yet (the worker was cancelled
while it waited for its turn) is released back to ``pending``. A worker waits ``start_pause``
(one chat interval) before its first send, so the last second of a worker that was killed and
restarted does not add to its own.

Pacing: on SQLite (one process) the worker paces itself in process (`bot.outbox.pacing`). With
a `SharedRate` (PostgreSQL; `bot.telegram.polling.outbox_worker` gives one there) every send is
reserved in the database first (`services.outbox.rate`), so N workers on N machines keep the
bot's ~30 a second and each chat's 1 a second together (issue 16).

Channels: the worker has a sender per configured channel (Telegram, e-mail or both);
`claim_due` chooses each row's channel among them (`services.outbox.channels`). Rows whose
only usable channel is not configured wait (``pending``, ``last_error``
``email_not_configured``); the worker says once, at start and when it first meets such rows,
how many wait (counts only), and wakes them when it starts with that channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.messages import OutgoingMessage, UnknownMessageError, build_message
from bot.outbox.pacing import (
    TELEGRAM_CHAT_INTERVAL,
    TELEGRAM_MESSAGES_PER_SECOND,
    ChatPacer,
    overall_limiter,
)
from bot.outbox.sender import (
    PermanentFailure,
    RetryAfter,
    Sender,
    SendError,
    TemporaryFailure,
    Uncertain,
    Unreachable,
)
from dialogs.i18n import Catalogs
from services.kernel.uow import run_unit_of_work
from services.outbox import store as outbox_store
from services.outbox.channels import Channel
from services.outbox.kinds import resend_when_uncertain
from services.outbox.rate import Reservation, forget_idle_chats, reserve_send
from services.outbox.store import DEFAULT_LEASE, ClaimedBatch, ClaimedMessage
from storage.models import utcnow

log = logging.getLogger(__name__)

#: ``last_error`` codes the worker writes itself.
UNKNOWN_MESSAGE = "unknown_message"
SENDER_ERROR = "sender_error"
CHAT_PAUSED = "chat_paused"
TIMEOUT = "timeout"

_STORE_TRIES = 3
_KEEP_PAUSED = 1024


@dataclass(frozen=True, slots=True)
class SharedRate:
    """Telegram's limits kept together by every worker of the bot (PostgreSQL only).

    Each interval is stretched by ``safety`` (5 %: more than in process, as the slot is
    decided by the database and kept by a worker that may be late for it). A send may leave
    up to `tolerance` after its slot and the limits still hold in every one-second window
    (30 slots span ``30 * 1.05 / 30 = 1.05`` s); a worker later than that (a busy machine)
    does not send but reserves a new slot. ``lead`` is the least time between the reservation
    and its slot: the hand-over is written in it. ``forget_every``: how often the clocks of
    idle chats are deleted.
    """

    per_second: float = TELEGRAM_MESSAGES_PER_SECOND
    chat_interval: float = TELEGRAM_CHAT_INTERVAL
    safety: float = 1.05
    lead: float = 0.1
    forget_every: float = 60.0

    @property
    def overall_interval(self) -> float:
        """Seconds between two sends of the bot, any worker."""
        return self.safety / self.per_second

    @property
    def tolerance(self) -> float:
        """How late a send may leave after its slot (four fifths of the margin)."""
        margin = min(
            self.per_second * self.overall_interval - 1.0,
            self.chat_gap - self.chat_interval,
        )
        return 0.8 * margin

    @property
    def chat_gap(self) -> float:
        """Seconds between two sends to one chat, any worker."""
        return self.chat_interval * self.safety


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for temporary failures, capped, with a limit on attempts.

    The defaults try 10 times over about 35 minutes (5 s, 10 s, 20 s … capped at 15 min).
    Every claim counts as an attempt, a 429 included: a row Telegram keeps refusing fails.
    """

    base: float = 5.0
    factor: float = 2.0
    cap: float = 900.0
    max_attempts: int = 10

    def delay(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1 for the first)."""
        exponent = min(max(attempt - 1, 0), 64)
        return timedelta(seconds=min(self.cap, self.base * self.factor**exponent))

    def exhausted(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` was the last one allowed."""
        return attempt >= self.max_attempts


class OutboxWorker:
    """Sends the outbox. `run` for the bot's process, `drain_once` for tests and scripts.

    Everything it depends on is passed in: the ``sender`` (Telegram, or a fake) and/or the
    ``email_sender`` (SMTP, or a fake), the session
    factory, the catalogs, a wall ``clock`` (what "due" means; the pacing itself runs on the
    event loop's monotonic clock) and the limiters (``overall``: by default one message every
    1/30 s; ``chats``: by default one message per chat per second). With ``shared`` the
    overall limit and each chat's are kept in the database for every worker of the bot
    (PostgreSQL) instead of ``overall``; ``chats`` still orders one chat's messages here.
    """

    def __init__(
        self,
        *,
        sender: Sender | None = None,
        email_sender: Sender | None = None,
        sessions: async_sessionmaker[AsyncSession],
        catalogs: Catalogs,
        clock: Callable[[], datetime] = utcnow,
        overall: AsyncLimiter | None = None,
        chats: ChatPacer | None = None,
        retry: RetryPolicy | None = None,
        batch_size: int = 30,
        poll_interval: float = 2.0,
        send_timeout: float = 30.0,
        lease: timedelta = DEFAULT_LEASE,
        start_pause: float = 1.0,
        shared: SharedRate | None = None,
    ) -> None:
        self._senders: dict[Channel, Sender] = {}
        if sender is not None:
            self._senders[Channel.TELEGRAM] = sender
        if email_sender is not None:
            self._senders[Channel.EMAIL] = email_sender
        if not self._senders:
            raise ValueError("an outbox worker needs at least one channel's sender")
        self._announced_waiting = False
        self._sessions = sessions
        self._catalogs = catalogs
        self._clock = clock
        self._overall = overall if overall is not None else overall_limiter()
        # The same rate again, at the moment of the request: the hand-over runs inside it, so
        # its varying write time cannot bunch requests up on the wire, and a worker killed
        # at any moment has at most one row handed over and not yet sent.
        self._gate = _SendGate(self._overall.time_period / self._overall.max_rate)
        self._chats = chats if chats is not None else ChatPacer()
        self._retry = retry or RetryPolicy()
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._send_timeout = send_timeout
        if lease.total_seconds() <= 2 * send_timeout:
            raise ValueError("the lease must be longer than twice the send timeout")
        self._lease = lease
        self._start_pause = start_pause
        self._shared = shared
        self._forgot_at = 0.0
        self._handing_took = 0.0  # how long a hand-over took lately (smoothed), shared rate
        # Chats Telegram told us to leave alone (429), until when (wall clock). Entries go
        # when they expire, so this holds only the chats currently under flood control.
        self._paused: dict[int, datetime] = {}

    async def drain_once(self) -> int:
        """Claim up to one batch of due rows, deliver them all; return how many were claimed."""
        claimed = await self._claim(self._batch_size)
        if claimed:
            await asyncio.gather(*(self._deliver(message) for message in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set, then finish what was claimed and return.

        Keeps up to ``batch_size`` rows in flight and claims more as they finish; when nothing
        is due it looks again every ``poll_interval`` seconds. Database errors are logged and
        retried at the next poll. Cancelling it releases the rows not yet handed to the
        sender; the ones being sent stay ``sending``.
        """
        in_flight: set[asyncio.Task[None]] = set()
        log.info("outbox worker started (channels: %s)", ", ".join(sorted(self._senders)))
        try:
            await self._wake_and_announce()
        except Exception as exc:  # the database may be briefly away; the claims retry
            log.error("outbox start-up check failed: %s", type(exc).__name__)  # noqa: TRY400
        await _wait(stop, set(), self._start_pause)
        try:
            while not stop.is_set():
                room = self._batch_size - len(in_flight)
                claimed: list[ClaimedMessage] = []
                if room > 0:
                    try:
                        claimed = await self._claim(room)
                    except Exception as exc:  # the database may be briefly away; keep going
                        # Type only: a driver's message may quote statement parameters.
                        log.error("outbox claim failed: %s", type(exc).__name__)  # noqa: TRY400
                for message in claimed:
                    task = asyncio.create_task(self._deliver(message))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if room > 0 and len(claimed) < room:
                    await _wait(stop, set(), self._poll_interval)  # nothing more due now
                else:
                    await _wait(stop, in_flight, None)  # full: wait for room
            if in_flight:
                await asyncio.gather(*in_flight)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        finally:
            log.info("outbox worker stopped")

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels this worker can send by."""
        return frozenset(self._senders)

    async def _claim(self, limit: int) -> list[ClaimedMessage]:
        batch: ClaimedBatch = await run_unit_of_work(
            self._sessions,
            lambda session: outbox_store.claim_due(
                session=session,
                now=self._clock(),
                limit=limit,
                channels=self.channels,
                lease=self._lease,
            ),
        )
        if self._shared is not None:
            await self._forget_idle_chats(self._shared)
        if batch.waiting and not self._announced_waiting:
            try:
                await self._announce_waiting()
            except Exception as exc:  # never lose the claimed rows over a log line
                log.warning("outbox: counting the waiting notices failed: %s", type(exc).__name__)
        return batch

    async def _wake_and_announce(self) -> None:
        """Make rows that waited for one of our channels due now; say what still waits."""
        woken = await run_unit_of_work(
            self._sessions,
            lambda session: outbox_store.wake_waiting(
                session=session, channels=self.channels, now=self._clock()
            ),
        )
        if woken:
            log.info("outbox: %s notices that waited for a channel are due now", woken)
        await self._announce_waiting()

    async def _announce_waiting(self) -> None:
        """Log once how many notices wait for a channel that is not configured (counts only)."""
        counts = await run_unit_of_work(
            self._sessions,
            lambda session: outbox_store.count_waiting(session=session, configured=self.channels),
        )
        per_channel: dict[str, int] = {}
        for count in counts:
            per_channel[count.waiting_for] = per_channel.get(count.waiting_for, 0) + count.count
        for channel, total in sorted(per_channel.items()):
            hint = "SMTP_HOST" if channel == Channel.EMAIL else "TELEGRAM_BOT_TOKEN"
            log.warning(
                "outbox: %s notices wait for the %s channel, which is not configured (set %s); "
                "`trajectbot outbox waiting` lists them per kind",
                total,
                channel,
                hint,
            )
            self._announced_waiting = True

    async def _deliver(self, message: ClaimedMessage) -> None:
        """Send one claimed row and store the outcome. Never raises (but for cancellation)."""
        try:
            outgoing = build_message(message, self._catalogs)
        except UnknownMessageError:
            log.error("outbox_id=%s kind=%s: no message for it", message.outbox_id, message.kind)  # noqa: TRY400
            await self._store_failed(message, UNKNOWN_MESSAGE)
            return
        handed_over = False
        key = _pace_key(message)
        try:
            async with self._chats.turn(key) as turn:
                paused = self._paused_for(key)
                if paused > timedelta(0):
                    await self._store(
                        message,
                        lambda s: outbox_store.mark_retry(
                            session=s,
                            outbox_id=message.outbox_id,
                            now=self._clock(),
                            delay=paused,
                            error=CHAT_PAUSED,
                            attempt=message.attempt,
                        ),
                    )
                    return
                if self._shared is not None:
                    if not await self._shared_turn(key, message, self._shared):
                        return
                else:
                    await self._overall.acquire()
                    if not await self._gate.passing(lambda: self._hand_over(message)):
                        return
                handed_over = True
                turn.sending()
                error = await self._attempt(outgoing)
                if isinstance(error, RetryAfter):
                    self._pause(key, error.seconds)
        except asyncio.CancelledError:
            if not handed_over:
                await asyncio.shield(self._release(message))
            raise
        await asyncio.shield(self._record(message, error))

    async def _shared_turn(self, key: int, message: ClaimedMessage, rate: SharedRate) -> bool:
        """Reserve this send's slot for every worker, hand the row over, wait for the slot.

        The chat's clock may be ahead (another worker sent to it): then nothing is reserved and
        the worker asks again when it has passed. The slot is the database's time, waited for
        on this machine's wall clock (`services.outbox.rate`). The hand-over is written
        ``lead`` before the slot (``SharedRate.lead``, or twice the recent hand-over time when
        the database is slower), so at most the rows of the coming ``lead`` are handed over
        and not yet sent. False (send nothing) when the claim is gone; the slot is then lost.
        """
        handed = False
        held: float | None = None
        while True:
            lead = max(rate.lead, min(1.0, 2 * self._handing_took + 0.02))
            reservation = await run_unit_of_work(
                self._sessions,
                partial(_reserve, chat_key=key, rate=rate, lead=lead, held=held),
            )
            if not reservation.reserved:
                await _sleep_until(reservation.at)
                continue
            if not handed:
                await _sleep_until(reservation.at - lead)
                started = time.monotonic()
                if not await self._hand_over(message):
                    return False
                took = time.monotonic() - started
                self._handing_took = 0.8 * self._handing_took + 0.2 * took
                handed = True
            await _sleep_until(reservation.at)
            if time.time() - reservation.at <= rate.tolerance:
                return True
            # Too late for the slot (a busy machine, a slow hand-over): sent now it could
            # crowd the next ones; it takes a new slot instead (its chat's clock, set by the
            # missed slot, is its own: not waited for again).
            held = reservation.at + rate.chat_gap
            log.debug("outbox_id=%s: slot missed; reserved again", message.outbox_id)

    async def _forget_idle_chats(self, rate: SharedRate) -> None:
        """Now and then (at a claim, not in a send's way), delete the clocks of chats idle
        for a minute."""
        now = asyncio.get_running_loop().time()
        if now - self._forgot_at < rate.forget_every:
            return
        self._forgot_at = now
        try:
            await run_unit_of_work(self._sessions, lambda s: forget_idle_chats(session=s))
        except Exception as exc:  # only tidying: the next one tries again
            log.warning("outbox: forgetting idle chats failed: %s", type(exc).__name__)

    async def _attempt(self, outgoing: OutgoingMessage) -> SendError | None:
        """Hand the message to the sender; the error in the worker's terms, None when sent."""
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._senders[outgoing.channel].send(outgoing)
        except SendError as exc:
            return exc
        except TimeoutError:
            # The request went out and no answer came in time: it may have been delivered.
            return Uncertain(TIMEOUT)
        except Exception as exc:
            # Unknown outcome: it may have been sent. At most once means: do not try again.
            # Type only: the exception's text may quote the message.
            log.error("outbox_id=%s: sender raised %s", outgoing.outbox_id, type(exc).__name__)  # noqa: TRY400
            return PermanentFailure(SENDER_ERROR)
        return None

    async def _record(self, message: ClaimedMessage, error: SendError | None) -> None:
        outbox_id, attempt = message.outbox_id, message.attempt
        if error is None:
            log.debug("outbox_id=%s sent (attempt %s)", outbox_id, attempt)
            await self._store(
                message,
                lambda s: outbox_store.mark_sent(
                    session=s,
                    outbox_id=outbox_id,
                    now=self._clock(),
                    channel=message.channel,
                    attempt=attempt,
                ),
            )
            return
        code = error.code
        if isinstance(error, Unreachable):
            log.info("outbox_id=%s: recipient unreachable (%s)", outbox_id, code)
            await self._store(
                message,
                lambda s: outbox_store.mark_unreachable(
                    session=s,
                    outbox_id=outbox_id,
                    now=self._clock(),
                    reason=code,
                    channel=message.channel,
                    attempt=attempt,
                ),
            )
        elif isinstance(error, Uncertain) and not (
            self._retry.exhausted(attempt) and resend_when_uncertain(message.kind)
        ):
            delay = self._retry.delay(attempt)
            log.info("outbox_id=%s: %s on attempt %s (uncertain)", outbox_id, code, attempt)
            await self._store(
                message,
                lambda s: outbox_store.mark_uncertain(
                    session=s, outbox_id=outbox_id, now=self._clock(), delay=delay, attempt=attempt
                ),
            )
        elif isinstance(error, RetryAfter | TemporaryFailure) and not self._retry.exhausted(
            attempt
        ):
            delay = (
                timedelta(seconds=max(error.seconds, 1.0))
                if isinstance(error, RetryAfter)
                else self._retry.delay(attempt)
            )
            log.info(
                "outbox_id=%s: %s on attempt %s; retry in %ss",
                outbox_id,
                code,
                attempt,
                delay.total_seconds(),
            )
            await self._store(
                message,
                lambda s: outbox_store.mark_retry(
                    session=s,
                    outbox_id=outbox_id,
                    now=self._clock(),
                    delay=delay,
                    error=code,
                    attempt=attempt,
                ),
            )
        else:
            log.warning("outbox_id=%s failed: %s on attempt %s", outbox_id, code, attempt)
            await self._store_failed(message, code)

    async def _store_failed(self, message: ClaimedMessage, code: str) -> None:
        await self._store(
            message,
            lambda s: outbox_store.mark_failed(
                session=s, outbox_id=message.outbox_id, error=code, attempt=message.attempt
            ),
        )

    async def _hand_over(self, message: ClaimedMessage) -> bool:
        """Record the hand-over to the channel; False (send nothing) when the claim is gone.

        A database error counts as gone: the row stays ``sending``, never handed over, and
        the next claim after its lease sends it.
        """
        try:
            handed: bool = await run_unit_of_work(
                self._sessions,
                lambda s: outbox_store.hand_over(
                    session=s,
                    outbox_id=message.outbox_id,
                    attempt=message.attempt,
                    now=self._clock(),
                    lease=self._lease,
                ),
            )
        except Exception as exc:
            log.warning(
                "outbox_id=%s: hand-over not stored (%s); left to its lease",
                message.outbox_id,
                type(exc).__name__,
            )
            return False
        if not handed:
            log.warning("outbox_id=%s: the claim was taken back; not sent", message.outbox_id)
        return handed

    async def _release(self, message: ClaimedMessage) -> None:
        await self._store(
            message,
            lambda s: outbox_store.release(
                session=s, outbox_ids=[message.outbox_id], now=self._clock()
            ),
        )

    async def _store(
        self, message: ClaimedMessage, write: Callable[[AsyncSession], Awaitable[object]]
    ) -> None:
        """Run one storage unit of work, a few times if the database hiccups.

        If it never succeeds the row stays ``sending`` until its lease runs out; then it is
        treated as uncertain (`services.outbox.store.expire_leases`). The log says so.
        """
        for attempt in range(1, _STORE_TRIES + 1):
            try:
                await run_unit_of_work(self._sessions, write)
            except Exception as exc:
                log.warning(
                    "outbox_id=%s: storing the outcome failed (%s), try %s of %s",
                    message.outbox_id,
                    type(exc).__name__,
                    attempt,
                    _STORE_TRIES,
                )
                if attempt < _STORE_TRIES:
                    await asyncio.sleep(0.5 * 2**attempt)
            else:
                return
        log.error("outbox_id=%s: outcome not stored; left to its lease", message.outbox_id)

    def _pause(self, chat_id: int, seconds: float) -> None:
        now = self._clock()
        until = now + timedelta(seconds=max(seconds, 1.0))
        self._paused[chat_id] = max(until, self._paused.get(chat_id, until))
        if len(self._paused) > _KEEP_PAUSED:
            for expired in [chat for chat, end in self._paused.items() if end <= now]:
                del self._paused[expired]

    def _paused_for(self, chat_id: int) -> timedelta:
        """How long ``chat_id`` is still under flood control (zero when it is not)."""
        until = self._paused.get(chat_id)
        if until is None:
            return timedelta(0)
        left = until - self._clock()
        if left <= timedelta(0):
            del self._paused[chat_id]
            return timedelta(0)
        return left


class _SendGate:
    """One request at a time through it, ``interval`` apart, timed from when each one left.

    The hand-over's write runs inside, started as late as its recent duration allows, so it
    ends about when the slot comes: the period is the longer of the write and the interval
    (not their sum), the write's varying time never brings two requests closer than
    ``interval``, and a worker killed at any moment has at most the leaving row handed over
    and not sent.
    """

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._lock = asyncio.Lock()
        self._next = 0.0
        self._took = 0.0  # how long a hand-over took lately (smoothed)

    async def passing(self, work: Callable[[], Awaitable[bool]]) -> bool:
        """Run ``work`` (the hand-over) just before the slot, then wait for the slot."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            early = self._next - self._took - loop.time()
            if early > 0:
                await asyncio.sleep(early)
            started = loop.time()
            result = await work()
            took = loop.time() - started
            self._took = min(0.8 * self._took + 0.2 * took, self._interval)
            rest = self._next - loop.time()
            if rest > 0:
                await asyncio.sleep(rest)
            self._next = loop.time() + self._interval
            return result


async def _reserve(
    session: AsyncSession, *, chat_key: int, rate: SharedRate, lead: float, held: float | None
) -> Reservation:
    return await reserve_send(
        session=session,
        chat_key=chat_key,
        overall_interval=rate.overall_interval,
        chat_interval=rate.chat_gap,
        lead=lead,
        held=held,
    )


async def _sleep_until(wall: float) -> None:
    """Sleep until ``wall`` (seconds since the epoch) on this machine's clock."""
    left = wall - time.time()
    if left > 0:
        await asyncio.sleep(left)


def _pace_key(message: ClaimedMessage) -> int:
    """Whose turn a message waits for: its Telegram chat, or (e-mail) its recipient."""
    if message.channel is Channel.TELEGRAM and message.chat_id is not None:
        return message.chat_id
    # Telegram's private chat ids are positive: negative keys never collide with them.
    return -message.recipient_id


async def _wait(stop: asyncio.Event, tasks: set[asyncio.Task[None]], seconds: float | None) -> None:
    """Until ``stop`` is set, one of ``tasks`` finishes, or ``seconds`` pass (None: no limit)."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopping, *tasks}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
