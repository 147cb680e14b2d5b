"""A new item in the care coordinator's queue: the one path from "something to handle" to the
coordinators' notifications and the audit trail.

Referrals (`services.referrals.submission`), completed exit questionnaires
(`services.surveys`) and time-out requests (`services.appointments`) all open their item here,
so every new item is announced and audited the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.audit import AuditValue, record_audit
from services.outbox.kinds import OutboxKind
from services.outbox.store import notify_care_coordinators
from storage.models import QueueItem, QueueKind, QueueStatus

_ITEM = "queue_item"


@dataclass(frozen=True, slots=True)
class Notice:
    """The outbox message every care coordinator of the school gets about the new item.

    ``subject_id`` makes the dedup key (``<kind>:<subject_id>:<coordinator id>``; ``None``:
    the item's id). ``payload`` holds ids only; ``queue_item_id`` is added.
    """

    kind: OutboxKind
    subject_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Audit:
    """The audit row of the event that opened the item (``subject_id`` ``None``: the item).

    ``details`` hold ids and codes only; ``queue_item_id`` is added unless the item is the
    subject.
    """

    action: str
    subject_type: str = _ITEM
    subject_id: int | None = None
    details: Mapping[str, AuditValue] = field(default_factory=dict)


async def open_item(
    *,
    session: AsyncSession,
    school_id: int,
    kind: QueueKind,
    actor_id: int | None,
    notice: Notice,
    audit: Audit,
    now: datetime,
    referral_id: int | None = None,
    survey_response_id: int | None = None,
) -> QueueItem:
    """Add a ``new`` queue item, tell the school's care coordinators, audit it; the item.

    An operation: joins the caller's transaction and flushes (the item has its id), so the
    item, the notifications and the audit row land together with the caller's own writes.
    """
    item = QueueItem(
        school_id=school_id,
        kind=kind,
        referral_id=referral_id,
        survey_response_id=survey_response_id,
        status=QueueStatus.NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    await notify_care_coordinators(
        session=session,
        school_id=school_id,
        kind=notice.kind,
        subject_id=item.id if notice.subject_id is None else notice.subject_id,
        payload={**notice.payload, "queue_item_id": item.id},
        now=now,
    )
    subject_is_item = audit.subject_type == _ITEM and audit.subject_id is None
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=actor_id,
        action=audit.action,
        subject_type=audit.subject_type,
        subject_id=item.id if audit.subject_id is None else audit.subject_id,
        details=(
            dict(audit.details) if subject_is_item else {**audit.details, "queue_item_id": item.id}
        ),
        at=now,
    )
    return item
