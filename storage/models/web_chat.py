"""The web chat's browser sessions: a parent or student who opened their personal link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class WebChatSession(Base):
    """A browser that opened a personal link (``/c/<token>``) and now chats as that person.

    Only the SHA-256 of the cookie's token is stored; ``csrf_secret`` is the synchronizer
    token every form of this session carries. A session opened with an exit questionnaire's
    link is limited to that questionnaire (``survey_invitation_id`` set); one opened with an
    onboarding invitation may use every flow of the person's roles. ``flash`` holds what the
    last POST answered (rendered notices, a refused typed answer to put back in the box)
    until the next page view shows it once.
    """

    __tablename__ = "web_chat_session"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "person_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["school_id", "survey_invitation_id"],
            ["survey_invitation.school_id", "survey_invitation.id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    person_id: Mapped[int] = mapped_column(index=True)
    survey_invitation_id: Mapped[int | None] = mapped_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    flash: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
