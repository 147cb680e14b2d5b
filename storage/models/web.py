"""The web app's own rows: staff accounts, browser sessions, one-time login links, the logbook."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class StaffAccount(Base):
    """A staff member's password login for the web app (created with the CLI).

    What the account may do comes from the person's roles, read again on every request; the
    account only proves who is at the keyboard. ``password_hash`` is an argon2id hash.
    ``failed_attempts`` and ``locked_until`` are no longer used (the hard lock-out was replaced
    by `LoginFailure` throttling, migration 0018); kept so that a downgrade loses nothing.
    """

    __tablename__ = "staff_account"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "person_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    person_id: Mapped[int] = mapped_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored.

    ``csrf_secret`` is the synchronizer token every form of this session carries.
    """

    __tablename__ = "web_session"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "person_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    person_id: Mapped[int] = mapped_column(index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginLink(Base):
    """A one-time login link the bot sends to a linked staff member (10 minutes, single use)."""

    __tablename__ = "login_link"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "person_id"], ["person.school_id", "person.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    person_id: Mapped[int] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginFailure(Base):
    """One wrong password (or unknown username) recently typed at the login form.

    The login throttle counts these per (username, client address) and per client address
    (`services.accounts.rules.required_wait`). Neither is stored as typed: ``username_hash`` and
    ``address_hash`` are SHA-256 digests (`services.accounts.rules.username_key` and
    ``address_key``), so an unknown username leaves no readable trace. Not school-owned (an
    unknown username has no school); rows older than the throttle window are swept on write.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index(None, "address_hash", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username_hash: Mapped[str] = mapped_column(String(64), index=True)
    address_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LogbookEntry(Base):
    """One entry in a trajectory's logbook, written by a coach.

    Student, parent and mentor can read the logbook (in chat); entries are never edited.
    """

    __tablename__ = "logbook_entry"
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
    #: Any person of the partnership: a district coach writes from another school (issue 15).
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QueueFilterSet(Base):
    """A care coordinator's named queue view (issue 14): filters, search and sort, saved per
    web account and picked again from the queue page.

    ``query`` is the queue page's own query string as the web app normalised it (only known
    parameters, each value checked again when the set is used); ``name`` is unique per account
    (saving under a name already used replaces it).
    """

    __tablename__ = "queue_filter_set"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
