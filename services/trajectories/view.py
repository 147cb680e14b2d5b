"""The trajectory page's data: one trajectory as staff see it, the list with overdue flags,
evaluations marked as held, and the logbook (written by staff, read in chat by the family).

Who may do what, always read from the database:

- a care coordinator or coach of the trajectory's school opens a trajectory, lists them, marks
  an evaluation as held and writes in the logbook; another school's trajectory and an unknown
  id get the same refusal, so ids cannot be probed;
- in chat, `logbook_for` shows a student their own trajectories' entries, a parent their
  children's (`Guardianship`), a mentor their mentees' (`Mentorship`), nobody else's.

Every view and change of a child's data is audited with ids only (logbook text, goals and
names stay out of the audit trail and the logs). The functions here are units of work: each
owns its transaction, so ``session`` must not be in one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from dialogs.text import N_, Text
from services.accounts.people import name_of, people_by_id
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text, validate_length
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    EvaluationKind,
    Guardianship,
    LogbookEntry,
    Mentorship,
    Person,
    Referral,
    RespondentType,
    Role,
    School,
    SurveyInvitation,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

LOGBOOK_MIN = 1
LOGBOOK_MAX = 2000
#: Entries per page of the chat's logbook.
LOGBOOK_PAGE_SIZE = 5

#: The roles that work with trajectories (the trajectory page, the logbook's pen).
STAFF_ROLES = (Role.CARE_COORDINATOR, Role.COACH)
#: Time-outs that count against the week's cap: everything that holds or used a place.
COUNTED_TIMEOUT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ATTENDED,
)

_NOT_AVAILABLE = N_("This trajectory is not available to you.")
_DEFAULT_TIMEZONE = "Europe/Amsterdam"


class FlagKind(StrEnum):
    """Why a trajectory needs the care coordinator's attention (seeds: no endless trajectories,
    no punishment room)."""

    #: The end date has passed and the trajectory is not closed.
    PAST_END = "past_end"
    #: An evaluation was due before today and is not marked as held.
    EVALUATION_MISSED = "evaluation_missed"
    #: A week (ISO, school-local) holds more time-outs than the plan's cap.
    TIMEOUTS_OVER_CAP = "timeouts_over_cap"
    #: Time-outs were booked although time-out is not part of the plan.
    TIMEOUT_OUTSIDE_PLAN = "timeout_outside_plan"


@dataclass(frozen=True, slots=True)
class OverdueFlag:
    """One flag. ``day``: the end date, the missed evaluation's due date, or the Monday of the
    week over the cap; ``count``: the time-outs of that week (or outside the plan)."""

    kind: FlagKind
    day: date | None = None
    count: int | None = None

    @property
    def label(self) -> Text:
        """What the flag says, for any channel."""
        match self.kind:
            case FlagKind.PAST_END:
                return Text.of(N_("End date passed ({date})"), date=self.day or "")
            case FlagKind.EVALUATION_MISSED:
                return Text.of(N_("Evaluation of {date} not held"), date=self.day or "")
            case FlagKind.TIMEOUTS_OVER_CAP:
                return Text.plural_of(
                    "{count} time-out in the week of {date}: more than the plan allows",
                    "{count} time-outs in the week of {date}: more than the plan allows",
                    self.count or 0,
                    date=self.day or "",
                )
            case FlagKind.TIMEOUT_OUTSIDE_PLAN:
                return Text.plural_of(
                    "{count} time-out booked while time-out is not in the plan",
                    "{count} time-outs booked while time-out is not in the plan",
                    self.count or 0,
                )


@dataclass(frozen=True, slots=True)
class EvaluationFacts:
    """What `overdue_flags` needs of one evaluation."""

    due_on: date
    held_on: date | None


def overdue_flags(
    *,
    status: TrajectoryStatus,
    end_date: date | None,
    evaluations: Iterable[EvaluationFacts],
    timeouts_in_plan: bool,
    timeouts_per_week: int,
    timeout_days: Iterable[date],
    today: date,
) -> tuple[OverdueFlag, ...]:
    """The flags of one trajectory on ``today`` (pure).

    ``timeout_days`` are the school-local days of its time-outs that count (booked, confirmed
    or attended; see `COUNTED_TIMEOUT_STATUSES`). A closed trajectory has no flags: there is
    nothing left to act on, and its usage stays visible on its page.
    """
    if status is TrajectoryStatus.CLOSED:
        return ()
    flags: list[OverdueFlag] = []
    if end_date is not None and end_date < today:
        flags.append(OverdueFlag(FlagKind.PAST_END, day=end_date))
    flags.extend(
        OverdueFlag(FlagKind.EVALUATION_MISSED, day=evaluation.due_on)
        for evaluation in sorted(evaluations, key=lambda e: e.due_on)
        if evaluation.held_on is None and evaluation.due_on < today
    )
    days = list(timeout_days)
    if days and not timeouts_in_plan:
        flags.append(OverdueFlag(FlagKind.TIMEOUT_OUTSIDE_PLAN, count=len(days)))
    elif days:
        per_week: dict[tuple[int, int], list[date]] = defaultdict(list)
        for day in days:
            year, week, _weekday = day.isocalendar()
            per_week[(year, week)].append(day)
        for (year, week), in_week in sorted(per_week.items()):
            if len(in_week) > timeouts_per_week:
                monday = date.fromisocalendar(year, week, 1)
                flags.append(
                    OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=monday, count=len(in_week))
                )
    return tuple(flags)


@dataclass(frozen=True, slots=True)
class EvaluationView:
    """One planned evaluation (interim or final)."""

    evaluation_id: int
    kind: EvaluationKind
    due_on: date
    held_on: date | None
    missed: bool


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    """One appointment of the trajectory with its attendance (status ``attended``/``no_show``)."""

    appointment_id: int
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    coach_name: str | None


class AuthorRole(StrEnum):
    """In which role a logbook entry was written (what readers see instead of a name)."""

    COACH = "coach"
    CARE_COORDINATOR = "care_coordinator"

    @property
    def label(self) -> Text:
        """The role's name for readers."""
        if self is AuthorRole.COACH:
            return Text.of(N_("Coach"))
        return Text.of(N_("Care coordinator"))


