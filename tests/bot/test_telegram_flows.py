"""The Telegram channel through `Dispatcher.feed_update`: real handlers, real database, no network.

A recording session stands in for the Bot API and keeps each chat as the person would see it
(edits applied), so the tests read the transcript, not internal calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.telegram.callbacks import FlowCallback, QueueCallback
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from storage.models import QueueDecision, QueueItem, Referral, Role, WaitingReason
from tests.bot.demo_bot import demo_bot
from tests.bot.telegram_fakes import Person, RecordingSession, Sent, update


@dataclass
class Harness:
    app: App
    bot: Bot
    dispatcher: Dispatcher
    api: RecordingSession

    async def feed(self, data: dict[str, Any]) -> None:
        await self.dispatcher.feed_update(self.bot, update(self.bot, data))

    async def invite(self, external_id: str, role: Role) -> str:
        async with self.app.sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            return await create_invite(
                session=session, person=person, role=role, now=datetime.now(UTC)
            )

    async def link(self, user: Person, external_id: str, role: Role, language: str = "en") -> None:
        """Onboard ``user`` as the demo person ``external_id`` and pick ``language``."""
        token = await self.invite(external_id, role)
        await self.feed(user.text(f"/start {token}"))
        screen = self.api.last(user.id)
        await self.feed(user.press(screen, f"lang:{language}"))


@pytest.fixture
def flood_limit() -> int:
    """Generous: these tests tap faster than any person (overridden by the flood test)."""
    return 1000


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str, flood_limit: int) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with demo_bot(database_url, flood_limit=flood_limit) as demo:
        yield Harness(demo.app, demo.bot, demo.dispatcher, demo.api)


async def _count(app: App, model: type[Referral] | type[QueueItem]) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_unknown_person_only_learns_how_to_get_access(tg: Harness) -> None:
    stranger = Person(900, "en")
    await tg.feed(stranger.text("/start"))
    await tg.feed(stranger.text("hello?"))
    replies = [m.text for m in tg.api.chat(900)]
    assert len(replies) == 2
    assert all("personal invitation link" in text for text in replies)
    assert all(m.markup is None for m in tg.api.chat(900))


async def test_an_unknown_person_in_dutch_gets_dutch(tg: Harness) -> None:
    stranger = Person(901, "nl")
    await tg.feed(stranger.text("/start"))
    assert "uitnodigingslink" in tg.api.last(901).text


async def test_onboarding_links_the_account_and_asks_the_language_first(tg: Harness) -> None:
    mentor = Person(1001, "nl")
    token = await tg.invite("mentor2", Role.MENTOR)
    await tg.feed(mentor.text(f"/start {token}"))
    screen = tg.api.last(1001)
    assert [label for label, _ in screen.buttons()] == [
        "Nederlands",
        "English",
        "العربية",
        "Türkçe",
        "Polski",
        "Українська",
    ]
    await tg.feed(mentor.press(screen, "lang:en"))
    assert screen.text == "Language: English ✓"
    menu = tg.api.last(1001)
    assert "What would you like to do?" in menu.text
    assert [label for label, _ in menu.buttons()] == ["New referral", "My referrals"]


async def test_an_invite_works_once(tg: Harness) -> None:
    token = await tg.invite("mentor2", Role.MENTOR)
    await tg.feed(Person(1002, "en").text(f"/start {token}"))
    await tg.feed(Person(1003, "en").text(f"/start {token}"))
    assert "already been used" in tg.api.last(1003).text
    await tg.feed(Person(1003, "en").text("/start"))
    assert "personal invitation link" in tg.api.last(1003).text


async def test_language_can_be_changed_any_time(tg: Harness) -> None:
    mentor = Person(1004, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR, "en")
    await tg.feed(mentor.text("/taal"))
    await tg.feed(mentor.press(tg.api.last(1004), "lang:nl"))
    assert "Wat wil je doen?" in tg.api.last(1004).text
    await tg.feed(mentor.text("/language"))
    screen = tg.api.last(1004)
    await tg.feed(mentor.press(screen, "lang:uk"))
    assert "Українська ✓" in screen.text
    async with tg.app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        assert person is not None
        assert person.language == "uk"


async def _start_referral(tg: Harness, mentor: Person) -> Sent:
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    return tg.api.last(mentor.id)


async def test_a_whole_verwijzing_by_buttons_and_text(tg: Harness) -> None:
    mentor, chat = Person(1010, "en"), 1010
    await tg.link(mentor, "mentor2", Role.MENTOR)
    question = await _start_referral(tg, mentor)
    assert "Question 1 of 13" in question.text

    await tg.feed(mentor.press(question, question.data_for("Lieke")))
    assert question.text == "Student: Lieke Noordeloos (3A) ✓"  # edited in place, transcript
    assert question.markup is None
    for answer in (
        "She wants to feel less anxious in class.",
        "How can I help her take part without pressure?",
        "A fixed seat near the window and a weekly check-in.",
    ):
        await tg.feed(mentor.text(answer))
    for _ in range(2):  # what works at home / at school: skip
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for("Skip")))
    urgency = tg.api.last(chat)
    await tg.feed(mentor.press(urgency, urgency.data_for("High")))
    assert urgency.text == "Urgency: High (this week) ✓"
    parents = tg.api.last(chat)
    await tg.feed(mentor.press(parents, parents.data_for("Yes")))
    support = tg.api.last(chat)
    await tg.feed(mentor.press(support, support.data_for("Time-out")))
    assert support.data_for("✓ Time-out")  # the tick is drawn on the same message
    await tg.feed(mentor.press(support, support.data_for("Done")))
    day = tg.api.last(chat)
    await tg.feed(mentor.press(day, day.buttons()[0][1]))
    days = tg.api.last(chat)
    await tg.feed(mentor.press(days, days.data_for("Wednesday")))
    await tg.feed(mentor.press(days, days.data_for("Done")))
    more = tg.api.last(chat)  # the optional questions (issue 15): not now
    await tg.feed(mentor.press(more, more.data_for("No")))
    summary = tg.api.last(chat)
    assert "Please check your referral" in summary.text
    assert "Lieke Noordeloos" in summary.text
    await tg.feed(mentor.press(summary, summary.data_for("Send")))

    assert "Your referral has been sent" in tg.api.last(chat).text
    assert summary.markup is None
    assert await _count(tg.app, Referral) == 1
    assert await _count(tg.app, QueueItem) == 1


async def test_a_stale_button_gets_the_current_question_again(tg: Harness) -> None:
    mentor, chat = Person(1020, "en"), 1020
    await tg.link(mentor, "mentor2", Role.MENTOR)
    first = await _start_referral(tg, mentor)
    old_data = first.data_for("Bram")
    await tg.feed(mentor.press(first, old_data))
    await tg.feed(mentor.press(first, old_data))  # the same, old button again
    texts = [m.text for m in tg.api.chat(chat)]
    assert "That question is already closed. Here is the current one." in texts
    assert "Question 2 of 13" in tg.api.last(chat).text


async def test_a_forged_student_is_refused(tg: Harness) -> None:
    mentor, chat = Person(1030, "en"), 1030
    await tg.link(mentor, "mentor2", Role.MENTOR)
    question = await _start_referral(tg, mentor)
    shown = FlowCallback.unpack(question.data_for("Bram"))
    forged = shown.model_copy(update={"value": "1"}).pack()
    await tg.feed(mentor.press(question, forged))  # person 1 is not one of mentor2's mentees
    texts = [m.text for m in tg.api.chat(chat)]
    assert "That choice is not available. Please use the buttons." in texts
    assert "Question 1 of 13" in tg.api.last(chat).text


async def test_a_flow_of_another_role_is_refused(tg: Harness) -> None:
    parent, chat = Person(1040, "en"), 1040
    await tg.link(parent, "ouder1", Role.PARENT)
    forged = FlowCallback(flow="verwijzing", action="c", version=1, value="1").pack()
    await tg.feed(parent.press(tg.api.last(chat), forged))
    assert tg.api.last(chat).text == "This button is not for you, or no longer works."
    assert await _count(tg.app, Referral) == 0


async def test_another_schools_or_foreign_queue_item_is_refused(tg: Harness) -> None:
    mentor, chat = Person(1050, "en"), 1050
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(chat), QueueCallback(action="open", item=1).pack()))
    reply = tg.api.last(chat).text
    assert "Student:" not in reply
    assert "Help" not in reply


async def test_the_same_update_twice_has_effect_once(tg: Harness) -> None:
    mentor = Person(1060, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    start = mentor.press(tg.api.last(1060), "m:flow:verwijzing")
    await tg.feed(start)
    before = len(tg.api.chat(1060))
    await tg.feed(start)  # a webhook redelivery of the very same update
    assert len(tg.api.chat(1060)) == before


async def test_stop_command_cancels_the_flow(tg: Harness) -> None:
    mentor = Person(1070, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await _start_referral(tg, mentor)
    await tg.feed(mentor.text("/stop"))
    assert tg.api.last(1070).text == "Stopped. Nothing has been sent."
    await tg.feed(mentor.text("/stop"))
    assert tg.api.last(1070).text == "There is nothing to stop."


async def test_care_coordinator_takes_and_accepts_a_referral(tg: Harness) -> None:
    await test_a_whole_verwijzing_by_buttons_and_text(tg)
    zoco, chat = Person(1080, "en"), 1080
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(chat), "m:queue:"))
    queue = tg.api.last(chat)
    assert "1 open item" in queue.text
    await tg.feed(zoco.press(queue, queue.buttons()[0][1]))
    summary = tg.api.last(chat)
    assert "Lieke Noordeloos" in summary.text
    assert "She wants to feel less anxious" in summary.text
    await tg.feed(zoco.press(summary, summary.data_for("Take in analysis")))
    taken = tg.api.last(chat)
    assert "in progress" in taken.text
    await tg.feed(zoco.press(taken, taken.data_for("Accept for intake")))
    assert "waiting" in tg.api.last(chat).text


async def test_the_care_team_round_trip_and_its_buttons_in_chat(tg: Harness) -> None:
    # The chat offers what the web offers (services.queue.rules): while the referral waits for
    # the care team it may be resumed, accepted or declined, not only noted (issue 10).
    await test_a_whole_verwijzing_by_buttons_and_text(tg)
    zoco, chat = Person(1085, "en"), 1085
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(chat), "m:queue:"))
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).buttons()[0][1]))
    summary = tg.api.last(chat)
    assert [label for label, _ in summary.buttons()] == [
        "Take in analysis",
        "Mark for the care team (ZAT)",
        "Decline…",
        "Add a note",
    ]
    await tg.feed(zoco.press(summary, summary.data_for("Mark for the care team (ZAT)")))
    waiting = tg.api.last(chat)
    assert "waiting" in waiting.text
    assert [label for label, _ in waiting.buttons()] == [
        "Back in analysis (care team has advised)",
        "Accept for intake",
        "Decline…",
        "Add a note",
    ]
    await tg.feed(zoco.press(waiting, waiting.data_for("Back in analysis (care team has advised)")))
    resumed = tg.api.last(chat)
    assert "in progress" in resumed.text
    assert [label for label, _ in resumed.buttons()] == [
        "Mark for the care team (ZAT)",
        "Accept for intake",
        "Decline…",
        "Add a note",
    ]
    # A stale button of a state that has passed is refused with the rule's reason.
    await tg.feed(zoco.press(summary, summary.data_for("Take in analysis")))
    assert tg.api.last(chat).text == "This referral is already being analysed."
    await tg.feed(zoco.press(resumed, resumed.data_for("Mark for the care team (ZAT)")))
    waiting = tg.api.last(chat)
    await tg.feed(zoco.press(waiting, waiting.data_for("Accept for intake")))
    accepted = tg.api.last(chat)
    assert "waiting" in accepted.text
    assert [label for label, _ in accepted.buttons()] == ["Add a note"]
    async with tg.app.sessions() as session:
        item = await session.scalar(select(QueueItem))
        assert item is not None
        assert (item.status.value, item.decision, item.waiting_reason) == (
            "waiting",
            QueueDecision.ACCEPTED,
            WaitingReason.INTAKE,
        )


async def test_expired_invite_is_explained(tg: Harness) -> None:
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor1"
        )
        assert person is not None
        token = await create_invite(
            session=session,
            person=person,
            role=Role.MENTOR,
            ttl=timedelta(days=1),
            now=datetime.now(UTC) - timedelta(days=3),
        )
    await tg.feed(Person(1090, "en").text(f"/start {token}"))
    assert "expired" in tg.api.last(1090).text


@pytest.mark.parametrize("flood_limit", [3])
async def test_a_flood_is_dropped_with_one_kind_word(tg: Harness) -> None:
    stranger = Person(1100, "en")
    for _ in range(6):
        await tg.feed(stranger.text("/start"))
    texts = [m.text for m in tg.api.chat(1100)]
    assert len(texts) == 4  # three answered, then one "please wait", then silence
    assert texts[-1] == "That was a lot at once. Please wait a moment."


async def test_care_coordinator_declines_with_a_reason_and_adds_a_note(tg: Harness) -> None:
    await test_a_whole_verwijzing_by_buttons_and_text(tg)
    zoco, chat = Person(1110, "en"), 1110
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(chat), "m:queue:"))
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).buttons()[0][1]))
    summary = tg.api.last(chat)

    await tg.feed(zoco.press(summary, summary.data_for("Add a note")))
    assert "Notes are internal" in tg.api.last(chat).text
    await tg.feed(zoco.text("Called the mother: she agrees with an intake."))
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).data_for("Send")))
    assert tg.api.last(chat).text == "The note is saved."

    await tg.feed(zoco.press(summary, summary.data_for("Decline")))
    await tg.feed(zoco.text("no"))  # too short: explained, asked again
    assert "at least 5 characters" in tg.api.chat(chat)[-2].text
    await tg.feed(zoco.text("First a seat change and a talk with the parents."))
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).data_for("Send")))
    assert "The referral is declined." in tg.api.last(chat).text
    async with tg.app.sessions() as session:
        item = await session.scalar(select(QueueItem))
        assert item is not None
        assert item.status.value == "closed"
        assert item.decision_reason == "First a seat change and a talk with the parents."

    # Declining again (an old summary's button) is refused at once, before any reason is
    # asked: nobody types a reason the rules will throw away.
    await tg.feed(zoco.press(summary, summary.data_for("Decline")))
    assert tg.api.last(chat).text == "This referral was already declined."
    assert "Why do you decline" not in tg.api.chat(chat)[-2].text


async def test_a_mentor_cannot_start_a_decline(tg: Harness) -> None:
    await test_a_whole_verwijzing_by_buttons_and_text(tg)
    mentor, chat = Person(1120, "en"), 1120
    await tg.link(mentor, "mentor1", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(chat), QueueCallback(action="decline", item=1).pack()))
    assert "Why do you decline" not in tg.api.last(chat).text
    async with tg.app.sessions() as session:
        item = await session.scalar(select(QueueItem))
        assert item is not None
        assert item.status.value == "new"


async def test_an_unreachable_person_who_writes_again_is_reachable(tg: Harness) -> None:
    mentor = Person(1130, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        assert person is not None
        person.unreachable_at = datetime.now(UTC)
    await tg.feed(mentor.text("/start"))
    async with tg.app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        assert person is not None
        assert person.unreachable_at is None
