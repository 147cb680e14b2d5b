"""A person who has left (``Person.ended_at``, set by a roster sync) is sent nothing more.

Two places keep that true: the sync that ends a person withdraws their not-yet-sent outbox
rows (reminders and other scheduled notices) in the same transaction (`withdraw_notices`),
and the outbox's `services.outbox.store.claim_due` settles any row addressed to a leaver that
is claimed anyway (written after the sync, or by another path) the same way. Both leave the
row ``cancelled`` with ``last_error`` `ENDED`: nothing was tried, the person was not
unreachable, and the care coordinator is not told per leaver (the import's summary counts
them).

The outbox rows are updated here, not through `services.outbox`, because accounts comes
before outbox in the services' order (tests/test_layers.py); the code `ENDED` lives here and
the outbox imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, OutboxStatus

log = logging.getLogger(__name__)

#: ``last_error`` of an outbox row withdrawn because its recipient has left the school.
ENDED = "ended"

__all__ = ["ENDED", "withdraw_notices"]


async def withdraw_notices(*, session: AsyncSession, person_ids: Collection[int]) -> int:
    """Withdraw every pending (also scheduled) outbox row addressed to ``person_ids``.

    An operation (joins the caller's transaction): the rows become ``cancelled`` with
    ``last_error`` `ENDED`. Rows already claimed (``sending``) are not touched: the worker
    that holds them decides. Returns how many rows were withdrawn.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return 0
    result = await session.execute(
        update(Outbox)
        .where(Outbox.recipient_id.in_(ids), Outbox.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error=ENDED)
        .execution_options(synchronize_session=False)
    )
    count = result.rowcount if isinstance(result, CursorResult) else 0
    if count:
        log.info("outbox rows withdrawn for leavers: %s rows, person_ids=%s", count, ids)
    return count
