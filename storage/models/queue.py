"""The care coordinator's work queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class QueueKind(StrEnum):
    """What a queue item is about."""

    REFERRAL = "referral"
    #: A time-out above the week's cap or outside the plan, waiting for the care coordinator
    #: (`storage.models.TimeoutRequest` holds what was asked).
    TIMEOUT_REQUEST = "timeout_request"
    #: A completed exit questionnaire (`storage.models.SurveyResponse`), to read and close.
    EXIT_SURVEY = "exit_survey"


class QueueStatus(StrEnum):
    """Zammad-like states; the age clock pauses while ``waiting``."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    CLOSED = "closed"


class WaitingReason(StrEnum):
    """What a ``waiting`` item waits for (its age clock is paused meanwhile).

    ``care_team``: marked for the ZAT (zorgadviesteam), which advises before the care
    coordinator decides. ``intake``: accepted; the intake is still to be planned.
    """

    CARE_TEAM = "care_team"
    INTAKE = "intake"


class QueueDecision(StrEnum):
    """The care coordinator's placement decision on a referral (``None`` while undecided)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


class QueueItem(Base):
    """One thing the care coordinator has to handle.

    The placement decision lives here rather than on `Referral`: the referral is what the
    mentor wrote and stays as written; deciding is the coordinator's work on the item, next to
    its status and assignee. ``decision_reason`` is the (internal) free text of a decline.
    """

    __tablename__ = "queue_item"
    __table_args__ = (
        Index(None, "school_id", "status"),
        # Whoever decided belongs to the item's school.
        ForeignKeyConstraint(["school_id", "decided_by_id"], ["person.school_id", "person.id"]),
        # A decision is complete (who and when); a decline always says why.
        CheckConstraint(
            "(decision IS NULL AND decided_at IS NULL AND decided_by_id IS NULL"
            " AND decision_reason IS NULL)"
            " OR (decision IS NOT NULL AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL"
            " AND (decision <> 'declined' OR decision_reason IS NOT NULL))",
            name="decision_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[QueueKind] = mapped_column(str_enum(QueueKind, "queue_kind"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    survey_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_response.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[QueueStatus] = mapped_column(
        str_enum(QueueStatus, "queue_status"), default=QueueStatus.NEW
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decision: Mapped[QueueDecision | None] = mapped_column(
        str_enum(QueueDecision, "queue_decision")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The age clock (Zammad): it stops while the item waits. ``waiting_since`` is set when the
    # item starts waiting; the seconds spent waiting are added to ``paused_seconds`` when it
    # stops. Kept by the one status writer, `services.queue.status.move_item`; read by
    # `services.queue.listing.age`.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiting_reason: Mapped[WaitingReason | None] = mapped_column(
        str_enum(WaitingReason, "waiting_reason")
    )
    paused_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    #: A duplicate referral closed into another open one of the same student (its content
    #: added there as a note): the item it was merged into (`services.referrals.merging`).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue_item.id", ondelete="SET NULL")
    )


class QueueNote(Base):
    """An internal note on a queue item: seen by care coordinators only, never edited."""

    __tablename__ = "queue_note"
    __table_args__ = (
        # The author belongs to the note's school.
        ForeignKeyConstraint(["school_id", "author_id"], ["person.school_id", "person.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    queue_item_id: Mapped[int] = mapped_column(
        ForeignKey("queue_item.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
