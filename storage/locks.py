"""Transaction locks beyond rows: one person's updates one at a time, across processes.

`lock_person` takes PostgreSQL's transaction-level advisory lock for a person id: a second
transaction asking for the same person waits until the first commits or rolls back, on any
connection of any process. On SQLite every write transaction begins IMMEDIATE and there is one
process, so writers are serialised already and nothing is taken.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: The first half of the two-key advisory lock: what kind of thing the second key names.
PERSON_LOCKS = 0x7472  # "tr"

_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")


async def lock_person(session: AsyncSession, person_id: int) -> None:
    """Hold ``person_id``'s lock until the session's transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(_LOCK, {"space": PERSON_LOCKS, "key": person_id})
