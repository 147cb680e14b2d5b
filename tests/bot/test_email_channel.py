"""E-mail as the second channel (issue 12, deliverable 3), against a real SMTP server.

The outbox worker sends through the product's `EmailSender` (aiosmtplib) to an aiosmtpd
server on 127.0.0.1 started by the test (`tests.support.smtp_server`); every message is read
back with the ``email`` package: the texts of the Telegram message in the reader's language,
a translated subject, the .ics as a ``text/calendar`` attachment (read with icalendar), and
a one-time web chat link that the web app redeems once. Telegram is a recording fake.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiolimiter import AsyncLimiter
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.outbox import ChatPacer, OutboxWorker, OutgoingMessage, Unreachable
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.appointments.attendance import confirm_mentor_presence
from services.appointments.booking import book
from services.appointments.notices import APPOINTMENT_CALENDAR, APPOINTMENT_REMINDER
from services.appointments.views import AppointmentView
from services.conversations.web_chat import LinkProblem
from services.kernel.uow import run_unit_of_work
from services.outbox.channels import Channel
from services.outbox.kinds import OutboxKind
from services.outbox.store import WAIT_FOR_CHANNEL, WaitingCount, count_waiting
from services.referrals.decisions import accept_for_intake, take_in_analysis
from services.trajectories.lifecycle import TrajectoryPlan, hold_intake, set_plan
from storage.models import (
    AppointmentKind,
    AuditLog,
    Invite,
    Outbox,
    OutboxStatus,
    Person,
    Trajectory,
)
from tests.bot.test_cli import trajectbot
from tests.support.booking_world import NOW, TUESDAY, WEDNESDAY, World, at, build_world
from tests.support.factories import add_queued_referral
from tests.support.smtp_server import (
    TEST_FROM,
    SmtpTestServer,
    calendar_attachment,
    html_text,
    plain_text,
    sender_for,
    settings_for,
    smtp_server_fixture,  # noqa: F401 - the smtp_server fixture
)
from tests.support.survey_world import survey_world
from tests.support.units import unit
from tests.web.chat_client import chat_app
from web.routes.chat import LINK_PROBLEMS

CATALOGS = Catalogs()
ROOT = Path(__file__).resolve().parents[2]
PIA = "pia.ouder@example.org"
GOALS = "Rustig blijven in de les en op tijd hulp vragen bij de mentor."
LINK = re.compile(r"http://testserver/c/([A-Za-z0-9_-]+)")
Factory = async_sessionmaker[AsyncSession]


def say(language: str, msgid: str, **params: object) -> str:
    return CATALOGS.get(language).render(Text.of(msgid, **params))  # type: ignore[arg-type]


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeTelegram:
    """Records what would have gone by Telegram."""

    sent: list[OutgoingMessage] = field(default_factory=list)
    #: Chats that blocked the bot.
    blocked: set[int] = field(default_factory=set)

    async def send(self, message: OutgoingMessage) -> None:
        if message.chat_id in self.blocked:
            raise Unreachable("blocked")
        self.sent.append(message)


def worker(
    sessions: Factory,
    clock: Clock,
    *,
    server: SmtpTestServer | None = None,
    telegram: FakeTelegram | None = None,
) -> OutboxWorker:
    """A worker with the channels given, without Telegram's pacing."""
    return OutboxWorker(
        sender=telegram,
        email_sender=None if server is None else sender_for(server),
        sessions=sessions,
        catalogs=CATALOGS,
        clock=clock,
        overall=AsyncLimiter(100_000, 1),
        chats=ChatPacer(0.0),
    )


async def drain(outbox: OutboxWorker) -> None:
    while await outbox.drain_once():
        pass


async def set_contact(
    sessions: Factory,
    person_id: int,
    *,
    email: str | None = None,
    language: str | None = None,
    chat: int | None = None,
    preference: str | None = None,
) -> None:
    async with sessions() as session, session.begin():
        person = await session.get_one(Person, person_id)
        person.email = email
        person.channel_preference = preference
        if language is not None:
            person.language = language
        if chat is not None:
            person.telegram_user_id = chat
            person.telegram_chat_id = chat


