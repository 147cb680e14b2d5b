"""The care team (zorgadviesteam, ZAT): its meetings and the referrals on their agenda."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class CareTeamDecision(StrEnum):
    """What the care team decided about a case (its advice is the free text beside it)."""

    #: Support from the trajectvoorziening: the care coordinator places the student.
    TRAJECTORY = "trajectory"
    #: Other support inside the school (not the trajectvoorziening).
    OTHER_SUPPORT = "other_support"
    #: A referral outside the school (youth care, the partnership).
    EXTERNAL = "external"
    #: Not decided: on the agenda of a next meeting again.
    DISCUSS_AGAIN = "discuss_again"


class CareTeamMeeting(Base):
    """One meeting of a school's care team, on one date (one meeting per school and day)."""

    __tablename__ = "care_team_meeting"
    __table_args__ = (
        UniqueConstraint("school_id", "held_on"),
        UniqueConstraint("school_id", "id"),
        ForeignKeyConstraint(["school_id", "created_by_id"], ["person.school_id", "person.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    held_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CareTeamCase(Base):
    """A referral on a meeting's agenda, with the question for the team and, once discussed,
    the team's advice (free text, as written) and decision."""

    __tablename__ = "care_team_case"
    __table_args__ = (
        UniqueConstraint("meeting_id", "queue_item_id"),
        ForeignKeyConstraint(
            ["school_id", "meeting_id"],
            ["care_team_meeting.school_id", "care_team_meeting.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["school_id", "added_by_id"], ["person.school_id", "person.id"]),
        ForeignKeyConstraint(["school_id", "decided_by_id"], ["person.school_id", "person.id"]),
        CheckConstraint(
            "(decision IS NULL AND decided_at IS NULL AND decided_by_id IS NULL"
            " AND advice IS NULL)"
            " OR (decision IS NOT NULL AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL"
            " AND advice IS NOT NULL)",
            name="advice_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    meeting_id: Mapped[int] = mapped_column(index=True)
    queue_item_id: Mapped[int] = mapped_column(
        ForeignKey("queue_item.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    advice: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[CareTeamDecision | None] = mapped_column(
        str_enum(CareTeamDecision, "care_team_decision")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column()
