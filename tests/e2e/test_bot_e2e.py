"""The bot end to end: real polling and outbox worker, HTTP to a Bot API emulator.

What the emulator cannot show (keyboards removed by an edit, sendDocument, setMyCommands,
webhook delivery, …) is covered in tests/bot/test_telegram_flows.py; see docs/testing.md.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

import pytest
from aiogram.exceptions import TelegramServerError
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.telegram.callbacks import FlowCallback
from bot.telegram.dispatcher import create_bot
from storage.models import QueueItem, Referral, Role
from tests.e2e.client import BotMessage, SimulatedPerson
from tests.e2e.conftest import Harness

log = logging.getLogger(__name__)

#: Every student of the demo school (services/demo/school.py): none may show on a lock screen.
DEMO_STUDENT_NAMES = (
    "Daan", "Akkerveld", "Noor", "Bremhorst", "Sem", "Coldewey", "Yara", "Dijkhuis", "Finn",
    "Eemsteden", "Lotte", "Fennema", "Milan", "Gorterhof", "Saar", "Holtkamp", "Jesse",
    "IJsselmuiden", "Fenna", "Jansema", "Thijs", "Kroeskamp", "Isa", "Lindenhof", "Bram",
    "Moerdijkstra", "Lieke", "Noordeloos", "Amira", "Oosterbeek",
)  # fmt: skip


async def _count(e2e: Harness, model: type[Referral] | type[QueueItem]) -> int:
    async with e2e.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _question(person: SimulatedPerson, number: int) -> BotMessage:
    question = await person.last()
    # "of 12", or "of 11" once an answer makes a later question unnecessary
    assert question.text.startswith(f"Question {number} of "), question.text
    return question


async def _up_to_the_summary(mentor: SimulatedPerson) -> BotMessage:
    """Mentor2 refers Lieke Noordeloos, answering all 12 questions by buttons and text."""
    await mentor.press_data(await mentor.last(), "m:flow:verwijzing")
    question = await _question(mentor, 1)
    await mentor.press(question, "Lieke")
    assert (await mentor.chat())[-2].text == "Student: Lieke Noordeloos (3A) ✓"  # edited
    for number, answer in (
        (2, "She wants to feel less anxious in class."),
        (3, "How can I help her take part without pressure?"),
        (4, "A fixed seat near the window and a weekly check-in."),
    ):
        await _question(mentor, number)
        await mentor.send(answer)
    for number in (5, 6):  # what works at home / at school: skip
        await mentor.press(await _question(mentor, number), "Skip")
    await mentor.press(await _question(mentor, 7), "High")
    await mentor.press(await _question(mentor, 8), "Yes")  # parents informed
    support = await _question(mentor, 9)
    await mentor.press(support, "Time-out")
    ticked = (await mentor.chat())[-1]
    assert ticked.message_id == support.message_id  # the tick is drawn on the same message
    assert ticked.data_for("✓ Time-out")
    await mentor.press(ticked, "Done")
    day = await _question(mentor, 10)
    await mentor.press_data(day, day.buttons[0][1])
    days = await _question(mentor, 11)
    await mentor.press(days, "Wednesday")
    await mentor.press((await mentor.chat())[-1], "Done")
    await mentor.press(await mentor.last(), "No")  # the optional questions (issue 15)
    summary = await mentor.last()
    assert "Please check your referral" in summary.text
    assert "Lieke Noordeloos" in summary.text
    assert "She wants to feel less anxious in class." in summary.text
    return summary


async def test_an_unknown_person_only_learns_how_to_get_access(e2e: Harness) -> None:
    stranger = e2e.person(900)
    await stranger.send("/start")
    await stranger.send("hello?")
    replies = await stranger.chat()
    assert len(replies) == 2
    assert all("personal invitation link" in m.text for m in replies)
    assert all(m.buttons == [] for m in replies)
    assert await _count(e2e, Referral) == 0


async def test_a_referral_end_to_end_reaches_the_care_coordinator_without_names(
    e2e: Harness,
) -> None:
    zoco, mentor = e2e.person(2001), e2e.person(2002)
    await e2e.onboard(zoco, "zoco", Role.CARE_COORDINATOR)
    await e2e.onboard(mentor, "mentor2", Role.MENTOR)
    before = len(await zoco.chat())

    await mentor.press(await _up_to_the_summary(mentor), "Send")
    assert "Your referral has been sent" in (await mentor.last()).text
    assert await _count(e2e, Referral) == 1
    assert await _count(e2e, QueueItem) == 1

    # Delivered by the outbox worker, not as an answer to any update of the coordinator's.
    notice = await e2e.api.wait_for_message(zoco.id, "new referral")
    assert len(await zoco.chat()) == before + 1
    assert notice.text == "There is a new referral in your queue. Open this chat to see it."
    leaked = [name for name in DEMO_STUDENT_NAMES if name in notice.text]
    assert leaked == [], f"lock-screen notification names {leaked}"
    assert all(name not in label for label, _ in notice.buttons for name in DEMO_STUDENT_NAMES)

    # Inside the chat, identified, the coordinator sees who and what.
    await zoco.press(notice, "Show the referral")
    details = await zoco.last()
    assert "Lieke Noordeloos" in details.text
    assert "She wants to feel less anxious" in details.text
    await zoco.press(details, "Take in analysis")
    assert "in progress" in (await zoco.last()).text


async def test_a_stale_button_gets_the_current_question_again(e2e: Harness) -> None:
    """The emulator keeps old keyboards around, so pressing one again is a real press."""
    mentor = e2e.person(2010)
    await e2e.onboard(mentor, "mentor2", Role.MENTOR)
    await mentor.press_data(await mentor.last(), "m:flow:verwijzing")
    first = await _question(mentor, 1)
    await mentor.press(first, "Bram")
    await mentor.press(first, "Bram")  # the same, old button again
    texts = await mentor.texts()
    assert "That question is already closed. Here is the current one." in texts
    assert texts[-1].startswith("Question 2 of ")


async def test_a_forged_student_is_refused(e2e: Harness) -> None:
    mentor = e2e.person(2020)
    await e2e.onboard(mentor, "mentor2", Role.MENTOR)
    await mentor.press_data(await mentor.last(), "m:flow:verwijzing")
    question = await _question(mentor, 1)
    shown = FlowCallback.unpack(question.data_for("Bram"))
    forged = shown.model_copy(update={"value": "1"}).pack()
    await mentor.press_data(question, forged)  # person 1 is not one of mentor2's mentees
    assert "That choice is not available. Please use the buttons." in await mentor.texts()
    await _question(mentor, 1)
    assert await _count(e2e, Referral) == 0


async def test_an_invite_works_once_and_stop_cancels(e2e: Harness) -> None:
    token = await e2e.invite("mentor2", Role.MENTOR)
    first, second = e2e.person(2030), e2e.person(2031)
    await first.send(f"/start {token}")
    await second.send(f"/start {token}")
    assert "already been used" in (await second.last()).text
    await first.press_data(await first.last(), "lang:en")
    await first.press_data(await first.last(), "m:flow:verwijzing")
    await first.send("/stop")
    assert (await first.last()).text == "Stopped. Nothing has been sent."


async def test_the_products_own_bot_reaches_the_emulator(e2e: Harness) -> None:
    """`create_bot` honours TELEGRAM_API_BASE: its plain session talks to the emulator."""
    bot = create_bot(e2e.app)
    try:
        sent = await bot.send_message(chat_id=2040, text="plain session")
        assert sent.text == "plain session"
        # Unsupported methods answer 500; this session would need no smoothing to raise.
        with pytest.raises(TelegramServerError):
            await e2e.bot.set_my_commands([])
    finally:
        await bot.session.close()
    assert [m.text for m in await e2e.person(2040).chat()] == ["plain session"]


@pytest.mark.sqlite_only
async def test_a_referral_survives_a_concurrent_writer(e2e: Harness, database_url: str) -> None:
    """Another connection wants the write lock just as the referral is completed.

    A writer must wait for the lock (``busy_timeout``), never fail at once. Found here while
    the outbox worker polled beside the mentor's flow (about 1 run in 25): a deferred
    transaction opened by the completion's SAVEPOINT could not wait to upgrade to a write,
    and failed with "database is locked". Fixed by beginning every SQLite transaction
    IMMEDIATE (storage/db.py), so the completion's transaction already holds the lock; this
    test takes the lock itself for 0.5 s if it can, and the referral must still go through.
    """
    mentor = e2e.person(2060)
    await e2e.onboard(mentor, "mentor2", Role.MENTOR)
    summary = await _up_to_the_summary(mentor)

    path = make_url(database_url).database
    assert path is not None
    # timeout=0: never wait here; a transaction that already owns the lock is what we want.
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
    seen: list[str] = []
    timers: list[threading.Timer] = []

    def take_the_lock_at_the_savepoint(*args: Any) -> None:
        if not str(args[2]).startswith("SAVEPOINT") or seen:
            return
        try:
            holder.execute("BEGIN IMMEDIATE")  # what the worker's claim does, for longer
        except sqlite3.OperationalError:
            seen.append("the completion's transaction already holds the write lock")
            return
        seen.append("held the write lock for 0.5 s")
        timers.append(threading.Timer(0.5, holder.rollback))
        timers[0].start()

    engine = e2e.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", take_the_lock_at_the_savepoint)
    try:
        await mentor.press(summary, "Send")
    finally:
        event.remove(engine, "before_cursor_execute", take_the_lock_at_the_savepoint)
        for timer in timers:
            timer.join()
        holder.close()
    assert seen, "the completion ran no SAVEPOINT"
    log.info("concurrent writer: %s", seen[0])
    assert "Your referral has been sent" in (await mentor.last()).text, seen
    assert await _count(e2e, Referral) == 1
