"""A school: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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


class SchoolAboutText(Base):
    """A school's own "About the support room" text in one language (issue 15.7).

    Written by the school's administrator in the settings area; a language without a row
    shows the default text of the catalogs (`services.settings.about`).
    """

    __tablename__ = "school_about_text"

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
