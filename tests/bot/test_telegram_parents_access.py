"""Age 18 in Telegram (domain.md): the adult student's question about their parents' access,
through `Dispatcher.feed_update` with real handlers and a real database.

The demo school (invented names) gets the booking setup of `prepare_demo_booking`. Amira
(lln15, parent ouder1, who also has Sem, lln03) is the student who turns 18 today; Sem turns
18 tomorrow; Daan (lln01, parent ouder3) has no date of birth. The handlers run on the real
clock, so every date here is relative to today (the school's date).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.telegram.callbacks import MenuCallback
from bot.telegram.handlers.menu import OPEN_FLOW
from dialogs.flows.parents_access import PARENTS_ACCESS
from dialogs.i18n import SCHOOL_TIMEZONE, Catalogs
from dialogs.text import Text
from services.conversations.runtime import school_today
from services.kernel.access import is_parent_of
from services.privacy.parents_access import AUDIT_ACTION
from services.trajectories.logbook import can_read_logbook
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    Conversation,
    Person,
    Role,
    Trajectory,
)
from tests.bot.appointment_setup import prepare_demo_booking
from tests.bot.demo_bot import demo_bot, demo_person
from tests.bot.telegram_fakes import Person as User
from tests.bot.telegram_fakes import Sent
from tests.bot.test_telegram_flows import Harness

CATALOGS = Catalogs()
TITLE = "Your parents' access"
NO_MORE = "No, not any more"
DONE = "Thank you. Your answer has been saved; you can change it here at any time."
MENU = "What would you like to do?"


def rendered(language: str, text: str) -> str:
    return CATALOGS.get(language).render(Text.of(text))


def _eighteen_today() -> date:
    """The date of birth of a student whose 18th birthday is today (the school's date); on a
    29 February the 28th, 18 years back (a year without a 29th: 18 since yesterday)."""
    today = school_today(datetime.now(UTC))
    try:
        return today.replace(year=today.year - 18)
    except ValueError:
        return date(today.year - 18, 2, 28)


def _seventeen_today() -> date:
    """A day later: 18 tomorrow (or on 1 March), 17 today."""
    return _eighteen_today() + timedelta(days=1)


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with demo_bot(database_url) as demo:
        await prepare_demo_booking(demo.app)
        yield Harness(demo.app, demo.bot, demo.dispatcher, demo.api)


async def _set_birth_date(tg: Harness, external_id: str, birth_date: date | None) -> Person:
    person = await demo_person(tg.app, external_id)
    async with tg.app.sessions() as session, session.begin():
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.birth_date = birth_date
    return person


async def _adult(tg: Harness) -> Person:
    """Amira (lln15), who turns 18 today."""
    return await _set_birth_date(tg, "lln15", _eighteen_today())


async def _stored(tg: Harness, person_id: int) -> Person:
    async with tg.app.sessions() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


def _labels(message: Sent) -> list[str]:
    return [label for label, _ in message.buttons()]


async def _menu(tg: Harness, user: User) -> Sent:
    """The menu as typing any text outside a flow shows it."""
    await tg.feed(user.text("menu"))
    menu = tg.api.last(user.id)
    assert MENU in menu.text, menu.text
    return menu


async def _audits(tg: Harness, person_id: int) -> list[AuditLog]:
    async with tg.app.sessions() as session:
        return list(
            await session.scalars(
                select(AuditLog).where(
                    AuditLog.action == AUDIT_ACTION, AuditLog.subject_id == person_id
                )
            )
        )


async def _answer_no(tg: Harness, user: User) -> None:
    """From the menu: the question, "No, not any more", and the summary's confirmation."""
    menu = await _menu(tg, user)
    await tg.feed(user.press(menu, menu.data_for(TITLE)))
    question = tg.api.last(user.id)
    assert "may your parents or carers still see your support" in question.text
    assert _labels(question)[:2] == ["Yes, they may keep seeing it", NO_MORE]
    await tg.feed(user.press(question, question.data_for(NO_MORE)))
    summary = tg.api.last(user.id)
    assert "Please check your answer before saving it:" in summary.text
    assert NO_MORE in summary.text
    await tg.feed(user.press(summary, summary.data_for("Send ✓")))


# -- (a) who is asked, and where in the menu --------------------------------------------------


async def test_an_adult_student_is_asked_first_and_younger_ones_not_at_all(tg: Harness) -> None:
    await _adult(tg)  # 18 today: counts
    await _set_birth_date(tg, "lln03", _seventeen_today())
    await _set_birth_date(tg, "lln01", None)
    amira, sem, daan = User(3001, "en"), User(3002, "en"), User(3003, "en")
    await tg.link(amira, "lln15", Role.STUDENT)
    await tg.link(sem, "lln03", Role.STUDENT)
    await tg.link(daan, "lln01", Role.STUDENT)

    # The menu onboarding ends with, and the menu asked for again.
    onboarded = tg.api.last(amira.id)
    assert _labels(onboarded)[0] == TITLE
    menu = await _menu(tg, amira)
    assert _labels(menu)[:2] == [TITLE, "Book an appointment"]
    assert menu.text.startswith("You are 18 or older: you now decide")  # why it is first
    for younger in (sem, daan):
        assert TITLE not in _labels(tg.api.last(younger.id))
        labels = _labels(await _menu(tg, younger))
        assert labels[0] == "Book an appointment"
        assert TITLE not in labels
        assert "18 or older" not in (await _menu(tg, younger)).text
        assert all(TITLE not in m.text for m in tg.api.chat(younger.id))


# -- (b) the adult says no --------------------------------------------------------------------


async def test_the_adult_student_withdraws_their_parents_access(tg: Harness) -> None:
    student = await _adult(tg)
    amira = User(3010, "en")
    await tg.link(amira, "lln15", Role.STUDENT)
    before = datetime.now(UTC)

    await _answer_no(tg, amira)

    done = tg.api.last(amira.id)
    assert DONE in done.text
    stored = await _stored(tg, student.id)
    assert stored.parents_access_withdrawn_at is not None
    assert stored.parents_access_answered_at is not None
    assert stored.parents_access_withdrawn_at >= before
    assert stored.parents_access_answered_at == stored.parents_access_withdrawn_at
    [audit] = await _audits(tg, student.id)
    assert (audit.actor_id, audit.subject_type, audit.details) == (
        student.id,
        "person",
        {"share": False},
    )

    # Answered: still there to change, no longer first.
    labels = _labels(await _menu(tg, amira))
    assert labels[0] == "Book an appointment"
    assert TITLE in labels
    assert labels.index(TITLE) > 0


async def test_the_menu_under_the_done_text_no_longer_puts_the_question_first(
    tg: Harness,
) -> None:
    await _adult(tg)
    amira = User(3015, "en")
    await tg.link(amira, "lln15", Role.STUDENT)
    await _answer_no(tg, amira)
    done = tg.api.last(amira.id)
    assert DONE in done.text
    labels = _labels(done)
    assert labels, "the flow's last message carries the menu"
    assert labels[0] == "Book an appointment"
    assert TITLE in labels


# -- (c) a press for a flow the person is not offered -----------------------------------------


async def test_a_minors_forged_press_for_the_flow_is_refused(tg: Harness) -> None:
    minor = await _set_birth_date(tg, "lln03", _seventeen_today())
    sem = User(3020, "nl")
    await tg.link(sem, "lln03", Role.STUDENT, "nl")
    forged = MenuCallback(action=OPEN_FLOW, value=PARENTS_ACCESS.id).pack()
    menu = tg.api.last(sem.id)
    shown = len(tg.api.chat(sem.id))

    await tg.feed(sem.press(menu, forged))

    refusal = rendered("nl", "This is not available to you.")
    assert refusal != "This is not available to you."  # the Dutch text, not the English one
    assert tg.api.last(sem.id).text == refusal
    assert len(tg.api.chat(sem.id)) == shown + 1  # only the refusal: no question asked
    assert menu.markup is not None  # the menu pressed on stays as it was
    stored = await _stored(tg, minor.id)
    assert stored.parents_access_answered_at is None
    assert stored.parents_access_withdrawn_at is None
    assert await _audits(tg, minor.id) == []
    async with tg.app.sessions() as session:
        runs = await session.scalars(
            select(Conversation.id).where(
                Conversation.person_id == minor.id, Conversation.flow == PARENTS_ACCESS.id
            )
        )
        assert list(runs) == []


async def test_a_stale_question_of_a_student_no_longer_adult_is_refused(tg: Harness) -> None:
    # The flow was opened while the birth date said 18; the school corrects it: the answer on
    # the question still shown is refused and nothing is stored.
    student = await _adult(tg)
    amira = User(3025, "en")
    await tg.link(amira, "lln15", Role.STUDENT)
    menu = tg.api.last(amira.id)
    await tg.feed(amira.press(menu, menu.data_for(TITLE)))
    question = tg.api.last(amira.id)
    await _set_birth_date(tg, "lln15", _seventeen_today())

    await tg.feed(amira.press(question, question.data_for(NO_MORE)))

    assert tg.api.last(amira.id).text == "This button is not for you, or no longer works."
    stored = await _stored(tg, student.id)
    assert stored.parents_access_answered_at is None
    assert stored.parents_access_withdrawn_at is None
    assert await _audits(tg, student.id) == []


# -- (d) the parent's side --------------------------------------------------------------------


async def _intake_of(tg: Harness, student: Person) -> Appointment:
    """An intake the day after tomorrow at 10:00 (inserted directly; the student's trajectory
    waits for it)."""
    day = school_today(datetime.now(UTC)) + timedelta(days=2)
    starts = datetime.combine(day, time(10), tzinfo=SCHOOL_TIMEZONE).astimezone(UTC)
    async with tg.app.sessions() as session, session.begin():
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == student.id)
        )
        assert trajectory is not None
        appointment = Appointment(
            school_id=student.school_id,
            trajectory_id=trajectory.id,
            student_id=student.id,
            kind=AppointmentKind.INTAKE,
            status=AppointmentStatus.CONFIRMED,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=45),
            busy_until=starts + timedelta(minutes=45),
            resource="coach",
            booked_by_id=student.id,
        )
        session.add(appointment)
    return appointment


