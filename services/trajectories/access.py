"""Who works with trajectories, and reading one trajectory for them (shared by the page, the
list, evaluations and the logbook's pen).

A care coordinator or coach of the trajectory's school; another school's trajectory and an
unknown id get the same refusal, so ids cannot be probed. Always read from the database.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.errors import NotAllowed
from storage.models import Person, Role, School, Trajectory

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
