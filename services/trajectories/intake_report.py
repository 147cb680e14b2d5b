"""The intake report: what was agreed at the intake (goals, agreements, dates, contacts), for the
student, the parents and the mentor in the chat, and for the school's student file as a PDF.

- When a trajectory becomes active (`services.trajectories.lifecycle._activate`: the intake
  held and the plan complete), `send_intake_report` writes one ``trajectory.intake_report``
  outbox row per reader in that same transaction: the student, each parent (`Guardianship`)
  and each mentor (`Mentorship`). The notice names no student and carries no goals (a lock
  screen may show it); its button opens the report in the chat.
- `intake_report_for_reader` is that button's read: only the trajectory's student, a parent
  or a mentor of the student (links read from the database now), audited as
  ``trajectory.intake_report.read``. All three read the whole plan: it is theirs.
- `intake_report_for_staff` is the PDF's read, for a care coordinator or coach of the
  trajectory's school, audited as ``trajectory.intake_report.download``; the PDF itself is
  made from the returned `IntakeReport` by `services.trajectories.intake_report_pdf`.

The report exists once the trajectory has been activated (the intake held with a complete
plan); before that there is nothing agreed to report. It always shows the plan as it is now
(a plan changed later is what the button and the PDF show). Goals are free text and stay out of
the audit trail and the logs. Services here take a session already in a transaction and never
begin one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.afspraken import BOOK as BOOK_APPOINTMENT
from dialogs.text import N_, Text
from services.accounts.people import care_coordinators_of
from services.kernel.access import is_mentor_of, is_parent_of, reload_actor
from services.kernel.adulthood import parents_see
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.outbox.kinds import OutboxKind
from services.trajectories.access import school_zone, staff_trajectory
from services.trajectories.rules import PlanFacts, plan_gaps
from storage.models import (
    EvaluationKind,
    Guardianship,
    Mentorship,
    Outbox,
    Person,
    Role,
    School,
    Trajectory,
    TrajectoryEvaluation,
)

log = logging.getLogger(__name__)

#: The audit actions: a reader opened the report in the chat; staff downloaded the PDF.
READ = "trajectory.intake_report.read"
DOWNLOAD = "trajectory.intake_report.download"

_NOT_AVAILABLE = N_("This intake report is not available to you.")
_NOT_YET = N_("The intake report is ready once the intake has been held and the plan is complete.")


class ReaderRole(StrEnum):
    """Why a person reads the report in the chat (what the "how to reach" line says)."""

    STUDENT = "student"
    PARENT = "parent"
    MENTOR = "mentor"


@dataclass(frozen=True, slots=True)
class EvaluationDate:
    """One planned evaluation moment (``held_on`` once it took place)."""

    kind: EvaluationKind
    due_on: date
    held_on: date | None = None


@dataclass(frozen=True, slots=True)
class IntakeReport:
    """Everything the intake report shows, as plain data (the chat text and the PDF are made
    from it without a database).

    Names are display names (given and family name); ``goals`` is the plan's free text as
    written. ``evaluations`` are in date order, the final evaluation (on ``end``) included.
    """

    trajectory_id: int
    school_name: str
    student_name: str
    group_name: str | None
    goals: str
    start: date
    end: date
    evaluations: tuple[EvaluationDate, ...]
    timeouts_in_plan: bool
    timeouts_per_week: int
    coach_name: str
    care_coordinator_names: tuple[str, ...]
    mentor_names: tuple[str, ...]
    parent_names: tuple[str, ...]
    intake_held_on: date | None
    made_on: date

    @property
    def interim_dates(self) -> tuple[date, ...]:
        """The dates of the interim evaluations."""
        return tuple(e.due_on for e in self.evaluations if e.kind is EvaluationKind.INTERIM)

    @property
    def final_date(self) -> date:
        """The date of the final evaluation (the plan's end unless planned otherwise)."""
        finals = [e.due_on for e in self.evaluations if e.kind is EvaluationKind.FINAL]
        return max(finals) if finals else self.end


@dataclass(frozen=True, slots=True)
class ReaderReport:
    """The report as one reader may read it, and in which role they read it."""

    report: IntakeReport
    reader_role: ReaderRole


# --- the notices ------------------------------------------------------------------------------
async def intake_report_readers(*, session: AsyncSession, trajectory: Trajectory) -> list[int]:
    """The people the intake report goes to: the student, each parent (`Guardianship`) and
    each mentor (`Mentorship`) of the student, in the trajectory's school, without repeats."""
    parents = await session.scalars(
        select(Guardianship.parent_id)
        .where(
            Guardianship.school_id == trajectory.school_id,
            Guardianship.student_id == trajectory.student_id,
            parents_see(Guardianship.student_id),
        )
        .order_by(Guardianship.parent_id)
    )
    mentors = await session.scalars(
        select(Mentorship.mentor_id)
        .where(
            Mentorship.school_id == trajectory.school_id,
            Mentorship.student_id == trajectory.student_id,
        )
        .order_by(Mentorship.mentor_id)
    )
    readers = [trajectory.student_id, *parents, *mentors]
    return list(dict.fromkeys(readers))


async def send_intake_report(
    *, session: AsyncSession, trajectory: Trajectory, now: datetime
) -> list[int]:
    """Write the ``trajectory.intake_report`` notice for each reader (in the caller's
    transaction); the recipients written now.

    Idempotent: a reader who already has this trajectory's notice gets none again (the
    dedup key is per trajectory and reader). The payload holds the trajectory id only.
    """
    kind = OutboxKind.INTAKE_REPORT
    readers = await intake_report_readers(session=session, trajectory=trajectory)
    keys = {reader: f"{kind}:{trajectory.id}:{reader}" for reader in readers}
    existing = set(
        await session.scalars(select(Outbox.dedup_key).where(Outbox.dedup_key.in_(keys.values())))
    )
    written: list[int] = []
    for reader, key in keys.items():
        if key in existing:
            continue
        session.add(
            Outbox(
                school_id=trajectory.school_id,
                recipient_id=reader,
                kind=kind,
                # Ids only: the report is shown in the chat, after the reader is identified.
                payload={"trajectory_id": trajectory.id},
                dedup_key=key,
                next_attempt_at=now,
                created_at=now,
            )
        )
        written.append(reader)
    log.info("trajectory_id=%s: intake report to %s readers", trajectory.id, len(written))
    return written


# --- reading it --------------------------------------------------------------------------------
async def intake_report_for_reader(
    *, session: AsyncSession, reader: Person, trajectory_id: int, now: datetime
) -> ReaderReport:
    """The intake report of ``trajectory_id`` for the student, a parent or a mentor (audited).

    `NotAllowed` for anyone else, another school's or an unknown trajectory (one answer, so
    ids cannot be probed), and, with its own reason, for a trajectory whose intake report
    does not exist yet (not activated).
    """
    reader = await reload_actor(session=session, actor=reader)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == reader.school_id)
        .execution_options(populate_existing=True)
    )
    role = None if trajectory is None else await _reader_role(session, reader, trajectory)
    if trajectory is None or role is None:
        log.info("intake report %s refused to person_id=%s", trajectory_id, reader.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    report = await load_report(session=session, trajectory=trajectory, now=now)
    if report is None:
        raise NotAllowed(Text.of(_NOT_YET))
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=reader.id,
        action=READ,
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"as": role.value},
        at=now,
    )
    return ReaderReport(report, role)


