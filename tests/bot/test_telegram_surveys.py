"""The exit questionnaire through the real dispatcher (`feed_update`), end to end.

A trajectory is closed in storage, the outbox worker delivers the invitations through the
product's Telegram sender into the recording session, and parents press and type in their own
language. What they store must not depend on that language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiolimiter import AsyncLimiter
from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.outbox import ChatPacer, OutboxWorker
from bot.outbox.telegram_sender import TelegramSender
from bot.telegram.callbacks import FlowCallback, SurveyCallback
from dialogs.text import N_, Text
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.appointments.closing import close_trajectory
from services.surveys.invitations import SurveyUnavailable, SurveyUnavailableReason
from storage.models import (
    AuditLog,
    Conversation,
    ConversationStatus,
    Person,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from tests.bot.demo_bot import demo_bot
from tests.bot.telegram_fakes import Person as TelegramUser
from tests.bot.telegram_fakes import RecordingSession, Sent, update
from tests.support.factories import CLOSING, add_trajectory
from tests.support.units import unit

# Demo school: ouder1 (Arabic) is a parent of lln15 (mentor2), ouder2 (Ukrainian) of lln02 and
# ouder3 (Dutch) of lln01 (both mentor1).
PARENTS = {"ar": ("ouder1", "lln15", "mentor2"), "uk": ("ouder2", "lln02", "mentor1")}
PARENTS["nl"] = ("ouder3", "lln01", "mentor1")
USERS = {"ar": 3001, "uk": 3002, "nl": 3003}
ZOCO_USER = 3010
TYPED = {"ar": "شكرا على المساعدة", "uk": "Дякуємо за підтримку", "nl": "Dank voor de hulp"}
SCALE = ("4", "5", "na", "2")


@dataclass
class Harness:
    app: App
    bot: Bot
    dispatcher: Dispatcher
    api: RecordingSession

    async def feed(self, data: dict[str, Any]) -> None:
        await self.dispatcher.feed_update(self.bot, update(self.bot, data))

    async def person(self, external_id: str) -> Person:
        async with self.app.sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            found = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
        assert found is not None
        return found

    async def link(self, user: TelegramUser, external_id: str, role: Role, language: str) -> None:
        person = await self.person(external_id)
        async with self.app.sessions() as session, session.begin():
            token = await create_invite(
                session=session, person=person, role=role, now=datetime.now(UTC)
            )
        await self.feed(user.text(f"/start {token}"))
        await self.feed(user.press(self.api.last(user.id), f"lang:{language}"))

    async def close_trajectory_of(self, student: str, mentor: str) -> int:
        """A trajectory of ``student`` (referred by ``mentor``), closed by the care coordinator."""
        async with self.app.sessions() as session, session.begin():
            trajectory = await add_trajectory(
                session, await self.person(mentor), await self.person(student)
            )
        async with self.app.sessions() as session:
            await unit(
                session,
                close_trajectory,
                actor=await self.person("zoco"),
                trajectory_id=trajectory.id,
                closing=CLOSING,
                now=datetime.now(UTC),
            )
        return trajectory.id

    async def deliver(self, after: timedelta = timedelta(0)) -> None:
        """Run the outbox worker once, ``after`` from now on its clock."""
        worker = OutboxWorker(
            sender=TelegramSender(self.bot),
            sessions=self.app.sessions,
            catalogs=self.app.catalogs,
            clock=lambda: datetime.now(UTC) + after,
            overall=AsyncLimiter(100_000, 1),
            chats=ChatPacer(0.0),
            batch_size=200,
        )
        while await worker.drain_once():
            pass


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with demo_bot(database_url) as demo:
        yield Harness(demo.app, demo.bot, demo.dispatcher, demo.api)


def _invitation_message(tg: Harness, user: int) -> Sent:
    found = [m for m in tg.api.chat(user) if any(d.startswith("sv:") for _, d in m.buttons())]
    assert found, "no invitation message"
    return found[-1]


def _survey_button(message: Sent) -> str:
    return next(data for _, data in message.buttons() if data.startswith("sv:"))


def _flow_button(message: Sent, action: str, value: str = "") -> str:
    for _, data in message.buttons():
        if data.startswith("f:"):
            unpacked = FlowCallback.unpack(data)
            if unpacked.action == action and (not value or unpacked.value == value):
                return data
    raise AssertionError(f"no {action}:{value} in {message.buttons()}")


async def _choose_anonymity(tg: Harness, user: TelegramUser, anonymous: bool) -> None:
    """Answer the first question (answer anonymously?) with the button."""
    question = tg.api.last(user.id)
    await tg.feed(user.press(question, _flow_button(question, "c", "yes" if anonymous else "no")))


async def _answer(
    tg: Harness,
    language: str,
    scale: tuple[str, ...],
    text: str | None,
    *,
    anonymous: bool = False,
) -> None:
    user = TelegramUser(USERS[language], language)
    invitation = _invitation_message(tg, user.id)
    await tg.feed(user.press(invitation, _survey_button(invitation)))
    await _choose_anonymity(tg, user, anonymous)
    for code in scale:
        question = tg.api.last(user.id)
        await tg.feed(user.press(question, _flow_button(question, "c", code)))
    if text is None:
        question = tg.api.last(user.id)
        await tg.feed(user.press(question, _flow_button(question, "s")))
    else:
        await tg.feed(user.text(text))
    summary = tg.api.last(user.id)
    await tg.feed(user.press(summary, _flow_button(summary, "k")))


async def _stored(tg: Harness, external_id: str) -> list[tuple[str, str | None, str | None]]:
    person = await tg.person(external_id)
    async with tg.app.sessions() as session:
        rows = await session.execute(
            select(SurveyAnswer.code, SurveyAnswer.value, SurveyAnswer.text_language)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyInvitation.respondent_id == person.id)
            .order_by(SurveyAnswer.code)
        )
        return [(code, value, language) for code, value, language in rows]


async def _setup(tg: Harness, *languages: str) -> None:
    for language in languages:
        external_id, _, _ = PARENTS[language]
        await tg.link(TelegramUser(USERS[language], language), external_id, Role.PARENT, language)
    for language in languages:
        _, student, mentor = PARENTS[language]
        await tg.close_trajectory_of(student, mentor)
    await tg.deliver()


async def test_parents_in_arabic_and_ukrainian_store_what_a_dutch_parent_stores(
    tg: Harness,
) -> None:
    await _setup(tg, "ar", "uk", "nl")
    for language in ("ar", "uk", "nl"):
        await _answer(tg, language, SCALE, TYPED[language])
        done = tg.api.last(USERS[language]).text
        expected = tg.app.catalogs.get(language).render(
            Text.of(
                N_(
                    "Thank you! Your answers have been sent. They help the school make the "
                    "support better."
                )
            )
        )
        assert done == expected
    dutch = await _stored(tg, "ouder3")
    assert [(code, value) for code, value, _ in dutch] == [
        ("P1", "4"),
        ("P2", "5"),
        ("P3", "na"),
        ("P4", "2"),
        ("P5", None),
    ]
    for language in ("ar", "uk"):
        stored = await _stored(tg, PARENTS[language][0])
        assert [(code, value) for code, value, _ in stored] == [
            (code, value) for code, value, _ in dutch
        ]
        assert stored[-1][2] == language  # the free text keeps its language
    async with tg.app.sessions() as session:
        texts = set(
            await session.scalars(select(SurveyAnswer.text).where(SurveyAnswer.text.is_not(None)))
        )
    assert texts == set(TYPED.values())


async def test_the_invitation_reaches_the_parent_without_names(tg: Harness) -> None:
    await _setup(tg, "ar")
    message = _invitation_message(tg, USERS["ar"])
    assert "Amira" not in message.text
    assert "Oosterbeek" not in message.text
    assert SurveyCallback.unpack(_survey_button(message)).action == "open"


async def test_pressing_the_invitation_again_resumes_halfway(tg: Harness) -> None:
    await _setup(tg, "uk")
    user = TelegramUser(USERS["uk"], "uk")
    invitation = _invitation_message(tg, user.id)
    await tg.feed(user.press(invitation, _survey_button(invitation)))
    await _choose_anonymity(tg, user, False)
    for code in ("3", "4"):
        question = tg.api.last(user.id)
        await tg.feed(user.press(question, _flow_button(question, "c", code)))

    await tg.feed(user.press(invitation, _survey_button(invitation)))
    catalog = tg.app.catalogs.get("uk")
    welcome = catalog.render(Text.of(N_("Welcome back! Let's continue where you left off.")))
    assert tg.api.chat(user.id)[-2].text == welcome
    person = await tg.person("ouder2")
    async with tg.app.sessions() as session:
        run = await session.scalar(select(Conversation).where(Conversation.person_id == person.id))
    assert run is not None
    assert run.step == "P3"
    assert run.status is ConversationStatus.ACTIVE
    # The menu's "Continue" goes on from the same place too.
    await tg.feed(user.text("/start"))
    menu = tg.api.last(user.id)
    continue_data = next(d for _, d in menu.buttons() if d == "m:flow:exit_parent")
    await tg.feed(user.press(menu, continue_data))
    question = tg.api.last(user.id)
    await tg.feed(user.press(question, _flow_button(question, "c", "5")))
    async with tg.app.sessions() as session:
        run = await session.scalar(select(Conversation).where(Conversation.person_id == person.id))
    assert run is not None
    assert run.step == "P4"
    assert run.state["answers"]["P1"] == "3"


async def test_a_used_invitation_is_told_kindly(tg: Harness) -> None:
    await _setup(tg, "ar")
    await _answer(tg, "ar", SCALE, None)
    user = TelegramUser(USERS["ar"], "ar")
    invitation = _invitation_message(tg, user.id)
    await tg.feed(user.press(invitation, _survey_button(invitation)))
    catalog = tg.app.catalogs.get("ar")
    assert tg.api.last(user.id).text == catalog.render(
        SurveyUnavailable(SurveyUnavailableReason.USED).reason
    )
    async with tg.app.sessions() as session:
        assert len(list(await session.scalars(select(SurveyResponse)))) == 1


async def test_an_expired_invitation_is_told_kindly(tg: Harness) -> None:
    await _setup(tg, "nl")
    person = await tg.person("ouder3")
    expired = datetime.now(UTC) - timedelta(minutes=1)
    async with tg.app.sessions() as session, session.begin():
        await session.execute(
            sql_update(SurveyInvitation)
            .where(SurveyInvitation.respondent_id == person.id)
            .values(expires_at=expired, created_at=expired - timedelta(days=21))
        )
    user = TelegramUser(USERS["nl"], "nl")
    invitation = _invitation_message(tg, user.id)
    await tg.feed(user.press(invitation, _survey_button(invitation)))
    reply = tg.api.last(user.id).text
    assert reply == tg.app.catalogs.get("nl").render(
        SurveyUnavailable(SurveyUnavailableReason.EXPIRED, expired).reason
    )
    assert "f:" not in "".join(d for _, d in tg.api.last(user.id).buttons())


async def test_someone_elses_invitation_button_is_refused(tg: Harness) -> None:
    await _setup(tg, "ar", "uk")
    uk_person = await tg.person("ouder2")
    async with tg.app.sessions() as session:
        theirs = await session.scalar(
            select(SurveyInvitation.id).where(SurveyInvitation.respondent_id == uk_person.id)
        )
    assert theirs is not None
    user = TelegramUser(USERS["ar"], "ar")
    forged = SurveyCallback(action="open", invitation=theirs).pack()
    await tg.feed(user.press(tg.api.last(user.id), forged))
    assert tg.api.last(user.id).text == tg.app.catalogs.get("ar").render(
        SurveyUnavailable(SurveyUnavailableReason.UNKNOWN).reason
    )
    async with tg.app.sessions() as session:
        runs = list(await session.scalars(select(Conversation)))
    assert [r for r in runs if r.flow.startswith("exit_")] == []


async def test_reminders_stop_once_answered(tg: Harness) -> None:
    await _setup(tg, "ar", "nl")
    await _answer(tg, "ar", SCALE, None)
    before = {lang: len(tg.api.chat(USERS[lang])) for lang in ("ar", "nl")}
    await tg.deliver(after=timedelta(days=8))  # both reminders are due by now
    assert len(tg.api.chat(USERS["ar"])) == before["ar"]  # answered: no reminder
    reminders = tg.api.chat(USERS["nl"])[before["nl"] :]
    assert len(reminders) == 2
    assert all(_survey_button(m).startswith("sv:open:") for m in reminders)
    await tg.deliver(after=timedelta(days=30))
    assert len(tg.api.chat(USERS["nl"])) == before["nl"] + 2  # never more than two


async def test_the_coordinator_reads_the_result_and_the_item_resolves_itself(
    tg: Harness,
) -> None:
    # Issue 11: queue items resolve themselves when their step is done; reading the answers
    # is the step of a questionnaire result.
    zoco = TelegramUser(ZOCO_USER, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    await _setup(tg, "ar")
    await _answer(tg, "ar", SCALE, TYPED["ar"])
    await tg.deliver()

    await tg.feed(zoco.press(tg.api.last(ZOCO_USER), "m:queue:"))
    queue = tg.api.last(ZOCO_USER)
    survey_rows = [label for label, data in queue.buttons() if data.startswith("qs:open:")]
    assert len(survey_rows) == 1
    assert survey_rows[0].endswith(" · questionnaire (parent) · Amira Oosterbeek-Haddou · new")

    notice = next(
        m
        for m in tg.api.chat(ZOCO_USER)
        if m.text == "An exit questionnaire has been answered. Open this chat to read it."
    )
    await tg.feed(zoco.press(notice, notice.data_for("Show the answers")))
    shown = tg.api.last(ZOCO_USER)
    result = shown.text
    assert "Answered by: Samira Oosterbeek-Haddou (parent)" in result
    assert "About: Amira Oosterbeek-Haddou (3A)" in result
    assert "P1 · I am satisfied with the support my child received.\n→ 4 · Agree" in result
    assert "P3 · I had one contact person and was kept well informed.\n→ Don't know" in result
    assert f"→ “{TYPED['ar']}” (written in Arabic)" in result
    assert "answered in Arabic" in result
    assert result.splitlines()[0].endswith("· closed")  # read: resolved
    # Nothing left to mark; only the way on to the next open item (issue 14).
    assert [label for label, _ in shown.buttons()] == ["Next: #1 · Amira Oosterbeek-Haddou · new"]
    async with tg.app.sessions() as session:
        item = await session.scalar(
            select(QueueItem).where(QueueItem.kind == QueueKind.EXIT_SURVEY)
        )
        resolved = await session.scalar(select(AuditLog).where(AuditLog.action == "queue.resolve"))
    assert item is not None
    assert item.status is QueueStatus.CLOSED
    assert resolved is not None
    assert resolved.details["because"] == "survey_read"

    # Gone from the open queue; an old "Mark as handled" button says it is handled already.
    await tg.feed(zoco.press(tg.api.last(ZOCO_USER), "m:queue:"))
    assert not [d for _, d in tg.api.last(ZOCO_USER).buttons() if d.startswith("qs:")]
    await tg.feed(zoco.press(tg.api.last(ZOCO_USER), f"qs:close:{item.id}"))
    assert tg.api.last(ZOCO_USER).text == "This questionnaire result is already handled."


async def test_a_parent_cannot_open_a_result(tg: Harness) -> None:
    await _setup(tg, "ar")
    await _answer(tg, "ar", SCALE, TYPED["ar"])
    async with tg.app.sessions() as session:
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.kind == QueueKind.EXIT_SURVEY)
        )
    user = TelegramUser(USERS["ar"], "ar")
    await tg.feed(user.press(tg.api.last(user.id), f"qs:open:{item_id}"))
    reply = tg.api.last(user.id).text
    assert TYPED["ar"] not in reply
    assert reply == tg.app.catalogs.get("ar").render(
        Text.of(N_("This is not available for your role."))
    )


GOALS = "Rustig blijven in de les en hulp vragen als het te veel wordt."


async def test_a_parent_answers_anonymously_and_sees_the_goals_above_the_goal_statement(
    tg: Harness,
) -> None:
    # Issue 15: the respondent chooses at the start; the plan's goals are shown, as written,
    # above "The agreed goals were reached." (P2), framed in the parent's language.
    zoco = TelegramUser(ZOCO_USER, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    await _setup(tg, "ar")
    user = TelegramUser(USERS["ar"], "ar")
    catalog = tg.app.catalogs.get("ar")
    invitation = _invitation_message(tg, user.id)
    await tg.feed(user.press(invitation, _survey_button(invitation)))
    first = tg.api.last(user.id)
    asked = catalog.render(
        Text.of(
            N_(
                "Do you want to answer anonymously? Then nobody at school sees that these "
                "answers are yours, and they are only counted together with the answers of "
                "others."
            )
        )
    )
    assert asked in first.text
    assert GOALS not in first.text
    await _choose_anonymity(tg, user, True)
    p1 = tg.api.last(user.id)
    assert GOALS not in p1.text
    await tg.feed(user.press(p1, _flow_button(p1, "c", "4")))
    p2 = tg.api.last(user.id)
    framing = catalog.render(
        Text.of(N_("The goals agreed at the start of the support:\n{goals}"), goals=Text.raw(GOALS))
    )
    assert framing in p2.text
    assert p2.text.index(GOALS) < p2.text.index(
        catalog.render(Text.of(N_("The agreed goals were reached.")))
    )
    for code in ("5", "na", "2"):
        question = tg.api.last(user.id)
        await tg.feed(user.press(question, _flow_button(question, "c", code)))
    question = tg.api.last(user.id)
    await tg.feed(user.press(question, _flow_button(question, "s")))
    summary = tg.api.last(user.id)
    await tg.feed(user.press(summary, _flow_button(summary, "k")))

    parent = await tg.person("ouder1")
    async with tg.app.sessions() as session:
        response = await session.scalar(select(SurveyResponse))
        invitation_row = await session.scalar(
            select(SurveyInvitation).where(SurveyInvitation.respondent_id == parent.id)
        )
    assert response is not None
    assert invitation_row is not None
    assert response.anonymous is True
    assert response.invitation_id is None  # nothing links the answers to the parent
    assert invitation_row.completed_at is not None  # the invitation is used: no reminders
    assert await _stored(tg, "ouder1") == []  # no answers found through the person

    # The coordinator's queue and the result name nobody: not the parent, not the child.
    await tg.deliver()
    await tg.feed(zoco.press(tg.api.last(ZOCO_USER), "m:queue:"))
    rows = [label for label, data in tg.api.last(ZOCO_USER).buttons() if data.startswith("qs:")]
    assert len(rows) == 1
    assert "Oosterbeek" not in rows[0]
    assert rows[0].endswith(" · questionnaire (parent) · anonymous · new")
    notice = next(
        m
        for m in tg.api.chat(ZOCO_USER)
        if m.text == "An exit questionnaire has been answered. Open this chat to read it."
    )
    await tg.feed(zoco.press(notice, notice.data_for("Show the answers")))
    result = tg.api.last(ZOCO_USER).text
    assert "Answered anonymously by a parent" in result
    assert "Oosterbeek" not in result
    assert "Samira" not in result
    assert "Amira" not in result
    assert "P1 · I am satisfied with the support my child received.\n→ 4 · Agree" in result
