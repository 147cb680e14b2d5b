"""Whether the event loop went on while something waited (a write waiting for SQLite's lock
must wait on the driver's thread, not on the loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def waits_off_the_loop(
    wait: Callable[[], Awaitable[None]], release: Callable[[], None], *, hold: float = 0.3
) -> int:
    """Start ``wait()``; after ``hold`` seconds check it is still waiting, then ``release()``
    what it waits for and let it finish (5 s at most). Returns how many times a 10 ms ticker
    ran meanwhile: about ``hold / 0.01`` when the loop went on, 0 or 1 when ``wait`` held it."""
    ticks = 0
    done = asyncio.Event()

    async def waiting() -> None:
        await wait()
        done.set()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    waiter = asyncio.create_task(waiting())
    ticker = asyncio.create_task(tick())
    await asyncio.sleep(hold)
    assert not done.is_set(), "it did not wait"
    seen = ticks
    release()
    await asyncio.wait_for(waiter, 5)
    await ticker
    return seen
