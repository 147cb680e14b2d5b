"""Who works with trajectories, and reading one trajectory for them (shared by the page, the
list, evaluations and the logbook's pen).

A care coordinator or coach of the trajectory's school; another school's trajectory and an
unknown id get the same refusal, so ids cannot be probed. Always read from the database.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.consent.records import has_consent
from services.kernel.access import reload_actor
from services.kernel.errors import NotAllowed
from storage.models import (
    ConsentPurpose,
    DistrictCoachRequest,
    Person,
    Role,
    School,
    Trajectory,
)

log = logging.getLogger(__name__)

#: The roles that work with trajectories (the trajectory page, the logbook's pen).
STAFF_ROLES = (Role.CARE_COORDINATOR, Role.COACH)

NOT_AVAILABLE = N_("This trajectory is not available to you.")
_DEFAULT_TIMEZONE = "Europe/Amsterdam"


async def require_staff(*, session: AsyncSession, actor: Person) -> Person:
    """``actor`` re-read; `NotAllowed` unless a care coordinator or coach."""
    fresh = await reload_actor(session=session, actor=actor)
    if not any(fresh.has_role(role) for role in STAFF_ROLES):
        log.info("refused: person_id=%s is not trajectory staff", fresh.id)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    return fresh


async def staff_trajectory(
    *, session: AsyncSession, actor: Person, trajectory_id: int
) -> tuple[Person, Trajectory, ZoneInfo]:
    """The actor (re-read), the trajectory of their school and its time zone; `NotAllowed`."""
    actor = await require_staff(session=session, actor=actor)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == actor.school_id)
        .execution_options(populate_existing=True)
    )
    if trajectory is None:
        # One answer for "another school's" and "no such trajectory": ids cannot be probed.
        log.info("refused: trajectory_id=%s for person_id=%s", trajectory_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    return actor, trajectory, await school_zone(session=session, school_id=trajectory.school_id)


async def school_zone(*, session: AsyncSession, school_id: int) -> ZoneInfo:
    """The school's time zone (its local dates decide days and weeks)."""
    name = await session.scalar(select(School.timezone).where(School.id == school_id))
    return ZoneInfo(name or _DEFAULT_TIMEZONE)


async def district_coach_may_work_on(
    *, session: AsyncSession, coach: Person, trajectory: Trajectory, now: datetime
) -> bool:
    """The district coach's rule, in one place: ``coach`` holds the role, the care coordinator
    asked them in on this trajectory (not ended), and the student and a parent consent to the
    district coach (`rules.consent_holds`). Read on every request: a withdrawn consent or an
    ended request ends the access at once."""
    if not coach.has_role(Role.DISTRICT_COACH) or coach.ended_at is not None:
        return False
    asked = await session.scalar(
        select(DistrictCoachRequest.id).where(
            DistrictCoachRequest.trajectory_id == trajectory.id,
            DistrictCoachRequest.district_coach_id == coach.id,
            DistrictCoachRequest.ended_at.is_(None),
        )
    )
    if asked is None:
        return False
    return await has_consent(
        session=session,
        referral_id=trajectory.referral_id,
        purpose=ConsentPurpose.DISTRICT_COACH,
        now=now,
    )


async def case_trajectory(
    *, session: AsyncSession, actor: Person, trajectory_id: int, now: datetime
) -> tuple[Person, Trajectory, ZoneInfo]:
    """As `staff_trajectory`, and also for a district coach on a trajectory they may work on
    (`district_coach_may_work_on`; any school of the partnership). What reads the page and
    writes the logbook uses this; everything else stays `staff_trajectory`'s."""
    fresh = await reload_actor(session=session, actor=actor)
    if any(fresh.has_role(role) for role in STAFF_ROLES) or not fresh.has_role(Role.DISTRICT_COACH):
        return await staff_trajectory(session=session, actor=fresh, trajectory_id=trajectory_id)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == trajectory_id)
        .execution_options(populate_existing=True)
    )
    if trajectory is None or not await district_coach_may_work_on(
        session=session, coach=fresh, trajectory=trajectory, now=now
    ):
        log.info(
            "refused: trajectory_id=%s for district coach person_id=%s", trajectory_id, fresh.id
        )
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    return fresh, trajectory, await school_zone(session=session, school_id=trajectory.school_id)


def is_district_coach_only(person: Person) -> bool:
    """A district coach who is not also trajectory staff (what the pages leave out for them)."""
    return person.has_role(Role.DISTRICT_COACH) and not any(
        person.has_role(role) for role in STAFF_ROLES
    )
