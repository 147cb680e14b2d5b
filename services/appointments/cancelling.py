"""Cancelling an appointment (`cancel`), in the caller's transaction.

Also what a mentor's "no" to an intake does (`release_and_cancel`, used by `attendance`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from services.appointments import notices, rules
from services.appointments.access import (
    NOT_AVAILABLE,
    attendees,
    load_appointment,
    may_change,
    still_ahead,
)
from services.appointments.capacity import apply_changes, changes_for
from services.appointments.schedule import cells_of, load_schedule
from services.appointments.views import AppointmentView, view_of
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.outbox.store import cancel_pending
from storage.models import Appointment, AppointmentStatus, Person

log = logging.getLogger(__name__)


async def cancel(
    *, session: AsyncSession, actor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """Cancel an appointment that has not started, in the caller's transaction.

    Allowed to whoever booked it, the student, a parent of the student, and the school's
    care coordinators and coaches (`NotAllowed` for anyone else and unknown ids). Closer to
    the start than the school's late-cancel window it is still cancelled, with
    ``late_cancel`` set. The places are released, pending reminders withdrawn, and the
    attendees get a cancelling calendar file (or, for an intake never confirmed, a notice).
    """
    actor = await reload_actor(session=session, actor=actor)
    appointment = await load_appointment(
        session=session, school_id=actor.school_id, appointment_id=appointment_id, lock=True
    )
    if appointment is None or not await may_change(
        session=session, actor=actor, appointment=appointment
    ):
        log.info("refused: cancel of appointment_id=%s by person_id=%s", appointment_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    still_ahead(appointment, now)
    await release_and_cancel(session=session, actor_id=actor.id, appointment=appointment, now=now)
    return await view_of(session=session, appointment=appointment)


async def release_and_cancel(
    *,
    session: AsyncSession,
    actor_id: int,
    appointment: Appointment,
    now: datetime,
    notify_except: Iterable[int] = (),
) -> None:
    """Cancel ``appointment`` (already checked): places released, reminders withdrawn, the
    attendees told (but ``actor_id`` and ``notify_except`` for a notice), audited."""
    schedule = await load_schedule(
        session=session,
        school_id=appointment.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
    )
    released = await apply_changes(
        session=session,
        school_id=appointment.school_id,
        changes=changes_for(
            resource=appointment.resource,
            cells=cells_of(
                resource=appointment.resource,
                starts_at=appointment.starts_at,
                busy_until=appointment.busy_until,
            ),
            delta=-1,
        ),
    )
    if not released:  # pragma: no cover - giving back never fails
        raise RuntimeError("could not release the places of an appointment")
    had_calendar = appointment.status is AppointmentStatus.CONFIRMED
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_id = actor_id
    appointment.late_cancel = rules.is_late_cancel(
        starts_at=appointment.starts_at, now=now, window=schedule.rules.late_cancel
    )
    appointment.version += 1
    appointment.updated_at = now
    await cancel_pending(session=session, key_prefix=notices.key_prefix(appointment.id))
    await session.flush()
    recipients = await attendees(
        session=session, rule=schedule.types.get(appointment.kind), appointment=appointment
    )
    if had_calendar:
        notices.calendar_cancelled(session, appointment=appointment, recipients=recipients, now=now)
    else:
        notices.cancelled_notice(
            session,
            appointment=appointment,
            recipients=recipients - {actor_id, *notify_except},
            now=now,
        )
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=actor_id,
        action="appointment.cancel",
        subject_type="appointment",
        subject_id=appointment.id,
        details={
            "kind": appointment.kind.value,
            "late": appointment.late_cancel,
            "version": appointment.version,
        },
        at=now,
    )
    log.info(
        "appointment_id=%s cancelled by person_id=%s (late=%s)",
        appointment.id,
        actor_id,
        appointment.late_cancel,
    )
