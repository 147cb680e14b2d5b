"""Decisions on a referral reach people (issue 11, item 1), asserted where they arrive.

Accept and decline run through the services (and, at the end, through the care coordinator's
Telegram handlers); then the outbox worker sends with a recording sender, and the tests read
what each person received, in their own language: a Dutch mentor gets the decision without a
name on the lock screen and reads the student and the reason inside the chat; an Arabic parent
is asked to book the intake, with the button that opens the booking; a parent without a linked
chat is settled as unreachable (``no_chat``), as every notice to such a person is (e-mail is
issue 12).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.outbox.messages import BOOK_AN_APPOINTMENT, KINDS, OutgoingMessage
from bot.telegram.callbacks import MenuCallback, QueueCallback, ReferralCallback
from bot.telegram.handlers.referral_outcome import outcome_lines
from dialogs.flows.afspraken import BOOK as BOOK_APPOINTMENT
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.kernel.errors import NotAllowed
from services.outbox.kinds import OutboxKind
from services.outbox.store import NO_CHAT
from services.referrals.decisions import accept_for_intake, decline, take_in_analysis
from services.referrals.outcome import OUTCOME_VIEW, referral_outcome
from services.referrals.submission import submit_referral
from storage.models import (
    AuditLog,
    Guardianship,
    Outbox,
    OutboxStatus,
    Person,
    QueueItem,
    Role,
    School,
)
from tests.bot.demo_bot import demo_bot, demo_person, send_outbox
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_outbox_worker import Clock, FakeSender, fast_worker
from tests.bot.test_telegram_flows import Harness
from tests.support.factories import NOW, add_mentorship, add_person, add_school, draft
from tests.support.notices import Notice, telegram_text
from tests.support.units import unit

CATALOGS = Catalogs()
NL, AR, EN = CATALOGS.get("nl"), CATALOGS.get("ar"), CATALOGS.get("en")
LATER = NOW + timedelta(hours=1)
REASON = "Eerst een gesprek met Bram en zijn ouders; over zes weken opnieuw bekijken."

ACCEPTED = Notice(
    "News about a referral you sent: it has been accepted.\n"
    "The next step is the intake meeting; you will be asked whether you can be there.",
    "Press the button to see which student it is.",
)
DECLINED = Notice(
    "News about a referral you sent: it has not been accepted.",
    "Press the button to see which student it is and the care coordinator's reason.",
    new_line=True,
)
PARENT = Notice(
    "News from the school about your child.\n"
    "Your child has been accepted for extra support at school. The first step is an intake "
    "meeting with you, your child, the mentor and a coach.",
    "Press the button to choose a time.",
)


@dataclass
class World:
    school: School
    zoco: Person
    mentor: Person  # Dutch
    other_mentor: Person
    amira: Person  # two parents: one in Arabic with a chat, one in Polish without
    bram: Person  # no parent linked
    parent_ar: Person
    parent_pl: Person


def _chat(person: Person) -> int:
    return 800_000 + person.id


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vo-decisions")
        zoco = await add_person(session, school, "z", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m", Role.MENTOR, given_name="Ruben")
        other_mentor = await add_person(session, school, "m2", Role.MENTOR)
        amira = await add_person(
            session, school, "s1", Role.STUDENT, given_name="Amira", family_name="Haddou"
        )
        bram = await add_person(
            session, school, "s2", Role.STUDENT, given_name="Bram", family_name="Moerdijk"
        )
        parent_ar = await add_person(session, school, "p1", Role.PARENT, given_name="Samira")
        parent_pl = await add_person(session, school, "p2", Role.PARENT, given_name="Agnieszka")
        for student in (amira, bram):
            await add_mentorship(session, mentor, student)
        for parent in (parent_ar, parent_pl):
            session.add(Guardianship(school_id=school.id, parent_id=parent.id, student_id=amira.id))
        for person, language in ((zoco, "en"), (mentor, "nl"), (parent_ar, "ar")):
            person.language = language
            person.telegram_user_id = person.telegram_chat_id = _chat(person)
        parent_pl.language = "pl"  # no chat: never started the bot
        await session.flush()
        return World(school, zoco, mentor, other_mentor, amira, bram, parent_ar, parent_pl)


async def _submit(
    sessions: async_sessionmaker[AsyncSession], mentor: Person, student: Person, **changes: object
) -> int:
    referral = await unit(
        sessions, submit_referral, mentor=mentor, draft=draft(student.id, **changes), now=NOW
    )
    async with sessions() as session:
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == referral.id)
        )
    assert item_id is not None
    return item_id


async def _drain(sessions: async_sessionmaker[AsyncSession]) -> dict[int, list[OutgoingMessage]]:
    """Send everything due; what each chat received, in order."""
    sender = FakeSender()
    worker = fast_worker(sessions, sender, Clock(LATER))
    while await worker.drain_once():
        pass
    received: dict[int, list[OutgoingMessage]] = {}
    for message in sender.delivered:
        assert message.chat_id is not None
        received.setdefault(message.chat_id, []).append(message)
    return received


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


async def test_accept_tells_the_mentor_and_asks_each_parent_to_book_the_intake(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    item_id = await _submit(session_factory, world.mentor, world.amira)
    await unit(session_factory, take_in_analysis, actor=world.zoco, queue_item_id=item_id, now=NOW)
    await unit(
        session_factory, accept_for_intake, actor=world.zoco, queue_item_id=item_id, now=LATER
    )
    received = await _drain(session_factory)

    # The Dutch mentor: the decision, no name (lock screen), a button to read it in the chat.
    (told,) = received[_chat(world.mentor)]
    assert told.text == telegram_text(NL, ACCEPTED)
    assert "Amira" not in told.text
    (button,) = told.buttons
    assert button.label == NL.render(Text.of("Show the decision"))
    shown = ReferralCallback.unpack(button.payload)
    assert shown.action == "show"

    # The Arabic parent: accepted, how to book the intake, the button that opens the booking.
    (asked,) = received[_chat(world.parent_ar)]
    assert asked.text == telegram_text(AR, PARENT)
    assert "Amira" not in asked.text
    (book,) = asked.buttons
    assert book.payload == BOOK_AN_APPOINTMENT
    assert MenuCallback.unpack(book.payload).value == BOOK_APPOINTMENT.id
    assert book.label == AR.render(Text.of(BOOK_APPOINTMENT.title))
    assert book.label != EN.render(Text.of(BOOK_APPOINTMENT.title))  # it is Arabic

    # The Polish parent has no chat: settled as every notice to such a person (issue 12).
    rows = await _rows(session_factory)
    to_pl = [row for row in rows if row.recipient_id == world.parent_pl.id]
    assert [(row.kind, row.status, row.last_error) for row in to_pl] == [
        (OutboxKind.REFERRAL_ACCEPTED_PARENT, OutboxStatus.UNREACHABLE, NO_CHAT)
    ]
    # Every row written on the way has a message, and none failed.
    assert {row.kind for row in rows} == {
        OutboxKind.REFERRAL_NEW,
        OutboxKind.REFERRAL_ACCEPTED,
        OutboxKind.REFERRAL_ACCEPTED_PARENT,
        # The student is asked for their own help question (issue 15).
        OutboxKind.STUDENT_VOICE_ASK,
    }
    assert {row.kind for row in rows} <= KINDS
    assert not [row for row in rows if row.status is OutboxStatus.FAILED]

    # Inside the chat the mentor reads which student; reading it is audited.
    outcome = await unit(
        session_factory,
        referral_outcome,
        viewer=world.mentor,
        referral_id=shown.referral,
        now=LATER,
    )
    first, second = (NL.render(line) for line in outcome_lines(outcome))
    assert first == NL.render(
        Text.of(
            "Your referral for {student} (sent {date}) has been accepted.",
            student=Text.raw("Amira Haddou"),
            date=NOW.date(),
        )
    )
    assert "Amira Haddou" in first
    assert "2 maart" in first  # the date in Dutch
    assert second == NL.render(
        Text.of(
            "The parents have been asked to book the intake meeting. You will be asked whether "
            "you can be there."
        )
    )
    async with session_factory() as session:
        audited = await session.scalar(select(AuditLog).where(AuditLog.action == OUTCOME_VIEW))
    assert audited is not None
    assert (audited.actor_id, audited.subject_id) == (world.mentor.id, shown.referral)


async def test_parents_who_were_not_informed_are_not_asked_by_the_bot(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    item_id = await _submit(
        session_factory,
        world.mentor,
        world.amira,
        parents_informed=False,
        parents_not_informed_reason="Eerst met de leerling zelf praten.",
    )
    await unit(session_factory, take_in_analysis, actor=world.zoco, queue_item_id=item_id, now=NOW)
    await unit(
        session_factory, accept_for_intake, actor=world.zoco, queue_item_id=item_id, now=LATER
    )
    received = await _drain(session_factory)
    assert _chat(world.parent_ar) not in received
    assert len(received[_chat(world.mentor)]) == 1
    rows = await _rows(session_factory)
    assert OutboxKind.REFERRAL_ACCEPTED_PARENT not in {row.kind for row in rows}
    referral_id = ReferralCallback.unpack(received[_chat(world.mentor)][0].buttons[0].payload)
    outcome = await unit(
        session_factory,
        referral_outcome,
        viewer=world.mentor,
        referral_id=referral_id.referral,
        now=LATER,
    )
    assert "care coordinator contacts them" in EN.render(outcome_lines(outcome)[1])


async def test_decline_tells_the_mentor_who_reads_the_reason_in_the_chat(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    item_id = await _submit(session_factory, world.mentor, world.bram)
    await unit(
        session_factory,
        decline,
        actor=world.zoco,
        queue_item_id=item_id,
        reason=REASON,
        now=LATER,
    )
    received = await _drain(session_factory)
    (told,) = received[_chat(world.mentor)]
    assert told.text == telegram_text(NL, DECLINED)
    assert "Bram" not in told.text
    assert REASON not in told.text  # never on the lock screen
    (button,) = told.buttons
    assert button.label == NL.render(Text.of("Show the decision and the reason"))
    shown = ReferralCallback.unpack(button.payload)
    rows = await _rows(session_factory)
    assert all(REASON not in str(row.payload) for row in rows)
    assert {row.kind for row in rows} == {OutboxKind.REFERRAL_NEW, OutboxKind.REFERRAL_DECLINED}

    outcome = await unit(
        session_factory,
        referral_outcome,
        viewer=world.mentor,
        referral_id=shown.referral,
        now=LATER,
    )
    first, second = (NL.render(line) for line in outcome_lines(outcome))
    assert "Bram Moerdijk" in first
    assert second == NL.render(
        Text.of("The care coordinator's reason: {reason}", reason=Text.raw(REASON))
    )
    assert REASON in second

    # Another mentor, or a made-up id, reads nothing (the same answer for both).
    for viewer, referral_id in ((world.other_mentor, shown.referral), (world.mentor, 9999)):
        with pytest.raises(NotAllowed):
            await unit(
                session_factory,
                referral_outcome,
                viewer=viewer,
                referral_id=referral_id,
                now=LATER,
            )


# --- through Telegram: the care coordinator's buttons, the worker, the mentor's press --------


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with demo_bot(database_url) as demo:
        yield Harness(demo.app, demo.bot, demo.dispatcher, demo.api)


async def test_in_telegram_a_dutch_mentor_and_an_arabic_parent_hear_the_decisions(
    tg: Harness,
) -> None:
    zoco, mentor, parent = User(3100, "en"), User(3101, "nl"), User(3102, "ar")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR, "nl")
    await tg.link(parent, "ouder1", Role.PARENT, "ar")
    ruben = await demo_person(tg.app, "mentor2")
    amira, bram = (
        await demo_person(tg.app, "lln15"),
        await demo_person(tg.app, "lln13"),
    )  # ouder1 is Amira's
    accepted_item = await _submit(tg.app.sessions, ruben, amira)
    declined_item = await _submit(tg.app.sessions, ruben, bram)
    await send_outbox(tg.app, tg.bot)  # the coordinator's "new referral" notices

    # The care coordinator accepts one and declines the other with the chat's buttons.
    await tg.feed(
        zoco.press(tg.api.last(zoco.id), QueueCallback(action="open", item=accepted_item).pack())
    )
    card = tg.api.last(zoco.id)
    await tg.feed(zoco.press(card, card.data_for("Take in analysis")))
    taken = tg.api.last(zoco.id)
    await tg.feed(zoco.press(taken, taken.data_for("Accept for intake")))
    await tg.feed(
        zoco.press(tg.api.last(zoco.id), QueueCallback(action="open", item=declined_item).pack())
    )
    card = tg.api.last(zoco.id)
    await tg.feed(zoco.press(card, card.data_for("Decline")))
    await tg.feed(zoco.text("Eerst een gesprek met Bram en zijn ouders, dan opnieuw kijken."))
    await tg.feed(zoco.press(tg.api.last(zoco.id), tg.api.last(zoco.id).data_for("Send")))
    assert "The referral is declined." in tg.api.last(zoco.id).text
    before = {user.id: len(tg.api.chat(user.id)) for user in (mentor, parent)}
    await send_outbox(tg.app, tg.bot)

    # The Dutch mentor: two decisions, no names, each with its button.
    accepted_notice, declined_notice = tg.api.chat(mentor.id)[before[mentor.id] :]
    assert accepted_notice.text == telegram_text(NL, ACCEPTED)
    assert declined_notice.text == telegram_text(NL, DECLINED)
    for notice in (accepted_notice, declined_notice):
        assert "Amira" not in notice.text
        assert "Bram" not in notice.text
    # The Arabic parent: asked to book, with the Arabic "Book an appointment" button.
    (asked,) = tg.api.chat(parent.id)[before[parent.id] :]
    assert asked.text == telegram_text(AR, PARENT)
    ((label, data),) = asked.buttons()
    assert label == AR.render(Text.of(BOOK_APPOINTMENT.title))
    assert data == BOOK_AN_APPOINTMENT
    # ... which opens the booking flow, in Arabic, for her child.
    await tg.feed(parent.press(asked, data))
    opened = tg.api.last(parent.id)
    assert opened.text != asked.text
    assert opened.buttons()
    assert any("\u0600" <= char <= "\u06ff" for char in opened.text)  # Arabic script

    # Pressing the decline's button shows, inside the chat, the student and the reason.
    await tg.feed(mentor.press(declined_notice, declined_notice.buttons()[0][1]))
    shown = tg.api.last(mentor.id).text
    assert "Bram Moerdijkstra" in shown
    assert "Eerst een gesprek met Bram en zijn ouders, dan opnieuw kijken." in shown
    await tg.feed(mentor.press(accepted_notice, accepted_notice.buttons()[0][1]))
    assert "Amira Oosterbeek-Haddou" in tg.api.last(mentor.id).text
    # The parent cannot read the mentor's decision with the same button.
    await tg.feed(parent.press(asked, declined_notice.buttons()[0][1]))
    assert "Bram" not in tg.api.last(parent.id).text
