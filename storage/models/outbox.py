"""Notifications to send, written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class OutboxStatus(StrEnum):
    """Delivery state; ``unreachable`` means the person blocked the bot or never started it.

    ``sending`` is held by the worker that claimed the row, from the claim until the outcome is
    stored. A row left in ``sending`` (the worker crashed mid-send) is never sent again, because
    nobody can tell whether Telegram got it: an operator decides
    (`services.outbox.store.list_sending`).
    Scheduled rows (reminders) are ``pending`` with a future ``next_attempt_at``.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    #: Withdrawn before it was sent: a reminder for an appointment that was moved or
    #: cancelled, or for a questionnaire that was answered (`services.outbox.store.cancel_pending`).
    CANCELLED = "cancelled"


class Outbox(Base):
    """One message to one person. ``payload`` holds ids only, never care details."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Never sent at or after this time (a reminder of an invitation that has expired by
    #: then): `services.outbox.store.claim_due` withdraws such a row as ``cancelled`` instead.
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a worker last claimed the row (moved it to ``sending``).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the last attempt did not deliver: a short code (``timeout``, ``blocked``), never text
    #: from the message or the person.
    last_error: Mapped[str | None] = mapped_column(String(64))
    #: The channel the row was sent by (``telegram`` / ``email``); NULL until it went.
    channel: Mapped[str | None] = mapped_column(String(16))