async def intake_report_for_staff(
    *, session: AsyncSession, actor: Person, trajectory_id: int, now: datetime
) -> IntakeReport:
    """The intake report of ``trajectory_id`` for the school's student file (the PDF), for a
    care coordinator or coach of its school; audited as ``trajectory.intake_report.download``.

    `NotAllowed` for anyone else, another school's or an unknown trajectory, and for one
    without an intake report yet (not activated: the intake not held or the plan incomplete).
    """
    actor, trajectory, _zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    report = await load_report(session=session, trajectory=trajectory, now=now)
    if report is None:
        log.info("intake report %s: no complete plan yet", trajectory_id)
        raise NotAllowed(Text.of(_NOT_YET))
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action=DOWNLOAD,
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )
    return report


async def _reader_role(
    session: AsyncSession, reader: Person, trajectory: Trajectory
) -> ReaderRole | None:
    """In which role ``reader`` may read the trajectory's report (the links read now; the
    trajectory is of the reader's school)."""
    student_id = trajectory.student_id
    if reader.has_role(Role.STUDENT) and reader.id == student_id:
        return ReaderRole.STUDENT
    if reader.has_role(Role.PARENT) and await is_parent_of(
        session=session, parent=reader, student_id=student_id
    ):
        return ReaderRole.PARENT
    if reader.has_role(Role.MENTOR) and await is_mentor_of(
        session=session, mentor=reader, student_id=student_id
    ):
        return ReaderRole.MENTOR
    return None


