"""A mentor or teacher without Telegram acts on a notice from its e-mail (issue 12).

Mentors and teachers have no staff web account: their e-mail carries a one-time web chat link
that lands on the action of the notice's Telegram button (``?then=intake-confirm/<id>``,
``referral-outcome/<id>``, ``timeout-who/<id>``), and the web chat calls the same services as
the Telegram buttons, for the person of the chat session only. The e-mails go through the
product's sender to a real SMTP server (`tests.support.smtp_server`); the web app runs
in-process (`tests.web.chat_client`).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.messages import STAFF_WEB_APP
from services.accounts.invites import create_invite
from services.appointments.attendance import confirm_mentor_presence
from services.appointments.booking import book
from services.appointments.notices import APPOINTMENT_CALENDAR, APPOINTMENT_MENTOR_CONFIRM
from services.appointments.teacher_notice import tell_teacher
from services.appointments.views import AppointmentView
from services.outbox.channels import (
    ChatTarget,
    chat_target,
    parse_chat_target,
    staff_page,
)
from services.outbox.kinds import OutboxKind
from services.referrals.decisions import decline, take_in_analysis
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    Outbox,
    OutboxStatus,
    Person,
    Role,
)
from tests.bot.test_email_channel import Clock, drain, say, set_contact, worker
from tests.support.booking_world import NOW, TUESDAY, WEDNESDAY, World, at, build_world
from tests.support.chat_factories import build_chat_world
from tests.support.factories import add_mentorship, add_person, add_queued_referral
from tests.support.smtp_server import (
    SmtpTestServer,
    calendar_attachment,
    html_text,
    plain_text,
    smtp_server_fixture,  # noqa: F401 - the smtp_server fixture
)
from tests.support.units import unit
from tests.web.chat_client import ChatApp, ChatUser, chat_app

Factory = async_sessionmaker[AsyncSession]
MILA = "mila.mentor@example.org"
PIA = "pia.ouder@example.org"
TESSA = "tessa.docent@example.org"
LATER = NOW + timedelta(hours=1)
REASON = "Past beter bij de huiswerkklas op dinsdag."


def link_in(text: str, target: ChatTarget) -> tuple[str, int]:
    """The e-mail's web chat link (path and query) and the id of its target."""
    found = re.search(
        rf"http://testserver(/c/[A-Za-z0-9_-]+\?then={target.value}/(\d+))(?:\s|$)", text
    )
    assert found is not None, text
    return found.group(1), int(found.group(2))


async def follow(web: ChatApp, path: str) -> ChatUser:
    """A new browser opens the e-mail's link and confirms it ("Open the chat")."""
    user = web.user()
    landing = await user.get(path)
    assert landing.status == 200, landing.text
    await user.submit(landing.forms[0])
    return user


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


async def book_intake(sessions: Factory, world: World) -> AppointmentView:
    """The parent books the newcomer's intake on Wednesday 10:00 (the mentor is asked)."""
    booked = await unit(
        sessions,
        book,
        actor=world.parent,
        student_id=world.newcomer.id,
        kind=AppointmentKind.INTAKE,
        starts_at=at(WEDNESDAY, 10),
        now=NOW,
    )
    assert isinstance(booked, AppointmentView)
    return booked


async def appointment(sessions: Factory, appointment_id: int) -> Appointment:
    async with sessions() as session:
        return await session.get_one(Appointment, appointment_id)


async def add_second_mentor(sessions: Factory, world: World) -> Person:
    """Another mentor of the school, with a student of their own (not the newcomer)."""
    async with sessions() as session, session.begin():
        max_ = await add_person(session, world.school, "m2", Role.MENTOR, given_name="Max")
        pupil = await add_person(session, world.school, "s9", Role.STUDENT, given_name="Pim")
        await add_mentorship(session, max_, pupil)
        return max_


async def chat_of(
    web: ChatApp, sessions: Factory, person: Person, role: Role = Role.MENTOR
) -> ChatUser:
    """``person`` in the web chat, from a personal link of their own."""
    async with sessions() as session, session.begin():
        stored = await session.get_one(Person, person.id)
        token = await create_invite(
            session=session, person=stored, role=role, ttl=timedelta(days=14), now=NOW
        )
    user = web.user()
    await user.open_link(token)
    return user


