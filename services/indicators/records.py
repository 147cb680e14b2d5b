"""Recording what the indicators count (issues 14 and 15): observations in class and teacher
support (requested, then recorded), a student's OPP, TLV, long-term absence, afstroom and
VAVO, visitation reports, and the partnership's targets.

Services here take a session already in a transaction and never begin one. Who may record:
observations and teacher support, the trajectory's staff (care coordinator or coach of the
school); a student's events, the care coordinator of the school; visitation reports and
targets, an admin of the school. Every write is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.text_input import clean_text, validate_text
from services.trajectories.access import staff_trajectory
from services.trajectories.student_events import add_event, event_exists
from storage.models import (
    ActivityKind,
    IndicatorTarget,
    ObservationAim,
    Person,
    PersonRole,
    Role,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    TeacherSupportKind,
    TrajectoryStatus,
    VisitationReport,
)

log = logging.getLogger(__name__)

#: Longest outcome or summary kept.
MAX_TEXT = 2000
MAX_LINK = 500
#: The student events a care coordinator records on the trajectory page (afstroom and VAVO
#: are recorded at closing).
PAGE_EVENTS = (
    StudentEventKind.OPP,
    StudentEventKind.TLV_REQUESTED,
    StudentEventKind.TLV_GRANTED,
    StudentEventKind.LONG_ABSENCE,
)

NOT_FOR_ROLE = N_("This is not available for your role.")
ALREADY_RECORDED = N_("This was recorded already.")
BAD_PERIOD = N_("The last day must not lie before the first day.")
NOT_IN_FUTURE = N_("The day cannot lie in the future.")


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """What recording an observation or teacher support says."""

    held_on: date
    outcome: str
    performer_id: int
    aim: ObservationAim | None = None
    support_kind: TeacherSupportKind | None = None


def _text(raw: str, *, minimum: int = 1, maximum: int = MAX_TEXT) -> str:
    problem = validate_text(raw, minimum, maximum)
    if problem is not None:
        raise InputInvalid(problem)
    return clean_text(raw)


async def request_activity(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    kind: ActivityKind,
    now: datetime,
    from_referral: bool = False,
) -> SupportActivity:
    """Ask for an observation in class (or teacher support) for a trajectory."""
    actor, trajectory, _zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    activity = SupportActivity(
        school_id=trajectory.school_id,
        kind=kind,
        trajectory_id=trajectory.id,
        referral_id=trajectory.referral_id if from_referral else None,
        student_id=trajectory.student_id,
        requested_by_id=actor.id,
        requested_at=now,
    )
    session.add(activity)
    await session.flush()
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action=f"{kind.value}.request",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )
    return activity


async def record_activity(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    kind: ActivityKind,
    record: ActivityRecord,
    now: datetime,
    activity_id: int | None = None,
) -> SupportActivity:
    """Record an observation or teacher support held; fills the open request ``activity_id``
    when given, else records a new one. `InputInvalid` for a bad outcome, a day in the future,
    a missing aim or kind, or a performer who is not staff of the school."""
    actor, trajectory, zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    outcome = _text(record.outcome)
    if record.held_on > now.astimezone(zone).date():
        raise InputInvalid(Text.of(NOT_IN_FUTURE))
    if kind is ActivityKind.CLASS_OBSERVATION and record.aim is None:
        raise InputInvalid(Text.of(N_("Choose whom the observation was about.")))
    if kind is ActivityKind.TEACHER_SUPPORT and record.support_kind is None:
        raise InputInvalid(Text.of(N_("Choose the kind of support.")))
    performer = await session.get(Person, record.performer_id)
    if performer is None or performer.school_id != trajectory.school_id:
        raise InputInvalid(Text.of(N_("Choose who did it.")))
    activity: SupportActivity | None = None
    if activity_id is not None:
        activity = await session.scalar(
            select(SupportActivity).where(
                SupportActivity.id == activity_id,
                SupportActivity.trajectory_id == trajectory.id,
                SupportActivity.kind == kind,
            )
        )
        if activity is None:
            raise NotAllowed(Text.of(NOT_FOR_ROLE))
        if activity.recorded_at is not None:
            raise InputInvalid(Text.of(ALREADY_RECORDED))
    else:
        activity = SupportActivity(
            school_id=trajectory.school_id,
            kind=kind,
            trajectory_id=trajectory.id,
            student_id=trajectory.student_id,
            requested_by_id=actor.id,
            requested_at=now,
        )
        session.add(activity)
    activity.performer_id = performer.id
    activity.held_on = record.held_on
    activity.outcome = outcome
    activity.aim = record.aim if kind is ActivityKind.CLASS_OBSERVATION else None
    activity.support_kind = record.support_kind if kind is ActivityKind.TEACHER_SUPPORT else None
    activity.recorded_at = now
    await session.flush()
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action=f"{kind.value}.record",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )
    return activity


async def trajectory_activities(
    *, session: AsyncSession, trajectory_id: int
) -> Sequence[SupportActivity]:
    """The trajectory's observations and teacher support, requests first, then by day (the
    caller checked access)."""
    return list(
        await session.scalars(
            select(SupportActivity)
            .where(SupportActivity.trajectory_id == trajectory_id)
            .order_by(
                SupportActivity.held_on.is_not(None),
                SupportActivity.held_on,
                SupportActivity.id,
            )
        )
    )


async def student_events(
    *, session: AsyncSession, school_id: int, student_id: int
) -> Sequence[StudentEvent]:
    """A student's recorded events, oldest first (the caller checked access)."""
    return list(
        await session.scalars(
            select(StudentEvent)
            .where(StudentEvent.school_id == school_id, StudentEvent.student_id == student_id)
            .order_by(StudentEvent.on_day, StudentEvent.id)
        )
    )


