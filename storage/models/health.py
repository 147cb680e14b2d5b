"""The heartbeat row `/healthz` writes, so a database that can no longer write is noticed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class HealthCheck(Base):
    """One row (``id`` 1), its time updated and committed by the health check.

    Not school-owned. A read, or a write rolled back, can succeed on a full disk or a read-only
    file; only a commit must reach the journal (SQLite's WAL, PostgreSQL's WAL), so the check
    commits a real change (see `storage.health`).
    """

    __tablename__ = "health_check"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