async def load_report(
    *, session: AsyncSession, trajectory: Trajectory, now: datetime
) -> IntakeReport | None:
    """The report's data, or ``None`` while there is none (not activated, or a plan gap).

    The caller has authorized the reader (the web page, the chat, `trajectbot export`).
    """
    evaluations = tuple(
        EvaluationDate(kind, due_on, held_on)
        for kind, due_on, held_on in await session.execute(
            select(
                TrajectoryEvaluation.kind,
                TrajectoryEvaluation.due_on,
                TrajectoryEvaluation.held_on,
            )
            .where(
                TrajectoryEvaluation.school_id == trajectory.school_id,
                TrajectoryEvaluation.trajectory_id == trajectory.id,
            )
            .order_by(TrajectoryEvaluation.due_on, TrajectoryEvaluation.id)
        )
    )
    gaps = plan_gaps(
        PlanFacts(
            goals=trajectory.goals,
            start=trajectory.start_date,
            end=trajectory.end_date,
            evaluations=len(evaluations),
            coach_id=trajectory.coach_id,
        )
    )
    if (
        trajectory.activated_at is None
        or gaps
        or trajectory.goals is None
        or trajectory.start_date is None
        or trajectory.end_date is None
        or trajectory.coach_id is None
    ):
        return None
    people = {
        person.id: person
        for person in await session.scalars(
            select(Person).where(
                Person.school_id == trajectory.school_id,
                Person.id.in_([trajectory.student_id, trajectory.coach_id]),
            )
        )
    }
    student = people.get(trajectory.student_id)
    coach = people.get(trajectory.coach_id)
    parents = await session.scalars(
        select(Person)
        .join(
            Guardianship,
            (Guardianship.parent_id == Person.id) & (Guardianship.school_id == Person.school_id),
        )
        .where(
            Guardianship.school_id == trajectory.school_id,
            Guardianship.student_id == trajectory.student_id,
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    mentors = await session.scalars(
        select(Person)
        .join(
            Mentorship,
            (Mentorship.mentor_id == Person.id) & (Mentorship.school_id == Person.school_id),
        )
        .where(
            Mentorship.school_id == trajectory.school_id,
            Mentorship.student_id == trajectory.student_id,
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    coordinators = await care_coordinators_of(session=session, school_id=trajectory.school_id)
    school_name = await session.scalar(select(School.name).where(School.id == trajectory.school_id))
    zone = await school_zone(session=session, school_id=trajectory.school_id)
    held_at = trajectory.intake_held_at or trajectory.activated_at
    return IntakeReport(
        trajectory_id=trajectory.id,
        school_name=school_name or "",
        student_name="" if student is None else student.display_name,
        group_name=None if student is None else student.group_name,
        goals=trajectory.goals,
        start=trajectory.start_date,
        end=trajectory.end_date,
        evaluations=evaluations,
        timeouts_in_plan=trajectory.timeouts_in_plan,
        timeouts_per_week=trajectory.timeouts_per_week,
        coach_name="" if coach is None else coach.display_name,
        care_coordinator_names=tuple(person.display_name for person in coordinators),
        mentor_names=tuple(person.display_name for person in mentors),
        parent_names=tuple(person.display_name for person in parents),
        intake_held_on=None if held_at is None else held_at.astimezone(zone).date(),
        made_on=now.astimezone(zone).date(),
    )


# --- the chat's text ---------------------------------------------------------------------------
def report_lines(view: ReaderReport) -> list[Text]:
    """The intake report as the reader reads it in the chat, one `Text` per paragraph (the
    channel renders them in the reader's language and splits what is over Telegram's limit).

    Goals are shown as written; dates are Babel dates in the reader's locale.
    """
    report = view.report
    lines = [
        Text.of(
            N_("Intake report: the extra support for {student} at {school}"),
            student=Text.raw(report.student_name),
            school=Text.raw(report.school_name),
        ),
        Text.of(N_("Goals:\n{goals}"), goals=Text.raw(report.goals)),
        Text.of(N_("Period: from {start} to {end}."), start=report.start, end=report.end),
    ]
    interim = report.interim_dates
    if interim:
        lines.append(
            Text.of(
                N_("Interim evaluations: {dates}. Final evaluation: {final}."),
                dates=tuple(Text.raw(day) for day in interim),
                final=report.final_date,
            )
        )
    else:
        lines.append(Text.of(N_("Final evaluation: {final}."), final=report.final_date))
    lines.append(time_out_agreement(report))
    lines.append(
        Text.of(N_("Your fixed contact is the coach: {coach}."), coach=Text.raw(report.coach_name))
    )
    if report.care_coordinator_names:
        lines.append(
            Text.of(
                N_(
                    "For questions about the plan you can also go to the care coordinator: {names}."
                ),
                names=tuple(Text.raw(name) for name in report.care_coordinator_names),
            )
        )
    if view.reader_role is ReaderRole.MENTOR:
        lines.append(Text.of(N_("You can reach the coach at school.")))
    else:
        lines.append(
            Text.of(
                N_(
                    "You can reach the coach at school, or book a conversation in this chat: "
                    "menu, “{book}”."
                ),
                book=Text.of(BOOK_APPOINTMENT.title),
            )
        )
    return lines


def time_out_agreement(report: IntakeReport) -> Text:
    """The agreement about time-out: part of the plan (with its weekly cap) or not."""
    if report.timeouts_in_plan:
        return Text.plural_of(
            "Time-out is part of the plan: at most {count} time-out per week.",
            "Time-out is part of the plan: at most {count} time-outs per week.",
            report.timeouts_per_week,
        )
    return Text.of(N_("Time-out is not part of the plan."))


__all__ = [
    "DOWNLOAD",
    "READ",
    "EvaluationDate",
    "IntakeReport",
    "ReaderReport",
    "ReaderRole",
    "intake_report_for_reader",
    "intake_report_for_staff",
    "intake_report_readers",
    "report_lines",
    "send_intake_report",
    "time_out_agreement",
]