async def _parent_sees(tg: Harness, parent: Person, student: Person) -> tuple[bool, bool]:
    async with tg.app.sessions() as session:
        reloaded = await session.get(Person, parent.id)
        assert reloaded is not None
        return (
            await is_parent_of(session=session, parent=reloaded, student_id=student.id),
            await can_read_logbook(session=session, reader=reloaded),
        )


async def test_the_parent_no_longer_sees_the_withdrawn_students_appointment(
    tg: Harness,
) -> None:
    student = await _adult(tg)
    parent = await demo_person(tg.app, "ouder1")
    await _intake_of(tg, student)
    samira, amira = User(3030, "en"), User(3031, "en")
    await tg.link(samira, "ouder1", Role.PARENT)
    await tg.link(amira, "lln15", Role.STUDENT)

    # Before: the parent sees Amira's intake and has the logbook in the menu.
    menu = await _menu(tg, samira)
    assert "Logbook" in _labels(menu)
    await tg.feed(samira.press(menu, menu.data_for("My appointments")))
    header, entry = tg.api.chat(samira.id)[-2:]
    assert header.text == "You have 1 upcoming appointment:"
    assert entry.text.startswith("Intake meeting for Amira Oosterbeek-Haddou, ")
    assert await _parent_sees(tg, parent, student) == (True, True)

    await _answer_no(tg, amira)
    assert DONE in tg.api.last(amira.id).text

    menu = await _menu(tg, samira)
    assert "Logbook" not in _labels(menu)
    await tg.feed(samira.press(menu, menu.data_for("My appointments")))
    nothing = tg.api.last(samira.id)
    assert nothing.text == "You have no upcoming appointments."
    assert all("Amira" not in m.text for m in tg.api.chat(samira.id)[-2:])
    assert await _parent_sees(tg, parent, student) == (False, False)
    # The student herself still has her intake.
    menu = await _menu(tg, amira)
    await tg.feed(amira.press(menu, menu.data_for("My appointments")))
    assert tg.api.last(amira.id).text.startswith("Intake meeting, ")