async def rows(sessions: Factory, kind: str | None = None) -> list[Outbox]:
    async with sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if kind is not None:
            query = query.where(Outbox.kind == kind)
        return list(await session.scalars(query))


async def enqueue(sessions: Factory, school_id: int, recipient_id: int, kind: str) -> int:
    async with sessions() as session, session.begin():
        row = Outbox(
            school_id=school_id,
            recipient_id=recipient_id,
            kind=kind,
            payload={"referral_id": 1, "student_id": 1},
            dedup_key=f"test:{kind}:{recipient_id}",
            next_attempt_at=NOW,
            created_at=NOW,
        )
        session.add(row)
        await session.flush()
        return row.id


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


async def book_confirmed_intake(sessions: Factory, world: World) -> AppointmentView:
    """The parent books the newcomer's intake on Wednesday 10:00; the mentor confirms."""
    async with sessions() as session:
        booked = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=at(WEDNESDAY, 10),
                now=NOW,
            ),
        )
    assert isinstance(booked, AppointmentView)
    async with sessions() as session:
        return await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=booked.appointment_id,
                now=NOW,
                present=True,
                version=1,
            ),
        )


# --- a parent with only e-mail ----------------------------------------------------------------


async def test_an_email_only_parent_gets_the_intake_confirmation_with_the_calendar_file(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA, language="ar")
    confirmed = await book_confirmed_intake(session_factory, world)
    clock = Clock()
    outbox = worker(session_factory, clock, server=smtp_server)
    await drain(outbox)

    [mail] = smtp_server.to(PIA)
    assert mail["To"] == PIA
    assert mail["From"] == TEST_FROM
    assert mail["Subject"] == say("ar", "Your appointment at school")
    assert mail["Content-Language"] == "ar"
    expected = say(
        "ar",
        "Your appointment: {when}. Open the calendar file to put it in your calendar.",
        when=confirmed.starts_at,
    )
    assert plain_text(mail).startswith(expected)
    assert 'dir="rtl"' in html_text(mail)
    # The calendar file as Telegram sends it, as an attachment with its method.
    found = calendar_attachment(mail)
    assert found is not None
    data, part = found
    assert part.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(data)
    assert part.get_param("method") == str(calendar["method"]) == "PUBLISH"
    assert part.get_filename() == f"appointment-{confirmed.appointment_id}.ics"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == at(WEDNESDAY, 10)
    assert event["summary"] == say("ar", "Intake meeting")
    # Nobody's name in the mail (what a lock screen or a shared inbox shows).
    for name in (world.newcomer.given_name, world.newcomer.family_name):
        assert name not in mail.as_string()
    # Recorded as sent by e-mail; the people without any channel are settled as before.
    parent_rows = [r for r in await rows(session_factory) if r.recipient_id == world.parent.id]
    [calendar_row] = [r for r in parent_rows if r.kind == APPOINTMENT_CALENDAR]
    assert (calendar_row.status, calendar_row.channel) == (OutboxStatus.SENT, "email")
    coach_calendar = [
        r
        for r in await rows(session_factory, APPOINTMENT_CALENDAR)
        if r.recipient_id == world.coach.id
    ]
    assert [(r.status, r.last_error) for r in coach_calendar] == [
        (OutboxStatus.UNREACHABLE, "no_chat")
    ]

    # The reminder the day before (Tuesday 18:00), with a link to the parent's appointments.
    smtp_server.clear()
    clock.now = at(WEDNESDAY, 10) - timedelta(hours=16)
    await drain(outbox)
    [reminder] = smtp_server.to(PIA)
    assert reminder["Subject"] == say("ar", "Reminder of your appointment")
    text = plain_text(reminder)
    assert text.startswith(
        say(
            "ar",
            "A reminder: you have an appointment tomorrow, {when}.",
            when=confirmed.starts_at,
        )
    )
    assert say("ar", "My appointments") in text
    assert LINK.search(text)
    assert calendar_attachment(reminder) is None


