"""The exports for the seed systems, for their entry points (web, CLI): who may, and the audit.

Every export is of one school and for a care coordinator or an administrator *of that school*
(re-read from the database now), or for the system (``actor=None``: the command line, run by
whoever runs the server). Anyone else, and another school's coordinator, gets `NotAllowed`;
an unknown or other school's trajectory the same answer as a missing one (ids cannot be
probed). Each export is audited with ids, the week and counts only (no names, no text).

Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.exports import facts
from services.exports.rules import (
    ClosingReport,
    ExportTable,
    LvsRow,
    Week,
    lvs_rows,
    magister_table,
)
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.trajectories.intake_report import DOWNLOAD as INTAKE_DOWNLOAD
from services.trajectories.intake_report import IntakeReport
from services.trajectories.intake_report import load_report as load_intake_report
from storage.models import Person, Role, School, Trajectory, TrajectoryStatus

log = logging.getLogger(__name__)

#: Who may export a school's data.
EXPORT_ROLES = (Role.CARE_COORDINATOR, Role.ADMIN)

MAGISTER = "export.magister"
LVS = "export.lvs"
CLOSING_REPORT = "export.closing_report"
VIEW = "export.view"

_NOT_FOR_YOU = N_("This is not available for your role.")
_NO_REPORT = N_("This closing report is not available to you.")
_NOT_CLOSED = N_("The closing report is ready once the trajectory is closed.")
_NO_INTAKE_REPORT = N_(
    "There is no intake report of this trajectory: the intake has not been held with a "
    "complete plan, or the trajectory is not of this school."
)


class Channel(StrEnum):
    """Where an export was asked for (kept in the audit row)."""

    WEB = "web"
    CLI = "cli"


class LvsOutput(StrEnum):
    """The form of the weekly summary."""

    CSV = "csv"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class SchoolWeek:
    """The school an export is about, its time zone and the week."""

    school: School
    zone: ZoneInfo
    week: Week

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The week's UTC instants (Monday 00:00 school time, end excluded)."""
        return self.week.bounds(self.zone)


@dataclass(frozen=True, slots=True)
class LvsSummary:
    """The weekly summary's rows and what its heading names."""

    school_name: str
    week: Week
    rows: tuple[LvsRow, ...]


@dataclass(frozen=True, slots=True)
class ClosedTrajectory:
    """A trajectory closed in the week (the exports page links its closing report)."""

    trajectory_id: int
    student_number: str
    student_name: str
    closed_at: datetime


async def export_school(
    *, session: AsyncSession, actor: Person | None, school_id: int
) -> tuple[School, int | None]:
    """The school and the actor's id (``None``: the system); `NotAllowed` unless the actor is
    a care coordinator or an administrator of that very school."""
    school = await session.get(School, school_id)
    if actor is not None:
        actor = await reload_actor(session=session, actor=actor)
        if not any(actor.has_role(role) for role in EXPORT_ROLES) or actor.school_id != school_id:
            log.info("export refused: person_id=%s school_id=%s", actor.id, school_id)
            raise NotAllowed(Text.of(_NOT_FOR_YOU))
    if school is None:
        raise NotAllowed(Text.of(_NOT_FOR_YOU))
    return school, None if actor is None else actor.id


def _audit(
    session: AsyncSession,
    *,
    school: School,
    actor_id: int | None,
    action: str,
    week: Week,
    channel: Channel,
    rows: int,
    now: datetime,
    output: str | None = None,
) -> None:
    details: dict[str, str | int] = {"week": str(week), "channel": channel.value, "rows": rows}
    if output is not None:
        details["output"] = output
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=actor_id,
        action=action,
        subject_type="school",
        subject_id=school.id,
        details=details,
        at=now,
    )


async def magister_export(
    *,
    session: AsyncSession,
    actor: Person | None,
    school_id: int,
    week: Week,
    now: datetime,
    channel: Channel,
) -> ExportTable:
    """The week's attendance of support moments for Magister (audited ``export.magister``)."""
    school, actor_id = await export_school(session=session, actor=actor, school_id=school_id)
    zone = ZoneInfo(school.timezone)
    start, end = week.bounds(zone)
    found = await facts.attendance_facts(session=session, school_id=school.id, start=start, end=end)
    table = magister_table(found, week, zone)
    _audit(
        session,
        school=school,
        actor_id=actor_id,
        action=MAGISTER,
        week=week,
        channel=channel,
        rows=len(table.rows),
        now=now,
    )
    log.info("magister export school_id=%s week=%s rows=%s", school.id, week, len(table.rows))
    return table


