"""A school: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class School(Base):
    """One school (vestiging); ``code`` is a short slug used in the CLI and in invites."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    #: The Dutch school-holiday region (``noord``, ``midden``, ``zuid``); ``None``: not set
    #: (a school made before issue 12, or the demo).
    region: Mapped[str | None] = mapped_column(String(8))
    #: How long the care data of a closed trajectory is kept after closing (months); the
    #: retention rule (`services.privacy.retention`) erases it afterwards.
    care_retention_months: Mapped[int] = mapped_column(default=24, server_default="24")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
