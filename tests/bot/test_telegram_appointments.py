"""Appointments in Telegram through `Dispatcher.feed_update`: real handlers, real database.

The demo school gets the default appointment types, a coach's hours and three trajectories:
Bram (lln13) and Lieke (lln14) are in support (time-out in the plan), Amira (lln15) waits for
her intake. Her parent (ouder1) also has a child without a trajectory (lln03). The handlers
run on the real clock, so every time here is relative to now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from aiogram import Bot
from aiolimiter import AsyncLimiter
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.outbox.pacing import ChatPacer
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker
from bot.telegram.callbacks import AppointmentCallback
from bot.telegram.dispatcher import create_dispatcher
from dialogs.flows.afspraken import slot_start
from dialogs.i18n import SCHOOL_TIMEZONE
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.appointments.booking import book
from services.appointments.errors import SlotTaken
from services.conversations.runtime import school_today
from services.demo.school import create_demo_data
from services.kernel.uow import run_unit_of_work
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Conversation,
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    SlotHold,
    Trajectory,
)
from tests.bot.appointment_setup import prepare_demo_booking
from tests.bot.telegram_fakes import Person as User
from tests.bot.telegram_fakes import RecordingSession, Sent
from tests.bot.test_telegram_flows import Harness
from tests.support.units import unit


@pytest.fixture
def timeout_places() -> int:
    """Places in the time-out room (one makes a slot full after a single booking)."""
    return 4


async def _person(app: App, external_id: str) -> Person:
    async with app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        return person


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str, timeout_places: int) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        flood_limit=1000,
    )
    async with build_app(settings) as app:
        async with app.sessions() as session:
            await unit(session, create_demo_data, if_empty=True)
        await prepare_demo_booking(app, timeout_places)
        api = RecordingSession()
        bot = Bot("42:TEST", session=api)
        yield Harness(app, bot, create_dispatcher(app), api)


async def _press(tg: Harness, user: User, label: str) -> Sent:
    """Press the button containing ``label`` on the newest message; return that message."""
    shown = tg.api.last(user.id)
    await tg.feed(user.press(shown, shown.data_for(label)))
    return shown


async def _press_first_option(tg: Harness, user: User) -> Sent:
    shown = tg.api.last(user.id)
    await tg.feed(user.press(shown, shown.buttons()[0][1]))
    return shown


async def _skip_the_teacher(tg: Harness, user: User) -> None:
    """A time-out asks whose lesson the student leaves (optional): skipped here."""
    if "Whose lesson are you leaving?" in tg.api.last(user.id).text:
        await _press(tg, user, "Skip")


async def _to_summary(tg: Harness, user: User, kind: str, day: int = 0) -> Sent:
    """From the menu: book ``kind`` on the first free day (or the ``day``-th offered) at the
    first free time."""
    await _press(tg, user, "Book an appointment")
    await _press(tg, user, kind)
    days = tg.api.last(user.id)
    await tg.feed(user.press(days, days.buttons()[day][1]))
    await _press_first_option(tg, user)  # its first free time
    await _skip_the_teacher(tg, user)
    summary = tg.api.last(user.id)
    assert "Please check your appointment:" in summary.text
    return summary


async def _appointments(app: App) -> list[Appointment]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Appointment).order_by(Appointment.id)))


async def _chosen_start(app: App, person: Person) -> datetime:
    async with app.sessions() as session:
        state = await session.scalar(
            select(Conversation.state).where(Conversation.person_id == person.id)
        )
    assert state is not None
    start = slot_start(str(state["answers"]["time"]))
    assert start is not None
    return start


async def test_the_menus_offer_appointments_by_role(tg: Harness) -> None:
    student, parent, coach = User(2001, "en"), User(2002, "en"), User(2003, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    await tg.link(parent, "ouder2", Role.PARENT)
    await tg.link(coach, "coach", Role.COACH)
    labels = {
        u.id: [label for label, _ in tg.api.last(u.id).buttons()] for u in (student, parent, coach)
    }
    assert labels[2001][:2] == ["Book an appointment", "My appointments"]
    assert labels[2002][:2] == ["Book an appointment", "My appointments"]
    assert "Today's appointments" in labels[2003]


async def test_a_student_books_a_time_out_by_buttons(tg: Harness) -> None:
    student = User(2010, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    await _press(tg, student, "Book an appointment")
    kinds = tg.api.last(student.id)
    assert "Question 1 of 3" in kinds.text
    await _press(tg, student, "Time-out moment")
    assert kinds.text == "Appointment: Time-out moment ✓"  # the transcript stays clean
    assert kinds.markup is None
    days = tg.api.last(student.id)
    assert "Which day suits you?" in days.text
    await _press_first_option(tg, student)
    await _press_first_option(tg, student)
    await _press(tg, student, "Skip")  # whose lesson: not said
    summary = tg.api.last(student.id)
    await tg.feed(student.press(summary, summary.data_for("Book ✓")))

    done = tg.api.last(student.id).text
    assert done.startswith("Booked: Time-out moment, ")
    assert "The coach expects you." in done
    [appointment] = await _appointments(tg.app)
    assert appointment.kind is AppointmentKind.TIME_OUT
    assert appointment.student_id == (await _person(tg.app, "lln13")).id


async def test_a_parent_is_offered_only_the_child_they_can_book_for(tg: Harness) -> None:
    # Amira waits for her intake; Sem has no trajectory: nothing can be booked for him.
    parent = User(2020, "en")
    await tg.link(parent, "ouder1", Role.PARENT)
    await _press(tg, parent, "Book an appointment")
    kinds = tg.api.last(parent.id)
    assert "Who is the appointment for?" not in kinds.text
    assert "Nothing can be booked for Sem Coldewey at the moment." in kinds.text
    assert kinds.buttons()[0][0] == "Intake meeting"


async def test_a_parent_of_one_child_is_not_asked_which(tg: Harness) -> None:
    parent = User(2025, "en")
    await tg.link(parent, "ouder2", Role.PARENT)
    await _press(tg, parent, "Book an appointment")
    question = tg.api.last(parent.id).text
    assert "Who is the appointment for?" not in question
    assert "There is nothing you can book right now." in question  # no trajectory yet


@pytest.mark.parametrize("timeout_places", [1])
async def test_a_full_slot_offers_the_nearest_free_times(tg: Harness) -> None:
    student = User(2030, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    summary = await _to_summary(tg, student, "Time-out moment")
    # The summary says the time is kept (`services.appointments.holds`) ...
    assert "This time is kept for you for 5 minutes, until " in summary.text
    daan = await _person(tg.app, "lln13")
    wanted = await _chosen_start(tg.app, daan)
    lieke = await _person(tg.app, "lln14")

    async def lieke_books() -> object:
        async with tg.app.sessions() as session:
            return await run_unit_of_work(
                session,
                lambda work: book(
                    session=work,
                    actor=lieke,
                    student_id=lieke.id,
                    kind=AppointmentKind.TIME_OUT,
                    starts_at=wanted,
                    now=datetime.now(UTC),
                ),
            )

    with pytest.raises(SlotTaken):  # ... so while it is, Lieke cannot take the only place
        await lieke_books()
    # He leaves the summary open longer than that; then Lieke takes the place first.
    async with tg.app.sessions() as session, session.begin():
        await session.execute(
            update(SlotHold)
            .where(SlotHold.holder_id == daan.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await lieke_books()

    await tg.feed(student.press(summary, summary.data_for("Book ✓")))
    notice, offers = tg.api.chat(student.id)[-2:]
    assert "just been taken" in notice.text
    assert "These times are still free." in notice.text
    assert "What time suits you?" in offers.text
    labels = [label for label, _ in offers.buttons()]
    assert len([label for label in labels if "," in label]) >= 1  # day and time, nearest first
    await tg.feed(student.press(offers, offers.buttons()[0][1]))
    await _skip_the_teacher(tg, student)  # another time may be another lesson: asked again
    again = tg.api.last(student.id)
    assert "Please check your appointment:" in again.text  # every other answer kept
    assert "Appointment: Time-out moment" in again.text
    await tg.feed(student.press(again, again.data_for("Book ✓")))
    assert tg.api.last(student.id).text.startswith("Booked: Time-out moment, ")
    mine = [a for a in await _appointments(tg.app) if a.student_id != lieke.id]
    assert len(mine) == 1
    assert mine[0].starts_at != wanted


async def _book_time_out(tg: Harness, student: User, day: int = 0) -> Appointment:
    summary = await _to_summary(tg, student, "Time-out moment", day)
    await tg.feed(student.press(summary, summary.data_for("Book ✓")))
    return (await _appointments(tg.app))[-1]


async def test_move_and_cancel_from_my_appointments(tg: Harness) -> None:
    student = User(2040, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    # The second day offered: never today, whose running block (bookable while half of it is
    # left) cannot be moved, so the test does not depend on the hour it runs at.
    booked = await _book_time_out(tg, student, day=1)
    assert booked.starts_at.date() > datetime.now(UTC).date()

    await tg.feed(student.text("menu"))
    await _press(tg, student, "My appointments")
    header, entry = tg.api.chat(student.id)[-2:]
    assert header.text == "You have 1 upcoming appointment:"
    assert entry.text.startswith("Time-out moment, ")
    assert [label for label, _ in entry.buttons()] == ["Move", "Cancel"]

    await tg.feed(student.press(entry, entry.data_for("Move")))
    assert entry.markup is None
    day = tg.api.last(student.id)
    assert "Now: Time-out moment, " in day.text
    # The third day offered: neither today (its block may be running) nor the booked day.
    await tg.feed(student.press(day, day.buttons()[2][1]))
    times = tg.api.last(student.id)
    await tg.feed(student.press(times, times.buttons()[0][1]))
    await _press(tg, student, "Move ✓")
    assert tg.api.last(student.id).text.startswith("Moved to Time-out moment, ")
    [moved] = await _appointments(tg.app)
    assert moved.id == booked.id
    assert moved.version == 2
    assert moved.starts_at.date() > booked.starts_at.date()

    await tg.feed(student.text("menu"))
    await _press(tg, student, "My appointments")
    entry = tg.api.last(student.id)
    await tg.feed(student.press(entry, entry.data_for("Cancel")))
    confirm = tg.api.last(student.id)
    assert "Do you want to cancel this appointment?" in confirm.text
    assert [label for label, _ in confirm.buttons()] == ["Yes, cancel it", "Stop"]
    await _press(tg, student, "Yes, cancel it")
    assert tg.api.last(student.id).text.startswith("Cancelled: Time-out moment, ")
    [cancelled] = await _appointments(tg.app)
    assert cancelled.status is AppointmentStatus.CANCELLED


async def _worker(tg: Harness) -> OutboxWorker:
    return OutboxWorker(
        sender=TelegramSender(tg.bot),
        sessions=tg.app.sessions,
        catalogs=tg.app.catalogs,
        overall=AsyncLimiter(100_000, 1),
        chats=ChatPacer(0.0),
    )


async def test_the_mentor_confirms_an_intake_in_chat(tg: Harness) -> None:
    parent, mentor = User(2050, "en"), User(2051, "en")
    await tg.link(parent, "ouder1", Role.PARENT)
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await _press(tg, parent, "Book an appointment")  # Amira: the only child to book for
    summary = await _to_summary_from_kind(tg, parent, "Intake meeting")
    await tg.feed(parent.press(summary, summary.data_for("Book ✓")))
    assert "The mentor is asked to confirm" in tg.api.last(parent.id).text
    [intake] = await _appointments(tg.app)
    assert intake.status is AppointmentStatus.BOOKED

    worker = await _worker(tg)
    while await worker.drain_once():
        pass
    question = tg.api.last(mentor.id)
    assert question.text.startswith("You are asked to be at an intake meeting on ")
    assert "Amira" not in question.text  # a lock screen shows no names
    await tg.feed(mentor.press(question, question.data_for("Which student?")))
    assert "Intake meeting for Amira Oosterbeek-Haddou" in question.text  # inside the chat
    await tg.feed(mentor.press(question, question.data_for("Yes, I will be there")))
    assert "The intake is confirmed" in question.text
    assert question.markup is None
    [intake] = await _appointments(tg.app)
    assert intake.status is AppointmentStatus.CONFIRMED
    assert intake.mentor_confirmed

    while await worker.drain_once():  # now the calendar files go out
        pass
    files = [m for m in tg.api.chat(parent.id) if m.document is not None]
    assert files
    name, data = files[-1].document or ("", b"")
    assert name == f"appointment-{intake.id}.ics"
    assert b"BEGIN:VCALENDAR" in data


async def _to_summary_from_kind(tg: Harness, user: User, kind: str) -> Sent:
    await _press(tg, user, kind)
    await _press_first_option(tg, user)
    await _press_first_option(tg, user)
    return tg.api.last(user.id)


async def _started_today(app: App, external_id: str) -> Appointment:
    """A time-out that began a little while ago (inserted directly: booking refuses the past)."""
    now = datetime.now(UTC)
    midnight = datetime.combine(school_today(now), time(0), tzinfo=SCHOOL_TIMEZONE)
    starts = max(midnight.astimezone(UTC), now - timedelta(minutes=30))
    student = await _person(app, external_id)
    async with app.sessions() as session, session.begin():
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == student.id)
        )
        assert trajectory is not None
        appointment = Appointment(
            school_id=student.school_id,
            trajectory_id=trajectory.id,
            student_id=student.id,
            kind=AppointmentKind.TIME_OUT,
            status=AppointmentStatus.CONFIRMED,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            busy_until=starts + timedelta(minutes=50),
            resource="room:time_out",
            booked_by_id=student.id,
        )
        session.add(appointment)
    return appointment


async def test_the_coach_marks_attended_and_no_show(tg: Harness) -> None:
    bram = await _started_today(tg.app, "lln13")
    lieke = await _started_today(tg.app, "lln14")
    coach = User(2060, "en")
    await tg.link(coach, "coach", Role.COACH)
    await _press(tg, coach, "Today's appointments")
    header, *entries = tg.api.chat(coach.id)[-3:]
    assert header.text.startswith("Today, ")
    assert header.text.endswith(": 2 appointments")
    first, second = entries
    assert "Bram Moerdijkstra" in first.text
    assert "Lieke Noordeloos" in second.text
    await tg.feed(coach.press(first, first.data_for("Attended")))
    await tg.feed(coach.press(second, second.data_for("No-show")))
    assert first.text.endswith("attended ✓")
    assert second.text.endswith("did not come")
    statuses = {a.id: a.status for a in await _appointments(tg.app)}
    assert statuses[bram.id] is AppointmentStatus.ATTENDED
    assert statuses[lieke.id] is AppointmentStatus.NO_SHOW


async def test_forged_callbacks_for_someone_elses_appointment_are_refused(tg: Harness) -> None:
    bram, lieke, mentor1 = User(2070, "en"), User(2071, "en"), User(2072, "en")
    await tg.link(bram, "lln13", Role.STUDENT)
    await tg.link(lieke, "lln14", Role.STUDENT)
    await tg.link(mentor1, "mentor1", Role.MENTOR)  # not Bram's mentor
    booked = await _book_time_out(tg, bram)
    for action in ("cancel", "move"):
        forged = AppointmentCallback(action=action, appointment=booked.id).pack()
        await tg.feed(lieke.press(tg.api.last(lieke.id), forged))
        assert tg.api.last(lieke.id).text == (
            "This appointment is not available to you (any more)."
        )
    forged = AppointmentCallback(action="attended", appointment=booked.id).pack()
    await tg.feed(lieke.press(tg.api.last(lieke.id), forged))  # a student is no coach
    assert "Bram" not in tg.api.last(lieke.id).text
    forged = AppointmentCallback(action="no", appointment=booked.id, version=1).pack()
    await tg.feed(mentor1.press(tg.api.last(mentor1.id), forged))
    assert tg.api.last(mentor1.id).text == "This appointment is not available to you."
    [unchanged] = await _appointments(tg.app)
    assert unchanged.status is AppointmentStatus.CONFIRMED
    assert unchanged.starts_at == booked.starts_at


async def test_a_time_out_above_the_cap_goes_to_the_care_coordinator(tg: Harness) -> None:
    student, zoco = User(2080, "en"), User(2081, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    bram = await _person(tg.app, "lln13")
    async with tg.app.sessions() as session, session.begin():  # the plan has no time-out
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == bram.id)
        )
        assert trajectory is not None
        trajectory.timeouts_in_plan = False
    summary = await _to_summary(tg, student, "Time-out moment")
    await tg.feed(student.press(summary, summary.data_for("Book ✓")))
    assert "now a request" in tg.api.last(student.id).text
    assert await _appointments(tg.app) == []

    worker = await _worker(tg)
    while await worker.drain_once():
        pass
    notice = tg.api.last(zoco.id)
    assert notice.text == (
        "A time-out request is waiting for your decision. Open this chat to see it."
    )
    # From the queue list the request opens as a request too, not as a referral.
    await tg.feed(zoco.press(notice, "m:queue:"))
    queue = tg.api.last(zoco.id)
    await tg.feed(zoco.press(queue, queue.data_for("time-out request · Bram Moerdijkstra")))
    assert "Student: Bram Moerdijkstra (3A)" in tg.api.last(zoco.id).text
    await tg.feed(zoco.press(notice, notice.data_for("Show the request")))
    request = tg.api.last(zoco.id)
    assert "Student: Bram Moerdijkstra (3A)" in request.text
    assert "Outside the plan" in request.text
    await tg.feed(zoco.press(request, request.data_for("Approve and book")))
    assert tg.api.last(zoco.id).text.startswith("Approved and booked: Time-out moment for Bram")
    assert len(await _appointments(tg.app)) == 1
    # A student pressing the same button is refused by storage.
    forged = request.data_for("Approve and book")
    await tg.feed(student.press(tg.api.last(student.id), forged))
    assert "Bram" not in tg.api.last(student.id).text


async def test_the_care_coordinator_declines_a_time_out_request_with_a_reason(
    tg: Harness,
) -> None:
    student, zoco, coach = User(2090, "en"), User(2091, "en"), User(2092, "en")
    await tg.link(student, "lln14", Role.STUDENT)
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.link(coach, "coach", Role.COACH)
    lieke = await _person(tg.app, "lln14")
    async with tg.app.sessions() as session, session.begin():  # the week's cap is used up
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == lieke.id)
        )
        assert trajectory is not None
        trajectory.timeouts_per_week = 0
    summary = await _to_summary(tg, student, "Time-out moment")
    await tg.feed(student.press(summary, summary.data_for("Book ✓")))
    assert "now a request" in tg.api.last(student.id).text
    worker = await _worker(tg)
    while await worker.drain_once():
        pass
    notice = tg.api.last(zoco.id)
    await tg.feed(zoco.press(notice, notice.data_for("Show the request")))
    request = tg.api.last(zoco.id)
    assert "Above the agreed 0 time-outs per week." in request.text
    assert [label for label, _ in request.buttons()] == ["Approve and book", "Decline…"]
    decline = request.data_for("Decline…")

    # A coach pressing the same button gets no question and changes nothing.
    await tg.feed(coach.press(tg.api.last(coach.id), decline))
    assert "Why do you decline" not in tg.api.last(coach.id).text
    assert "Lieke" not in tg.api.last(coach.id).text

    await tg.feed(zoco.press(request, decline))
    assert "Why do you decline this time-out request?" in tg.api.last(zoco.id).text
    await tg.feed(zoco.text("no"))  # too short: explained, asked again
    assert "at least 5 characters" in tg.api.chat(zoco.id)[-2].text
    await tg.feed(zoco.text("Two this week already; first a talk with the mentor."))
    confirm = tg.api.last(zoco.id)
    assert "Decline this time-out request?" in confirm.text
    await tg.feed(zoco.press(confirm, confirm.data_for("Send")))
    assert "The time-out request is declined." in tg.api.last(zoco.id).text
    async with tg.app.sessions() as session:
        item = await session.scalar(
            select(QueueItem).where(QueueItem.kind == QueueKind.TIMEOUT_REQUEST)
        )
    assert item is not None
    assert (item.status, item.decision) == (QueueStatus.CLOSED, QueueDecision.DECLINED)
    assert item.decision_reason == "Two this week already; first a talk with the mentor."
    assert await _appointments(tg.app) == []

    # The student is told, without the reason or any name.
    while await worker.drain_once():
        pass
    told = tg.api.last(student.id)
    assert told.text == (
        "Your time-out request was not approved this time. If you need support, "
        "talk to your mentor or the coach."
    )
    # The request now shows its decision and no buttons; a second decline is refused.
    await tg.feed(zoco.press(notice, notice.data_for("Show the request")))
    decided = tg.api.last(zoco.id)
    assert "Declined." in decided.text
    assert decided.buttons() == []
    await tg.feed(zoco.press(request, decline))
    assert tg.api.last(zoco.id).text == "This request has already been decided."
