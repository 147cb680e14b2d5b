"""The district coach (bovenschoolse trajectbegeleider, seed 002) asked in on a trajectory.

Only the care coordinator of the trajectory's school asks a district coach in, and only when
the student and a parent consent to it (`rules.consent_holds`, purpose ``district_coach``);
without consent the request is refused. Whether the district coach may then open the
trajectory is `services.trajectories.access.district_coach_may_work_on`, read on every
request; the care coordinator ends a district coach's part (`end_district_coach`) and their
access ends with it. What a district coach sees: their cases (this list) and each case's page and
logbook; nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.consent.records import ConsentRow, consent_rows, has_consent
from services.kernel.access import reload_actor, require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition, NotAllowed
from services.trajectories.access import (
    case_trajectory,
    district_coach_may_work_on,
    staff_trajectory,
)
from storage.models import (
    ConsentPurpose,
    DistrictCoachRequest,
    Person,
    PersonRole,
    Referral,
    Role,
    School,
    Trajectory,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

NO_CONSENT = N_(
    "The district coach can only be asked in after the student and a parent have given "
    "consent for it."
)


@dataclass(frozen=True, slots=True)
class DistrictCoach:
    """A district coach the care coordinator may ask in (any school of the partnership)."""

    person_id: int
    name: str


@dataclass(frozen=True, slots=True)
class DistrictCoachCase:
    """One trajectory a district coach works on, as their list shows it."""

    trajectory_id: int
    school_name: str
    student_name: str
    group_name: str | None
    status: TrajectoryStatus


async def district_coaches(*, session: AsyncSession) -> list[DistrictCoach]:
    """Every district coach of the partnership (not ended), by name (a query)."""
    people = await session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.DISTRICT_COACH, Person.ended_at.is_(None))
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    return [DistrictCoach(p.id, p.display_name) for p in people]


async def asked_in(*, session: AsyncSession, trajectory_id: int) -> list[DistrictCoach]:
    """The district coaches asked in on the trajectory now (a query)."""
    rows = await session.execute(
        select(Person)
        .join(DistrictCoachRequest, DistrictCoachRequest.district_coach_id == Person.id)
        .where(
            DistrictCoachRequest.trajectory_id == trajectory_id,
            DistrictCoachRequest.ended_at.is_(None),
        )
        .order_by(DistrictCoachRequest.asked_at, DistrictCoachRequest.id)
    )
    return [DistrictCoach(p.id, p.display_name) for (p,) in rows]


async def ask_district_coach_in(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    district_coach_id: int,
    now: datetime,
) -> int:
    """The care coordinator asks a district coach in on a trajectory; returns the request id.

    `NotAllowed` for anyone but the care coordinator of the trajectory's school;
    `InvalidTransition` without consent for the district coach (student and a parent), for a
    closed trajectory, a person who is not a district coach, or one already asked in.
    Audited as ``trajectory.district_coach_ask``.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    actor, trajectory, _zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
    if not await has_consent(
        session=session,
        referral_id=trajectory.referral_id,
        purpose=ConsentPurpose.DISTRICT_COACH,
        now=now,
    ):
        log.info("district coach refused without consent: trajectory_id=%s", trajectory.id)
        raise InvalidTransition(Text.of(NO_CONSENT))
    coach = await session.get(Person, district_coach_id, populate_existing=True)
    if coach is None or not coach.has_role(Role.DISTRICT_COACH) or coach.ended_at is not None:
        raise InvalidTransition(Text.of(N_("Please choose one of the district coaches.")))
    already = await session.scalar(
        select(DistrictCoachRequest.id).where(
            DistrictCoachRequest.trajectory_id == trajectory.id,
            DistrictCoachRequest.district_coach_id == coach.id,
            DistrictCoachRequest.ended_at.is_(None),
        )
    )
    if already is not None:
        raise InvalidTransition(Text.of(N_("This district coach has already been asked in.")))
    request = DistrictCoachRequest(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        district_coach_id=coach.id,
        asked_by_id=actor.id,
        asked_at=now,
    )
    session.add(request)
    await session.flush()
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.district_coach_ask",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"district_coach_id": coach.id},
        at=now,
    )
    return request.id


