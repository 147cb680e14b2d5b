"""A mentor's referral (verwijzing) of a student to the trajectvoorziening."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class Urgency(StrEnum):
    """How soon the mentor thinks the care coordinator should look at the referral."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class SupportKind(StrEnum):
    """The kinds of support a referral can ask for (stored as codes in ``Referral.support``)."""

    CONVERSATIONS = "conversations"
    TIME_OUT = "time_out"
    PRESENCE_FIXED = "presence_fixed"
    PRESENCE_VARYING = "presence_varying"
    CLASS_OBSERVATION = "class_observation"
    RETURN_FROM_EXTERNAL = "return_from_external"
    RETURN_AFTER_ABSENCE = "return_after_absence"


class Weekday(StrEnum):
    """School days on which an intake can take place."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"


class Referral(Base):
    """What the mentor submitted; free text is stored as written, in ``text_language``."""

    __tablename__ = "referral"
    __table_args__ = (
        # Student and mentor must belong to the referral's school.
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "mentor_id"], ["person.school_id", "person.id"]),
        Index("ix_referral_school_created", "school_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    student_id: Mapped[int] = mapped_column(index=True)
    mentor_id: Mapped[int] = mapped_column(index=True)
    help_question_student: Mapped[str] = mapped_column(Text)
    help_question_teacher: Mapped[str] = mapped_column(Text)
    tried: Mapped[str] = mapped_column(Text)
    works_at_home: Mapped[str | None] = mapped_column(Text)
    works_at_school: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    parents_informed: Mapped[bool] = mapped_column()
    parents_not_informed_reason: Mapped[str | None] = mapped_column(Text)
    support: Mapped[list[str]] = mapped_column(JSON)
    intake_from: Mapped[date] = mapped_column(Date)
    intake_days: Mapped[list[str]] = mapped_column(JSON)
    text_language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