async def test_an_email_only_parent_gets_the_intake_report_and_reads_it_on_the_web(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    # The newcomer's trajectory: the coach makes the plan, the intake is held: it becomes
    # active and the intake report notice goes to the student, the parent and the mentor.
    async with session_factory() as session:
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == world.newcomer.id)
        )
    assert trajectory is not None
    plan = TrajectoryPlan(
        goals=GOALS,
        start=TUESDAY,
        end=TUESDAY + timedelta(weeks=10),
        evaluations=(TUESDAY + timedelta(weeks=4),),
        timeouts_in_plan=False,
        timeouts_per_week=0,
        coach_id=world.coach.id,
    )
    await run_unit_of_work(
        session_factory,
        lambda s: set_plan(
            session=s, actor=world.coach, trajectory_id=trajectory.id, plan=plan, now=NOW
        ),
    )

    async def held(session: AsyncSession) -> object:
        stored = await session.get_one(Trajectory, trajectory.id)
        return await hold_intake(
            session=session, trajectory=stored, actor_id=world.coach.id, now=NOW
        )

    await run_unit_of_work(session_factory, held)
    await drain(worker(session_factory, Clock(), server=smtp_server))

    [mail] = smtp_server.to(PIA)
    assert mail["Subject"] == "Het verslag van het intakegesprek staat klaar"
    text = plain_text(mail)
    notice = say(
        "nl",
        "The intake meeting has been held and the plan for the extra support at school is ready.",
    )
    # No button in an e-mail: Telegram's "press the button" is left out, the link line says
    # what to open.
    lines = text.replace("\r\n", "\n")
    assert lines.startswith(notice + "\n\n" + say("nl", "Show the intake report") + ":\n")
    assert "Druk op de knop" not in text
    # The notice names nobody and carries no goals; the link opens the report itself.
    assert GOALS not in mail.as_string()
    found = re.search(r"http://testserver(/c/[A-Za-z0-9_-]+\?then=intake-report/(\d+))", text)
    assert found is not None
    assert int(found.group(2)) == trajectory.id
    assert say("nl", "Show the intake report") in html_text(mail)
    [row] = [
        r
        for r in await rows(session_factory, OutboxKind.INTAKE_REPORT)
        if r.recipient_id == world.parent.id
    ]
    assert (row.status, row.channel) == (OutboxStatus.SENT, "email")

    async with chat_app(database_url, NOW + timedelta(hours=1)) as web:
        parent = web.user()
        landing = await parent.get(found.group(1))
        assert landing.status == 200
        await parent.submit(landing.forms[0])
        assert parent.page is not None
        assert parent.page.status == 200
        assert parent.page.lang == "nl"
        assert say("nl", "Intake report") in parent.page.text
        assert GOALS in parent.page.text
        # Once: the same link again is refused.
        again = await web.user().get(found.group(1))
        assert again.status == 410
        # Another trajectory's report is not shown to this parent.
        other = await parent.get(f"/chat/intake-report/{trajectory.id + 1000}")
        assert other.status == 404
        assert GOALS not in other.text
    async with session_factory() as session:
        reads = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "trajectory.intake_report.read")
            )
        )
    assert [(a.actor_id, a.subject_id) for a in reads] == [(world.parent.id, trajectory.id)]


