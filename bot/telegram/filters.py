"""Message filters as coroutines.

aiogram runs a filter that is a plain function (a magic ``F`` expression used on its own, a
``def``) on a worker thread (`asyncio.to_thread`): a thread hand-over for every message it
looks at, and a point where the update gives way to others in the middle of its unit of work.
These are `aiogram.filters.Filter`s, awaited on the loop (tests/bot/test_dispatcher_filters.py
keeps every filter and handler that way).
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message


class TypedText(Filter):
    """A text message that is not a command: a typed answer."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


class CommandLike(Filter):
    """A text message that starts with ``/`` (a command, known or not)."""

    async def __call__(self, message: Message) -> bool:
        return (message.text or "").startswith("/")
