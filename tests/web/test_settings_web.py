"""The administrator's settings area on the web (issue 12): who may open it, each form's
success (saved, audited, a success message) and refusal (the problem next to the field,
translated, what was typed kept), CSRF, and the booking options following a change at once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.appointments.access import bookable_kinds
from services.appointments.slots import Slot, free_slots
from services.demo.school import DEMO_PASSWORD
from storage.models import (
    AppointmentKind,
    AppointmentType,
    BookingSettings,
    ClosedDay,
    CoachAvailability,
    OpeningHours,
)
from tests.web.settings_world import SettingsWorld, build_settings_world, real_clock
from tests.web.staff_client import OTHER_PASSWORD, Browser, staff_app

ZONE = ZoneInfo("Europe/Amsterdam")
PAGES = (
    "/settings",
    "/settings/types",
    "/settings/hours",
    "/settings/closed-days",
    "/settings/coaches",
    "/settings/booking",
)


@pytest.fixture
async def world(
    engine: AsyncEngine, database_url: str
) -> AsyncIterator[tuple[SettingsWorld, httpx.ASGITransport]]:
    del engine  # migrated by the fixture
    clock = real_clock()
    async with staff_app(database_url, clock) as (app, transport):
        yield await build_settings_world(app, clock), transport


@pytest.fixture
async def browser_for(
    world: tuple[SettingsWorld, httpx.ASGITransport],
) -> AsyncIterator[object]:
    _world, transport = world
    opened: list[Browser] = []

    async def open_browser(
        username: str, password: str = DEMO_PASSWORD, language: str = "en"
    ) -> Browser:
        browser = Browser(transport, language)
        opened.append(browser)
        answer = await browser.log_in(username, password)
        assert answer.status_code == 303, username
        return browser

    yield open_browser
    for browser in opened:
        await browser.close()


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


async def _admin(browser_for: object, language: str = "en") -> Browser:
    return await browser_for("admin", language=language)  # type: ignore[operator, no-any-return]


# --- access --------------------------------------------------------------------------------


async def test_the_admin_opens_every_page_and_sees_the_entry_in_the_navigation(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    admin = await _admin(browser_for)
    for path in PAGES:
        answer = await admin.get(path)
        assert answer.status_code == 200, path
        assert 'href="/settings"' in answer.text.split("<main")[0], path
    overview = _text(_main((await admin.get("/settings")).text))
    assert "Europe/Amsterdam" in overview
    assert "Vmbo Zuid" not in overview
    coaches = _main((await admin.get("/settings/coaches")).text)
    assert "Jeroen Trajectveld" in coaches


@pytest.mark.parametrize("language", ["nl", "ar", "tr", "pl", "uk"])
async def test_every_page_is_in_the_administrators_language(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object, language: str
) -> None:
    admin = await _admin(browser_for, language=language)
    english = ("Opening hours", "Closed days", "Booking rules", "Save", "Who books")
    for path in PAGES:
        answer = await admin.get(path)
        assert answer.status_code == 200, (language, path)
        main = _main(admin.text)
        assert not [word for word in english if f">{word}<" in main], (language, path)
    assert f'lang="{language}"' in admin.text
    if language == "ar":
        assert 'dir="rtl"' in admin.text


@pytest.mark.parametrize("username", ["zoco", "coach", "mentor1"])
async def test_care_coordinators_coaches_and_mentors_are_refused(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object, username: str
) -> None:
    demo, _ = world
    password = OTHER_PASSWORD if username == "mentor1" else DEMO_PASSWORD
    person = await browser_for(username, password)  # type: ignore[operator]
    home = await person.get("/queue" if username == "zoco" else "/")
    assert 'href="/settings"' not in home.text
    for path in PAGES:
        assert (await person.get(path)).status_code == 403, path
    # A form posted anyway (with the person's own valid token) changes nothing.
    assert person.page is not None
    token = re.search(r'name="csrf_token" value="([^"]+)"', person.page.text)  # logout form
    assert token is not None
    answer = await person.client.post(
        "/settings/booking",
        data={
            "csrf_token": token.group(1),
            "lead_time_minutes": "0",
            "late_cancel_hours": "1",
            "horizon_days": "5",
            "day_reminder_hour": "8",
            "timeouts_per_week": "9",
        },
    )
    assert answer.status_code == 403
    assert await demo.audit("settings.booking") == []


async def test_nobody_logged_in_is_sent_to_the_login_page(
    world: tuple[SettingsWorld, httpx.ASGITransport],
) -> None:
    _demo, transport = world
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/settings/hours")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_another_schools_admin_sees_and_changes_only_their_own_school(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    other = await browser_for("beheer-zuid", OTHER_PASSWORD)  # type: ignore[operator]
    page = _text(_main((await other.get("/settings")).text))
    assert "Vmbo Zuid" in page
    assert "vmbo-zuid" in page
    assert "South" in page  # the region
    coaches = (await other.get("/settings/coaches")).text
    assert "Trajectveld" not in coaches  # the demo school's coach is not listed
    assert "The school has no coaches yet" in other.text
    # The demo school's coach, addressed by id: not found, nothing written.
    coach_id = demo.ids["coach"]
    answer = await other.post(f"/settings/coaches/{coach_id}", {"day_0": "08:00-09:00"})
    assert answer.status_code == 404
    assert await demo.audit("settings.coach_hours") == []
    # Their hours form changes their school only.
    await other.get("/settings/hours")
    assert (await other.post("/settings/hours", _week(mon=("07:00", "12:00")))).status_code == 303
    async with demo.app.sessions() as session:
        demo_monday = await session.scalar(
            select(OpeningHours).where(
                OpeningHours.school_id == demo.school_id, OpeningHours.weekday == 0
            )
        )
        other_monday = await session.scalar(
            select(OpeningHours).where(
                OpeningHours.school_id == demo.other_school_id, OpeningHours.weekday == 0
            )
        )
    assert demo_monday is not None
    assert other_monday is not None
    assert demo_monday.opens_at == time(8, 30)
    assert other_monday.opens_at == time(7, 0)


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/closed-days")
    for path, data in (
        ("/settings/closed-days", {"first": "2031-01-06", "label": "Studiedag"}),
        ("/settings/hours", _week()),
        ("/settings/booking", {"horizon_days": "30"}),
        ("/settings/closed-days", {"first": "2031-01-06", "csrf_token": "forged"}),
    ):
        answer = await admin.post(path, data, token=False)
        assert answer.status_code == 403, path
        assert "This form was not sent from this site" in admin.text
    async with demo.app.sessions() as session:
        assert (
            await session.scalar(select(ClosedDay).where(ClosedDay.day == date(2031, 1, 6))) is None
        )
    assert await demo.audit("settings.closed_days.add") == []


# --- appointment types ---------------------------------------------------------------------


async def _type_row(demo: SettingsWorld, kind: AppointmentKind) -> AppointmentType:
    async with demo.app.sessions() as session:
        row = await session.scalar(
            select(AppointmentType).where(
                AppointmentType.school_id == demo.school_id, AppointmentType.kind == kind
            )
        )
        assert row is not None
        return row


def _type_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "duration": "50",
        "step": "50",
        "buffer": "0",
        "capacity": "4",
        "lead_time": "0",
        "bookable_by": ["student"],
        "attendees": ["student"],
        "active": "1",
    }
    form.update(changes)
    return form


async def test_an_appointment_type_is_changed_and_audited(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/types")
    answer = await admin.post(
        "/settings/types/time_out",
        _type_form(
            capacity="6", step="25", duration="25", bookable_by=["student", "care_coordinator"]
        ),
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/settings/types?done=type"
    page = await admin.get(answer.headers["location"])
    assert "The appointment type has been saved." in admin.text
    assert (
        'id="time_out-capacity" name="capacity" inputmode="numeric" size="5" value="6"' in page.text
    )
    row = await _type_row(demo, AppointmentKind.TIME_OUT)
    assert (row.capacity, row.step_minutes, row.duration_minutes) == (6, 25, 25)
    assert sorted(row.bookable_by) == ["care_coordinator", "student"]
    assert row.lead_time_minutes == 0
    (audited,) = await demo.audit("settings.appointment_type")
    assert audited.actor_id == demo.ids["admin"]
    assert audited.school_id == demo.school_id
    assert audited.details["kind"] == "time_out"
    assert audited.details["capacity"] == 6
    # An empty lead time: the school's lead time again.
    await admin.post("/settings/types/time_out", _type_form(capacity="6", lead_time=""))
    assert (await _type_row(demo, AppointmentKind.TIME_OUT)).lead_time_minutes is None


async def test_a_refused_type_shows_the_problems_next_to_the_fields_and_keeps_the_values(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/types")
    # Not a number (parsed by the page), and out of range (the service's rule).
    answer = await admin.post(
        "/settings/types/time_out", _type_form(duration="lang", capacity="99")
    )
    assert answer.status_code == 422
    assert 'id="time_out-duration-problem"' in answer.text
    assert "“lang” is not a whole number" in admin.text
    assert 'value="lang"' in answer.text
    answer = await admin.post("/settings/types/time_out", _type_form(capacity="99", attendees=[]))
    assert answer.status_code == 422
    capacity = re.search(
        r'<p class="problem" id="time_out-capacity-problem"[^>]*>(.*?)</p>', admin.text
    )
    assert capacity is not None
    assert capacity.group(1) == "The room must have from 1 to 50 places."
    assert 'id="time_out-attendees-problem"' in answer.text
    assert 'value="99"' in answer.text
    # A coach's type follows the quarter hours (next to the step).
    answer = await admin.post(
        "/settings/types/gesprek",
        _type_form(
            duration="30", step="20", capacity="1", lead_time="", attendees=["student", "coach"]
        ),
    )
    assert answer.status_code == 422
    assert 'id="gesprek-step-problem"' in answer.text
    assert "follow the quarter hours" in admin.text
    assert 'id="gesprek-step" name="step" inputmode="numeric" size="5" value="20"' in answer.text
    # Nothing was written.
    assert (await _type_row(demo, AppointmentKind.TIME_OUT)).capacity == 4
    assert (await _type_row(demo, AppointmentKind.GESPREK)).step_minutes == 30
    assert await demo.audit("settings.appointment_type") == []


async def test_a_missing_type_is_added_with_the_standard_settings(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    async with demo.app.sessions() as session, session.begin():
        await session.execute(
            delete(AppointmentType).where(
                AppointmentType.school_id == demo.school_id,
                AppointmentType.kind == AppointmentKind.EVALUATION,
            )
        )
    admin = await _admin(browser_for)
    page = await admin.get("/settings/types")
    assert 'action="/settings/types/evaluation/add"' in page.text
    assert 'id="type-evaluation"' not in page.text
    answer = await admin.post("/settings/types/evaluation/add")
    assert answer.status_code == 303
    page = await admin.get(answer.headers["location"])
    assert "The appointment type has been added with the standard settings." in admin.text
    assert 'id="type-evaluation"' in page.text
    assert 'action="/settings/types/evaluation/add"' not in page.text
    row = await _type_row(demo, AppointmentKind.EVALUATION)
    assert (row.duration_minutes, row.step_minutes, row.buffer_minutes) == (45, 30, 15)
    (audited,) = await demo.audit("settings.appointment_type")
    assert audited.details["kind"] == "evaluation"
    assert audited.actor_id == demo.ids["admin"]
    # An unknown kind is not found.
    assert (await admin.post("/settings/types/haircut/add")).status_code == 404


async def test_the_problem_is_in_the_administrators_language(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    admin = await _admin(browser_for, language="nl")
    await admin.get("/settings/booking")
    typed = {
        "lead_time_minutes": "120",
        "late_cancel_hours": "24",
        "horizon_days": "500",
        "day_reminder_hour": "18",
        "timeouts_per_week": "2",
    }
    # Refused by the service's rule.
    answer = await admin.post("/settings/booking", typed)
    assert answer.status_code == 422
    horizon = re.search(r'id="horizon_days-problem"[^>]*>(.*?)</p>', admin.text)
    assert horizon is not None
    assert horizon.group(1) == "Maximaal vooruit inplannen moet 1 tot en met 120 dagen zijn."
    assert 'value="500"' in answer.text
    # Not a number: refused before the service.
    answer = await admin.post("/settings/booking", {**typed, "timeouts_per_week": "twee"})
    assert answer.status_code == 422
    timeouts = re.search(r'id="timeouts_per_week-problem"[^>]*>(.*?)</p>', admin.text)
    assert timeouts is not None
    assert "“twee” is geen heel getal" in timeouts.group(1)
    assert 'value="twee"' in answer.text
    assert "Instellingen" in admin.text


# --- booking rules -------------------------------------------------------------------------


async def test_the_booking_rules_and_the_time_out_cap_are_saved_and_audited(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/booking")
    answer = await admin.post(
        "/settings/booking",
        {
            "lead_time_minutes": "60",
            "late_cancel_hours": "12",
            "horizon_days": "28",
            "day_reminder_hour": "17",
            "timeouts_per_week": "3",
        },
    )
    assert answer.status_code == 303
    await admin.get(answer.headers["location"])
    assert "The booking rules have been saved." in admin.text
    async with demo.app.sessions() as session:
        rules = await session.get_one(BookingSettings, demo.school_id)
    assert (
        rules.lead_time_minutes,
        rules.late_cancel_hours,
        rules.horizon_days,
        rules.day_reminder_hour,
        rules.timeouts_per_week,
    ) == (60, 12, 28, 17, 3)
    (audited,) = await demo.audit("settings.booking")
    assert audited.actor_id == demo.ids["admin"]
    assert audited.details["timeouts_per_week"] == 3
    # Out of range: refused by the service, next to the field.
    answer = await admin.post(
        "/settings/booking",
        {
            "lead_time_minutes": "60",
            "late_cancel_hours": "12",
            "horizon_days": "28",
            "day_reminder_hour": "24",
            "timeouts_per_week": "11",
        },
    )
    assert answer.status_code == 422
    assert 'id="day_reminder_hour-problem"' in answer.text
    assert "Time-outs per week must be a number from 0 to 10." in admin.text
    assert len(await demo.audit("settings.booking")) == 1


# --- opening hours -------------------------------------------------------------------------


def _week(**days: tuple[str, str] | None) -> dict[str, str]:
    """The hours form: Monday to Friday 08:30-16:30 unless given (None: closed)."""
    form: dict[str, str] = {}
    for day, code in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        hours = days.get(code, ("08:30", "16:30") if day < 5 else None)
        if hours is not None:
            form[f"open_{day}"] = "1"
            form[f"opens_{day}"], form[f"closes_{day}"] = hours
    return form


async def test_opening_hours_are_saved_per_changed_weekday_and_audited(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/hours")
    answer = await admin.post("/settings/hours", _week(mon=("09:00", "15:00"), wed=None))
    assert answer.status_code == 303
    await admin.get(answer.headers["location"])
    assert "The opening hours have been saved." in admin.text
    async with demo.app.sessions() as session:
        rows = {
            row.weekday: (row.opens_at, row.closes_at)
            for row in await session.scalars(
                select(OpeningHours).where(OpeningHours.school_id == demo.school_id)
            )
        }
    assert rows[0] == (time(9, 0), time(15, 0))
    assert 2 not in rows
    assert rows[1] == (time(8, 30), time(16, 30))
    audited = await demo.audit("settings.opening_hours")
    assert sorted(row.details["weekday"] for row in audited) == ["mon", "wed"]
    assert all(row.actor_id == demo.ids["admin"] for row in audited)


async def test_refused_opening_hours_keep_every_weekday_as_typed_and_change_nothing(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/hours")
    answer = await admin.post(
        "/settings/hours", _week(mon=("07:45", "15:00"), thu=("16:00", "09:00"), fri=("8", "12:00"))
    )
    assert answer.status_code == 422
    thursday = re.search(r'id="hours-3-problem"[^>]*>(.*?)</p>', admin.text)
    friday = re.search(r'id="hours-4-problem"[^>]*>(.*?)</p>', admin.text)
    assert friday is not None
    assert "“8” is not a time" in friday.group(1)
    assert thursday is None  # the page's own check stopped before the service
    assert 'name="opens_0" value="07:45"' in answer.text
    answer = await admin.post(
        "/settings/hours", _week(mon=("07:45", "15:00"), thu=("16:00", "09:00"))
    )
    assert answer.status_code == 422
    thursday = re.search(r'id="hours-3-problem"[^>]*>(.*?)</p>', admin.text)
    assert thursday is not None
    assert thursday.group(1) == "Closing time must be after opening time."
    assert 'name="opens_3" value="16:00"' in answer.text
    assert 'name="opens_0" value="07:45"' in answer.text
    # All or nothing: Monday was not saved either.
    async with demo.app.sessions() as session:
        monday = await session.scalar(
            select(OpeningHours).where(
                OpeningHours.school_id == demo.school_id, OpeningHours.weekday == 0
            )
        )
    assert monday is not None
    assert monday.opens_at == time(8, 30)
    assert await demo.audit("settings.opening_hours") == []


# --- closed days and holidays --------------------------------------------------------------


async def _closed(demo: SettingsWorld) -> dict[date, str | None]:
    async with demo.app.sessions() as session:
        rows = await session.scalars(select(ClosedDay).where(ClosedDay.school_id == demo.school_id))
        return {row.day: row.label for row in rows}


async def test_closed_days_are_added_listed_as_a_range_and_opened_again(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    first = demo.clock.now.date() + timedelta(days=40)
    last = first + timedelta(days=2)
    await admin.get("/settings/closed-days")
    answer = await admin.post(
        "/settings/closed-days",
        {"first": first.isoformat(), "last": last.isoformat(), "label": "Studiedagen"},
    )
    assert answer.status_code == 303
    page = await admin.get(answer.headers["location"])
    assert "The closed days have been saved." in admin.text
    assert "(3 days)" in admin.text
    row = re.search(
        rf'<tr data-first="{first.isoformat()}" data-last="{last.isoformat()}">.*?</tr>',
        page.text,
        re.DOTALL,
    )
    assert row is not None
    assert "Studiedagen" in row.group(0)
    closed = await _closed(demo)
    assert all(closed[first + timedelta(days=n)] == "Studiedagen" for n in range(3))
    (audited,) = await demo.audit("settings.closed_days.add")
    assert audited.actor_id == demo.ids["admin"]
    assert audited.details == {"start": first.isoformat(), "end": last.isoformat(), "added": 3}
    # Opened again (the range's button).
    answer = await admin.post(
        "/settings/closed-days/remove", {"first": first.isoformat(), "last": last.isoformat()}
    )
    assert answer.status_code == 303
    await admin.get(answer.headers["location"])
    assert "The days are open again for bookings." in admin.text
    assert first not in await _closed(demo)
    (removed,) = await demo.audit("settings.closed_days.remove")
    assert removed.details["removed"] == 3


async def test_refused_closed_days_keep_the_form(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    await admin.get("/settings/closed-days")
    answer = await admin.post(
        "/settings/closed-days", {"first": "2031-03-10", "last": "2031-03-01", "label": "Toetsweek"}
    )
    assert answer.status_code == 422
    problem = re.search(r'id="last-problem"[^>]*>(.*?)</p>', admin.text)
    assert problem is not None
    assert problem.group(1) == "The last day must be on or after the first day."
    assert 'value="2031-03-10"' in answer.text
    assert 'value="Toetsweek"' in answer.text
    answer = await admin.post("/settings/closed-days", {"first": "10-03-2031", "label": "x" * 101})
    assert answer.status_code == 422
    assert 'id="first-problem"' in answer.text
    answer = await admin.post("/settings/closed-days", {"first": "2031-03-10", "label": "x" * 101})
    assert answer.status_code == 422
    assert "A label has at most 100 characters." in admin.text
    assert date(2031, 3, 10) not in await _closed(demo)
    assert await demo.audit("settings.closed_days.add") == []


async def test_the_regions_school_holidays_of_one_school_year_are_added(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    page = await admin.get("/settings/closed-days?region=zuid")
    assert page.status_code == 200
    years = re.findall(r'<ul class="plain holidays" data-year="([^"]+)"', page.text)
    assert years  # the shipped data has coming school years
    # Unchecked data is marked as such.
    if "2026-2027" in years:
        assert 'data-unchecked="2026-2027"' in page.text
    assert 'data-unchecked="2027-2028"' not in page.text
    year = years[-1]
    answer = await admin.post("/settings/closed-days/holidays", {"region": "zuid", "year": year})
    assert answer.status_code == 303
    await admin.get(answer.headers["location"])
    assert "The school holidays have been added as closed days." in admin.text
    closed = await _closed(demo)
    labels = {label for label in closed.values() if label}
    assert {"Herfstvakantie", "Kerstvakantie", "Zomervakantie"} <= labels
    (audited,) = [
        row for row in await demo.audit("settings.holidays") if row.school_id == demo.school_id
    ]
    assert audited.actor_id == demo.ids["admin"]
    assert audited.details["school_year"] == year
    assert audited.details["region"] == "zuid"
    assert audited.details["added"] > 30
    # A school year that is not in the data: refused, nothing added.
    answer = await admin.post(
        "/settings/closed-days/holidays", {"region": "zuid", "year": "1999-2000"}
    )
    assert answer.status_code == 422
    assert "There are no school holidays for the school year “1999-2000”" in admin.text
    assert len(await demo.audit("settings.holidays")) == 2  # this one and the other school's


# --- coaches' hours ------------------------------------------------------------------------


async def test_a_coachs_hours_are_saved_and_refused_spans_keep_the_form(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    coach_id = demo.ids["coach"]
    page = await admin.get("/settings/coaches")
    assert f'id="coach-{coach_id}-day-0" name="day_0" value="09:00-12:00 13:00-16:00"' in page.text
    days = {f"day_{day}": "09:00-12:00 13:00-16:00" for day in range(5)}
    answer = await admin.post(
        f"/settings/coaches/{coach_id}", {**days, "day_2": "", "day_5": "10:00-12:00"}
    )
    assert answer.status_code == 303
    await admin.get(answer.headers["location"])
    assert "The coach's hours have been saved." in admin.text
    async with demo.app.sessions() as session:
        rows = list(
            await session.scalars(
                select(CoachAvailability).where(CoachAvailability.coach_id == coach_id)
            )
        )
    weekdays = {row.weekday for row in rows}
    assert 2 not in weekdays
    assert 5 in weekdays
    audited = await demo.audit("settings.coach_hours")
    assert sorted(row.details["weekday"] for row in audited) == ["sat", "wed"]
    assert all(row.subject_id == coach_id for row in audited)
    # Overlapping spans: the service's refusal, next to that day; typed text kept.
    answer = await admin.post(
        f"/settings/coaches/{coach_id}", {**days, "day_1": "09:00-12:00, 11:00-13:00"}
    )
    assert answer.status_code == 422
    problem = re.search(rf'id="coach-{coach_id}-day-1-problem"[^>]*>(.*?)</p>', admin.text)
    assert problem is not None
    assert problem.group(1) == "The spans of time of one day must not overlap."
    assert 'value="09:00-12:00, 11:00-13:00"' in answer.text
    answer = await admin.post(f"/settings/coaches/{coach_id}", {**days, "day_4": "morgens"})
    assert answer.status_code == 422
    assert "is not a span of time" in admin.text
    assert len(await demo.audit("settings.coach_hours")) == 2
    # An unknown id is not found.
    assert (await admin.post("/settings/coaches/999999", days)).status_code == 404


# --- shown in the booking flows at once ----------------------------------------------------


async def _time_out_slots(demo: SettingsWorld) -> list[Slot]:
    daan = await demo.person("lln01")
    async with demo.app.sessions() as session:
        return await free_slots(
            session=session,
            person=daan,
            student_id=daan.id,
            kind=AppointmentKind.TIME_OUT,
            now=demo.clock.now,
        )


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


async def test_a_change_on_the_web_shows_in_the_booking_options_at_once(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: object
) -> None:
    demo, _ = world
    admin = await _admin(browser_for)
    before = await _time_out_slots(demo)
    days = sorted({_local(slot.starts_at).date() for slot in before})
    assert len(days) >= 5
    assert all(slot.free_places == 4 for slot in before)
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=50) for slot in before)

    # The type: 25 minutes every 25 minutes, 6 places.
    await admin.get("/settings/types")
    answer = await admin.post(
        "/settings/types/time_out", _type_form(duration="25", step="25", capacity="6")
    )
    assert answer.status_code == 303
    after_type = await _time_out_slots(demo)
    assert all(slot.free_places == 6 for slot in after_type)
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=25) for slot in after_type)
    assert len(after_type) > len(before)

    # A closed day: no time that day any more.
    closed = days[-1]
    await admin.get("/settings/closed-days")
    answer = await admin.post(
        "/settings/closed-days", {"first": closed.isoformat(), "label": "Studiedag"}
    )
    assert answer.status_code == 303
    after_closed = await _time_out_slots(demo)
    assert closed not in {_local(slot.starts_at).date() for slot in after_closed}
    assert days[-2] in {_local(slot.starts_at).date() for slot in after_closed}

    # Opening hours: Tuesdays closed, Mondays from 10:00.
    await admin.get("/settings/hours")
    answer = await admin.post("/settings/hours", _week(mon=("10:00", "16:30"), tue=None))
    assert answer.status_code == 303
    after_hours = await _time_out_slots(demo)
    local = [_local(slot.starts_at) for slot in after_hours]
    assert all(moment.weekday() != 1 for moment in local)
    assert all(moment.time() >= time(10, 0) for moment in local if moment.weekday() == 0)
    assert any(moment.weekday() == 0 for moment in local)

    # A type no longer offered: the chat's "which kind?" question leaves it out.
    daan = await demo.person("lln01")
    async with demo.app.sessions() as session:
        kinds = await bookable_kinds(
            session=session, person=daan, student_id=daan.id, now=demo.clock.now
        )
    assert AppointmentKind.GESPREK in kinds
    await admin.get("/settings/types")
    answer = await admin.post(
        "/settings/types/gesprek",
        _type_form(
            duration="30", step="30", lead_time="", attendees=["student", "coach"], active=""
        ),
    )
    assert answer.status_code == 303
    async with demo.app.sessions() as session:
        kinds = await bookable_kinds(
            session=session, person=daan, student_id=daan.id, now=demo.clock.now
        )
    assert AppointmentKind.GESPREK not in kinds
    assert AppointmentKind.TIME_OUT in kinds