async def test_the_questionnaire_invitation_carries_a_link_that_logs_in_once(
    session_factory: Factory, engine: AsyncEngine, database_url: str, smtp_server: SmtpTestServer
) -> None:
    del engine  # the database the web app opens below
    world = await survey_world(session_factory, languages=("nl",))
    parent = world.parents["nl"]
    await set_contact(session_factory, parent.id, email="ouder-nl@example.org")
    await drain(worker(session_factory, Clock(), server=smtp_server))

    [mail] = smtp_server.to("ouder-nl@example.org")
    assert mail["Subject"] == "Een korte vragenlijst van school"
    text = plain_text(mail)
    assert text.startswith(
        say(
            "nl",
            "The school invites you to a short questionnaire: five questions, about 2 "
            "minutes. Your answers help make the support better.",
        )
    )
    assert say("nl", "Start the questionnaire") in text
    found = LINK.search(text)
    assert found is not None
    token = found.group(1)
    assert f'href="http://testserver/c/{token}"' in html_text(mail)

    async with chat_app(database_url, NOW + timedelta(hours=1)) as web:
        first = await web.user().open_link(token)
        assert first.status == 200
        assert first.lang == "nl"
        assert say("nl", "Exit questionnaire") in [form.button for form in first.forms]
        again = await web.user().get(f"/c/{token}")
        assert again.status == 410
        assert CATALOGS.get("nl").render(LINK_PROBLEMS[LinkProblem.USED]) in again.text
    async with session_factory() as session:
        invite = await session.scalar(select(Invite).where(Invite.person_id == parent.id))
    assert invite is not None
    assert invite.used_at is not None


async def test_the_invitation_to_book_the_intake_opens_the_booking_in_the_web_chat(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    """Accepted: the parent without Telegram is asked by e-mail to choose a time, in Turkish,
    and the link opens the web chat where the booking starts."""
    address = "piet.ouder@example.org"
    await set_contact(session_factory, world.other_parent.id, email=address, language="tr")
    async with session_factory() as session, session.begin():
        item = await add_queued_referral(session, world.mentor, world.outsider)
    await unit(session_factory, take_in_analysis, actor=world.zoco, queue_item_id=item.id, now=NOW)
    await unit(session_factory, accept_for_intake, actor=world.zoco, queue_item_id=item.id, now=NOW)
    await drain(worker(session_factory, Clock(), server=smtp_server))

    [mail] = smtp_server.to(address)
    assert mail["Subject"] == say("tr", "Please choose a time for the intake meeting")
    text = plain_text(mail)
    assert text.replace("\r\n", "\n").startswith(
        say(
            "tr",
            "News from the school about your child.\n"
            "Your child has been accepted for extra support at school. The first step is an "
            "intake meeting with you, your child, the mentor and a coach.",
        )
        + "\n\n"
        + say("tr", "Book an appointment")
        + ":\nhttp://testserver/c/"
    )
    assert say("tr", "Press the button to choose a time.") not in text
    assert world.outsider.given_name not in mail.as_string()
    found = LINK.search(text)
    assert found is not None
    async with chat_app(database_url, NOW + timedelta(hours=1)) as web:
        parent = web.user()
        page = await parent.open_link(found.group(1))
        assert page.lang == "tr"
        book_label = say("tr", "Book an appointment")
        assert book_label in [form.button for form in page.forms]
        started = await parent.press(book_label)
        assert started.status == 200
        assert say("tr", "Intake meeting") in [form.button for form in started.forms]


# --- refusals, deferrals, and no SMTP ---------------------------------------------------------


async def test_a_refused_address_is_marked_and_the_care_coordinator_is_told(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA)
    await set_contact(session_factory, world.zoco.id, chat=800_001, language="en")
    smtp_server.refuse.add(PIA)
    row_id = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    telegram = FakeTelegram()
    await drain(worker(session_factory, Clock(), server=smtp_server, telegram=telegram))

    assert smtp_server.messages == []
    async with session_factory() as session:
        parent = await session.get_one(Person, world.parent.id)
        row = await session.get_one(Outbox, row_id)
        audit = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == OutboxKind.PERSON_EMAIL_UNREACHABLE)
            )
        )
    assert parent.email_unreachable_at == NOW
    assert parent.unreachable_at is None  # Telegram is another matter
    assert (row.status, row.last_error, row.channel) == (
        OutboxStatus.UNREACHABLE,
        "email_refused",
        "email",
    )
    told = [m for m in telegram.sent if m.outbox_id != row_id and "e-mail" in m.text]
    assert [(m.chat_id, m.text) for m in told] == [
        (
            800_001,
            "An e-mail could not be delivered: someone's e-mail address was refused or no "
            "longer works. See who under “Contact details” in the web app, and ask for a new "
            "address.",
        )
    ], [m.text for m in telegram.sent]
    [entry] = audit
    assert entry.subject_id == world.parent.id
    assert entry.details is not None
    assert entry.details["notified"] == [world.zoco.id]
    [notice] = await rows(session_factory, OutboxKind.PERSON_EMAIL_UNREACHABLE)
    assert notice.payload == {"person_id": world.parent.id, "outbox_id": row_id}

    # The next notice for the parent is not tried by e-mail again: nothing usable is left.
    later = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.SURVEY_INVITE
    )
    await drain(worker(session_factory, Clock(), server=smtp_server, telegram=telegram))
    async with session_factory() as session:
        again = await session.get_one(Outbox, later)
    assert (again.status, again.last_error) == (OutboxStatus.UNREACHABLE, "known_unreachable")
    assert smtp_server.messages == []