@dataclass(frozen=True, slots=True)
class LogbookView:
    """One logbook entry. ``author_name`` is for staff pages; the chat shows the role only."""

    entry_id: int
    created_at: datetime
    author_role: AuthorRole
    author_name: str
    text: str


class InvitationState(StrEnum):
    """Where one exit questionnaire invitation stands."""

    ANSWERED = "answered"
    OPEN = "open"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class InvitationStatus:
    """One exit questionnaire invitation of a closed trajectory, by respondent type (no names:
    the answers themselves are read through the survey's own queue item)."""

    respondent_type: RespondentType
    state: InvitationState
    completed_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TrajectoryPage:
    """Everything the trajectory page shows (staff of the school only)."""

    trajectory_id: int
    status: TrajectoryStatus
    student_id: int
    student_name: str
    group_name: str | None
    mentor_name: str | None
    coach_name: str | None
    referral_id: int
    goals: str | None
    start_date: date | None
    end_date: date | None
    timeouts_in_plan: bool
    timeouts_per_week: int
    created_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    evaluations: tuple[EvaluationView, ...]
    appointments: tuple[AppointmentRow, ...]
    logbook: tuple[LogbookView, ...]
    flags: tuple[OverdueFlag, ...]
    #: The exit questionnaire's invitations (created when the trajectory was closed).
    exit_survey: tuple[InvitationStatus, ...]
    today: date

    @property
    def interim_dates(self) -> tuple[date, ...]:
        """The interim evaluation dates (to prefill the plan form)."""
        return tuple(e.due_on for e in self.evaluations if e.kind is EvaluationKind.INTERIM)


@dataclass(frozen=True, slots=True)
class TrajectorySummary:
    """One row of the trajectory list."""

    trajectory_id: int
    status: TrajectoryStatus
    student_name: str
    group_name: str | None
    start_date: date | None
    end_date: date | None
    flags: tuple[OverdueFlag, ...]


# --------------------------------------------------------------------------------------------
# Staff: the page, the list, evaluations, writing in the logbook


