"""One send rate for every outbox worker of the bot: Telegram's limits across processes.

Telegram allows a bot about 30 messages a second overall and 1 a second per chat, whichever
process sends them. On PostgreSQL the workers share two kinds of clock in ``outbox_rate``
(`storage.models.OutboxRate`): the bot's (key 0: when the next message may go) and each
chat's. `reserve_send` is one short unit of work of the worker, just before a send:

1. lock the chat's row (made on first use); if the chat's clock is still ahead, reserve
   nothing and say how long to wait (the worker waits and asks again);
2. otherwise lock the bot's row and take its next slot: ``max(next, now + lead)``, moving the
   bot's clock one ``overall_interval`` past it;
3. move the chat's clock to ``slot + chat_interval``.

The times are the database server's (``clock_timestamp()``), returned as absolute times: a
worker sleeps until that moment on its own wall clock, so how long the reservation took to
come back does not move the send. The machines' clocks must agree (NTP) to well within the
slots' 5 % margin (about 2 ms). Rows are locked chat first, bot
second, one chat per transaction: two workers never wait for each other in a circle.
A slot reserved and then not used (the claim was taken back) is simply lost: the rate errs on
the slow side. Rows of chats idle for `IDLE` are deleted by `forget_idle_chats`.

SQLite runs one process: the worker keeps its in-process pacing (`bot.outbox.pacing`) there
and this module is not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Float, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

#: The key of the bot's overall clock (a chat's key is its chat id: never 0).
OVERALL = 0
#: How long a chat's row is kept after its clock has passed.
IDLE = timedelta(minutes=1)

_MAKE_ROW = text(
    "INSERT INTO outbox_rate (key, next_at) VALUES (:key, clock_timestamp()) "
    "ON CONFLICT (key) DO NOTHING"
)
_CHAT_WAIT = text(
    "SELECT EXTRACT(EPOCH FROM next_at), EXTRACT(EPOCH FROM (next_at - clock_timestamp())) "
    "FROM outbox_rate WHERE key = :key FOR UPDATE"
)
_TAKE_SLOT = text(
    "UPDATE outbox_rate SET next_at = GREATEST(next_at, clock_timestamp() "
    "+ :lead * INTERVAL '1 second') + :interval * INTERVAL '1 second' WHERE key = :key "
    "RETURNING EXTRACT(EPOCH FROM (next_at - :interval * INTERVAL '1 second')), "
    "EXTRACT(EPOCH FROM (next_at - :interval * INTERVAL '1 second' - clock_timestamp()))"
).bindparams(bindparam("lead", type_=Float), bindparam("interval", type_=Float))
_SET_CHAT = text(
    "UPDATE outbox_rate SET next_at = to_timestamp(:at + :interval) WHERE key = :key"
).bindparams(bindparam("at", type_=Float), bindparam("interval", type_=Float))
_FORGET = text(
    "DELETE FROM outbox_rate WHERE key <> 0 "
    "AND next_at < clock_timestamp() - :idle * INTERVAL '1 second'"
).bindparams(bindparam("idle", type_=Float))


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer of `reserve_send`: a slot at ``at`` (seconds since the epoch, the database
    server's clock), ``wait`` seconds after the reservation; or (``reserved`` is False)
    nothing yet: the chat's clock is ahead until ``at``, ask again then."""

    reserved: bool
    at: float
    wait: float


async def reserve_send(
    *,
    session: AsyncSession,
    chat_key: int,
    overall_interval: float,
    chat_interval: float,
    lead: float,
    held: float | None = None,
) -> Reservation:
    """Reserve the next send to ``chat_key`` (PostgreSQL only), inside the caller's unit of work.

    The unit should commit at once: the bot's row stays locked until it does. ``lead`` is the
    least time from now to the slot (the worker records the hand-over in it). ``held``: the
    chat's clock as this worker's last reservation for the same message set it (a slot it
    missed and did not use): the chat is then not waited for again.
    """
    if chat_key == OVERALL:
        raise ValueError("chat key 0 is the bot's own clock")
    await session.execute(_MAKE_ROW, {"key": chat_key})
    chat_at, chat_wait = (await session.execute(_CHAT_WAIT, {"key": chat_key})).one()
    mine = held is not None and abs(float(chat_at) - held) < 0.001
    if chat_wait > 0 and not mine:
        return Reservation(reserved=False, at=float(chat_at), wait=float(chat_wait))
    await session.execute(_MAKE_ROW, {"key": OVERALL})
    at, wait = (
        await session.execute(
            _TAKE_SLOT, {"key": OVERALL, "lead": lead, "interval": overall_interval}
        )
    ).one()
    await session.execute(_SET_CHAT, {"key": chat_key, "at": float(at), "interval": chat_interval})
    return Reservation(reserved=True, at=float(at), wait=max(float(wait), 0.0))


async def forget_idle_chats(*, session: AsyncSession, idle: timedelta = IDLE) -> int:
    """Delete the clocks of chats nobody sent to for ``idle``; returns how many."""
    result = await session.execute(_FORGET, {"idle": idle.total_seconds()})
    return int(getattr(result, "rowcount", 0) or 0)
