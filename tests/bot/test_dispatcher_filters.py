"""Every handler and filter of the dispatcher is a coroutine.

aiogram runs a plain-function filter or handler on a worker thread (`asyncio.to_thread`): a
thread hand-over per message and a point where an update gives way to others in the middle
of its unit of work (SQLite: a snapshot another update's commit makes stale, the update done
again). A magic ``F`` filter used on its own is such a function; inside a callback's
``.filter(...)`` it is not (the callback filter is awaited).
"""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Update

from bot.telegram.dispatcher import routers
from bot.telegram.filters import CommandLike, TypedText
from tests.bot.telegram_fakes import Person


def _all(routers_: list[Router]) -> Iterator[Router]:
    for router in routers_:
        yield router
        yield from _all(list(router.sub_routers))


def test_no_filter_or_handler_runs_on_a_thread() -> None:
    found = []
    for router in _all(routers()):
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                where = f"{router.name}.{name}: {getattr(handler.callback, '__name__', '?')}"
                if not handler.awaitable:
                    found.append(f"{where} (handler)")
                found.extend(
                    f"{where} (filter {f.callback!r})"
                    for f in handler.filters or ()
                    if not f.awaitable
                )
    assert found == []


async def test_typed_text_and_commands_are_told_apart() -> None:
    person = Person(1)
    typed, command, slash_only = (
        Update.model_validate(person.text(text)).message for text in ("An answer", "/stop", "/")
    )
    assert typed is not None
    assert command is not None
    assert slash_only is not None
    assert await TypedText()(typed)
    assert not await TypedText()(command)
    assert not await CommandLike()(typed)
    assert await CommandLike()(command)
    assert await CommandLike()(slash_only)


def test_only_commands_pass_the_typed_answer_router() -> None:
    """Typed answers are taken by the first router (`flows.build_button_router`); that changes
    nothing only while every router after it but the catch-all takes commands alone."""
    first, *middle, last = routers()
    assert any(
        isinstance(f.callback, TypedText)
        for handler in first.message.handlers
        for f in handler.filters or ()
    )
    assert last.name.endswith("fallback")
    not_commands = [
        f"{router.name}: {getattr(handler.callback, '__name__', '?')}"
        for router in middle
        for inner in _all([router])
        for handler in inner.message.handlers
        if not any(isinstance(f.callback, Command | CommandLike) for f in handler.filters or ())
    ]
    assert not_commands == []
