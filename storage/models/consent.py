"""Consent of parents and student (seed 002: "na toestemming") and the district coach asked in.

One row per person, purpose and moment: who gave it (a parent or the student), for what
(`ConsentPurpose`), when, recorded by whom; withdrawing sets ``withdrawn_at``/``withdrawn_by_id``
on the row (the history stays). The rule that reads them is `services.trajectories.rules`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class ConsentPurpose(StrEnum):
    """What a consent is for."""

    #: Support from the trajectvoorziening (the trajectory itself).
    TRAJECTORY = "trajectory"
    #: The partnership's district coach (bovenschoolse trajectbegeleider) may be involved.
    DISTRICT_COACH = "district_coach"
    #: Information may be shared with external care (jeugdhulp, behandelaar).
    EXTERNAL_CARE = "external_care"


class ConsentGiver(StrEnum):
    """In which capacity the person gave (or withdrew) the consent."""

    PARENT = "parent"
    STUDENT = "student"


class Consent(Base):
    """One consent of one person (a parent of the student, or the student) for one purpose."""

    __tablename__ = "consent"
    __table_args__ = (
        ForeignKeyConstraint(["school_id", "student_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "giver_id"], ["person.school_id", "person.id"]),
        Index("ix_consent_referral_purpose", "referral_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column()
    giver_id: Mapped[int] = mapped_column()
    giver: Mapped[ConsentGiver] = mapped_column(str_enum(ConsentGiver, "consent_giver"))
    purpose: Mapped[ConsentPurpose] = mapped_column(str_enum(ConsentPurpose, "consent_purpose"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))


class DistrictCoachRequest(Base):
    """The care coordinator asked a district coach in on one trajectory (until ``ended_at``).

    The district coach is a person of any school of the partnership (one deployment serves one
    partnership); the trajectory's school is ``school_id``.
    """

    __tablename__ = "district_coach_request"
    __table_args__ = (Index("ix_district_coach_request_coach", "district_coach_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    trajectory_id: Mapped[int] = mapped_column(
        ForeignKey("trajectory.id", ondelete="CASCADE"), index=True
    )
    district_coach_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