# -- the mentor's intake question ---------------------------------------------------------------


async def test_an_email_only_mentor_confirms_the_intake_from_the_email_and_the_parent_gets_the_ics(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    await set_contact(session_factory, world.mentor.id, email=MILA, language="ar")
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    booked = await book_intake(session_factory, world)
    clock = Clock()
    outbox = worker(session_factory, clock, server=smtp_server)
    await drain(outbox)

    [mail] = smtp_server.to(MILA)
    assert mail["Subject"] == say("ar", "Can you be at the intake meeting?")
    text = plain_text(mail)
    assert text.startswith(
        say(
            "ar",
            "You are asked to be at an intake meeting on {when}. Can you be there? The intake "
            "is only confirmed when you are.",
            when=booked.starts_at,
        )
    )
    # A link to the question (not labelled as an answer); no /login (no web account).
    assert say("ar", "Open the chat to answer") in text
    assert say("ar", "Yes, I will be there") not in text
    assert "/login" not in text
    path, appointment_id = link_in(text, ChatTarget.INTAKE_CONFIRM)
    assert appointment_id == booked.appointment_id
    assert 'dir="rtl"' in html_text(mail)
    for name in (world.newcomer.given_name, world.newcomer.family_name):
        assert name not in mail.as_string()  # the lock screen rule holds by e-mail too
    # Nothing for the parent yet: the intake waits for the mentor.
    assert smtp_server.to(PIA) == []

    async with chat_app(database_url, LATER) as web:
        mila = await follow(web, path)
        page = mila.page
        assert page is not None
        assert page.status == 200
        assert (page.lang, page.dir) == ("ar", "rtl")
        assert world.newcomer.given_name in page.text  # inside the chat: which student
        assert say("ar", "Can you be there? The intake is only confirmed when you are.") in (
            page.text
        )
        yes = page.form(say("ar", "Yes, I will be there"))
        assert yes.action == f"/chat/intake-confirm/{booked.appointment_id}"
        assert yes.fields["csrf_token"]
        # Without the session's CSRF token the answer is refused and nothing changes.
        forged = await mila.post(yes.action, {**yes.fields, "csrf_token": "forged"})
        assert forged.status_code == 403
        assert (await appointment(session_factory, booked.appointment_id)).mentor_confirmed is False

        response = await mila.submit(yes)
        assert response.status_code == 303
        assert response.headers["location"] == "/chat#current"
        assert mila.page is not None
        assert (
            say("ar", "Thank you. The intake is confirmed; everyone gets the calendar file.")
            in mila.page.text
        )

    stored = await appointment(session_factory, booked.appointment_id)
    assert (stored.status, stored.mentor_confirmed) == (AppointmentStatus.CONFIRMED, True)
    async with session_factory() as session:
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.action == "appointment.mentor_confirm")
        )
    assert audit is not None
    assert (audit.actor_id, audit.subject_id) == (world.mentor.id, booked.appointment_id)

    # Exactly as the Telegram button: the calendar files go out; the parent's by e-mail.
    clock.now = LATER
    await drain(outbox)
    [calendar] = smtp_server.to(PIA)
    assert calendar["Subject"] == say("nl", "Your appointment at school")
    found = calendar_attachment(calendar)
    assert found is not None
    assert found[1].get_filename() == f"appointment-{booked.appointment_id}.ics"
    async with session_factory() as session:
        parent_calendar = await session.scalar(
            select(Outbox).where(
                Outbox.kind == APPOINTMENT_CALENDAR, Outbox.recipient_id == world.parent.id
            )
        )
    assert parent_calendar is not None
    assert (parent_calendar.status, parent_calendar.channel) == (OutboxStatus.SENT, "email")


