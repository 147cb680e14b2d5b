"""The trajectory's logbook: written by staff on the trajectory page, read in chat by the
student, their parents and their mentor.

- a care coordinator or coach of the trajectory's school writes (`add_logbook_entry`);
- in chat, `logbook_for` shows a student their own trajectories' entries, a parent their
  children's (`Guardianship`), a mentor their mentees' (`Mentorship`), nobody else's; the
  links are read from the database on every read.

Audited with ids only: the text stays out of the audit trail and the logs. Services here take
a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import BindParameter, Select, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.adulthood import parents_see
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition
from services.kernel.text_input import clean_text, validate_text
from services.trajectories.access import case_trajectory
from storage.models import (
    Guardianship,
    LogbookEntry,
    Mentorship,
    Person,
    Role,
    Trajectory,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

LOGBOOK_MIN = 1
LOGBOOK_MAX = 2000
#: Entries per page of the chat's logbook.
LOGBOOK_PAGE_SIZE = 5

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


class AuthorRole(StrEnum):
    """In which role a logbook entry was written (what readers see instead of a name)."""

    COACH = "coach"
    CARE_COORDINATOR = "care_coordinator"
    DISTRICT_COACH = "district_coach"

    @property
    def label(self) -> Text:
        """The role's name for readers."""
        if self is AuthorRole.COACH:
            return Text.of(N_("Coach"))
        if self is AuthorRole.DISTRICT_COACH:
            return Text.of(N_("District coach"))
        return Text.of(N_("Care coordinator"))


@dataclass(frozen=True, slots=True)
class LogbookView:
    """One logbook entry. ``author_name`` is for staff pages; the chat shows the role only."""

    entry_id: int
    created_at: datetime
    author_role: AuthorRole
    author_name: str
    text: str


def validate_logbook_text(text: str) -> Text | None:
    """What is wrong with a logbook entry (after cleaning), or ``None``."""
    return validate_text(text, LOGBOOK_MIN, LOGBOOK_MAX)


async def add_logbook_entry(
    *, session: AsyncSession, author: Person, trajectory_id: int, text: str, now: datetime
) -> int:
    """Write an entry in a trajectory's logbook; returns its id. Audited with ids only.

    For a coach or care coordinator of the trajectory's school. The text is
    cleaned and must be 1–2,000 characters (`InputInvalid` otherwise; nothing is written).
    A closed trajectory's logbook is read-only (`InvalidTransition`).
    """
    cleaned = clean_text(text)
    problem = validate_text(text, LOGBOOK_MIN, LOGBOOK_MAX)
    # A district coach asked in (with consent) writes too (`access.case_trajectory`).
    author, trajectory, _zone = await case_trajectory(
        session=session, actor=author, trajectory_id=trajectory_id, now=now
    )
    if problem is not None:
        raise InputInvalid(problem)
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
    entry = LogbookEntry(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        author_id=author.id,
        text=cleaned,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=author.id,
        action="logbook.add",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"logbook_entry_id": entry.id},
        at=now,
    )
    entry_id = entry.id
    log.info("logbook_entry_id=%s added by person_id=%s", entry_id, author.id)
    return entry_id


# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChatLogbookEntry:
    """One entry as the family and the mentor read it: the author's role, not their name."""

    entry_id: int
    student_id: int
    student_given_name: str
    created_at: datetime
    author_role: AuthorRole
    text: str


@dataclass(frozen=True, slots=True)
class LogbookPage:
    """A page of the logbook, newest first; ``total`` entries in all for this reader."""

    entries: tuple[ChatLogbookEntry, ...]
    offset: int
    total: int
    #: More than one student's entries can appear (a parent of two, a mentor): name them then.
    several_students: bool

    @property
    def has_more(self) -> bool:
        """Whether older entries follow this page."""
        return self.offset + len(self.entries) < self.total


