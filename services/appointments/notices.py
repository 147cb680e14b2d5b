"""The outbox rows of appointments: reminders, calendar files, the mentor's question, notices.

Payloads hold ids, codes and times only (ISO 8601, UTC), never names or care details: a
notification shows on a lock screen. Dedup keys start with ``appt:<id>:`` so that one
`services.outbox.store.cancel_pending` withdraws everything still pending for an appointment when it
is moved or cancelled, in the same transaction; the version in the key lets the moved
appointment schedule its own reminders.

===========================  ==================  ==============================================
kind                         to                  payload
===========================  ==================  ==============================================
appointment.mentor_confirm   each mentor         appointment_id, version, kind, starts_at
appointment.mentor_declined  who booked          appointment_id, kind, starts_at
appointment.reminder         each attendee       appointment_id, version, kind, starts_at,
                                                 ends_at, when (``day`` / ``hour``)
appointment.calendar         each attendee       appointment_id, version, kind, starts_at,
                                                 ends_at, cancelled (bool)
appointment.cancelled        attendees but the   appointment_id, kind, starts_at, late (bool)
                             one who cancelled   (an appointment that had no calendar file yet)
appointment.timeout_teacher  the teacher whose   appointment_id, version, starts_at, ends_at
                             lesson it is        (a time-out; who it is shows in the chat)
timeout.requested            care coordinators   queue_item_id
timeout.decided              the student         queue_item_id, approved (bool),
                                                 appointment_id (when approved)
===========================  ==================  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments.schedule import Schedule
from services.outbox.kinds import OutboxKind
from storage.models import Appointment, AppointmentKind, Outbox

APPOINTMENT_MENTOR_CONFIRM = OutboxKind.APPOINTMENT_MENTOR_CONFIRM
APPOINTMENT_MENTOR_DECLINED = OutboxKind.APPOINTMENT_MENTOR_DECLINED
APPOINTMENT_REMINDER = OutboxKind.APPOINTMENT_REMINDER
APPOINTMENT_CALENDAR = OutboxKind.APPOINTMENT_CALENDAR
APPOINTMENT_CANCELLED = OutboxKind.APPOINTMENT_CANCELLED
TIMEOUT_TEACHER = OutboxKind.TIMEOUT_TEACHER
TIMEOUT_REQUESTED = OutboxKind.TIMEOUT_REQUESTED
TIMEOUT_DECIDED = OutboxKind.TIMEOUT_DECIDED

#: ``reason`` of a ``timeout.decided`` row: declined because the trajectory was closed.
TRAJECTORY_CLOSED = "trajectory_closed"

#: ``when`` of the two reminders.
REMINDER_DAY = "day"
REMINDER_HOUR = "hour"

KINDS = frozenset(
    {
        APPOINTMENT_MENTOR_CONFIRM,
        APPOINTMENT_MENTOR_DECLINED,
        APPOINTMENT_REMINDER,
        APPOINTMENT_CALENDAR,
        APPOINTMENT_CANCELLED,
        TIMEOUT_TEACHER,
        TIMEOUT_REQUESTED,
        TIMEOUT_DECIDED,
    }
)


@dataclass(frozen=True, slots=True)
class AppointmentNotice:
    """An appointment outbox payload read back (for the channel that renders it).

    ``ends_at`` and ``version`` are ``None`` for kinds that do not carry them; ``when`` is set
    for reminders only.
    """

    appointment_id: int
    kind: AppointmentKind
    starts_at: datetime
    ends_at: datetime | None = None
    version: int | None = None
    cancelled: bool = False
    late: bool = False
    when: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarNotice:
    """An ``appointment.calendar`` payload read back: what `calendar_file` needs."""

    appointment_id: int
    kind: AppointmentKind
    starts_at: datetime
    ends_at: datetime
    version: int
    cancelled: bool


def parse_appointment_payload(payload: Mapping[str, Any]) -> AppointmentNotice:
    """Read an appointment notice's payload; `ValueError` when it lacks what it needs."""
    appointment_id = payload.get("appointment_id")
    if not isinstance(appointment_id, int) or isinstance(appointment_id, bool):
        raise ValueError("payload lacks appointment_id")  # noqa: TRY004 - one error type
    version = payload.get("version")
    ends_at = payload.get("ends_at")
    when = payload.get("when")
    return AppointmentNotice(
        appointment_id=appointment_id,
        kind=AppointmentKind(str(payload.get("kind"))),
        starts_at=_parse_time(payload.get("starts_at")),
        ends_at=None if ends_at is None else _parse_time(ends_at),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        cancelled=payload.get("cancelled") is True,
        late=payload.get("late") is True,
        when=when if when in (REMINDER_DAY, REMINDER_HOUR) else None,
    )


