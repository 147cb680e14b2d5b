"""The administrator's settings area (issue 12): the school, its appointment types, opening
hours, closed days (and the region's school holidays from the shipped data), coaches' hours
and the booking rules with the time-out cap.

Only a person with the admin role opens it (`AdminDep`: 403 for anyone else), and always for
their own school: no school id is taken from the request, and a coach id of another school is
a 404. Every read and change goes through `services.settings` in one unit of work, which
checks the administrator again from the database, validates (`services.settings.rules`) and
writes the audit row (``settings.<what>``). The booking services read the same rows on every
booking, so a change shows in the next booking question.

Forms follow the site's pattern: the session's CSRF token on every POST; a refused form is
shown again (422) with each problem next to its field, translated, and everything typed kept;
a saved one redirects (303) to its page with ``?done=<what>`` (the success message).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.afspraken import KIND_LABELS
from dialogs.i18n import LANGUAGE_NAMES, Catalog
from dialogs.text import N_, Text
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.kernel.uow import run_unit_of_work
from services.settings.about import (
    ABOUT_MAX,
    about_problem,
    about_texts_for_admin,
    default_about,
    set_about_text,
)
from services.settings.changes import (
    BookingChange,
    TypeChange,
    add_closed_days,
    coach_of_school,
    field_problems,
    install_holidays,
    remove_closed_days,
    set_appointment_type,
    set_booking_settings,
    set_coach_hours,
    set_opening_hours,
)
from services.settings.holidays import Holiday, holidays_for, school_years
from services.settings.rules import (
    ATTENDEES,
    BOOKERS,
    LABEL_MAX,
    Region,
    closed_runs,
    label_problem,
    parse_date,
    parse_number,
    parse_region,
    parse_span,
    parse_time,
)
from services.settings.school import SchoolSettings, TypeSetting, settings_for_admin
from storage.models import AppointmentKind, AppointmentResource, Role
from web import labels
from web.deps import CsrfProtected, SessionDep, Staff, staff_with
from web.errors import Forbidden, NotAvailable
from web.nav import NavItem
from web.pages import page_language, render_page
from web.runtime import web_of

log = logging.getLogger(__name__)

T = TypeVar("T")

AdminDep = Annotated[Staff, Depends(staff_with(Role.ADMIN))]

NAV = (NavItem("settings", "/settings", N_("Settings"), frozenset({Role.ADMIN}), order=70),)

#: The settings' pages: (key, path, label) in the order of the area's tabs.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("overview", "/settings", N_("School")),
    ("types", "/settings/types", N_("Appointment types")),
    ("hours", "/settings/hours", N_("Opening hours")),
    ("closed", "/settings/closed-days", N_("Closed days")),
    ("coaches", "/settings/coaches", N_("Coaches' hours")),
    ("booking", "/settings/booking", N_("Booking rules")),
    ("about", "/settings/about", N_("About the support room")),
    ("people", "/settings/people", N_("Import people")),
)

DONE: dict[str, str] = {
    "type": N_("The appointment type has been saved. Bookings use it from now on."),
    "type_added": N_("The appointment type has been added with the standard settings."),
    "hours": N_("The opening hours have been saved. Bookings use them from now on."),
    "closed": N_("The closed days have been saved. No new bookings are possible on them."),
    "opened": N_("The days are open again for bookings."),
    "holidays": N_("The school holidays have been added as closed days."),
    "coach": N_("The coach's hours have been saved."),
    "booking": N_("The booking rules have been saved."),
    "about": N_("The text has been saved. Students and parents read it from the chat menu."),
}
REGION_LABELS: dict[str, str] = {
    Region.NOORD.value: N_("North"),
    Region.MIDDEN.value: N_("Middle"),
    Region.ZUID.value: N_("South"),
}
ROLE_LABELS: dict[str, str] = {
    Role.STUDENT.value: N_("Student"),
    Role.PARENT.value: N_("Parent"),
    Role.MENTOR.value: N_("Mentor"),
    Role.COACH.value: N_("Coach"),
    Role.CARE_COORDINATOR.value: N_("Care coordinator"),
}
#: The order the role check boxes are shown in.
ROLE_ORDER = (
    Role.STUDENT.value,
    Role.PARENT.value,
    Role.MENTOR.value,
    Role.COACH.value,
    Role.CARE_COORDINATOR.value,
)
BOOKER_CHOICES = tuple(role for role in ROLE_ORDER if role in BOOKERS)
ATTENDEE_CHOICES = tuple(role for role in ROLE_ORDER if role in ATTENDEES)

DAYS = range(7)
#: Free text of one form field: bounded before anything parses it.
FIELD_MAX = 200
SPANS_SPLIT = re.compile(r"[\s,;]+")

Field = Annotated[str, Form()]


def _minutes(value: time) -> str:
    return value.isoformat("minutes")


def _catalog(request: Request, staff: Staff) -> Catalog:
    return web_of(request).catalog(page_language(request, staff.person.language))


def weekday_names(catalog: Catalog) -> list[str]:
    """Monday … Sunday in the page's language (Babel's CLDR names)."""
    days = catalog.locale.days["format"]["wide"]
    return [str(days[day]) for day in DAYS]


def full_date(catalog: Catalog) -> Callable[[date], str]:
    """A day with its weekday and year in the page's language ("Thursday, December 24,
    2026"): closed days and holidays run into the next years."""
    return lambda day: format_date(day, "full", locale=catalog.locale)