async def test_no_i_cannot_come_cancels_the_intake_and_asks_the_parent_to_choose_again(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    await set_contact(session_factory, world.mentor.id, email=MILA, language="en")
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    booked = await book_intake(session_factory, world)
    clock = Clock()
    outbox = worker(session_factory, clock, server=smtp_server)
    await drain(outbox)
    [mail] = smtp_server.to(MILA)
    path, _ = link_in(plain_text(mail), ChatTarget.INTAKE_CONFIRM)

    async with chat_app(database_url, LATER) as web:
        mila = await follow(web, path)
        assert mila.page is not None
        await mila.press("No, I cannot come")
        assert mila.page is not None
        assert (
            "Thank you for letting us know. The intake is cancelled and whoever booked it is "
            "asked to choose another time." in mila.page.text
        )
        # The cancelled intake is no longer asked about.
        again = await mila.get(f"/chat/intake-confirm/{booked.appointment_id}")
        assert again.status == 403
        assert "This appointment is not available to you." in again.text

    stored = await appointment(session_factory, booked.appointment_id)
    assert stored.status is AppointmentStatus.CANCELLED
    assert stored.mentor_confirmed is False
    clock.now = LATER
    await drain(outbox)
    [news] = smtp_server.to(PIA)
    assert news["Subject"] == say("nl", "The intake meeting has been cancelled")
    assert say("nl", "Book an appointment") in plain_text(news)
    assert calendar_attachment(news) is None
    # Its link opens the booking at once, as the Telegram button does.
    found = re.search(r"http://testserver(/c/[A-Za-z0-9_-]+\?then=book)\s", plain_text(news))
    assert found is not None
    async with chat_app(database_url, LATER) as web:
        pia = await follow(web, found.group(1))
        assert pia.page is not None
        # The booking's first question: which child (the parent has two).
        assert world.newcomer.display_name in [form.button for form in pia.page.forms]


async def test_another_mentor_cannot_answer_for_someone_elses_intake_by_a_forged_address(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    del smtp_server
    booked = await book_intake(session_factory, world)
    max_ = await add_second_mentor(session_factory, world)
    intake = f"/chat/intake-confirm/{booked.appointment_id}"

    async with chat_app(database_url, LATER) as web:
        other = await chat_of(web, session_factory, max_)
        page = await other.get(intake)
        assert page.status == 403
        assert say("nl", "This appointment is not available to you.") in page.text
        assert world.newcomer.given_name not in page.text
        # An id that does not exist reads the same (an id reveals nothing).
        missing = await other.get(f"/chat/intake-confirm/{booked.appointment_id + 999}")
        assert (missing.status, missing.text) == (403, page.text)
        # Posting the answer with their own valid CSRF token: refused, nothing changes.
        assert other.page is not None
        menu = await other.get("/chat")
        csrf = menu.forms[0].fields["csrf_token"]
        for answer in ("yes", "no"):
            refused = await other.post(
                intake, {"csrf_token": csrf, "answer": answer, "version": str(booked.version)}
            )
            assert refused.status_code == 403
            assert world.newcomer.given_name not in refused.text
        # Without a chat session at all: not this device's chat.
        stranger = await web.user().post(intake, {"answer": "yes", "version": "1"})
        assert stranger.status_code == 401
        # A parent is no mentor either.
        parent = await chat_of(web, session_factory, world.parent, Role.PARENT)
        assert (await parent.get(intake)).status == 403

    stored = await appointment(session_factory, booked.appointment_id)
    assert (stored.status, stored.mentor_confirmed) == (AppointmentStatus.BOOKED, False)


async def test_an_answer_about_an_intake_that_has_changed_since_the_page_is_refused(
    session_factory: Factory, world: World, database_url: str
) -> None:
    await set_contact(session_factory, world.mentor.id, language="en")
    booked = await book_intake(session_factory, world)
    async with chat_app(database_url, LATER) as web:
        mila = await chat_of(web, session_factory, world.mentor)
        page = await mila.get(f"/chat/intake-confirm/{booked.appointment_id}")
        yes = page.form("Yes, I will be there")
        assert yes.fields["version"] == str(booked.version)
        stale = await mila.post(
            yes.action, {**yes.fields, "version": str((booked.version or 1) + 1)}
        )
        assert stale.status_code == 409
        assert "This intake has been changed since." in stale.text
        unknown = await mila.post(yes.action, {**yes.fields, "answer": "maybe"})
        assert unknown.status_code == 400
    assert (await appointment(session_factory, booked.appointment_id)).mentor_confirmed is False


async def test_the_mentors_chat_lists_the_intakes_waiting_for_their_answer(
    session_factory: Factory, world: World, database_url: str
) -> None:
    await set_contact(session_factory, world.mentor.id, language="en")
    booked = await book_intake(session_factory, world)
    max_ = await add_second_mentor(session_factory, world)
    intake = f"/chat/intake-confirm/{booked.appointment_id}"
    async with chat_app(database_url, LATER) as web:
        mila = await chat_of(web, session_factory, world.mentor)
        assert mila.page is not None
        assert "Waiting for your answer:" in mila.page.text
        assert f'href="{intake}"' in mila.page.body
        assert world.newcomer.given_name in mila.page.text
        # Another mentor's chat does not list it.
        other = await chat_of(web, session_factory, max_)
        assert other.page is not None
        assert intake not in other.page.body
        assert "Waiting for your answer:" not in other.page.text
        # Answered: no longer waiting.
        await mila.get(intake)
        await mila.press("Yes, I will be there")
        assert mila.page is not None
        assert intake not in mila.page.body


async def test_my_appointments_in_the_web_chat_from_the_reminders_link(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    booked = await book_intake(session_factory, world)
    clock = Clock(at(WEDNESDAY, 10) - timedelta(hours=16))
    await drain(worker(session_factory, clock, server=smtp_server))
    reminders = [
        m for m in smtp_server.to(PIA) if m["Subject"] == say("nl", "Reminder of your appointment")
    ]
    assert reminders == []  # not confirmed yet: no reminder
    async with session_factory() as session, session.begin():
        stored = await session.get_one(Appointment, booked.appointment_id)
        mentor = await session.get_one(Person, world.mentor.id)
    await unit(
        session_factory,
        confirm_mentor_presence,
        mentor=mentor,
        appointment_id=stored.id,
        now=NOW,
        present=True,
    )
    await drain(worker(session_factory, clock, server=smtp_server))
    [reminder] = [
        m for m in smtp_server.to(PIA) if m["Subject"] == say("nl", "Reminder of your appointment")
    ]
    text = plain_text(reminder)
    assert say("nl", "My appointments") in text
    found = re.search(r"http://testserver(/c/[A-Za-z0-9_-]+\?then=appointments)\s", text)
    assert found is not None
    async with chat_app(database_url, clock.now) as web:
        pia = await follow(web, found.group(1))
        assert pia.page is not None
        assert pia.page.status == 200
        assert say("nl", "My appointments") in pia.page.text
        assert world.newcomer.given_name in pia.page.text
        # The chat's own page links to it too; a stranger's browser has no session.
        chat = await pia.get("/chat")
        assert 'href="/chat/appointments"' in chat.body
        assert (await web.user().get("/chat/appointments")).status == 401
        # Another parent sees only their own (none).
        piet = await chat_of(web, session_factory, world.other_parent, Role.PARENT)
        theirs = await piet.get("/chat/appointments")
        assert world.newcomer.given_name not in theirs.text
        assert say("nl", "You have no upcoming appointments.") in theirs.text
        # Nor can they cancel it by posting its address with their own CSRF token.
        piet_csrf = (await piet.get("/chat")).forms[0].fields["csrf_token"]
        forged = await piet.post(
            f"/chat/appointments/{booked.appointment_id}/cancel", {"csrf_token": piet_csrf}
        )
        assert forged.status_code == 303
        refused = await piet.get("/chat")
        assert say("nl", "Cancel ✓") not in refused.text
        assert say("nl", "Yes, cancel it") not in [f.button for f in refused.forms]

        # Pia moves or cancels it from the list, as with Telegram's buttons.
        listed = await pia.get("/chat/appointments")
        move = listed.form(say("nl", "Move"))
        assert move.action == f"/chat/appointments/{booked.appointment_id}/move"
        await pia.submit(move)
        assert pia.page is not None
        assert say("nl", "Move an appointment") in pia.page.text
        await pia.press(say("nl", "Stop"))
        listed = await pia.get("/chat/appointments")
        await pia.submit(listed.form(say("nl", "Cancel")))
        assert pia.page is not None
        await pia.press(say("nl", "Yes, cancel it"))
        assert pia.page is not None
        assert 'class="bubble done"' in pia.page.body
    assert (await appointment(session_factory, booked.appointment_id)).status is (
        AppointmentStatus.CANCELLED
    )


async def test_cancel_picked_again_after_a_look_at_move_is_the_question_shown(
    session_factory: Factory, world: World, database_url: str
) -> None:
    """Exploratory test: Cancel, then Move, then Cancel again on "My appointments". Both runs
    stay open; the one just picked is the one shown (not the move question "welcome back"),
    and the appointment can be cancelled without pressing "Stop" first."""
    booked = await book_intake(session_factory, world)
    async with chat_app(database_url, LATER) as web:
        pia = await chat_of(web, session_factory, world.parent, Role.PARENT)
        for action, title in (
            ("Cancel", "Cancel an appointment"),
            ("Move", "Move an appointment"),
            ("Cancel", "Cancel an appointment"),
        ):
            listed = await pia.get("/chat/appointments")
            await pia.submit(listed.form(say("nl", action)))
            assert pia.page is not None
            assert say("nl", title) in pia.page.text, action
        shown = pia.page
        assert shown is not None
        assert 'data-step="summary"' in shown.body
        assert say("nl", "Do you want to cancel this appointment?") in shown.text
        done = await pia.press(say("nl", "Yes, cancel it"))
        assert 'class="bubble done"' in done.body
    assert (await appointment(session_factory, booked.appointment_id)).status is (
        AppointmentStatus.CANCELLED
    )


# -- the decision on a referral ----------------------------------------------------------------


async def test_a_mentor_reads_the_decision_and_the_reason_from_the_email(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    await set_contact(session_factory, world.mentor.id, email=MILA, language="nl")
    async with session_factory() as session, session.begin():
        item = await add_queued_referral(session, world.mentor, world.outsider)
    await unit(session_factory, take_in_analysis, actor=world.zoco, queue_item_id=item.id, now=NOW)
    await unit(
        session_factory,
        decline,
        actor=world.zoco,
        queue_item_id=item.id,
        reason=REASON,
        now=NOW,
    )
    await drain(worker(session_factory, Clock(), server=smtp_server))

    [mail] = smtp_server.to(MILA)
    assert mail["Subject"] == say("nl", "News about a referral you sent")
    text = plain_text(mail)
    assert say("nl", "Show the decision and the reason") in text
    assert REASON not in mail.as_string()
    assert world.outsider.given_name not in mail.as_string()
    path, referral_id = link_in(text, ChatTarget.REFERRAL_OUTCOME)
    assert referral_id == item.referral_id

    async with chat_app(database_url, LATER) as web:
        mila = await follow(web, path)
        assert mila.page is not None
        assert mila.page.status == 200
        assert mila.page.lang == "nl"
        assert world.outsider.given_name in mila.page.text
        assert say("nl", "The care coordinator's reason: {reason}", reason=REASON) in (
            mila.page.text
        )
        # Another mentor asking for this referral by its address: refused, nothing shown.
        max_ = await add_second_mentor(session_factory, world)
        other = await chat_of(web, session_factory, max_)
        refused = await other.get(f"/chat/referral-outcome/{referral_id}")
        assert refused.status == 403
        assert REASON not in refused.text
        assert world.outsider.given_name not in refused.text
    async with session_factory() as session:
        reads = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "referral.outcome_view")
            )
        )
    assert [(a.actor_id, a.subject_id) for a in reads] == [(world.mentor.id, referral_id)]


# -- the teacher's "who is it?" -------------------------------------------------------------------


async def test_a_teacher_reads_who_leaves_the_lesson_from_the_email(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, database_url: str
) -> None:
    async with session_factory() as session, session.begin():
        tessa = await add_person(
            session, world.school, "t1", Role.TEACHER, given_name="Tessa", family_name="Aalbers"
        )
        timo = await add_person(session, world.school, "t2", Role.TEACHER, given_name="Timo")
    await set_contact(session_factory, tessa.id, email=TESSA, language="tr")
    booked = await unit(
        session_factory,
        book,
        actor=world.student,
        student_id=world.student.id,
        kind=AppointmentKind.TIME_OUT,
        starts_at=at(TUESDAY, 10, 10),
        now=NOW,
    )
    assert isinstance(booked, AppointmentView)
    await unit(
        session_factory,
        tell_teacher,
        actor=world.student,
        appointment_id=booked.appointment_id,
        teacher_id=tessa.id,
        now=NOW,
    )
    await drain(worker(session_factory, Clock(), server=smtp_server))

    [mail] = smtp_server.to(TESSA)
    assert mail["Subject"] == say("tr", "A student leaves your lesson for a time-out")
    text = plain_text(mail)
    assert say("tr", "Who is it?") in text
    assert world.student.given_name not in mail.as_string()
    path, appointment_id = link_in(text, ChatTarget.TIMEOUT_WHO)
    assert appointment_id == booked.appointment_id

    async with chat_app(database_url, LATER) as web:
        teacher = await follow(web, path)
        assert teacher.page is not None
        assert teacher.page.status == 200
        assert teacher.page.lang == "tr"
        assert world.student.given_name in teacher.page.text
        # Another teacher of the school cannot read it.
        other = await chat_of(web, session_factory, timo, Role.TEACHER)
        refused = await other.get(f"/chat/timeout-who/{appointment_id}")
        assert refused.status == 403
        assert world.student.given_name not in refused.text
    async with session_factory() as session:
        views = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "appointment.teacher_view")
            )
        )
    assert [a.actor_id for a in views] == [tessa.id]