async def open_trajectory(
    *, session: AsyncSession, viewer: Person, trajectory_id: int, now: datetime
) -> TrajectoryPage:
    """One trajectory with its plan, evaluations, appointments, logbook and flags; audited.

    A unit of work. Only a care coordinator or coach of the trajectory's school may open it;
    anyone else, and any unknown id, gets the same `NotAllowed`. Recorded as
    ``trajectory.view``.
    """
    async with session.begin():
        viewer, trajectory, zone = await _authorized(
            session=session, actor=viewer, trajectory_id=trajectory_id
        )
        today = now.astimezone(zone).date()
        evaluations = await _parts_of(
            session,
            trajectory,
            TrajectoryEvaluation,
            TrajectoryEvaluation.due_on,
            TrajectoryEvaluation.id,
        )
        appointments = await _parts_of(
            session, trajectory, Appointment, Appointment.starts_at, Appointment.id
        )
        entries = await _parts_of(
            session,
            trajectory,
            LogbookEntry,
            LogbookEntry.created_at.desc(),
            LogbookEntry.id.desc(),
        )
        invitations = await _parts_of(
            session,
            trajectory,
            SurveyInvitation,
            SurveyInvitation.respondent_type,
            SurveyInvitation.id,
        )
        mentor_id = await session.scalar(
            select(Referral.mentor_id).where(Referral.id == trajectory.referral_id)
        )
        people = await people_by_id(
            session=session,
            school_id=trajectory.school_id,
            ids={
                trajectory.student_id,
                trajectory.coach_id,
                mentor_id,
                *(a.coach_id for a in appointments),
                *(e.author_id for e in entries),
            },
        )
        student = people[trajectory.student_id]
        page = TrajectoryPage(
            trajectory_id=trajectory.id,
            status=trajectory.status,
            student_id=student.id,
            student_name=student.display_name,
            group_name=student.group_name,
            mentor_name=name_of(people, mentor_id),
            coach_name=name_of(people, trajectory.coach_id),
            referral_id=trajectory.referral_id,
            goals=trajectory.goals,
            start_date=trajectory.start_date,
            end_date=trajectory.end_date,
            timeouts_in_plan=trajectory.timeouts_in_plan,
            timeouts_per_week=trajectory.timeouts_per_week,
            created_at=trajectory.created_at,
            activated_at=trajectory.activated_at,
            closed_at=trajectory.closed_at,
            evaluations=tuple(
                EvaluationView(
                    evaluation_id=e.id,
                    kind=e.kind,
                    due_on=e.due_on,
                    held_on=e.held_on,
                    missed=trajectory.status is not TrajectoryStatus.CLOSED
                    and e.held_on is None
                    and e.due_on < today,
                )
                for e in evaluations
            ),
            appointments=tuple(
                AppointmentRow(
                    appointment_id=a.id,
                    kind=a.kind,
                    status=a.status,
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    coach_name=name_of(people, a.coach_id),
                )
                for a in appointments
            ),
            logbook=tuple(
                LogbookView(
                    entry_id=e.id,
                    created_at=e.created_at,
                    author_role=_author_role(people.get(e.author_id)),
                    author_name=name_of(people, e.author_id) or "?",
                    text=e.text,
                )
                for e in entries
            ),
            flags=overdue_flags(
                status=trajectory.status,
                end_date=trajectory.end_date,
                evaluations=[EvaluationFacts(e.due_on, e.held_on) for e in evaluations],
                timeouts_in_plan=trajectory.timeouts_in_plan,
                timeouts_per_week=trajectory.timeouts_per_week,
                timeout_days=[
                    a.starts_at.astimezone(zone).date()
                    for a in appointments
                    if a.kind is AppointmentKind.TIME_OUT and a.status in COUNTED_TIMEOUT_STATUSES
                ],
                today=today,
            ),
            exit_survey=tuple(
                InvitationStatus(
                    respondent_type=invitation.respondent_type,
                    state=_invitation_state(invitation, now),
                    completed_at=invitation.completed_at,
                    expires_at=invitation.expires_at,
                )
                for invitation in invitations
            ),
            today=today,
        )
        record_audit(
            session=session,
            school_id=trajectory.school_id,
            actor_id=viewer.id,
            action="trajectory.view",
            subject_type="trajectory",
            subject_id=trajectory.id,
            details={"student_id": trajectory.student_id},
            at=now,
        )
    log.info("trajectory_id=%s opened by person_id=%s", trajectory_id, viewer.id)
    return page