def parse_calendar_payload(payload: Mapping[str, Any]) -> CalendarNotice:
    """Read an ``appointment.calendar`` payload; `ValueError` when incomplete."""
    notice = parse_appointment_payload(payload)
    if notice.ends_at is None or notice.version is None:
        raise ValueError("calendar payload lacks ends_at or version")
    return CalendarNotice(
        appointment_id=notice.appointment_id,
        kind=notice.kind,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        version=notice.version,
        cancelled=notice.cancelled,
    )


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("payload lacks a time")  # noqa: TRY004 - one error type
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("payload time without a time zone")
    return parsed


def key_prefix(appointment_id: int) -> str:
    """The dedup-key prefix of every outbox row of one appointment."""
    return f"appt:{appointment_id}:"


def _iso(at: datetime) -> str:
    return at.isoformat()


def _add(
    session: AsyncSession,
    *,
    school_id: int,
    recipient_id: int,
    kind: OutboxKind,
    payload: dict[str, Any],
    dedup_key: str,
    due: datetime,
    now: datetime,
) -> None:
    session.add(
        Outbox(
            school_id=school_id,
            recipient_id=recipient_id,
            kind=kind,
            payload=payload,
            dedup_key=dedup_key,
            next_attempt_at=due,
            created_at=now,
        )
    )


def reminder_times(
    *, schedule: Schedule, starts_at: datetime, now: datetime
) -> list[tuple[str, datetime]]:
    """When the two reminders go out; a time already passed is left out.

    The day before at the school's reminder hour (school time), and one hour before the start.
    """
    day_before = schedule.local_day(starts_at) - timedelta(days=1)
    times = [
        (REMINDER_DAY, schedule.local(day_before, time(schedule.rules.day_reminder_hour))),
        (REMINDER_HOUR, starts_at - timedelta(hours=1)),
    ]
    return [(when, at) for when, at in times if at > now]


def _appointment_payload(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appointment.id,
        "version": appointment.version,
        "kind": appointment.kind.value,
        "starts_at": _iso(appointment.starts_at),
        "ends_at": _iso(appointment.ends_at),
    }


def schedule_confirmed(
    session: AsyncSession,
    *,
    schedule: Schedule,
    appointment: Appointment,
    recipients: Iterable[int],
    now: datetime,
) -> None:
    """The calendar file now and the two reminders later, for each recipient (an operation)."""
    base = _appointment_payload(appointment)
    prefix = f"{key_prefix(appointment.id)}v{appointment.version}"
    times = reminder_times(schedule=schedule, starts_at=appointment.starts_at, now=now)
    for recipient in sorted(set(recipients)):
        _add(
            session,
            school_id=appointment.school_id,
            recipient_id=recipient,
            kind=APPOINTMENT_CALENDAR,
            payload={**base, "cancelled": False},
            dedup_key=f"{prefix}:ics:{recipient}",
            due=now,
            now=now,
        )
        for when, at in times:
            _add(
                session,
                school_id=appointment.school_id,
                recipient_id=recipient,
                kind=APPOINTMENT_REMINDER,
                payload={**base, "when": when},
                dedup_key=f"{prefix}:{when}:{recipient}",
                due=at,
                now=now,
            )


def calendar_cancelled(
    session: AsyncSession, *, appointment: Appointment, recipients: Iterable[int], now: datetime
) -> None:
    """A cancelling calendar file for each recipient (the appointment's new version)."""
    payload = {**_appointment_payload(appointment), "cancelled": True}
    for recipient in sorted(set(recipients)):
        _add(
            session,
            school_id=appointment.school_id,
            recipient_id=recipient,
            kind=APPOINTMENT_CALENDAR,
            payload=payload,
            dedup_key=f"{key_prefix(appointment.id)}v{appointment.version}:ics:{recipient}",
            due=now,
            now=now,
        )