# -- links: only the whitelisted targets; staff go to their page after logging in ---------------


async def test_a_link_leads_only_to_a_known_target(
    session_factory: Factory, world: World, database_url: str
) -> None:
    async with session_factory() as session, session.begin():
        mentor = await session.get_one(Person, world.mentor.id)
        token = await create_invite(
            session=session, person=mentor, role=Role.MENTOR, ttl=timedelta(days=1), now=NOW
        )
    async with chat_app(database_url, LATER) as web:
        user = web.user()
        landing = await user.get(f"/c/{token}?then=../../queue/1")
        assert "then" not in landing.forms[0].fields
        opened = await user.post(
            landing.forms[0].action, {**landing.forms[0].fields, "then": "//evil.example/x"}
        )
        assert opened.status_code == 303
        assert opened.headers["location"] == "/chat#current"


async def test_a_questionnaire_links_session_opens_none_of_the_actions(
    session_factory: Factory, database_url: str
) -> None:
    async with session_factory() as session:
        chat_world = await build_chat_world(session)
    async with chat_app(database_url, LATER) as web:
        parent = web.user()
        await parent.open_link(chat_world.survey_token)
        for path in (
            "/chat/intake-confirm/1",
            "/chat/referral-outcome/1",
            "/chat/timeout-who/1",
            "/chat/appointments",
        ):
            page = await parent.get(path)
            assert page.status == 403, path
        assert parent.page is not None
        csrf = (await parent.get("/chat")).forms[0].fields["csrf_token"]
        posted = await parent.post("/chat/intake-confirm/1", {"csrf_token": csrf, "answer": "yes"})
        assert posted.status_code == 403
        moved = await parent.post("/chat/appointments/1/move", {"csrf_token": csrf})
        assert moved.status_code == 403


