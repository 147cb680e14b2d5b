"""The outbox texts of appointments: lock-screen safe, in the reader's language, with the .ics
as a document and buttons that route back to `AppointmentCallback` / `MenuCallback`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.types import BufferedInputFile
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.messages import (
    Attachment,
    OutgoingButton,
    OutgoingMessage,
    UnknownMessageError,
    build_message,
)
from bot.outbox.telegram_sender import TelegramSender
from bot.telegram.callbacks import AppointmentCallback, MenuCallback, TimeoutRequestCallback
from dialogs.i18n import FSI, PDI, Catalogs
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.notices import (
    APPOINTMENT_CALENDAR,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_MENTOR_CONFIRM,
    APPOINTMENT_MENTOR_DECLINED,
    APPOINTMENT_REMINDER,
    TIMEOUT_DECIDED,
    TIMEOUT_REQUESTED,
)
from services.appointments.views import AppointmentView
from services.kernel.uow import run_unit_of_work
from services.outbox.store import ClaimedMessage
from storage.models import AppointmentKind, Outbox
from tests.support.booking_world import NOW, TUESDAY, World, at, build_world

CATALOGS = Catalogs()
STARTS = "2026-03-03T07:30:00+00:00"  # Tuesday 3 March 2026, 08:30 in Amsterdam
ENDS = "2026-03-03T08:20:00+00:00"


def claimed(kind: str, payload: dict[str, Any], language: str = "en") -> ClaimedMessage:
    return ClaimedMessage(
        outbox_id=1,
        kind=kind,
        payload=payload,
        recipient_id=9,
        chat_id=99,
        language=language,
        attempt=1,
    )


BASE = {"appointment_id": 12, "version": 2, "kind": "time_out", "starts_at": STARTS}


def test_the_mentor_is_asked_with_three_buttons_that_route_back() -> None:
    message = build_message(
        claimed(APPOINTMENT_MENTOR_CONFIRM, {**BASE, "kind": "intake"}), CATALOGS
    )
    assert message.text.startswith(
        "You are asked to be at an intake meeting on Tuesday, March 3, 8:30\u202fAM."
    )
    yes, no, show = (AppointmentCallback.unpack(b.payload) for b in message.buttons)
    assert (yes.action, yes.appointment, yes.version) == ("yes", 12, 2)
    assert (no.action, no.appointment, no.version) == ("no", 12, 2)
    assert show.action == "show"


def test_reminders_the_day_before_and_the_hour_before() -> None:
    day = build_message(claimed(APPOINTMENT_REMINDER, {**BASE, "when": "day"}), CATALOGS)
    hour = build_message(claimed(APPOINTMENT_REMINDER, {**BASE, "when": "hour"}), CATALOGS)
    assert day.text == (
        "A reminder: you have an appointment tomorrow, Tuesday, March 3, 8:30\u202fAM."
    )
    assert hour.text == "A reminder: your appointment starts at 8:30\u202fAM."
    assert MenuCallback.unpack(day.buttons[0].payload).action == "appointments"


def test_dutch_reminders_use_the_24_hour_clock() -> None:
    late = {**BASE, "starts_at": "2026-03-03T13:30:00+00:00", "when": "hour"}
    message = build_message(claimed(APPOINTMENT_REMINDER, late, "nl"), CATALOGS)
    assert "14:30" in message.text


def test_arabic_times_are_isolated() -> None:
    message = build_message(claimed(APPOINTMENT_REMINDER, {**BASE, "when": "day"}, "ar"), CATALOGS)
    assert FSI in message.text
    assert PDI in message.text


def test_the_calendar_file_goes_with_the_message() -> None:
    payload = {**BASE, "ends_at": ENDS, "cancelled": False}
    message = build_message(claimed(APPOINTMENT_CALENDAR, payload), CATALOGS)
    assert message.attachment is not None
    assert message.attachment.filename == "appointment-12.ics"
    event = Calendar.from_ical(message.attachment.data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Time-out moment"
    assert event.decoded("SEQUENCE") == 2
    assert event.decoded("DTSTART") == datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    assert "calendar file" in message.text


def test_a_cancelled_appointment_sends_a_cancelling_file() -> None:
    payload = {**BASE, "version": 3, "ends_at": ENDS, "cancelled": True}
    message = build_message(claimed(APPOINTMENT_CALENDAR, payload, "nl"), CATALOGS)
    assert message.attachment is not None
    calendar = Calendar.from_ical(message.attachment.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (APPOINTMENT_CANCELLED, {**BASE, "late": True}, "cancelled at short notice"),
        (APPOINTMENT_CANCELLED, {**BASE, "late": False}, "has been cancelled."),
        (APPOINTMENT_MENTOR_DECLINED, {**BASE, "kind": "intake"}, "mentor cannot come"),
        (TIMEOUT_DECIDED, {"queue_item_id": 4, "approved": True}, "is approved"),
        (TIMEOUT_DECIDED, {"queue_item_id": 4, "approved": False}, "not approved"),
    ],
)
def test_every_appointment_kind_has_its_text(
    kind: str, payload: dict[str, Any], expected: str
) -> None:
    assert expected in build_message(claimed(kind, payload), CATALOGS).text


def test_the_care_coordinator_opens_a_time_out_request_from_its_notice() -> None:
    message = build_message(claimed(TIMEOUT_REQUESTED, {"queue_item_id": 4}), CATALOGS)
    [button] = message.buttons
    data = TimeoutRequestCallback.unpack(button.payload)
    assert (data.action, data.item) == ("open", 4)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (APPOINTMENT_REMINDER, {"version": 1}),
        (APPOINTMENT_CALENDAR, {**BASE}),  # no ends_at
        (APPOINTMENT_MENTOR_CONFIRM, {**BASE, "version": None}),
        (TIMEOUT_REQUESTED, {}),
    ],
)
def test_an_incomplete_payload_is_refused(kind: str, payload: dict[str, Any]) -> None:
    with pytest.raises(UnknownMessageError):
        build_message(claimed(kind, payload), CATALOGS)


# -- real rows, written by storage -----------------------------------------------------------


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    return await build_world(session_factory)


async def test_what_a_booking_queues_names_nobody(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session:
        view = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=at(TUESDAY, 8, 30),
                now=NOW,
            ),
        )
    assert isinstance(view, AppointmentView)
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=view.appointment_id, now=NOW
            ),
        )
    async with session_factory() as session:
        rows = list(await session.scalars(select(Outbox).order_by(Outbox.id)))
    kinds = {row.kind for row in rows}
    assert {APPOINTMENT_CALENDAR, APPOINTMENT_REMINDER} <= kinds
    for row in rows:
        for language in ("nl", "en", "ar"):
            message = build_message(claimed(row.kind, row.payload, language), CATALOGS)
            shown = message.text + "".join(b.label for b in message.buttons)
            for private in (world.student.given_name, world.student.family_name):
                assert private not in shown


# -- the sender ------------------------------------------------------------------------------


@dataclass
class DocumentBot:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def send_message(self, **kwargs: Any) -> None:
        self.sent.append(("message", kwargs))

    async def send_document(self, **kwargs: Any) -> None:
        self.sent.append(("document", kwargs))


async def test_an_attachment_is_sent_as_a_document_with_the_text_as_caption() -> None:
    bot = DocumentBot()
    message = OutgoingMessage(
        outbox_id=1,
        chat_id=5,
        text="Your appointment",
        buttons=(OutgoingButton("My appointments", "m:appointments:"),),
        attachment=Attachment("appointment-1.ics", b"BEGIN:VCALENDAR"),
    )
    await TelegramSender(cast(Bot, bot)).send(message)
    [(method, sent)] = bot.sent
    assert method == "document"
    document = sent["document"]
    assert isinstance(document, BufferedInputFile)
    assert (document.filename, document.data) == ("appointment-1.ics", b"BEGIN:VCALENDAR")
    assert (sent["chat_id"], sent["caption"], sent["parse_mode"]) == (5, "Your appointment", None)
    [[button]] = sent["reply_markup"].inline_keyboard
    assert button.callback_data == "m:appointments:"
