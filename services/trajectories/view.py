"""The trajectory page's data (one trajectory as staff see it) and the list with overdue flags.

A care coordinator or coach of the trajectory's school opens a trajectory and lists them;
another school's trajectory and an unknown id get the same refusal, so ids cannot be probed.
Every view is audited with ids only (goals and names stay out of the audit trail and the
logs). Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from dialogs.text import Text
from services.accounts.people import name_of, people_by_id
from services.kernel.adulthood import is_adult, staff_notice
from services.kernel.audit import record_audit
from services.trajectories.access import case_trajectory, require_staff, school_zone
from services.trajectories.lifecycle import coaches_of, plan_gaps_of
from services.trajectories.logbook import LogbookView, author_role, authors_by_id
from services.trajectories.rules import (
    COUNTED_TIMEOUT_STATUSES,
    EvaluationFacts,
    OverdueFlag,
    PlanGap,
    Stage,
    evaluation_missed,
    overdue_flags,
    stage_of,
)
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    EvaluationKind,
    LogbookEntry,
    Person,
    Referral,
    RespondentType,
    SurveyInvitation,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EvaluationView:
    """One planned evaluation (interim or final)."""

    evaluation_id: int
    kind: EvaluationKind
    due_on: date
    held_on: date | None
    missed: bool
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    """One appointment of the trajectory with its attendance (status ``attended``/``no_show``)."""

    appointment_id: int
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    coach_name: str | None


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
    #: Where it stands in the lifecycle, and what its plan still lacks to be active.
    stage: Stage = Stage.ACCEPTED
    plan_gaps: tuple[PlanGap, ...] = ()
    coach_id: int | None = None
    #: The school's coaches (id, name): the choice of the fixed point of contact.
    coaches: tuple[tuple[int, str], ...] = ()
    intake_held_at: datetime | None = None
    #: The advice for the school recorded at closing (handelingsadvies).
    advice: str | None = None
    #: For a student of 18 or older: that they decide, or since when their parents no longer
    #: see their support (`services.kernel.adulthood.staff_notice`).
    adult_notice: Text | None = None

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


async def open_trajectory(
    *, session: AsyncSession, viewer: Person, trajectory_id: int, now: datetime
) -> TrajectoryPage:
    """One trajectory with its plan, evaluations, appointments, logbook and flags; audited.

    Only a care coordinator or coach of the trajectory's school may open it;
    anyone else, and any unknown id, gets the same `NotAllowed`. Recorded as
    ``trajectory.view``.
    """
    viewer, trajectory, zone = await case_trajectory(
        session=session, actor=viewer, trajectory_id=trajectory_id, now=now
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
    # Logbook authors of another school of the partnership (a district coach).
    people |= await authors_by_id(session=session, ids={e.author_id for e in entries} - set(people))
    student = people[trajectory.student_id]
    holding = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
    stage = stage_of(
        status=trajectory.status,
        intake_booked=any(
            a.kind is AppointmentKind.INTAKE and a.status in holding for a in appointments
        ),
        final_evaluation_held=any(
            e.kind is EvaluationKind.FINAL and e.held_on is not None for e in evaluations
        ),
        questionnaires_open=any(
            _invitation_state(invitation, now) is InvitationState.OPEN for invitation in invitations
        ),
    )
    coaches = await coaches_of(session=session, school_id=trajectory.school_id)
    page = TrajectoryPage(
        trajectory_id=trajectory.id,
        status=trajectory.status,
        student_id=student.id,
        student_name=student.display_name,
        group_name=student.group_name,
        adult_notice=staff_notice(
            adult=is_adult(student.birth_date, today),
            withdrawn_at=student.parents_access_withdrawn_at,
        ),
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
                missed=evaluation_missed(
                    status=trajectory.status, due_on=e.due_on, held_on=e.held_on, today=today
                ),
                notes=e.notes,
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
                author_role=author_role(people.get(e.author_id)),
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
        stage=stage,
        plan_gaps=await plan_gaps_of(session=session, trajectory=trajectory),
        coach_id=trajectory.coach_id,
        coaches=tuple((coach.id, coach.display_name) for coach in coaches),
        intake_held_at=trajectory.intake_held_at,
        advice=trajectory.advice,
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

    Care coordinators and coaches only. ``statuses`` defaults to the open ones
    (planned and active). Flagged trajectories come first, then by end date.
    """
    wanted = tuple(
        (TrajectoryStatus.PLANNED, TrajectoryStatus.INTAKE_HELD, TrajectoryStatus.ACTIVE)
        if statuses is None
        else statuses
    )
    viewer = await require_staff(session=session, actor=viewer)
    zone = await school_zone(session=session, school_id=viewer.school_id)
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


_Part = TypeVar("_Part", TrajectoryEvaluation, Appointment, LogbookEntry, SurveyInvitation)


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


def _invitation_state(invitation: SurveyInvitation, now: datetime) -> InvitationState:
    if invitation.completed_at is not None:
        return InvitationState.ANSWERED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.OPEN