async def lvs_summary(
    *,
    session: AsyncSession,
    actor: Person | None,
    school_id: int,
    week: Week,
    now: datetime,
    channel: Channel,
    output: LvsOutput,
) -> LvsSummary:
    """The week's summary per student for the LVS, facts only (audited ``export.lvs``)."""
    school, actor_id = await export_school(session=session, actor=actor, school_id=school_id)
    zone = ZoneInfo(school.timezone)
    start, end = week.bounds(zone)
    found = await facts.week_facts(
        session=session,
        school_id=school.id,
        start=start,
        end=end,
        first_day=week.monday,
        last_day=week.sunday,
    )
    rows = tuple(lvs_rows(found, week, zone))
    _audit(
        session,
        school=school,
        actor_id=actor_id,
        action=LVS,
        week=week,
        channel=channel,
        rows=len(rows),
        now=now,
        output=output.value,
    )
    log.info("lvs export school_id=%s week=%s rows=%s", school.id, week, len(rows))
    return LvsSummary(school.name, week, rows)


async def closed_in_week(
    *, session: AsyncSession, actor: Person, school_id: int, week: Week, now: datetime
) -> list[ClosedTrajectory]:
    """The trajectories closed in the week, for the exports page (audited ``export.view``)."""
    school, actor_id = await export_school(session=session, actor=actor, school_id=school_id)
    start, end = week.bounds(ZoneInfo(school.timezone))
    closed = [
        ClosedTrajectory(*row)
        for row in await facts.closed_in(session=session, school_id=school.id, start=start, end=end)
    ]
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=actor_id,
        action=VIEW,
        subject_type="school",
        subject_id=school.id,
        details={"week": str(week), "trajectory_ids": [t.trajectory_id for t in closed]},
        at=now,
    )
    return closed


async def closing_report(
    *,
    session: AsyncSession,
    actor: Person | None,
    school_id: int,
    trajectory_id: int,
    now: datetime,
    channel: Channel,
) -> ClosingReport:
    """The closing report of a closed trajectory of the school, for the student file
    (audited ``export.closing_report`` on the trajectory).

    `NotAllowed` for another role or school, an unknown trajectory and another school's (one
    answer), and, with its own reason, for a trajectory that is not closed yet.
    """
    school, actor_id = await export_school(session=session, actor=actor, school_id=school_id)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == school.id)
        .execution_options(populate_existing=True)
    )
    if trajectory is None:
        log.info("closing report %s refused (school_id=%s)", trajectory_id, school.id)
        raise NotAllowed(Text.of(_NO_REPORT))
    if trajectory.status is not TrajectoryStatus.CLOSED or trajectory.closed_at is None:
        raise NotAllowed(Text.of(_NOT_CLOSED))
    report = await facts.closing_facts(
        session=session, trajectory=trajectory, zone=ZoneInfo(school.timezone), now=now
    )
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=actor_id,
        action=CLOSING_REPORT,
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"channel": channel.value},
        at=now,
    )
    return report


async def intake_report(
    *,
    session: AsyncSession,
    actor: Person | None,
    school_id: int,
    trajectory_id: int,
    now: datetime,
    channel: Channel,
) -> IntakeReport:
    """The intake report of a trajectory of the school for the student file, for the command
    line (``actor=None``) or a care coordinator or administrator of the school; audited as the
    web's download (``trajectory.intake_report.download``) with the channel.

    `NotAllowed` as `closing_report`, and for a trajectory without an intake report yet.
    """
    school, actor_id = await export_school(session=session, actor=actor, school_id=school_id)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == school.id)
        .execution_options(populate_existing=True)
    )
    report = (
        None
        if trajectory is None
        else await load_intake_report(session=session, trajectory=trajectory, now=now)
    )
    if trajectory is None or report is None:
        log.info("intake report %s refused (school_id=%s)", trajectory_id, school.id)
        raise NotAllowed(Text.of(_NO_INTAKE_REPORT))
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=actor_id,
        action=INTAKE_DOWNLOAD,
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"channel": channel.value},
        at=now,
    )
    return report