async def test_a_parent_who_blocked_the_bot_gets_the_notice_by_email_instead(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA, chat=800_003)
    await set_contact(session_factory, world.zoco.id, chat=800_004, language="en")
    row_id = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    telegram = FakeTelegram(blocked={800_003})
    await drain(worker(session_factory, Clock(), server=smtp_server, telegram=telegram))

    [mail] = smtp_server.to(PIA)
    assert mail["Subject"] == say("nl", "Please choose a time for the intake meeting")
    async with session_factory() as session:
        row = await session.get_one(Outbox, row_id)
        parent = await session.get_one(Person, world.parent.id)
    assert (row.status, row.channel) == (OutboxStatus.SENT, "email")
    assert parent.unreachable_at == NOW
    assert parent.email_unreachable_at is None
    # The care coordinator still hears that Telegram no longer reaches the parent.
    assert [m.chat_id for m in telegram.sent if "blocked the bot" in m.text] == [800_004]


async def test_a_deferred_address_is_tried_again_later(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA)
    smtp_server.defer.add(PIA)
    row_id = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    clock = Clock()
    outbox = worker(session_factory, clock, server=smtp_server)
    await drain(outbox)
    async with session_factory() as session:
        row = await session.get_one(Outbox, row_id)
        parent = await session.get_one(Person, world.parent.id)
    assert (row.status, row.last_error, row.attempts) == (
        OutboxStatus.PENDING,
        "email_deferred",
        1,
    )
    assert row.next_attempt_at > NOW
    assert parent.email_unreachable_at is None

    smtp_server.defer.clear()
    clock.now = row.next_attempt_at
    await drain(outbox)
    [mail] = smtp_server.to(PIA)
    assert mail["Subject"] == say("nl", "Please choose a time for the intake meeting")