async def list_trajectories(
    *,
    session: AsyncSession,
    viewer: Person,
    now: datetime,
    statuses: Collection[TrajectoryStatus] | None = None,
    flagged_only: bool = False,
) -> list[TrajectorySummary]:
    """The trajectories of the viewer's school with their flags; audited (``trajectory.list``).

    A unit of work; care coordinators and coaches only. ``statuses`` defaults to the open ones
    (planned and active). Flagged trajectories come first, then by end date.
    """
    wanted = tuple(
        (TrajectoryStatus.PLANNED, TrajectoryStatus.ACTIVE) if statuses is None else statuses
    )
    async with session.begin():
        viewer = await _require_staff(session=session, actor=viewer)
        zone = await _zone_of(session=session, school_id=viewer.school_id)
        today = now.astimezone(zone).date()
        rows = (
            await session.execute(
                select(Trajectory, Person)
                .join(Person, Person.id == Trajectory.student_id)
                .where(Trajectory.school_id == viewer.school_id, Trajectory.status.in_(wanted))
                .order_by(Trajectory.id)
            )
        ).all()
        ids = [trajectory.id for trajectory, _student in rows]
        evaluations: dict[int, list[EvaluationFacts]] = defaultdict(list)
        timeout_days: dict[int, list[date]] = defaultdict(list)
        if ids:
            for trajectory_id, due_on, held_on in await session.execute(
                select(
                    TrajectoryEvaluation.trajectory_id,
                    TrajectoryEvaluation.due_on,
                    TrajectoryEvaluation.held_on,
                ).where(
                    TrajectoryEvaluation.school_id == viewer.school_id,
                    TrajectoryEvaluation.trajectory_id.in_(ids),
                )
            ):
                evaluations[trajectory_id].append(EvaluationFacts(due_on, held_on))
            for trajectory_id, starts_at in await session.execute(
                select(Appointment.trajectory_id, Appointment.starts_at).where(
                    Appointment.school_id == viewer.school_id,
                    Appointment.trajectory_id.in_(ids),
                    Appointment.kind == AppointmentKind.TIME_OUT,
                    Appointment.status.in_(COUNTED_TIMEOUT_STATUSES),
                )
            ):
                timeout_days[trajectory_id].append(starts_at.astimezone(zone).date())
        summaries = [
            TrajectorySummary(
                trajectory_id=trajectory.id,
                status=trajectory.status,
                student_name=student.display_name,
                group_name=student.group_name,
                start_date=trajectory.start_date,
                end_date=trajectory.end_date,
                flags=overdue_flags(
                    status=trajectory.status,
                    end_date=trajectory.end_date,
                    evaluations=evaluations[trajectory.id],
                    timeouts_in_plan=trajectory.timeouts_in_plan,
                    timeouts_per_week=trajectory.timeouts_per_week,
                    timeout_days=timeout_days[trajectory.id],
                    today=today,
                ),
            )
            for trajectory, student in rows
        ]
        if flagged_only:
            summaries = [summary for summary in summaries if summary.flags]
        summaries.sort(key=lambda s: (not s.flags, s.end_date or date.max, s.trajectory_id))
        record_audit(
            session=session,
            school_id=viewer.school_id,
            actor_id=viewer.id,
            action="trajectory.list",
            subject_type="school",
            subject_id=viewer.school_id,
            details={
                "statuses": [status.value for status in wanted],
                "trajectory_ids": [summary.trajectory_id for summary in summaries],
            },
            at=now,
        )
    log.info("trajectories listed by person_id=%s: %s", viewer.id, len(summaries))
    return summaries


