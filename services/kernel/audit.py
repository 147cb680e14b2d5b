"""The audit trail: one append-only row per action that saw or changed personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, utcnow

#: What audit details may hold: ids and codes, never names or free text.
AuditValue = int | str | bool | None | Sequence[int] | Sequence[str]


def record_audit(
    *,
    session: AsyncSession,
    school_id: int,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int,
    details: Mapping[str, AuditValue] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Add an audit row to the caller's transaction (an operation; written at the next flush).

    ``action`` is a dotted code (``"referral.submit"``), ``actor_id`` is ``None`` for the
    system (imports from the CLI, demo data). Rows are never updated or deleted.
    """
    entry = AuditLog(
        school_id=school_id,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        at=at or utcnow(),
        details={
            key: list(v) if isinstance(v, Sequence) and not isinstance(v, str) else v
            for key, v in (details or {}).items()
        },
    )
    session.add(entry)
    return entry