async def test_without_smtp_the_notices_wait_and_say_so(
    session_factory: Factory,
    world: World,
    smtp_server: SmtpTestServer,
    migrated_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA)
    row_id = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    # Counted even before any worker looked at it (none runs without a channel).
    async with session_factory() as session:
        before = await count_waiting(session=session, configured=())
    assert [(c.kind, c.waiting_for, c.count) for c in before] == [
        (OutboxKind.REFERRAL_ACCEPTED_PARENT, "email", 1)
    ]
    telegram = FakeTelegram()
    telegram_only = worker(session_factory, Clock(), telegram=telegram)
    with caplog.at_level(logging.INFO):
        assert await telegram_only.drain_once() == 0
        # Not claimed again and again: it waits out of the claims.
        assert await telegram_only.drain_once() == 0
    assert telegram.sent == []
    async with session_factory() as session:
        row = await session.get_one(Outbox, row_id)
        waiting = await count_waiting(session=session, configured=(Channel.TELEGRAM,))
    assert (row.status, row.last_error, row.attempts) == (
        OutboxStatus.PENDING,
        "email_not_configured",
        0,
    )
    assert row.next_attempt_at == NOW + WAIT_FOR_CHANNEL
    assert waiting == [
        WaitingCount(OutboxKind.REFERRAL_ACCEPTED_PARENT, "email", 1, (world.school.id,))
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "outbox: 1 notices wait for the email channel, which is not configured (set "
        "SMTP_HOST); `trajectbot outbox waiting` lists them per kind"
    ]
    assert all(PIA not in r.getMessage() for r in caplog.records)

    listed = await asyncio.to_thread(trajectbot, migrated_url, "outbox", "waiting")
    assert listed.returncode == 0, listed.stderr
    assert "1 × referral.accepted_parent: waiting for email" in listed.stdout
    assert "set SMTP_HOST and SMTP_FROM in .env" in listed.stdout

    # A worker started with e-mail sends them at once, without waiting out the delay.
    with_email = worker(session_factory, Clock(), server=smtp_server, telegram=telegram)
    stop = asyncio.Event()
    running = asyncio.create_task(with_email.run(stop))
    try:
        await smtp_server.wait_for(1)
    finally:
        stop.set()
        await running
    [mail] = smtp_server.to(PIA)
    assert mail["Subject"] == say("nl", "Please choose a time for the intake meeting")
    async with session_factory() as session:
        sent = await session.get_one(Outbox, row_id)
        left = await count_waiting(session=session, configured=(Channel.TELEGRAM, Channel.EMAIL))
    assert (sent.status, sent.channel, sent.last_error) == (OutboxStatus.SENT, "email", None)
    assert left == []


# --- Telegram or e-mail: the preference ---------------------------------------------------------


@pytest.mark.parametrize(
    ("preference", "channel"),
    [(None, "telegram"), ("telegram", "telegram"), ("email", "email")],
)
async def test_the_preference_chooses_between_telegram_and_email(
    session_factory: Factory,
    world: World,
    smtp_server: SmtpTestServer,
    preference: str | None,
    channel: str,
) -> None:
    await set_contact(
        session_factory, world.parent.id, email=PIA, chat=800_002, preference=preference
    )
    row_id = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    telegram = FakeTelegram()
    await drain(worker(session_factory, Clock(), server=smtp_server, telegram=telegram))
    async with session_factory() as session:
        row = await session.get_one(Outbox, row_id)
        invites = list(await session.scalars(select(Invite)))
    assert (row.status, row.channel) == (OutboxStatus.SENT, channel)
    if channel == "telegram":
        [message] = telegram.sent
        assert message.chat_id == 800_002
        assert message.buttons  # the Telegram button, not a link
        assert smtp_server.messages == []
        assert invites == []  # no web chat link made for a Telegram message
    else:
        assert telegram.sent == []
        [mail] = smtp_server.to(PIA)
        assert LINK.search(plain_text(mail))
        assert len(invites) == 1