async def mark_evaluation_held(
    *, session: AsyncSession, actor: Person, trajectory_id: int, evaluation_id: int, now: datetime
) -> date:
    """Mark an evaluation as held today (school-local); returns that day. Idempotent.

    A unit of work for a care coordinator or coach of the school; the trajectory must not be
    closed. An evaluation held before its date counts as held. Audited as
    ``trajectory.evaluation_held``.
    """
    async with session.begin():
        actor = await _require_staff(session=session, actor=actor)
        evaluation = await session.scalar(
            select(TrajectoryEvaluation)
            .where(
                TrajectoryEvaluation.id == evaluation_id,
                TrajectoryEvaluation.trajectory_id == trajectory_id,
                TrajectoryEvaluation.school_id == actor.school_id,
            )
            .with_for_update()
        )
        if evaluation is None:
            log.info("refused: evaluation_id=%s for person_id=%s", evaluation_id, actor.id)
            raise NotAllowed(Text.of(_NOT_AVAILABLE))
        _actor, trajectory, zone = await _authorized(
            session=session, actor=actor, trajectory_id=trajectory_id
        )
        if trajectory.status is TrajectoryStatus.CLOSED:
            raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
        if evaluation.held_on is not None:
            return evaluation.held_on
        held_on = now.astimezone(zone).date()
        evaluation.held_on = held_on
        record_audit(
            session=session,
            school_id=trajectory.school_id,
            actor_id=actor.id,
            action="trajectory.evaluation_held",
            subject_type="trajectory",
            subject_id=trajectory.id,
            details={"evaluation_id": evaluation.id},
            at=now,
        )
    return held_on


def validate_logbook_text(text: str) -> Text | None:
    """What is wrong with a logbook entry (after cleaning), or ``None``."""
    return validate_length(clean_text(text), LOGBOOK_MIN, LOGBOOK_MAX)