async def record_student_event(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    kind: StudentEventKind,
    on_day: date,
    now: datetime,
    until: date | None = None,
) -> StudentEvent:
    """Record an OPP present, a TLV requested or granted, or long-term absence (from
    ``on_day``, until ``until`` or still going) for the trajectory's student.

    Care coordinator of the school only; `InputInvalid` for a day in the future, a period
    that ends before it starts, or the same event on the same day recorded already.
    """
    actor, trajectory, zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    if not actor.has_role(Role.CARE_COORDINATOR) or kind not in PAGE_EVENTS:
        raise NotAllowed(Text.of(NOT_FOR_ROLE))
    if on_day > now.astimezone(zone).date():
        raise InputInvalid(Text.of(NOT_IN_FUTURE))
    if kind is not StudentEventKind.LONG_ABSENCE:
        until = None
    if until is not None and until < on_day:
        raise InputInvalid(Text.of(BAD_PERIOD))
    if await event_exists(session, trajectory.school_id, trajectory.student_id, kind, on_day):
        raise InputInvalid(Text.of(ALREADY_RECORDED))
    event = add_event(
        session,
        school_id=trajectory.school_id,
        student_id=trajectory.student_id,
        trajectory_id=trajectory.id,
        kind=kind,
        on_day=on_day,
        until=until,
        source=StudentEventSource.WEB,
        recorded_by_id=actor.id,
        now=now,
    )
    await session.flush()
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="student_event.record",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"kind": kind.value},
        at=now,
    )
    return event


@dataclass(frozen=True, slots=True)
class AbsenceRow:
    """One line of an attendance export: the student's number and the absence period."""

    external_id: str
    first_day: date
    last_day: date | None


@dataclass(frozen=True, slots=True)
class AbsenceImport:
    """What an import did: periods added, ones known already, student numbers not found."""

    added: int
    known: int
    unknown: tuple[str, ...]


async def import_absences(
    *, session: AsyncSession, school_id: int, rows: Sequence[AbsenceRow], now: datetime
) -> AbsenceImport:
    """Long-term absence periods from an attendance export (operator's CLI); a period that
    starts on a day already recorded for the student is updated (its end), not doubled."""
    wanted = {row.external_id for row in rows}
    ids = dict(
        (
            await session.execute(
                select(Person.external_id, Person.id).where(
                    Person.school_id == school_id, Person.external_id.in_(wanted)
                )
            )
        ).all()
    )
    added = known = 0
    unknown: list[str] = []
    for row in rows:
        student_id = ids.get(row.external_id)
        if student_id is None:
            unknown.append(row.external_id)
            continue
        existing = await session.scalar(
            select(StudentEvent).where(
                StudentEvent.school_id == school_id,
                StudentEvent.student_id == student_id,
                StudentEvent.kind == StudentEventKind.LONG_ABSENCE,
                StudentEvent.on_day == row.first_day,
            )
        )
        if existing is not None:
            existing.until = row.last_day
            known += 1
            continue
        add_event(
            session,
            school_id=school_id,
            student_id=student_id,
            trajectory_id=None,
            kind=StudentEventKind.LONG_ABSENCE,
            on_day=row.first_day,
            until=row.last_day,
            source=StudentEventSource.IMPORT,
            recorded_by_id=None,
            now=now,
        )
        await session.flush()
        added += 1
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=None,
        action="absence.import",
        subject_type="school",
        subject_id=school_id,
        details={"added": added, "known": known, "unknown": len(unknown)},
        at=now,
    )
    return AbsenceImport(added=added, known=known, unknown=tuple(unknown))


async def _require_admin(session: AsyncSession, actor: Person) -> Person:
    actor = await reload_actor(session=session, actor=actor)
    if not actor.has_role(Role.ADMIN):
        log.info("refused: person_id=%s is not an admin", actor.id)
        raise NotAllowed(Text.of(NOT_FOR_ROLE))
    return actor


