"""People, their roles, and who is whose mentor or parent."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    """What a person may do at their school; one person can hold several roles."""

    STUDENT = "student"
    PARENT = "parent"
    MENTOR = "mentor"
    TEACHER = "teacher"
    COACH = "coach"
    CARE_COORDINATOR = "care_coordinator"
    ADMIN = "admin"
    #: Sees the partnership's indicators across schools (aggregates only), no child's data.
    #: Registered as a person of one school (every person belongs to one), but the role is
    #: not bound to that school: see docs/decisions.md.
    PARTNERSHIP_VIEWER = "partnership_viewer"
    #: The partnership's bovenschoolse trajectbegeleider (seed 002): registered at one school,
    #: works in any school of the partnership, but only on the trajectories they were asked
    #: in on with consent (`services.trajectories.access`).
    DISTRICT_COACH = "district_coach"


def name_of(given_name: str, family_name: str) -> str:
    """`Person.display_name` from the two columns (a query that selects only the names)."""
    return f"{given_name} {family_name}"


class Person(Base):
    """Anyone the bot talks to or about: student, parent or staff member of one school."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("school_id", "external_id"),
        # Target of the composite foreign keys that keep links (mentorship, referral, ...)
        # inside one school at the database level.
        UniqueConstraint("school_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    group_name: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Telegram cannot reach the person (blocked the bot); e-mail is tracked apart.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The e-mail address (from the administration system or the person); NULL: none.
    email: Mapped[str | None] = mapped_column(String(254))
    #: The address bounced or was refused: not tried again until it is changed.
    email_unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``telegram`` or ``email``; NULL: Telegram when a chat is linked, else e-mail.
    channel_preference: Mapped[str | None] = mapped_column(String(16))
    #: The administration system no longer lists the person (a leaver): the history stays,
    #: access ends.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The person was erased (AVG): names, contacts and free text gone, the row kept as a
    #: pseudonymised anchor ("Verwijderd 1234") for the aggregates (`services.privacy.erasure`).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A student's date of birth, from the administration system (NULL: not supplied). Read
    #: only for the age-18 rule (`services.kernel.adulthood`).
    birth_date: Mapped[date | None] = mapped_column(Date())
    #: When a student of 18 or older last answered whether their parents still see their data
    #: (NULL: not asked yet; the chat asks).
    parents_access_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when that answer was "no": from then on no `Guardianship` of this student gives a
    #: parent anything of theirs (`services.kernel.adulthood.parents_see`). NULL: parents see.
    parents_access_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Loaded together with the person (selectin) so that `has_role` never triggers lazy IO,
    # which async sessions forbid.
    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person",
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def display_name(self) -> str:
        """Given name and family name, as shown in lists."""
        return name_of(self.given_name, self.family_name)

    def has_role(self, role: Role) -> bool:
        """Whether this person holds ``role`` (from the loaded role rows)."""
        return any(r.role == role for r in self.roles)


class PersonRole(Base):
    """One role of one person; the pair is the primary key."""

    __tablename__ = "person_role"
    __table_args__ = (Index("ix_person_role_role_started", "role", "started_at"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), primary_key=True)
    #: When the role began and ended (the roster import sets both; the indicators count the
    #: students enrolled in a month from them). NULL start: held since before the history.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="roles", lazy="raise")


class Guardianship(Base):
    """A parent (or carer) of a student, both of the same school."""

    __tablename__ = "guardianship"
    __table_args__ = (
        UniqueConstraint("parent_id", "student_id"),
        ForeignKeyConstraint(
            ["school_id", "parent_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["school_id", "student_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    parent_id: Mapped[int] = mapped_column()
    student_id: Mapped[int] = mapped_column(index=True)


class Mentorship(Base):
    """A mentor of a student, both of the same school; the basis of the right to refer."""

    __tablename__ = "mentorship"
    __table_args__ = (
        UniqueConstraint("mentor_id", "student_id"),
        ForeignKeyConstraint(
            ["school_id", "mentor_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["school_id", "student_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    mentor_id: Mapped[int] = mapped_column()
    student_id: Mapped[int] = mapped_column(index=True)
