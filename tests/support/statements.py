"""The SQL statements a piece of work sends, caught at the engine (``before_cursor_execute``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements_reading(engine: AsyncEngine, *tables: str) -> Iterator[list[str]]:
    """Collects, while open, every statement that reads ``FROM`` one of ``tables``."""
    needles = tuple(f"FROM {table}" for table in tables)
    seen: list[str] = []

    def on_statement(_c: object, _cur: object, statement: str, *_args: object) -> None:
        if any(needle in statement for needle in needles):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
