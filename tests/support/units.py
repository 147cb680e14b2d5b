"""Running one service call as its own unit of work, as entry points do (issue 10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.uow import run_unit_of_work

T = TypeVar("T")


async def in_unit(
    service: Callable[..., Awaitable[T]],
    /,
    *,
    session: async_sessionmaker[AsyncSession] | AsyncSession,
    **kwargs: Any,
) -> T:
    """``service(session=…, **kwargs)`` in one unit of work (`run_unit_of_work`).

    ``session`` is a session with no transaction open (or a session factory).
    """
    return await run_unit_of_work(session, lambda s: service(session=s, **kwargs))


async def unit(
    sessions: async_sessionmaker[AsyncSession] | AsyncSession,
    service: Callable[..., Awaitable[T]],
    /,
    *,
    commit_on: tuple[type[Exception], ...] = (),
    **kwargs: Any,
) -> T:
    """``service(session=…, **kwargs)`` in one unit of work (`run_unit_of_work`).

    ``sessions`` is a session factory or a session with no transaction open; ``commit_on`` as
    `run_unit_of_work` takes it.
    """
    return await run_unit_of_work(
        sessions, lambda session: service(session=session, **kwargs), commit_on=commit_on
    )