async def end_district_coach(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    district_coach_id: int,
    now: datetime,
) -> None:
    """The care coordinator ends a district coach's part in a trajectory: from now on they no
    longer see it (`access.district_coach_may_work_on` reads ``ended_at`` on every request).

    `NotAllowed` for anyone but the care coordinator of the trajectory's school;
    `InvalidTransition` when that district coach is not asked in (any more). Also on a closed
    trajectory: ending access is always allowed. Audited as ``trajectory.district_coach_end``.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    actor, trajectory, _zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    request = await session.scalar(
        select(DistrictCoachRequest)
        .where(
            DistrictCoachRequest.trajectory_id == trajectory.id,
            DistrictCoachRequest.district_coach_id == district_coach_id,
            DistrictCoachRequest.ended_at.is_(None),
        )
        .with_for_update()
    )
    if request is None:
        raise InvalidTransition(Text.of(N_("This district coach is not asked in on it.")))
    request.ended_at = now
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.district_coach_end",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"district_coach_id": district_coach_id},
        at=now,
    )
    await session.flush()


async def district_coach_cases(
    *, session: AsyncSession, viewer: Person, now: datetime
) -> list[DistrictCoachCase]:
    """The trajectories the district coach may work on now (asked in, with consent), across
    the partnership's schools; `NotAllowed` for anyone else. Audited (``trajectory.list``)."""
    viewer = await reload_actor(session=session, actor=viewer)
    if not viewer.has_role(Role.DISTRICT_COACH):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    rows = (
        await session.execute(
            select(Trajectory, Person, School)
            .join(DistrictCoachRequest, DistrictCoachRequest.trajectory_id == Trajectory.id)
            .join(Person, Person.id == Trajectory.student_id)
            .join(School, School.id == Trajectory.school_id)
            .where(
                DistrictCoachRequest.district_coach_id == viewer.id,
                DistrictCoachRequest.ended_at.is_(None),
            )
            .order_by(School.name, Trajectory.id)
        )
    ).all()
    cases = [
        DistrictCoachCase(t.id, school.name, student.display_name, student.group_name, t.status)
        for t, student, school in rows
        if await district_coach_may_work_on(session=session, coach=viewer, trajectory=t, now=now)
    ]
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="trajectory.list",
        subject_type="person",
        subject_id=viewer.id,
        details={"district_coach": True, "count": len(cases)},
    )
    return cases


@dataclass(frozen=True, slots=True)
class CasePanel:
    """What the trajectory page shows of the referral's voices, consents and district coach."""

    #: The mentor's description of the student's question, and the student's own words.
    help_question_student: str
    text_language: str
    student_voice: str | None
    student_voice_language: str | None
    student_voice_at: datetime | None
    consents: tuple[ConsentRow, ...]
    district_coach_consent: bool
    asked_in: tuple[DistrictCoach, ...]
    #: The district coaches the care coordinator may ask in (empty for anyone else).
    choices: tuple[DistrictCoach, ...]


async def case_panel(
    *, session: AsyncSession, viewer: Person, trajectory_id: int, now: datetime
) -> CasePanel:
    """The panel of one trajectory for ``viewer`` (`access.case_trajectory` decides; a query)."""
    viewer, trajectory, _zone = await case_trajectory(
        session=session, actor=viewer, trajectory_id=trajectory_id, now=now
    )
    referral = await session.get(Referral, trajectory.referral_id)
    if referral is None:  # pragma: no cover - a trajectory always has its referral
        raise NotAllowed(Text.of(N_("This trajectory is not available to you.")))
    consented = await has_consent(
        session=session, referral_id=referral.id, purpose=ConsentPurpose.DISTRICT_COACH, now=now
    )
    coordinator = (
        viewer.has_role(Role.CARE_COORDINATOR) and viewer.school_id == trajectory.school_id
    )
    return CasePanel(
        help_question_student=referral.help_question_student,
        text_language=referral.text_language,
        student_voice=referral.student_voice,
        student_voice_language=referral.student_voice_language,
        student_voice_at=referral.student_voice_at,
        consents=tuple(
            await consent_rows(
                session=session, referral_id=referral.id, school_id=trajectory.school_id
            )
        ),
        district_coach_consent=consented,
        asked_in=tuple(await asked_in(session=session, trajectory_id=trajectory.id)),
        choices=tuple(await district_coaches(session=session)) if coordinator else (),
    )
