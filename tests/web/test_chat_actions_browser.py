"""The mentor's intake question in a real browser (headless Chromium, phone-sized), in Arabic.

A mentor without Telegram follows the e-mail's link (``/c/<token>?then=intake-confirm/<id>``):
the chat opens on the intake page, right to left, and tapping "Yes, I will be there" confirms
the intake. Screenshots under ``test-artifacts/web-chat/``.
"""

from __future__ import annotations

from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.invites import create_invite
from services.appointments.booking import book
from services.appointments.views import AppointmentView
from storage.models import Appointment, AppointmentKind, AppointmentStatus, Person, Role
from tests.support import booking_world
from tests.support.factories import NOW
from tests.support.units import unit
from tests.web.test_chat_browser import (  # noqa: F401 - the fixtures browser, live_server
    browser,
    label,
    live_server,
    phone,
    shot,
    tap,
)


async def test_an_arabic_mentor_confirms_the_intake_from_the_link_by_tapping(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    base, sessions = live_server
    world = await booking_world.build_world(sessions)
    booked = await unit(
        sessions,
        book,
        actor=world.parent,
        student_id=world.newcomer.id,
        kind=AppointmentKind.INTAKE,
        starts_at=booking_world.at(booking_world.WEDNESDAY, 10),
        now=NOW,
    )
    assert isinstance(booked, AppointmentView)
    async with sessions() as session, session.begin():
        mentor = await session.get_one(Person, world.mentor.id)
        mentor.language = "ar"
        token = await create_invite(session=session, person=mentor, role=Role.MENTOR, now=NOW)

    page = await phone(browser, "ar")
    await page.goto(f"{base}/c/{token}?then=intake-confirm/{booked.appointment_id}")
    assert await page.get_attribute("html", "dir") == "rtl"
    await tap(page, label("ar", "Open the chat"))
    assert page.url.endswith(f"/chat/intake-confirm/{booked.appointment_id}")
    assert await page.get_attribute("html", "lang") == "ar"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert world.newcomer.given_name in await page.locator("#current").inner_text()
    await shot(page, "mentor-ar-01-intake")
    await tap(page, label("ar", "Yes, I will be there"))
    assert page.url.endswith("/chat#current")
    thanks = label("ar", "Thank you. The intake is confirmed; everyone gets the calendar file.")
    assert thanks in await page.locator(".bubble.done").inner_text()
    await shot(page, "mentor-ar-02-confirmed")

    async with sessions() as session:
        stored = await session.get_one(Appointment, booked.appointment_id)
    assert (stored.status, stored.mentor_confirmed) == (AppointmentStatus.CONFIRMED, True)
