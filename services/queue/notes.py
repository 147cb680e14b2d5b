"""Internal notes on a referral's queue item: for the school's care coordinators only."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid
from services.kernel.text_input import clean_text
from services.queue.access import coordinator_item
from services.queue.rules import QueueAction, validate_note
from services.queue.status import ensure_allowed
from storage.models import Person, QueueNote

log = logging.getLogger(__name__)


async def add_note(
    *, session: AsyncSession, actor: Person, queue_item_id: int, text: str, now: datetime
) -> QueueNote:
    """Add an internal note (1–2000 characters) to an item in any status; returns the note.

    An operation in the caller's unit of work. Notes never change the status. `InputInvalid`
    for a bad text, `NotAllowed` as for `services.queue.referral_view.open_referral`.
    """
    problem = validate_note(text)
    if problem is not None:
        raise InputInvalid(problem)
    actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=False
    )
    ensure_allowed(item, QueueAction.NOTE)
    note = QueueNote(
        school_id=item.school_id,
        queue_item_id=item.id,
        author_id=actor.id,
        text=clean_text(text),
        created_at=now,
    )
    session.add(note)
    await session.flush()
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="queue.note",
        subject_type="queue_item",
        subject_id=item.id,
        details={"note_id": note.id, "referral_id": referral.id},
        at=now,
    )
    log.info("note_id=%s added to queue_item_id=%s by person_id=%s", note.id, item.id, actor.id)
    return note