async def logbook_for(
    *,
    session: AsyncSession,
    reader: Person,
    now: datetime,
    offset: int = 0,
    limit: int = LOGBOOK_PAGE_SIZE,
) -> LogbookPage:
    """The logbook entries ``reader`` may read in chat, newest first, one page; audited.

    A student reads their own trajectories' entries, a parent their children's
    (`Guardianship`), a mentor their mentees' (`Mentorship`); the links are read from the
    database now, within the reader's school. Anyone else reads nothing. Each trajectory whose
    entries are shown is recorded as ``logbook.read``.
    """
    offset = max(offset, 0)
    reader = await reload_actor(session=session, actor=reader)
    student_ids = await _readable_students(session=session, reader=reader)
    if not student_ids:
        return LogbookPage((), offset, 0, several_students=False)
    visible = _of_students(
        select(LogbookEntry.id), school_id=reader.school_id, student_ids=student_ids
    )
    total = int(await session.scalar(select(func.count()).select_from(visible.subquery())) or 0)
    students_with_entries = int(
        await session.scalar(
            _of_students(
                select(func.count(func.distinct(Trajectory.student_id))).select_from(LogbookEntry),
                school_id=reader.school_id,
                student_ids=student_ids,
            )
        )
        or 0
    )
    rows = (
        await session.execute(
            _of_students(
                select(LogbookEntry, Trajectory.student_id, Person.given_name),
                school_id=reader.school_id,
                student_ids=student_ids,
            )
            .join(Person, Person.id == Trajectory.student_id)
            .order_by(LogbookEntry.created_at.desc(), LogbookEntry.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
    authors = await authors_by_id(
        session=session, ids={entry.author_id for entry, _student_id, _name in rows}
    )
    entries = tuple(
        ChatLogbookEntry(
            entry_id=entry.id,
            student_id=student_id,
            student_given_name=given_name,
            created_at=entry.created_at,
            author_role=author_role(authors.get(entry.author_id)),
            text=entry.text,
        )
        for entry, student_id, given_name in rows
    )
    shown: dict[int, list[int]] = defaultdict(list)
    for entry, _student_id, _name in rows:
        shown[entry.trajectory_id].append(entry.id)
    for trajectory_id, entry_ids in sorted(shown.items()):
        record_audit(
            session=session,
            school_id=reader.school_id,
            actor_id=reader.id,
            action="logbook.read",
            subject_type="trajectory",
            subject_id=trajectory_id,
            details={"logbook_entry_ids": entry_ids},
            at=now,
        )
    log.info("logbook read by person_id=%s: %s of %s entries", reader.id, len(entries), total)
    return LogbookPage(entries, offset, total, several_students=students_with_entries > 1)


async def can_read_logbook(*, session: AsyncSession, reader: Person) -> bool:
    """Whether a student whose logbook the person may read has a trajectory (chat menu).

    Roles are those of ``reader`` as loaded; the reading itself (`logbook_for`) checks again
    from the database. One statement, built once per combination of roles (every menu asks).
    """
    kinds = _reader_kinds(reader)
    if not kinds:
        return False
    found = await session.scalar(
        _has_trajectory_query(kinds), {"reader_id": reader.id, "school_id": reader.school_id}
    )
    return found is not None


def _reader_kinds(reader: Person) -> tuple[Role, ...]:
    """The reader's roles that give logbooks to read (student: their own; parent, mentor)."""
    return tuple(role for role in (Role.STUDENT, Role.PARENT, Role.MENTOR) if reader.has_role(role))


@cache
def _readable_students_query(kinds: tuple[Role, ...]) -> Select[int]:
    """The ids of the students whose logbook a reader holding ``kinds`` may read (bound:
    ``reader_id``, ``school_id``); built once per combination of roles."""
    reader_id: BindParameter[int] = bindparam("reader_id")
    school_id: BindParameter[int] = bindparam("school_id")
    conditions = []
    if Role.STUDENT in kinds:
        conditions.append(Person.id == reader_id)
    if Role.PARENT in kinds:
        conditions.append(
            Person.id.in_(
                select(Guardianship.student_id).where(
                    Guardianship.school_id == school_id,
                    Guardianship.parent_id == reader_id,
                    parents_see(Guardianship.student_id),
                )
            )
        )
    if Role.MENTOR in kinds:
        conditions.append(
            Person.id.in_(
                select(Mentorship.student_id).where(
                    Mentorship.school_id == school_id, Mentorship.mentor_id == reader_id
                )
            )
        )
    return select(Person.id).where(Person.school_id == school_id, or_(*conditions))


@cache
def _has_trajectory_query(kinds: tuple[Role, ...]) -> Select[int]:
    """A trajectory of a student whose logbook such a reader may read (one row, or none)."""
    return (
        select(Trajectory.id)
        .where(
            Trajectory.school_id == bindparam("school_id"),
            Trajectory.student_id.in_(_readable_students_query(kinds).scalar_subquery()),
        )
        .limit(1)
    )


async def _readable_students(*, session: AsyncSession, reader: Person) -> list[int]:
    kinds = _reader_kinds(reader)
    if not kinds:
        return []
    return list(
        await session.scalars(
            _readable_students_query(kinds), {"reader_id": reader.id, "school_id": reader.school_id}
        )
    )


def _of_students(query: _Query, *, school_id: int, student_ids: Sequence[int]) -> _Query:
    """``query`` over logbook entries, narrowed to the trajectories of ``student_ids``."""
    return query.join(
        Trajectory,
        (Trajectory.id == LogbookEntry.trajectory_id)
        & (Trajectory.school_id == LogbookEntry.school_id),
    ).where(LogbookEntry.school_id == school_id, Trajectory.student_id.in_(student_ids))


async def authors_by_id(*, session: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    """The logbook's authors by id, of any school: a district coach of another school of the
    partnership writes in it too (the entry's trajectory decides who may read it)."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = await session.scalars(select(Person).where(Person.id.in_(wanted)))
    return {person.id: person for person in found}


def author_role(author: Person | None) -> AuthorRole:
    """The role readers see instead of the author's name (coach when unknown)."""
    if author is not None and author.has_role(Role.COACH):
        return AuthorRole.COACH
    if author is not None and author.has_role(Role.CARE_COORDINATOR):
        return AuthorRole.CARE_COORDINATOR
    if author is not None and author.has_role(Role.DISTRICT_COACH):
        return AuthorRole.DISTRICT_COACH
    return AuthorRole.COACH
