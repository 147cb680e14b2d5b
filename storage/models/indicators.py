"""What the indicators count beyond referrals and trajectories (issue 14/15, seed 004).

Observations in class and teacher support (requested, then recorded), a student's events the
partnership counts (OPP, TLV requested or granted, long-term absence, afstroom, VAVO),
visitation reports, and the partnership's target per indicator, school and school year.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class ActivityKind(StrEnum):
    """An observation in class, or support for a teacher (advice, sparring, training)."""

    CLASS_OBSERVATION = "class_observation"
    TEACHER_SUPPORT = "teacher_support"


class ObservationAim(StrEnum):
    """Whom an observation in class is about."""

    STUDENT = "student"
    CLASS = "class"
    TEACHER = "teacher"


class TeacherSupportKind(StrEnum):
    """What kind of support a teacher got."""

    ADVICE = "advice"
    SPARRING = "sparring"
    TRAINING = "training"


class SupportActivity(Base):
    """One observation in class or one teacher support: a request, recorded once held.

    ``held_on`` is NULL while only requested; a recorded activity has the performer (observer
    or the one who supported), the day and the outcome. A request may come from a referral
    (its "observation wanted" tick) or be made by the care coordinator or a coach.
    """

    __tablename__ = "support_activity"
    __table_args__ = (
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        Index("ix_support_activity_school_held", "school_id", "held_on"),
        CheckConstraint("(held_on IS NULL) = (recorded_at IS NULL)", name="held_when_recorded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind"))
    trajectory_id: Mapped[int | None] = mapped_column(
        ForeignKey("trajectory.id", ondelete="SET NULL"), index=True
    )
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id", ondelete="SET NULL"))
    student_id: Mapped[int | None] = mapped_column()
    aim: Mapped[ObservationAim | None] = mapped_column(str_enum(ObservationAim, "observation_aim"))
    support_kind: Mapped[TeacherSupportKind | None] = mapped_column(
        str_enum(TeacherSupportKind, "teacher_support_kind")
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    held_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StudentEventKind(StrEnum):
    """What the partnership counts about a student (seed 004)."""

    OPP = "opp"
    TLV_REQUESTED = "tlv_requested"
    TLV_GRANTED = "tlv_granted"
    LONG_ABSENCE = "long_absence"
    OUTFLOW = "outflow"
    VAVO = "vavo"


class StudentEventSource(StrEnum):
    """Where an event was recorded."""

    WEB = "web"
    CLOSING = "closing"
    IMPORT = "import"


class StudentEvent(Base):
    """One dated fact about a student: an OPP present, a TLV requested or granted, a period of
    long-term absence (``on`` to ``until``, open while ``until`` is NULL), afstroom or VAVO."""

    __tablename__ = "student_event"
    __table_args__ = (
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        UniqueConstraint("school_id", "student_id", "kind", "on_day"),
        Index("ix_student_event_school_kind_day", "school_id", "kind", "on_day"),
        CheckConstraint("until IS NULL OR until >= on_day", name="until_after_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    student_id: Mapped[int] = mapped_column()
    trajectory_id: Mapped[int | None] = mapped_column(
        ForeignKey("trajectory.id", ondelete="SET NULL")
    )
    kind: Mapped[StudentEventKind] = mapped_column(str_enum(StudentEventKind, "student_event_kind"))
    on_day: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[StudentEventSource] = mapped_column(
        str_enum(StudentEventSource, "student_event_source")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VisitationReport(Base):
    """A visitation of a school: the day, a short summary and optionally a link."""

    __tablename__ = "visitation_report"
    __table_args__ = (Index("ix_visitation_report_school_day", "school_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    held_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndicatorTarget(Base):
    """The partnership's target for one indicator (a percentage) at one school in one school
    year (``school_year`` is the year it starts: 2026 is 1 August 2026 - 31 July 2027)."""

    __tablename__ = "indicator_target"
    __table_args__ = (CheckConstraint("target >= 0 AND target <= 100", name="target_percent"),)

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    school_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    target: Mapped[float] = mapped_column(Float)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