async def test_a_reminder_to_an_email_only_parent_reaches_them_by_email(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    """The day-before reminder of an appointment, and the link to their appointments."""
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    await book_confirmed_intake(session_factory, world)
    reminders = [
        r
        for r in await rows(session_factory, APPOINTMENT_REMINDER)
        if r.recipient_id == world.parent.id
    ]
    assert len(reminders) == 2
    clock = Clock(max(r.next_attempt_at for r in reminders))
    await drain(worker(session_factory, clock, server=smtp_server))
    subjects = sorted(mail["Subject"] for mail in smtp_server.to(PIA))
    assert subjects == sorted(
        [
            "Herinnering aan je afspraak",
            "Herinnering aan je afspraak",
            say("nl", "Your appointment at school"),
        ]
    )


# --- the command line: bounces and contact details ---------------------------------------------


async def test_a_later_bounce_marks_the_address_and_a_new_address_clears_it(
    session_factory: Factory, world: World, migrated_url: str
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA)
    bounced = await asyncio.to_thread(trajectbot, migrated_url, "email", "bounce", PIA.upper())
    assert bounced.returncode == 0, bounced.stderr
    assert "marked as not working for 1 person" in bounced.stdout
    async with session_factory() as session:
        parent = await session.get_one(Person, world.parent.id)
        [notice] = list(
            await session.scalars(
                select(Outbox).where(Outbox.kind == OutboxKind.PERSON_EMAIL_UNREACHABLE)
            )
        )
    assert parent.email_unreachable_at is not None
    assert (notice.recipient_id, notice.payload) == (
        world.zoco.id,
        {"person_id": world.parent.id, "bounce": True},
    )
    again = await asyncio.to_thread(trajectbot, migrated_url, "email", "bounce", PIA)
    assert "already marked" in again.stdout

    changed = await asyncio.to_thread(
        trajectbot,
        migrated_url,
        "contact",
        "set",
        "p1",
        "--email",
        " Pia.Nieuw@Example.ORG ",
        "--prefer",
        "email",
        "--school",
        world.school.code,
    )
    assert changed.returncode == 0, changed.stderr
    assert "Pia.Nieuw@example.org" in changed.stdout
    async with session_factory() as session:
        parent = await session.get_one(Person, world.parent.id, populate_existing=True)
        [audit] = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "contact.set"))
        )
    assert parent.email == "Pia.Nieuw@example.org"
    assert parent.email_unreachable_at is None
    assert parent.channel_preference == "email"
    assert audit.subject_id == world.parent.id
    assert audit.details == {
        "changed": "email,preference",
        "has_email": True,
        "preference": "email",
    }
    assert "Pia" not in str(audit.details)


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("geen-adres", "“geen-adres” is not an e-mail address. Example: ouder@example.nl"),
        ("twee@@example.org", "is not an e-mail address"),
        ("a" * 250 + "@example.org", "An e-mail address has at most 254 characters."),
    ],
)
async def test_a_bad_address_is_refused_with_a_clear_answer(
    session_factory: Factory, world: World, migrated_url: str, address: str, said: str
) -> None:
    refused = await asyncio.to_thread(
        trajectbot, migrated_url, "contact", "set", "p1", "--email", address
    )
    assert refused.returncode == 1
    assert said in refused.stderr
    assert "Traceback" not in refused.stderr
    async with session_factory() as session:
        parent = await session.get_one(Person, world.parent.id)
    assert parent.email is None


# --- `trajectbot run` without a Telegram token still sends e-mail ------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_without_a_telegram_token_sends_email(
    session_factory: Factory,
    world: World,
    smtp_server: SmtpTestServer,
    migrated_url: str,
    tmp_path: Path,
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA)
    await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    smtp = settings_for(smtp_server)
    env = {
        **os.environ,
        "DATABASE_URL": migrated_url,
        "CLI_LANGUAGE": "en",
        "LOG_LEVEL": "INFO",
        "WEB_PORT": str(_free_port()),
        "WEB_BASE_URL": "https://trajectbot.school.example",
        **{key.upper(): str(value) for key, value in smtp.items()},
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    output = tmp_path / "run.out"
    with output.open("w") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", stdout=sink, stderr=sink, cwd=ROOT, env=env
        )
    try:
        await smtp_server.wait_for(1, within=60)
    finally:
        process.send_signal(signal.SIGINT)
        returncode = await asyncio.wait_for(process.wait(), timeout=30)
    said = output.read_text()
    assert returncode == 0, said
    [mail] = smtp_server.to(PIA)
    assert "https://trajectbot.school.example/c/" in plain_text(mail)
    assert "outbox worker started for e-mail only" in said
    assert f"E-mail notices go out through 127.0.0.1:{smtp_server.port}." in said
    assert PIA not in said
    assert "Traceback" not in said
