"""The exit questionnaire: one invitation per respondent of a closed trajectory, its response,
and the answers by question code."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class RespondentType(StrEnum):
    """Which questionnaire a respondent answers (the mentor answers the teacher's)."""

    STUDENT = "student"
    PARENT = "parent"
    TEACHER = "teacher"


class SurveyInvitation(Base):
    """A personal, single-use invitation to answer the exit questionnaire of one trajectory.

    Created when the trajectory is closed, one per respondent (the unique constraint makes a
    second one for the same person impossible). ``completed_at`` marks it used. A personal
    link for the web chat is optional: only the SHA-256 of its token is stored
    (``token_hash``), and issuing a new link replaces the old one.
    """

    __tablename__ = "survey_invitation"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["school_id", "respondent_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("trajectory_id", "respondent_id"),
        UniqueConstraint("school_id", "id"),
        Index(None, "school_id", "created_at"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    trajectory_id: Mapped[int] = mapped_column()
    respondent_id: Mapped[int] = mapped_column(index=True)
    respondent_type: Mapped[RespondentType] = mapped_column(
        str_enum(RespondentType, "respondent_type")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SurveyResponse(Base):
    """A completed questionnaire: which version was answered, in which language, and when.

    ``respondent_type`` repeats the invitation's so that aggregates need no join.
    """

    __tablename__ = "survey_response"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "invitation_id"],
            ["survey_invitation.school_id", "survey_invitation.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("invitation_id"),
        UniqueConstraint("school_id", "id"),
        Index(None, "school_id", "completed_at"),
        # An anonymous response keeps no link to its invitation (so none to a person).
        CheckConstraint("anonymous = (invitation_id IS NULL)", name="anonymous_unlinked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    #: ``None`` for an anonymous response: identity stays with the invitation, apart.
    invitation_id: Mapped[int | None] = mapped_column()
    respondent_type: Mapped[RespondentType] = mapped_column(
        str_enum(RespondentType, "respondent_type")
    )
    #: The respondent chose to answer anonymously (students and parents may): no view names
    #: them, ``completed_at`` is kept to the day only, and reports apply the small-group rule.
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column()
    language: Mapped[str] = mapped_column(String(8))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SurveyAnswer(Base):
    """One answer by question code: a scale code (``1``–``5`` or ``na``), or free text as
    written with its language. Never both."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "response_id"],
            ["survey_response.school_id", "survey_response.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("response_id", "code"),
        CheckConstraint(
            "(value IS NOT NULL AND text IS NULL AND text_language IS NULL)"
            " OR (value IS NULL AND text IS NOT NULL AND text_language IS NOT NULL)",
            name="value_or_text",
        ),
        CheckConstraint(
            "value IS NULL OR value IN ('1', '2', '3', '4', '5', 'na')", name="scale_value"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    response_id: Mapped[int] = mapped_column(index=True)
    code: Mapped[str] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(String(4))
    text: Mapped[str | None] = mapped_column(Text)
    text_language: Mapped[str | None] = mapped_column(String(8))