async def add_logbook_entry(
    *, session: AsyncSession, author: Person, trajectory_id: int, text: str, now: datetime
) -> int:
    """Write an entry in a trajectory's logbook; returns its id. Audited with ids only.

    A unit of work for a coach or care coordinator of the trajectory's school. The text is
    cleaned and must be 1–2,000 characters (`InputInvalid` otherwise; nothing is written).
    A closed trajectory's logbook is read-only (`InvalidTransition`).
    """
    cleaned = clean_text(text)
    problem = validate_length(cleaned, LOGBOOK_MIN, LOGBOOK_MAX)
    async with session.begin():
        author, trajectory, _zone = await _authorized(
            session=session, actor=author, trajectory_id=trajectory_id
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
# Chat: reading the logbook


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

    A unit of work. A student reads their own trajectories' entries, a parent their children's
    (`Guardianship`), a mentor their mentees' (`Mentorship`); the links are read from the
    database now, within the reader's school. Anyone else reads nothing. Each trajectory whose
    entries are shown is recorded as ``logbook.read``.
    """
    offset = max(offset, 0)
    async with session.begin():
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
                    select(func.count(func.distinct(Trajectory.student_id))).select_from(
                        LogbookEntry
                    ),
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
        authors = await people_by_id(
            session=session,
            school_id=reader.school_id,
            ids={entry.author_id for entry, _student_id, _name in rows},
        )
        entries = tuple(
            ChatLogbookEntry(
                entry_id=entry.id,
                student_id=student_id,
                student_given_name=given_name,
                created_at=entry.created_at,
                author_role=_author_role(authors.get(entry.author_id)),
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

    An operation: no transaction of its own. Roles are those of ``reader`` as loaded; the
    reading itself (`logbook_for`) checks again from the database.
    """
    if not any(reader.has_role(role) for role in (Role.STUDENT, Role.PARENT, Role.MENTOR)):
        return False
    student_ids = await _readable_students(session=session, reader=reader)
    if not student_ids:
        return False
    found = await session.scalar(
        select(Trajectory.id)
        .where(Trajectory.school_id == reader.school_id, Trajectory.student_id.in_(student_ids))
        .limit(1)
    )
    return found is not None


async def _readable_students(*, session: AsyncSession, reader: Person) -> list[int]:
    conditions = []
    if reader.has_role(Role.STUDENT):
        conditions.append(Person.id == reader.id)
    if reader.has_role(Role.PARENT):
        conditions.append(
            Person.id.in_(
                select(Guardianship.student_id).where(
                    Guardianship.school_id == reader.school_id,
                    Guardianship.parent_id == reader.id,
                )
            )
        )
    if reader.has_role(Role.MENTOR):
        conditions.append(
            Person.id.in_(
                select(Mentorship.student_id).where(
                    Mentorship.school_id == reader.school_id,
                    Mentorship.mentor_id == reader.id,
                )
            )
        )
    if not conditions:
        return []
    return list(
        await session.scalars(
            select(Person.id).where(Person.school_id == reader.school_id, or_(*conditions))
        )
    )


# --------------------------------------------------------------------------------------------
# Helpers


async def _require_staff(*, session: AsyncSession, actor: Person) -> Person:
    fresh = await reload_actor(session=session, actor=actor)
    if not any(fresh.has_role(role) for role in STAFF_ROLES):
        log.info("refused: person_id=%s is not trajectory staff", fresh.id)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    return fresh


async def _authorized(
    *, session: AsyncSession, actor: Person, trajectory_id: int
) -> tuple[Person, Trajectory, ZoneInfo]:
    actor = await _require_staff(session=session, actor=actor)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == actor.school_id)
        .execution_options(populate_existing=True)
    )
    if trajectory is None:
        # One answer for "another school's" and "no such trajectory": ids cannot be probed.
        log.info("refused: trajectory_id=%s for person_id=%s", trajectory_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    return actor, trajectory, await _zone_of(session=session, school_id=trajectory.school_id)


_Part = TypeVar("_Part", TrajectoryEvaluation, Appointment, LogbookEntry, SurveyInvitation)
_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


async def _parts_of(
    session: AsyncSession,
    trajectory: Trajectory,
    part: type[_Part],
    *order_by: ColumnElement[Any] | QueryableAttribute[Any],
) -> Sequence[_Part]:
    """The trajectory's rows of one kind (evaluations, appointments, ...), within its school."""
    return (
        await session.scalars(
            select(part)
            .where(part.school_id == trajectory.school_id, part.trajectory_id == trajectory.id)
            .order_by(*order_by)
        )
    ).all()


def _of_students(query: _Query, *, school_id: int, student_ids: Sequence[int]) -> _Query:
    """``query`` over logbook entries, narrowed to the trajectories of ``student_ids``."""
    return query.join(
        Trajectory,
        (Trajectory.id == LogbookEntry.trajectory_id)
        & (Trajectory.school_id == LogbookEntry.school_id),
    ).where(LogbookEntry.school_id == school_id, Trajectory.student_id.in_(student_ids))


async def _zone_of(*, session: AsyncSession, school_id: int) -> ZoneInfo:
    name = await session.scalar(select(School.timezone).where(School.id == school_id))
    return ZoneInfo(name or _DEFAULT_TIMEZONE)


def _invitation_state(invitation: SurveyInvitation, now: datetime) -> InvitationState:
    if invitation.completed_at is not None:
        return InvitationState.ANSWERED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.OPEN


def _author_role(author: Person | None) -> AuthorRole:
    if author is not None and author.has_role(Role.COACH):
        return AuthorRole.COACH
    if author is not None and author.has_role(Role.CARE_COORDINATOR):
        return AuthorRole.CARE_COORDINATOR
    return AuthorRole.COACH


__all__: Sequence[str] = (
    "COUNTED_TIMEOUT_STATUSES",
    "LOGBOOK_MAX",
    "LOGBOOK_MIN",
    "LOGBOOK_PAGE_SIZE",
    "AppointmentRow",
    "AuthorRole",
    "ChatLogbookEntry",
    "EvaluationFacts",
    "EvaluationView",
    "FlagKind",
    "InvitationState",
    "InvitationStatus",
    "LogbookPage",
    "LogbookView",
    "OverdueFlag",
    "TrajectoryPage",
    "TrajectorySummary",
    "add_logbook_entry",
    "can_read_logbook",
    "list_trajectories",
    "logbook_for",
    "mark_evaluation_held",
    "open_trajectory",
    "overdue_flags",
    "validate_logbook_text",
)
