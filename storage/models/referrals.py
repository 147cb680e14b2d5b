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


class ExternalCare(StrEnum):
    """Whether external care or treatment is already involved (seed 002, 003)."""

    NONE = "none"
    YES = "yes"
    UNKNOWN = "unknown"


class YesNoUnknown(StrEnum):
    """A fact the mentor may not know (whether an OPP exists, seed 004)."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Absence(StrEnum):
    """Recent absence, roughly (the count of days is optional)."""

    NONE = "none"
    SOME = "some"
    A_LOT = "a_lot"


class ObservationFocus(StrEnum):
    """What a class observation should look at (seed 003)."""

    STUDENT = "student"
    CLASS = "class"
    TEACHER = "teacher"


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
    # Issue 15: the optional asks (NULL: not asked, a referral from before, or skipped).
    external_care: Mapped[str | None] = mapped_column(String(16))
    external_care_which: Mapped[str | None] = mapped_column(Text)
    has_opp: Mapped[str | None] = mapped_column(String(16))
    absence: Mapped[str | None] = mapped_column(String(16))
    #: Days absent in the last four weeks, when the mentor knows.
    absence_days: Mapped[int | None] = mapped_column()
    observation_focus: Mapped[list[str] | None] = mapped_column(JSON)
    #: The parents' language (a language code, or ``other``) and whether they need an
    #: interpreter.
    parents_language: Mapped[str | None] = mapped_column(String(16))
    interpreter_needed: Mapped[bool | None] = mapped_column()
    #: The student's own help question, in their own words and language (asked in chat).
    student_voice: Mapped[str | None] = mapped_column(Text)
    student_voice_language: Mapped[str | None] = mapped_column(String(8))
    student_voice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the student was asked (NULL: not yet); asked once.
    student_voice_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