def cancelled_notice(
    session: AsyncSession, *, appointment: Appointment, recipients: Iterable[int], now: datetime
) -> None:
    """Tell each recipient that an appointment without a calendar file yet was cancelled."""
    payload = {
        "appointment_id": appointment.id,
        "kind": appointment.kind.value,
        "starts_at": _iso(appointment.starts_at),
        "late": appointment.late_cancel,
    }
    for recipient in sorted(set(recipients)):
        _add(
            session,
            school_id=appointment.school_id,
            recipient_id=recipient,
            kind=APPOINTMENT_CANCELLED,
            payload=payload,
            dedup_key=f"{key_prefix(appointment.id)}v{appointment.version}:cancelled:{recipient}",
            due=now,
            now=now,
        )


def ask_mentors(
    session: AsyncSession, *, appointment: Appointment, mentors: Iterable[int], now: datetime
) -> None:
    """Ask each mentor to confirm being at the intake (buttons yes / no in the chat)."""
    payload = {
        "appointment_id": appointment.id,
        "version": appointment.version,
        "kind": appointment.kind.value,
        "starts_at": _iso(appointment.starts_at),
    }
    for mentor in sorted(set(mentors)):
        _add(
            session,
            school_id=appointment.school_id,
            recipient_id=mentor,
            kind=APPOINTMENT_MENTOR_CONFIRM,
            payload=payload,
            dedup_key=f"{key_prefix(appointment.id)}v{appointment.version}:mentor:{mentor}",
            due=now,
            now=now,
        )


def tell_teacher(
    session: AsyncSession, *, appointment: Appointment, teacher_id: int, now: datetime
) -> None:
    """Tell the teacher whose lesson the student leaves that a time-out is booked: the times
    only (a lock screen in a classroom); the button shows who, inside the chat. Withdrawn with
    the appointment's other pending rows when it is moved or cancelled before it went out."""
    _add(
        session,
        school_id=appointment.school_id,
        recipient_id=teacher_id,
        kind=TIMEOUT_TEACHER,
        payload={
            "appointment_id": appointment.id,
            "version": appointment.version,
            "kind": appointment.kind.value,
            "starts_at": _iso(appointment.starts_at),
            "ends_at": _iso(appointment.ends_at),
        },
        dedup_key=f"{key_prefix(appointment.id)}v{appointment.version}:teacher:{teacher_id}",
        due=now,
        now=now,
    )


def mentor_declined(session: AsyncSession, *, appointment: Appointment, now: datetime) -> None:
    """Tell whoever booked the intake that the mentor cannot come (it is cancelled)."""
    _add(
        session,
        school_id=appointment.school_id,
        recipient_id=appointment.booked_by_id,
        kind=APPOINTMENT_MENTOR_DECLINED,
        payload={
            "appointment_id": appointment.id,
            "kind": appointment.kind.value,
            "starts_at": _iso(appointment.starts_at),
        },
        dedup_key=f"{key_prefix(appointment.id)}v{appointment.version}:mentor_declined",
        due=now,
        now=now,
    )


def timeout_decided(
    session: AsyncSession,
    *,
    school_id: int,
    queue_item_id: int,
    student_id: int,
    approved: bool,
    appointment_id: int | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Tell the student how the care coordinator decided on their time-out request.

    ``reason``: a code the message explains (`TRAJECTORY_CLOSED`: declined because the
    trajectory was closed); the care coordinator's own reason is never sent.
    """
    payload: dict[str, Any] = {"queue_item_id": queue_item_id, "approved": approved}
    if appointment_id is not None:
        payload["appointment_id"] = appointment_id
    if reason is not None:
        payload["reason"] = reason
    _add(
        session,
        school_id=school_id,
        recipient_id=student_id,
        kind=TIMEOUT_DECIDED,
        payload=payload,
        dedup_key=f"{TIMEOUT_DECIDED}:{queue_item_id}",
        due=now,
        now=now,
    )
