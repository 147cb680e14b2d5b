"""Closing a trajectory closes it: the one entry point (`close_trajectory`), in the caller's
transaction.

`services.trajectories.lifecycle.close_trajectory` checks the rule (active, final evaluation,
advice: `services.trajectories.rules.closing_refusal`) and then calls `wind_down` here before
it closes: every appointment of the trajectory that has not started is cancelled exactly as a
normal cancellation (`cancelling.release_and_cancel`: places released, pending reminders
withdrawn, the attendees sent the cancelling calendar file or the cancellation notice), and
every undecided time-out request is declined (reason "trajectory closed", the student told).
Then the lifecycle resolves the referral's queue item and invites the exit questionnaire.
It lives here because the appointments package is above the trajectories (SERVICE_ORDER).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments.cancelling import release_and_cancel
from services.appointments.timeout_requests import decline_open_requests_of
from services.trajectories import lifecycle
from services.trajectories.lifecycle import Closing
from storage.models import Appointment, AppointmentStatus, Person, Trajectory

log = logging.getLogger(__name__)

#: The appointments closing cancels: those that still hold a place.
_OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


async def close_trajectory(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    closing: Closing,
    now: datetime,
) -> Trajectory:
    """Close the trajectory (care coordinator only) and everything that still hangs on it.

    `NotAllowed` / `InvalidTransition` as `services.trajectories.lifecycle.close_trajectory`
    (nothing written when refused).
    """
    return await lifecycle.close_trajectory(
        session=session,
        actor=actor,
        trajectory_id=trajectory_id,
        closing=closing,
        now=now,
        wind_down=wind_down,
    )


async def wind_down(
    session: AsyncSession, actor: Person, trajectory: Trajectory, now: datetime
) -> None:
    """Cancel the trajectory's appointments that have not started and decline its open
    time-out requests (the closing care coordinator as the actor)."""
    future = list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.school_id == trajectory.school_id,
                Appointment.trajectory_id == trajectory.id,
                Appointment.status.in_(_OPEN),
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    for appointment in future:
        await release_and_cancel(
            session=session, actor_id=actor.id, appointment=appointment, now=now
        )
    declined = await decline_open_requests_of(
        session=session, actor=actor, trajectory=trajectory, now=now
    )
    log.info(
        "trajectory_id=%s closing: %s appointments cancelled, %s time-out requests declined",
        trajectory.id,
        len(future),
        declined,
    )


__all__ = ["Closing", "close_trajectory", "wind_down"]