async def admin_settings(session: AsyncSession, staff: Staff, now: datetime) -> SchoolSettings:
    """The school's settings, for the administrator (checked again from the database)."""
    return await _run(
        session, lambda unit: settings_for_admin(session=unit, actor=staff.person, now=now)
    )


async def _run(session: AsyncSession, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One unit of work; a refusal of the administrator (roles changed meanwhile) is 403 and
    a coach the school does not have is 404. `InputInvalid` is the caller's to show."""
    try:
        return await run_unit_of_work(session, work)
    except NotAllowed as refused:
        raise Forbidden from refused
    except NotFound as refused:
        raise NotAvailable from refused


def _done(path: str, what: str) -> Response:
    return RedirectResponse(f"{path}?done={what}", status_code=303)


def settings_page(
    request: Request,
    template: str,
    *,
    staff: Staff,
    found: SchoolSettings,
    section: str,
    done: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A page of the settings area (``settings/<template>`` in `settings/layout.html`)."""
    catalog = _catalog(request, staff)
    return render_page(
        request,
        f"settings/{template}",
        staff=staff,
        status_code=status_code,
        school=found,
        sections=SECTIONS,
        section=section,
        done=Text.of(DONE[done]) if done in DONE else None,
        section_done=done,
        weekdays=weekday_names(catalog),
        full_date=full_date(catalog),
        labels=labels,
        names={
            "kind": KIND_LABELS,
            "region": REGION_LABELS,
            "role": ROLE_LABELS,
        },
        **context,
    )


# --- overview ------------------------------------------------------------------------------


async def overview(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The school: name, code, time zone, region, and a summary of each section."""
    found = await admin_settings(session, staff, web_of(request).now())
    return settings_page(
        request,
        "overview.html",
        staff=staff,
        found=found,
        section="overview",
        done=done,
        runs=closed_runs(found.closed_days),
    )


# --- appointment types ---------------------------------------------------------------------


@dataclass
class TypeForm:
    """One appointment type's form as typed (strings), kept when it comes back refused."""

    kind: str
    resource: str
    duration: str
    step: str
    buffer: str
    capacity: str
    lead_time: str
    bookable_by: set[str]
    attendees: set[str]
    active: bool

    @classmethod
    def of(cls, stored: TypeSetting) -> TypeForm:
        """The stored type."""
        return cls(
            kind=stored.kind,
            resource=stored.resource,
            duration=str(stored.duration_minutes),
            step=str(stored.step_minutes),
            buffer=str(stored.buffer_minutes),
            capacity=str(stored.capacity),
            lead_time="" if stored.lead_time_minutes is None else str(stored.lead_time_minutes),
            bookable_by=set(stored.bookable_by),
            attendees=set(stored.attendees),
            active=stored.active,
        )

    def parse(self) -> tuple[TypeChange | None, dict[str, Text]]:
        """The change, or what is wrong by field (numbers that are not numbers)."""
        problems: dict[str, Text] = {}
        numbers: dict[str, int] = {}
        for name in ("duration", "step", "buffer", "capacity"):
            parsed = parse_number(getattr(self, name))
            if isinstance(parsed, Text):
                problems[name] = parsed
            else:
                numbers[name] = parsed
        lead_time: int | None = None
        if self.lead_time.strip():
            parsed = parse_number(self.lead_time)
            if isinstance(parsed, Text):
                problems["lead_time"] = parsed
            else:
                lead_time = parsed
        if problems:
            return None, problems
        return (
            TypeChange(
                duration_minutes=numbers["duration"],
                step_minutes=numbers["step"],
                buffer_minutes=numbers["buffer"],
                capacity=numbers["capacity"],
                bookable_by=frozenset(self.bookable_by),
                attendees=frozenset(self.attendees),
                lead_time_minutes=lead_time,
                school_lead_time=lead_time is None,
                active=self.active,
            ),
            {},
        )


def _missing_kinds(found: SchoolSettings) -> list[str]:
    have = {kind.kind for kind in found.types}
    return [kind.value for kind in AppointmentKind if kind.value not in have]


def _types_page(
    request: Request,
    staff: Staff,
    found: SchoolSettings,
    *,
    done: str = "",
    typed: TypeForm | None = None,
    problems: Mapping[str, Text] | None = None,
    status_code: int = 200,
) -> Response:
    forms = [TypeForm.of(stored) for stored in found.types]
    if typed is not None:
        forms = [typed if form.kind == typed.kind else form for form in forms]
    return settings_page(
        request,
        "types.html",
        staff=staff,
        found=found,
        section="types",
        done=done,
        status_code=status_code,
        forms=forms,
        problem_kind=typed.kind if typed is not None else None,
        problems=problems or {},
        missing=_missing_kinds(found),
        bookers=BOOKER_CHOICES,
        attendee_choices=ATTENDEE_CHOICES,
        coach_resource=AppointmentResource.COACH.value,
    )


def _kind(value: str) -> AppointmentKind:
    try:
        return AppointmentKind(value)
    except ValueError as unknown:
        raise NotAvailable from unknown


async def types_page(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The appointment types, each with its form."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _types_page(request, staff, found, done=done)


async def save_type(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    kind: str,
    duration: Field = "",
    step: Field = "",
    buffer: Field = "",
    capacity: Field = "",
    lead_time: Field = "",
    bookable_by: Annotated[list[str] | None, Form()] = None,
    attendees: Annotated[list[str] | None, Form()] = None,
    active: Field = "",
) -> Response:
    """Change one appointment type (``settings.appointment_type``)."""
    chosen = _kind(kind)
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    stored = next((row for row in found.types if row.kind == chosen.value), None)
    if stored is None:
        raise NotAvailable
    typed = TypeForm(
        kind=chosen.value,
        resource=stored.resource,
        duration=duration,
        step=step,
        buffer=buffer,
        # A coach's appointment has one place: the form does not offer the field.
        capacity=capacity if stored.resource != AppointmentResource.COACH.value else "1",
        lead_time=lead_time,
        bookable_by={role for role in bookable_by or () if role in ROLE_LABELS},
        attendees={role for role in attendees or () if role in ROLE_LABELS},
        active=bool(active),
    )
    change, problems = typed.parse()
    if change is not None:
        try:
            await _run(
                session,
                lambda unit: set_appointment_type(
                    session=unit,
                    school_id=staff.person.school_id,
                    actor=staff.person,
                    kind=chosen,
                    change=change,
                    now=web.now(),
                ),
            )
        except InputInvalid as refused:
            problems = field_problems(refused) or {"form": refused.reason}
        else:
            return _done("/settings/types", "type")
    return _types_page(request, staff, found, typed=typed, problems=problems, status_code=422)


async def add_type(
    request: Request, *, staff: AdminDep, session: SessionDep, kind: str
) -> Response:
    """Add a type the school does not have yet, with the standard settings."""
    chosen = _kind(kind)
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    if chosen.value not in _missing_kinds(found):
        return RedirectResponse("/settings/types", status_code=303)  # added meanwhile
    await _run(
        session,
        lambda unit: set_appointment_type(
            session=unit,
            school_id=staff.person.school_id,
            actor=staff.person,
            kind=chosen,
            change=TypeChange(),
            now=web.now(),
        ),
    )
    return _done("/settings/types", "type_added")


# --- opening hours -------------------------------------------------------------------------


@dataclass
class DayHours:
    """One weekday's opening hours as typed."""

    open: bool
    opens: str
    closes: str


def _hours_forms(found: SchoolSettings) -> list[DayHours]:
    forms = []
    for day in DAYS:
        hours = found.opening_hours.get(day)
        forms.append(
            DayHours(True, _minutes(hours[0]), _minutes(hours[1]))
            if hours
            else DayHours(False, "", "")
        )
    return forms


def _hours_page(
    request: Request,
    staff: Staff,
    found: SchoolSettings,
    *,
    done: str = "",
    forms: list[DayHours] | None = None,
    problems: Mapping[int, Text] | None = None,
    status_code: int = 200,
) -> Response:
    return settings_page(
        request,
        "hours.html",
        staff=staff,
        found=found,
        section="hours",
        done=done,
        status_code=status_code,
        forms=forms or _hours_forms(found),
        problems=problems or {},
    )


async def hours_page(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The opening hours, one row per weekday."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _hours_page(request, staff, found, done=done)


class _DayRefusedError(Exception):
    """A weekday's change refused by the service (the whole form is rolled back)."""

    def __init__(self, day: int, reason: Text) -> None:
        super().__init__(day)
        self.day = day
        self.reason = reason


async def save_hours(request: Request, *, staff: AdminDep, session: SessionDep) -> Response:
    """Save the opening hours of every weekday that changed (``settings.opening_hours`` per
    weekday), all or nothing."""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    form = await request.form()
    forms: list[DayHours] = []
    wanted: dict[int, tuple[time, time] | None] = {}
    problems: dict[int, Text] = {}
    for day in DAYS:
        typed = DayHours(
            open=bool(form.get(f"open_{day}")),
            opens=str(form.get(f"opens_{day}", ""))[:FIELD_MAX],
            closes=str(form.get(f"closes_{day}", ""))[:FIELD_MAX],
        )
        forms.append(typed)
        if not typed.open:
            wanted[day] = None
            continue
        opens, closes = parse_time(typed.opens), parse_time(typed.closes)
        if isinstance(opens, Text):
            problems[day] = opens
        elif isinstance(closes, Text):
            problems[day] = closes
        else:
            wanted[day] = (opens, closes)
    if not problems:
        changed = {
            day: hours for day, hours in wanted.items() if hours != found.opening_hours.get(day)
        }

        async def save(unit: AsyncSession) -> None:
            for day, hours in changed.items():
                try:
                    await set_opening_hours(
                        session=unit,
                        school_id=staff.person.school_id,
                        actor=staff.person,
                        weekday=day,
                        hours=hours,
                        now=web.now(),
                    )
                except InputInvalid as refused:
                    raise _DayRefusedError(day, refused.reason) from refused

        try:
            await _run(session, save)
        except _DayRefusedError as refused:
            problems[refused.day] = refused.reason
        else:
            return _done("/settings/hours", "hours")
    return _hours_page(request, staff, found, forms=forms, problems=problems, status_code=422)


# --- closed days and school holidays -------------------------------------------------------


@dataclass
class ClosedForm:
    """The "close days" form as typed."""

    first: str = ""
    last: str = ""
    label: str = ""


def _today(found: SchoolSettings, now: datetime) -> date:
    return now.astimezone(ZoneInfo(found.timezone)).date()


@dataclass(frozen=True, slots=True)
class HolidayYear:
    """One school year of the shipped holidays of a region, as the page lists them."""

    name: str
    holidays: tuple[Holiday, ...]

    @property
    def unchecked(self) -> bool:
        """Whether any of its dates were not yet compared with rijksoverheid.nl."""
        return any(not holiday.checked for holiday in self.holidays)


def _holiday_years(region: Region, today: date) -> list[HolidayYear]:
    return [
        HolidayYear(year, tuple(holidays_for(region, from_day=today, school_year=year)))
        for year in school_years(from_day=today)
    ]


def _closed_page(
    request: Request,
    staff: Staff,
    found: SchoolSettings,
    *,
    done: str = "",
    count: int | None = None,
    typed: ClosedForm | None = None,
    problems: Mapping[str, Text] | None = None,
    region: str = "",
    year: str = "",
    status_code: int = 200,
) -> Response:
    today = _today(found, web_of(request).now())
    shown = parse_region(region) if region else None
    if not isinstance(shown, Region):
        shown = Region(found.region) if found.region else Region.MIDDEN
    years = _holiday_years(shown, today)
    return settings_page(
        request,
        "closed_days.html",
        staff=staff,
        found=found,
        section="closed",
        done=done,
        count=count,
        status_code=status_code,
        runs=closed_runs(found.closed_days),
        form=typed or ClosedForm(),
        problems=problems or {},
        label_max=LABEL_MAX,
        region=shown.value,
        regions=[item.value for item in Region],
        years=years,
        year=year or (years[0].name if years else ""),
    )


def _count(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 6 else None


async def closed_page(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    done: str = "",
    count: str = "",
    region: str = "",
) -> Response:
    """The coming closed days, the form to close days, and the region's school holidays."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _closed_page(
        request, staff, found, done=done, count=_count(count), region=region[:FIELD_MAX]
    )


async def add_closed(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    first: Field = "",
    last: Field = "",
    label: Field = "",
) -> Response:
    """Close a day or a range of days with a label (``settings.closed_days.add``)."""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    typed = ClosedForm(first, last, label)
    problems: dict[str, Text] = {}
    start = parse_date(first)
    if isinstance(start, Text):
        problems["first"] = start
    end = parse_date(last) if last.strip() else start
    if isinstance(end, Text):
        problems["last"] = end
    if isinstance(start, date) and isinstance(end, date):
        try:
            added = await _run(
                session,
                lambda unit: add_closed_days(
                    session=unit,
                    school_id=staff.person.school_id,
                    actor=staff.person,
                    start=start,
                    end=end,
                    label=label,
                    now=web.now(),
                ),
            )
        except InputInvalid as refused:
            problems["label" if label_problem(label) else "last"] = refused.reason
        else:
            return RedirectResponse(
                f"/settings/closed-days?done=closed&count={added}", status_code=303
            )
    return _closed_page(request, staff, found, typed=typed, problems=problems, status_code=422)


async def remove_closed(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    first: Field = "",
    last: Field = "",
) -> Response:
    """Open closed days again (``settings.closed_days.remove``)."""
    web = web_of(request)
    start, end = parse_date(first), parse_date(last or first)
    if not isinstance(start, date) or not isinstance(end, date):
        raise NotAvailable
    try:
        removed = await _run(
            session,
            lambda unit: remove_closed_days(
                session=unit,
                school_id=staff.person.school_id,
                actor=staff.person,
                start=start,
                end=end,
                now=web.now(),
            ),
        )
    except InputInvalid as refused:
        found = await admin_settings(session, staff, web.now())
        return _closed_page(
            request, staff, found, problems={"remove": refused.reason}, status_code=422
        )
    return RedirectResponse(f"/settings/closed-days?done=opened&count={removed}", status_code=303)


async def add_holidays(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    region: Field = "",
    year: Field = "",
) -> Response:
    """Close the school on the region's school holidays of one school year
    (``settings.holidays``); the region becomes the school's."""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    chosen = parse_region(region)
    problem: Text | None = chosen if isinstance(chosen, Text) else None
    if isinstance(chosen, Region):
        try:
            done = await _run(
                session,
                lambda unit: install_holidays(
                    session=unit,
                    school_id=staff.person.school_id,
                    actor=staff.person,
                    region=chosen,
                    today=_today(found, web.now()),
                    now=web.now(),
                    school_year=year,
                ),
            )
        except InputInvalid as refused:
            problem = refused.reason
        else:
            return RedirectResponse(
                f"/settings/closed-days?done=holidays&count={done.added}&region={chosen.value}",
                status_code=303,
            )
    return _closed_page(
        request,
        staff,
        found,
        problems={"holidays": problem} if problem else {},
        region=region,
        year=year,
        status_code=422,
    )


# --- coaches' hours ------------------------------------------------------------------------


def _spans_text(spans: tuple[tuple[time, time], ...]) -> str:
    return " ".join(f"{_minutes(start)}-{_minutes(end)}" for start, end in spans)


@dataclass
class CoachForm:
    """One coach's hours as typed: weekday → "09:00-12:00 13:00-16:00"."""

    coach_id: int
    days: list[str] = field(default_factory=list)


def _coaches_page(
    request: Request,
    staff: Staff,
    found: SchoolSettings,
    *,
    done: str = "",
    typed: CoachForm | None = None,
    problems: Mapping[int, Text] | None = None,
    status_code: int = 200,
) -> Response:
    forms = {
        coach.coach_id: CoachForm(
            coach.coach_id, [_spans_text(coach.hours.get(day, ())) for day in DAYS]
        )
        for coach in found.coaches
    }
    if typed is not None:
        forms[typed.coach_id] = typed
    return settings_page(
        request,
        "coaches.html",
        staff=staff,
        found=found,
        section="coaches",
        done=done,
        status_code=status_code,
        forms=forms,
        problem_coach=typed.coach_id if typed is not None else None,
        problems=problems or {},
    )


async def coaches_page(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The school's coaches, each with their hours per weekday."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _coaches_page(request, staff, found, done=done)


def _parse_spans(value: str) -> list[tuple[time, time]] | Text:
    spans = []
    for part in SPANS_SPLIT.split(value.strip()):
        if not part:
            continue
        span = parse_span(part)
        if isinstance(span, Text):
            return span
        spans.append(span)
    return spans


async def save_coach(
    request: Request, *, staff: AdminDep, session: SessionDep, coach_id: int
) -> Response:
    """Save a coach's hours of every weekday that changed (``settings.coach_hours``)."""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    stored = next((coach for coach in found.coaches if coach.coach_id == coach_id), None)
    if stored is None:
        raise NotAvailable
    form = await request.form()
    typed = CoachForm(coach_id, [str(form.get(f"day_{day}", ""))[:FIELD_MAX] for day in DAYS])
    problems: dict[int, Text] = {}
    wanted: dict[int, list[tuple[time, time]]] = {}
    for day in DAYS:
        spans = _parse_spans(typed.days[day])
        if isinstance(spans, Text):
            problems[day] = spans
        elif sorted(spans) != list(stored.hours.get(day, ())):
            wanted[day] = spans
    if not problems:

        async def save(unit: AsyncSession) -> None:
            coach = await coach_of_school(
                session=unit, school_id=staff.person.school_id, coach_id=coach_id
            )
            for day, spans in wanted.items():
                try:
                    await set_coach_hours(
                        session=unit,
                        school_id=staff.person.school_id,
                        actor=staff.person,
                        coach=coach,
                        weekday=day,
                        spans=spans,
                        now=web.now(),
                    )
                except InputInvalid as refused:
                    raise _DayRefusedError(day, refused.reason) from refused

        try:
            await _run(session, save)
        except _DayRefusedError as refused:
            problems[refused.day] = refused.reason
        else:
            return _done("/settings/coaches", "coach")
    return _coaches_page(request, staff, found, typed=typed, problems=problems, status_code=422)


# --- booking rules and the time-out cap ----------------------------------------------------

BOOKING_FIELDS = (
    "lead_time_minutes",
    "late_cancel_hours",
    "horizon_days",
    "day_reminder_hour",
    "timeouts_per_week",
)


def _booking_page(
    request: Request,
    staff: Staff,
    found: SchoolSettings,
    *,
    done: str = "",
    typed: Mapping[str, str] | None = None,
    problems: Mapping[str, Text] | None = None,
    status_code: int = 200,
) -> Response:
    values = typed or {name: str(getattr(found, name)) for name in BOOKING_FIELDS}
    return settings_page(
        request,
        "booking.html",
        staff=staff,
        found=found,
        section="booking",
        done=done,
        status_code=status_code,
        values=values,
        problems=problems or {},
    )


async def booking_page(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The booking rules and the time-out cap for new trajectories."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _booking_page(request, staff, found, done=done)


async def save_booking(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    lead_time_minutes: Field = "",
    late_cancel_hours: Field = "",
    horizon_days: Field = "",
    day_reminder_hour: Field = "",
    timeouts_per_week: Field = "",
) -> Response:
    """Change the booking rules (``settings.booking``)."""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    typed = {
        "lead_time_minutes": lead_time_minutes,
        "late_cancel_hours": late_cancel_hours,
        "horizon_days": horizon_days,
        "day_reminder_hour": day_reminder_hour,
        "timeouts_per_week": timeouts_per_week,
    }
    problems: dict[str, Text] = {}
    numbers: dict[str, int] = {}
    for name, value in typed.items():
        parsed = parse_number(value)
        if isinstance(parsed, Text):
            problems[name] = parsed
        else:
            numbers[name] = parsed
    if not problems:
        change = BookingChange(**numbers)
        try:
            await _run(
                session,
                lambda unit: set_booking_settings(
                    session=unit,
                    school_id=staff.person.school_id,
                    actor=staff.person,
                    change=change,
                    now=web.now(),
                ),
            )
        except InputInvalid as refused:
            problems = field_problems(refused) or {"form": refused.reason}
        else:
            return _done("/settings/booking", "booking")
    return _booking_page(request, staff, found, typed=typed, problems=problems, status_code=422)


# --- about the support room ----------------------------------------------------------------


async def _about_page(
    request: Request,
    staff: Staff,
    session: SessionDep,
    *,
    done: str = "",
    typed: Mapping[str, str] | None = None,
    problems: Mapping[str, Text] | None = None,
    status_code: int = 200,
) -> Response:
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    stored = await _run(
        session, lambda unit: about_texts_for_admin(session=unit, actor=staff.person)
    )
    texts = {**stored, **(typed or {})}
    months = found.care_retention_months
    defaults = {
        language: "\n\n".join(
            web.catalog(language).render(paragraph) for paragraph in default_about(months=months)
        )
        for language in texts
    }
    return settings_page(
        request,
        "about.html",
        staff=staff,
        found=found,
        section="about",
        done=done,
        status_code=status_code,
        texts=texts,
        defaults=defaults,
        language_names=LANGUAGE_NAMES,
        about_max=ABOUT_MAX,
        problems=problems or {},
    )


async def about_page(
    request: Request, *, staff: AdminDep, session: SessionDep, done: str = ""
) -> Response:
    """The school's own "About the support room" text per language (empty: the default)."""
    return await _about_page(request, staff, session, done=done)


async def save_about(
    request: Request,
    *,
    staff: AdminDep,
    session: SessionDep,
    language: str,
    text: Field = "",
) -> Response:
    """Store one language's text (``settings.about``); an empty text brings the default back."""
    web = web_of(request)
    if language not in LANGUAGE_NAMES:
        raise NotAvailable
    problem = about_problem(text)
    if problem is None:
        try:
            await _run(
                session,
                lambda unit: set_about_text(
                    session=unit, actor=staff.person, language=language, text=text, now=web.now()
                ),
            )
        except InputInvalid as refused:
            problem = refused.reason
        else:
            return _done("/settings/about", "about")
    return await _about_page(
        request,
        staff,
        session,
        typed={language: text},
        problems={language: problem},
        status_code=422,
    )


def build_router() -> APIRouter:
    """A fresh router with the settings area."""
    router = APIRouter()
    pages: tuple[tuple[str, Callable[..., Awaitable[Response]]], ...] = (
        ("/settings", overview),
        ("/settings/types", types_page),
        ("/settings/hours", hours_page),
        ("/settings/closed-days", closed_page),
        ("/settings/coaches", coaches_page),
        ("/settings/booking", booking_page),
        ("/settings/about", about_page),
    )
    for path, endpoint in pages:
        router.add_api_route(path, endpoint, methods=["GET"])
    forms: tuple[tuple[str, Callable[..., Awaitable[Response]]], ...] = (
        ("/settings/types/{kind}", save_type),
        ("/settings/types/{kind}/add", add_type),
        ("/settings/hours", save_hours),
        ("/settings/closed-days", add_closed),
        ("/settings/closed-days/remove", remove_closed),
        ("/settings/closed-days/holidays", add_holidays),
        ("/settings/coaches/{coach_id:int}", save_coach),
        ("/settings/booking", save_booking),
        ("/settings/about/{language}", save_about),
    )
    for path, endpoint in forms:
        router.add_api_route(path, endpoint, methods=["POST"], dependencies=[CsrfProtected])
    return router
