"""Notifications to send, written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class OutboxStatus(StrEnum):
    """Delivery state; ``unreachable`` means the person blocked the bot or never started it.

    ``sending`` is held by the worker that claimed the row, as a lease: until
    ``Outbox.lease_until``. A row left in ``sending`` past its lease (the worker was killed
    mid-send) is claimed again by any worker (`services.outbox.store.claim_due`): at once when
    it was never handed to the channel (``handed_at`` is NULL: it surely did not go); when it
    was, the outcome is unknown, and it is resent only for the kinds whose loss matters more
    than a duplicate (`services.outbox.kinds.RESEND_WHEN_UNCERTAIN`), the others become
    ``uncertain``. Scheduled rows (reminders) are ``pending`` with a future
    ``next_attempt_at``.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    #: Withdrawn before it was sent: a reminder for an appointment that was moved or
    #: cancelled, or for a questionnaire that was answered (`services.outbox.store.cancel_pending`).
    CANCELLED = "cancelled"
    #: The last attempt may or may not have reached the person (a read timeout after the
    #: request was sent, a worker killed mid-send) and the kind is one whose duplicate matters
    #: more than its loss: not resent automatically; an operator decides
    #: (``trajectbot outbox retry`` / ``cancel``).
    UNCERTAIN = "uncertain"


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
    #: Until when the claim holds (``sending`` only): past it, any worker may claim the row
    #: again. Set at the claim and renewed when the row is handed to the channel.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the current claim handed the row to the channel (NULL: not yet, so a claim that
    #: ends here surely sent nothing). Cleared by every claim.
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the last attempt did not deliver: a short code (``timeout``, ``blocked``), never text
    #: from the message or the person.
    last_error: Mapped[str | None] = mapped_column(String(64))
    #: The channel the row was sent by (``telegram`` / ``email``); NULL until it went.
    channel: Mapped[str | None] = mapped_column(String(16))


class OutboxRate(Base):
    """When the next message may go, shared by every outbox worker of the bot (PostgreSQL).

    ``key`` 0 is the bot's overall clock (Telegram's ~30 messages a second); any other key is
    one chat's clock (1 a second; a Telegram chat id, or minus a person's id for e-mail). A
    worker reserves a send in one short transaction (`services.outbox.rate.reserve_send`), so
    the limits hold across processes and machines. Rows of chats idle for a minute are
    deleted. Not school-owned: a chat and the bot's rate belong to the bot. SQLite keeps the
    worker's in-process pacing (one process) and leaves this table empty.
    """

    __tablename__ = "outbox_rate"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