def test_the_targets_of_the_email_links() -> None:
    assert chat_target(APPOINTMENT_MENTOR_CONFIRM, {"appointment_id": 7}) == "intake-confirm/7"
    assert chat_target(OutboxKind.REFERRAL_DECLINED, {"referral_id": 3}) == "referral-outcome/3"
    assert chat_target(OutboxKind.TIMEOUT_TEACHER, {"appointment_id": 5}) == "timeout-who/5"
    assert chat_target(OutboxKind.INTAKE_REPORT, {"trajectory_id": 2}) == "intake-report/2"
    assert chat_target(OutboxKind.SURVEY_INVITE, {"invitation_id": 2}) is None
    assert chat_target(OutboxKind.APPOINTMENT_REMINDER, {"appointment_id": 2}) == "appointments"
    assert chat_target(OutboxKind.TIMEOUT_DECIDED, {"approved": True}) == "appointments"
    assert chat_target(OutboxKind.TIMEOUT_DECIDED, {"approved": False}) is None
    assert chat_target(OutboxKind.REFERRAL_ACCEPTED_PARENT, {"referral_id": 2}) == "book"
    assert parse_chat_target("appointments") == (ChatTarget.APPOINTMENTS, None)
    assert parse_chat_target("book") == (ChatTarget.BOOK, None)
    assert chat_target(OutboxKind.TIMEOUT_TEACHER, {"appointment_id": True}) is None
    assert parse_chat_target("intake-confirm/12") == (ChatTarget.INTAKE_CONFIRM, 12)
    bad_targets = (
        "intake-confirm/0",
        "intake-confirm/12/x",
        "intake-confirm",
        "book/1",
        "appointments/x",
        "queue/1",
        "timeout-who/-1",
        "",
    )
    for bad in bad_targets:
        assert parse_chat_target(bad) is None
    assert staff_page(OutboxKind.REFERRAL_NEW, {"queue_item_id": 4}) == "/queue/4"
    assert staff_page(OutboxKind.TIMEOUT_REQUESTED, {"queue_item_id": 4}) == (
        "/queue/timeout-requests/4"
    )
    assert staff_page(OutboxKind.SURVEY_COMPLETED, {"queue_item_id": 4}) is None


