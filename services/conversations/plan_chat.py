"""Opening the plan of one trajectory in a chat ("Plans to complete" → one student).

The plan runs as an ordinary flow in `services.conversations.runtime` with the trajectory as
its preset. `open_plan` checks the trajectory first, also when a run of it is resumed (the
runtime checks a preset only for a new run), so a press on an old list button of a trajectory
closed meanwhile, or of another school's, is answered with the reason instead of a question.
Runs inside the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.plan import PLAN, TRAJECTORY
from services.conversations.runtime import Turn, open_flow
from services.trajectories.plans import stored_plan
from storage.models import Person


async def open_plan(
    *, session: AsyncSession, person: Person, trajectory_id: int, now: datetime
) -> Turn:
    """Start or resume the plan flow of ``trajectory_id`` for ``person``.

    `NotAllowed` unless the person is a care coordinator or coach of the trajectory's school
    (another school's and an unknown id read the same); `InvalidTransition` when it is closed.
    """
    await stored_plan(session=session, actor=person, trajectory_id=trajectory_id)
    return await open_flow(
        session=session,
        person=person,
        flow_id=PLAN.id,
        now=now,
        preset={TRAJECTORY: str(trajectory_id)},
    )
