"""A student's trajectory in the trajectvoorziening: from accepted referral to closing."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class TrajectoryStatus(StrEnum):
    """Where a trajectory stands.

    ``planned``: the care coordinator accepted the referral; the intake is still to come.
    ``intake_held``: the intake took place but the plan (goals, dates, evaluations, coach) is
    not complete yet; completing it activates the trajectory.
    ``active``: the intake took place with a complete plan; support (gesprekken, time-out,
    evaluations) can be booked.
    ``closed``: finished (final evaluation and advice recorded); the exit questionnaire goes
    out. The whole lifecycle, who moves it and what each step requires:
    `services.trajectories.rules` (``TRANSITIONS``).
    """

    PLANNED = "planned"
    INTAKE_HELD = "intake_held"
    ACTIVE = "active"
    CLOSED = "closed"


class EvaluationKind(StrEnum):
    """Tussen- or eindevaluatie."""

    INTERIM = "interim"
    FINAL = "final"


#: Time-outs per week a trajectory allows unless the plan says otherwise (seeds: a cap, so the
#: room never becomes a punishment room).
DEFAULT_TIMEOUTS_PER_WEEK = 2


class Trajectory(Base):
    """One student's support trajectory, created when the care coordinator accepts a referral.

    The plan (goals, start, end) may be filled in at acceptance or later (after the intake);
    ``timeouts_in_plan`` says whether time-out is part of the agreed support at all and
    ``timeouts_per_week`` caps it. A student has at most one trajectory that is not closed:
    a partial unique index guarantees it on both databases.
    """

    __tablename__ = "trajectory"
    __table_args__ = (
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "coach_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "closed_by_id"], ["person.school_id", "person.id"]),
        UniqueConstraint("referral_id"),
        UniqueConstraint("school_id", "id"),
        Index(
            "uq_trajectory_open_per_student",
            "student_id",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
        CheckConstraint("timeouts_per_week >= 0", name="timeouts_per_week_not_negative"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="end_after_start",
        ),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when_closed_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    student_id: Mapped[int] = mapped_column(index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    status: Mapped[TrajectoryStatus] = mapped_column(
        str_enum(TrajectoryStatus, "trajectory_status"), default=TrajectoryStatus.PLANNED
    )
    goals: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    timeouts_in_plan: Mapped[bool] = mapped_column(default=False)
    timeouts_per_week: Mapped[int] = mapped_column(default=DEFAULT_TIMEOUTS_PER_WEEK)
    #: The coach who is the fixed point of contact (seeds: "vast aanspreekpunt"); required
    #: before the trajectory is active.
    coach_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the intake was marked as held (the trajectory may still wait for its plan).
    intake_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column()
    #: The advice for the school at closing (handelingsadvies); required to close.
    advice: Mapped[str | None] = mapped_column(Text)
    #: The care data (free text of the trajectory, its referral, notes, logbook, questionnaire
    #: answers) was erased: by the school's retention rule or an erasure (`services.privacy`).
    care_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrajectoryEvaluation(Base):
    """A planned evaluation date of a trajectory; ``held_on`` is set once it took place.

    ``notes``: what the coach or care coordinator wrote when it was held (optional; the final
    evaluation's notes are asked at closing). ``appointment_id``: the evaluation appointment
    whose attendance marked it held, if any.
    """

    __tablename__ = "trajectory_evaluation"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    trajectory_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[EvaluationKind] = mapped_column(str_enum(EvaluationKind, "evaluation_kind"))
    due_on: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL")
    )
