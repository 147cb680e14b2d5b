"""The coach's day (issue 14.2): one coach's appointments of today and of this week.

What the web page ``/day`` and the chat's "This week's appointments" show. A coach sees their
own agenda only: the appointments they hold (``coach_id``) and those of the room
(time-out, no coach of its own), which every coach on duty staffs. A care coordinator looks at
the agenda of a coach of their school they choose (read-only); a coach id of another school
or an unknown one is `NotFound`; anyone else is `NotAllowed`.

Whether a row may be marked now is `rules.attendance_problem`, the rule `mark_attendance`
enforces, so the page offers the buttons exactly when the service would accept them.
Days and weeks are school days in Europe/Amsterdam (`schedule.day_bounds`), weeks Monday to
Sunday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments import rules
from services.appointments.schedule import load_schedule
from services.appointments.views import AppointmentView, views_of
from services.kernel.access import reload_actor
from services.kernel.errors import NotAllowed, NotFound
from services.trajectories.lifecycle import coaches_of
from services.trajectories.logbook import add_logbook_entry
from storage.models import Appointment, AppointmentStatus, Person, Role

NOT_A_COACH = N_("This coach was not found.")


@dataclass(frozen=True, slots=True)
class AgendaRow:
    """One appointment on the agenda, with what the coach may do with it now."""

    view: AppointmentView
    #: In the room (a time-out), not a talk the coach holds.
    in_room: bool
    #: Attended / no-show may be pressed now (the same rule `mark_attendance` applies).
    may_mark: bool
    #: A logbook entry can be written from this row (it belongs to a trajectory).
    has_trajectory: bool

    @property
    def late_cancel(self) -> bool:
        """Cancelled at short notice (flagged on the agenda)."""
        return self.view.status is AppointmentStatus.CANCELLED and self.view.late_cancel


@dataclass(frozen=True, slots=True)
class AgendaDay:
    """One school day of the agenda."""

    day: date
    rows: tuple[AgendaRow, ...]


@dataclass(frozen=True, slots=True)
class Agenda:
    """A coach's today and the days of this week (Monday to Sunday, today among them)."""

    coach_id: int
    coach_name: str
    today: date
    days: tuple[AgendaDay, ...]
    #: Whether the viewer is this coach (marks and logbook entries are theirs to make).
    own: bool

    @property
    def today_rows(self) -> tuple[AgendaRow, ...]:
        """Today's appointments."""
        return next((d.rows for d in self.days if d.day == self.today), ())

    @property
    def other_days(self) -> tuple[AgendaDay, ...]:
        """The week's other days that have appointments."""
        return tuple(d for d in self.days if d.day != self.today and d.rows)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


async def coach_agenda(
    *,
    session: AsyncSession,
    viewer: Person,
    now: datetime,
    today: date,
    coach_id: int | None = None,
) -> Agenda:
    """The agenda of ``coach_id`` (the viewer's own when ``None`` or a coach), this week.

    A coach sees only their own agenda (a ``coach_id`` of another coach is ignored); a care
    coordinator chooses a coach of their school (`NotFound` for any other id).
    """
    viewer = await reload_actor(session=session, actor=viewer)
    coach = await agenda_owner(session=session, viewer=viewer, coach_id=coach_id)
    monday, sunday = week_of(today)
    schedule = await load_schedule(session=session, school_id=viewer.school_id, from_day=monday)
    start, _ = schedule.day_bounds(monday)
    _, end = schedule.day_bounds(sunday)
    found = list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.school_id == viewer.school_id,
                or_(Appointment.coach_id == coach.id, Appointment.coach_id.is_(None)),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    own = coach.id == viewer.id
    by_day: dict[date, list[AgendaRow]] = {monday + timedelta(days=n): [] for n in range(7)}
    for appointment, view in zip(
        found, await views_of(session=session, appointments=found), strict=True
    ):
        local_day = schedule.local_day(appointment.starts_at)
        may_mark = own and any(
            rules.attendance_problem(
                kind=appointment.kind,
                status=appointment.status,
                starts_at=appointment.starts_at,
                mentor_confirmed=appointment.mentor_confirmed,
                attended=attended,
                now=now,
            )
            is None
            for attended in (True, False)
        )
        by_day.setdefault(local_day, []).append(
            AgendaRow(
                view=view,
                in_room=appointment.coach_id is None,
                may_mark=may_mark,
                has_trajectory=appointment.trajectory_id is not None,
            )
        )
    return Agenda(
        coach_id=coach.id,
        coach_name=coach.display_name,
        today=today,
        days=tuple(AgendaDay(day, tuple(rows)) for day, rows in sorted(by_day.items())),
        own=own,
    )


async def agenda_owner(*, session: AsyncSession, viewer: Person, coach_id: int | None) -> Person:
    """Whose agenda ``viewer`` (fresh) looks at: a coach their own; a care coordinator the
    coach chosen (`NotFound` unless a coach of their school); anyone else `NotAllowed`."""
    if viewer.has_role(Role.COACH) and (coach_id is None or coach_id == viewer.id):
        return viewer
    if not viewer.has_role(Role.CARE_COORDINATOR):
        if viewer.has_role(Role.COACH):
            return viewer  # another coach's agenda is not theirs to see: their own instead
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    if coach_id is None:
        raise NotFound(Text.of(NOT_A_COACH))
    coach = await session.get(Person, coach_id)
    if coach is None or coach.school_id != viewer.school_id or not coach.has_role(Role.COACH):
        raise NotFound(Text.of(NOT_A_COACH))
    return coach


NOT_ON_AGENDA = N_("This appointment is not on your agenda.")


async def agenda_appointment(
    *, session: AsyncSession, coach: Person, appointment_id: int
) -> Appointment:
    """An appointment on ``coach``'s agenda (theirs or the room's, their school); `NotFound`
    for anything else (another coach's, another school's, unknown: one answer); `NotAllowed`
    unless ``coach`` (re-read) is a coach."""
    coach = await reload_actor(session=session, actor=coach)
    if not coach.has_role(Role.COACH):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    appointment = await session.scalar(
        select(Appointment).where(
            Appointment.id == appointment_id,
            Appointment.school_id == coach.school_id,
            or_(Appointment.coach_id == coach.id, Appointment.coach_id.is_(None)),
        )
    )
    if appointment is None:
        raise NotFound(Text.of(NOT_ON_AGENDA))
    return appointment


async def add_agenda_logbook_entry(
    *, session: AsyncSession, coach: Person, appointment_id: int, text: str, now: datetime
) -> int:
    """Write a logbook entry for the trajectory of an appointment on the coach's agenda (the
    web page's row and the chat's offer after attendance). The trajectory comes from the
    appointment, never from the request; `add_logbook_entry` checks, cleans (bidi controls
    stripped), limits and audits. `NotFound` when the appointment is not on the agenda or
    belongs to no trajectory."""
    appointment = await agenda_appointment(
        session=session, coach=coach, appointment_id=appointment_id
    )
    if appointment.trajectory_id is None:
        raise NotFound(Text.of(NOT_ON_AGENDA))
    return await add_logbook_entry(
        session=session,
        author=coach,
        trajectory_id=appointment.trajectory_id,
        text=text,
        now=now,
    )


async def agenda_coaches(*, session: AsyncSession, viewer: Person) -> list[Person]:
    """The coaches whose agenda ``viewer`` may choose: a care coordinator's school's coaches;
    nobody for anyone else (a coach sees their own only)."""
    viewer = await reload_actor(session=session, actor=viewer)
    if not viewer.has_role(Role.CARE_COORDINATOR):
        return []
    return await coaches_of(session=session, school_id=viewer.school_id)
