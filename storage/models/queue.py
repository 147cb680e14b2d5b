"""The care coordinator's work queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class QueueKind(StrEnum):
    """What a queue item is about."""

    REFERRAL = "referral"


class QueueStatus(StrEnum):
    """Zammad-like states; the age clock pauses while ``waiting``."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    CLOSED = "closed"


class QueueItem(Base):
    """One thing the care coordinator has to handle."""

    __tablename__ = "queue_item"
    __table_args__ = (Index(None, "school_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[QueueKind] = mapped_column(str_enum(QueueKind, "queue_kind"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    status: Mapped[QueueStatus] = mapped_column(
        str_enum(QueueStatus, "queue_status"), default=QueueStatus.NEW
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