async def record_visitation(
    *,
    session: AsyncSession,
    actor: Person,
    held_on: date,
    summary: str,
    link: str,
    now: datetime,
) -> VisitationReport:
    """A visitation report of the admin's school (day, summary, optional link)."""
    actor = await _require_admin(session, actor)
    text = _text(summary)
    address = clean_text(link)
    if address and (len(address) > MAX_LINK or not address.startswith(("https://", "http://"))):
        raise InputInvalid(Text.of(N_("Give the link as a web address (https://…).")))
    report = VisitationReport(
        school_id=actor.school_id,
        held_on=held_on,
        summary=text,
        link=address or None,
        recorded_by_id=actor.id,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    record_audit(
        session=session,
        school_id=actor.school_id,
        actor_id=actor.id,
        action="visitation.record",
        subject_type="visitation_report",
        subject_id=report.id,
        at=now,
    )
    return report


async def set_target(
    *,
    session: AsyncSession,
    actor: Person,
    school_year: int,
    indicator: str,
    target: float | None,
    now: datetime,
) -> None:
    """Set (or with ``None`` remove) the admin's school's target for one indicator in one
    school year; `InputInvalid` unless 0-100."""
    actor = await _require_admin(session, actor)
    existing = await session.get(IndicatorTarget, (actor.school_id, school_year, indicator))
    if target is None:
        if existing is not None:
            await session.delete(existing)
    else:
        if not 0 <= target <= 100:
            raise InputInvalid(Text.of(N_("A target is a percentage from 0 to 100.")))
        if existing is None:
            session.add(
                IndicatorTarget(
                    school_id=actor.school_id,
                    school_year=school_year,
                    indicator=indicator,
                    target=target,
                    set_by_id=actor.id,
                    set_at=now,
                )
            )
        else:
            existing.target = target
            existing.set_by_id = actor.id
            existing.set_at = now
    await session.flush()
    record_audit(
        session=session,
        school_id=actor.school_id,
        actor_id=actor.id,
        action="indicator_target.set",
        subject_type="school",
        subject_id=actor.school_id,
        details={"year": school_year, "indicator": indicator, "target": str(target)},
        at=now,
    )


@dataclass(frozen=True, slots=True)
class RecordsPage:
    """What the trajectory's records page shows: the student's name, whether the trajectory
    is open, its observations and teacher support, the student's events, who can be named as
    the one who did it (the school's care coordinators and coaches), and the school's today."""

    trajectory_id: int
    student_name: str
    is_open: bool
    activities: tuple[SupportActivity, ...]
    events: tuple[StudentEvent, ...]
    performers: tuple[tuple[int, str], ...]
    today: date


async def records_page(
    *, session: AsyncSession, actor: Person, trajectory_id: int, now: datetime
) -> RecordsPage:
    """The trajectory's records for its staff (`NotAllowed` for anyone else)."""
    actor, trajectory, zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    student = await session.get(Person, trajectory.student_id)
    staff_rows = await session.execute(
        select(Person.id, Person.given_name, Person.family_name)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.school_id == trajectory.school_id,
            Person.ended_at.is_(None),
            PersonRole.role.in_((Role.CARE_COORDINATOR, Role.COACH)),
        )
        .distinct()
        .order_by(Person.given_name, Person.family_name, Person.id)
    )
    return RecordsPage(
        trajectory_id=trajectory.id,
        student_name=f"{student.given_name} {student.family_name}" if student else "",
        is_open=trajectory.status is not TrajectoryStatus.CLOSED,
        activities=tuple(await trajectory_activities(session=session, trajectory_id=trajectory.id)),
        events=tuple(
            await student_events(
                session=session, school_id=trajectory.school_id, student_id=trajectory.student_id
            )
        ),
        performers=tuple((row.id, f"{row.given_name} {row.family_name}") for row in staff_rows),
        today=now.astimezone(zone).date(),
    )


@dataclass(frozen=True, slots=True)
class TargetsPage:
    """The admin's page: the targets of one school year and the visitation reports."""

    school_year: int
    targets: Mapping[str, float]
    visitations: tuple[VisitationReport, ...]


async def targets_page(*, session: AsyncSession, actor: Person, school_year: int) -> TargetsPage:
    """The admin's school's targets of ``school_year`` and its visitation reports."""
    actor = await _require_admin(session, actor)
    targets = {
        indicator: float(target)
        for indicator, target in await session.execute(
            select(IndicatorTarget.indicator, IndicatorTarget.target).where(
                IndicatorTarget.school_id == actor.school_id,
                IndicatorTarget.school_year == school_year,
            )
        )
    }
    visitations = tuple(
        await session.scalars(
            select(VisitationReport)
            .where(VisitationReport.school_id == actor.school_id)
            .order_by(VisitationReport.held_on.desc(), VisitationReport.id.desc())
        )
    )
    return TargetsPage(school_year=school_year, targets=targets, visitations=visitations)