async def test_a_care_coordinator_by_email_logs_in_and_lands_on_the_referral(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    await set_contact(session_factory, world.zoco.id, email="zora@example.org", language="en")
    async with session_factory() as session, session.begin():
        # Submitting tells the care coordinators (referral.new, with the queue item's id).
        item = await add_queued_referral(session, world.mentor, world.outsider)
    await drain(worker(session_factory, Clock(), server=smtp_server))
    # One e-mail per referral in the queue (the world has two more); each to its own page.
    mails = smtp_server.to("zora@example.org")
    assert {m["Subject"] for m in mails} == {"A new referral in your queue"}
    link = f"{STAFF_WEB_APP}:\nhttp://testserver/login?next=%2Fqueue%2F{item.id}\n"
    [mail] = [m for m in mails if link in plain_text(m).replace("\r\n", "\n")]
    assert "/c/" not in plain_text(mail)


async def test_a_confirmed_appointment_can_be_added_to_the_calendar_from_the_web_chat(
    session_factory: Factory, world: World, database_url: str
) -> None:
    """A parent the school cannot reach (no Telegram, no e-mail) downloads the calendar file
    from "My appointments", once the intake is confirmed; nobody else can."""
    booked = await book_intake(session_factory, world)
    path = f"/chat/appointments/{booked.appointment_id}/calendar.ics"
    async with chat_app(database_url, NOW) as web:
        pia = await chat_of(web, session_factory, world.parent, Role.PARENT)
        listed = await pia.get("/chat/appointments")
        assert world.newcomer.given_name in listed.text
        assert path not in listed.text  # the mentor has not confirmed: no file yet
        assert (await pia.get(path)).status == 404

        async with session_factory() as session, session.begin():
            mentor = await session.get_one(Person, world.mentor.id)
        await unit(
            session_factory,
            confirm_mentor_presence,
            mentor=mentor,
            appointment_id=booked.appointment_id,
            now=NOW,
            present=True,
        )
        listed = await pia.get("/chat/appointments")
        assert f'href="{path}"' in listed.text
        assert say("nl", "Add to my calendar") in listed.text
        response = await pia.client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        assert "attachment" in response.headers["content-disposition"]
        body = response.text.replace("\r\n ", "")
        assert f"UID:appointment-{booked.appointment_id}@trajectbot" in body
        assert f"SUMMARY:{say('nl', 'Intake meeting')}" in body
        assert world.newcomer.given_name not in body  # no names in the file

        piet = await chat_of(web, session_factory, world.other_parent, Role.PARENT)
        assert (await piet.get(path)).status == 404
        assert (await web.user().get(path)).status == 401
