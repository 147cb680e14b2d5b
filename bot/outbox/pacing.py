"""Pacing to Telegram's limits: about 30 messages a second overall, 1 a second per chat.

Two details matter for the limits to hold on the wire, not just on paper:

* ``AsyncLimiter(30, 1)`` is a leaky bucket that lets a burst of 30 through and then 30 a
  second more, i.e. up to 59 messages within one second. `overall_limiter` therefore uses a
  bucket of one that drips every 1/30 s: never more than 30 in any one-second window.
* A chat's clock must start when its message actually goes out, after the overall limiter
  let it through, or a message held up there would end up closer to the chat's next one.
  `ChatPacer` serialises each chat and starts the interval at `ChatTurn.sending`.

Every interval is stretched by `SAFETY` (2 %), for the time between the limiter's decision and
the request reaching Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

TELEGRAM_MESSAGES_PER_SECOND = 30.0
TELEGRAM_CHAT_INTERVAL = 1.0
SAFETY = 1.02


def overall_limiter(
    per_second: float = TELEGRAM_MESSAGES_PER_SECOND, *, safety: float = SAFETY
) -> AsyncLimiter:
    """A limiter that lets one message through every ``safety / per_second`` seconds."""
    return AsyncLimiter(1, safety / per_second)


@dataclass(slots=True)
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0
    users: int = 0


class ChatTurn:
    """A chat's turn, held inside `ChatPacer.turn`."""

    __slots__ = ("_chat", "_interval")

    def __init__(self, chat: _Chat, interval: float) -> None:
        self._chat = chat
        self._interval = interval

    def sending(self) -> None:
        """Call right before sending: the chat's next turn comes ``interval`` after now."""
        self._chat.next_at = asyncio.get_running_loop().time() + self._interval


class ChatPacer:
    """One message at a time per chat, at least ``interval`` seconds apart.

    Keeps per-chat state only while it matters: once the dict holds more than ``keep_idle``
    chats, those nobody is waiting for and whose interval has passed are dropped (a dropped
    chat starts afresh, which is exactly what its expired state would have allowed). So the
    memory is bounded by the chats in flight plus ``keep_idle``.
    """

    def __init__(
        self, interval: float = TELEGRAM_CHAT_INTERVAL * SAFETY, *, keep_idle: int = 1024
    ) -> None:
        self._interval = interval
        self._keep_idle = keep_idle
        self._chats: dict[int, _Chat] = {}

    def __len__(self) -> int:
        return len(self._chats)

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[ChatTurn]:
        """Wait until ``chat_id`` may get a message and hold it until the block ends.

        Waiters are served in arrival order (`asyncio.Lock` is fair), so one chat's messages
        keep their order. The block calls `ChatTurn.sending` if it sends.
        """
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
        chat.users += 1
        try:
            async with chat.lock:
                wait = chat.next_at - asyncio.get_running_loop().time()
                if wait > 0:
                    await asyncio.sleep(wait)
                yield ChatTurn(chat, self._interval)
        finally:
            chat.users -= 1
            if len(self._chats) > self._keep_idle:
                self._prune()

    def _prune(self) -> None:
        now = asyncio.get_running_loop().time()
        idle = [
            chat_id
            for chat_id, chat in self._chats.items()
            if chat.users == 0 and chat.next_at <= now
        ]
        for chat_id in idle:
            del self._chats[chat_id]
