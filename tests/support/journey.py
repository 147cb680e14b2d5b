"""A journey driver (issue 11, item 7): one school, one clock, every person in their channel.

- **Telegram** (`TelegramActor`): the product's dispatcher fed with `Dispatcher.feed_update`,
  Bot API answered by the recording session of `tests/bot/telegram_fakes.py` (no network).
- **The staff web app** (`tests/web/staff_client.Browser`): the FastAPI app through httpx's
  ASGI transport, logged in with a password, forms posted with their CSRF token.
- **The web chat** (`tests/web/chat_client.ChatUser`): a personal link opened, buttons pressed
  by their label.
- **The outbox**: `Journey.deliver` runs the product's `OutboxWorker` with its
  `TelegramSender` on the same recording session, so what a person "receives" is what the
  real worker sent to their chat.

One clock (`JourneyClock`) drives all of it: the web app's and the worker's clock are it, and
the Telegram handlers, which read ``datetime.now(UTC)``, read it through `patch_bot_clock`
(test code only). So a journey can take a week without waiting for one, and "the reminder
an hour before" is reached by moving the clock and running the worker.

`Inbox` keeps, per chat, how far a test has read: `Journey.received` returns what arrived
since the last look, so each step asserts exactly what each person got (nothing unexpected).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiogram import Bot, Dispatcher
from aiolimiter import AsyncLimiter
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, build_app
from bot.config import Settings
from bot.outbox.pacing import ChatPacer
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker
from bot.telegram.dispatcher import create_dispatcher
from dialogs.i18n import Catalog, Catalogs
from dialogs.text import Param, Text
from storage import models
from storage.models import QueueItem
from tests.bot.telegram_fakes import Person as TelegramUser
from tests.bot.telegram_fakes import RecordingSession, Sent, update
from tests.support.notices import Notice, telegram_text
from tests.web.chat_client import ChatUser
from tests.web.staff_client import Browser
from web.app import create_web_app

AMS = ZoneInfo("Europe/Amsterdam")
CATALOGS = Catalogs()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in Amsterdam."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMS).astimezone(UTC)


def say(language: str, msgid: str | Notice, **params: Param) -> str:
    """``msgid`` (English source) as a person in ``language`` reads it: the catalog's
    translation through the product's gettext, so tests need not hard-code foreign text. A
    `Notice` (an outbox text and its Telegram prompt) as Telegram shows it."""
    if isinstance(msgid, Notice):
        return telegram_text(CATALOGS.get(language), msgid, **params)
    return CATALOGS.get(language).render(Text.of(msgid, **params))


def catalog(language: str) -> Catalog:
    """The product's catalog of ``language``."""
    return CATALOGS.get(language)


@dataclass
class JourneyClock:
    """The one clock of a journey (UTC), moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        """Move to ``moment`` (never backwards: a journey does not undo time)."""
        assert moment >= self.now, f"the clock would go back from {self.now} to {moment}"
        self.now = moment

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class _ClockedDatetime(type):
    """Metaclass of the stand-in for ``datetime`` in the bot's modules: everything but
    ``now`` is the real class's (so ``combine``, ``isinstance`` and the rest still work)."""

    clock: JourneyClock

    def __getattr__(cls, name: str) -> Any:
        return getattr(datetime, name)

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


def patch_bot_clock(monkeypatch: pytest.MonkeyPatch, clock: JourneyClock) -> None:
    """Make every loaded ``bot.telegram`` module read ``clock`` for "now" (test code only:
    the handlers call ``datetime.now(UTC)`` or ``storage.models.utcnow()``)."""

    class ClockedDatetime(metaclass=_ClockedDatetime):
        @staticmethod
        def now(tz: Any = None) -> datetime:
            return clock().astimezone(tz) if tz is not None else clock().replace(tzinfo=None)

    def clocked_utcnow() -> datetime:
        return clock()

    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("bot.telegram", "bot.invites")):
            continue
        if getattr(module, "datetime", None) is datetime:
            monkeypatch.setattr(module, "datetime", ClockedDatetime)
        if getattr(module, "utcnow", None) is models.utcnow:
            monkeypatch.setattr(module, "utcnow", clocked_utcnow)


@dataclass(frozen=True)
class Expected:
    """One message a person should receive: its exact text and its buttons' labels (``None``:
    buttons not checked), and the name of a document sent with it (``None``: no document)."""

    text: str
    buttons: tuple[str, ...] | None = ()
    document: str | None = None

    @classmethod
    def of(
        cls,
        language: str,
        msgid: str | Notice,
        *,
        buttons: Iterable[str] = (),
        document: str | None = None,
        **params: Param,
    ) -> Expected:
        """The message ``msgid`` in ``language`` with buttons given by their English labels."""
        return cls(
            say(language, msgid, **params),
            tuple(say(language, label) for label in buttons),
            document,
        )


def shown(message: Sent) -> Expected:
    """A received message in the form of `Expected` (document: its file name's extension)."""
    document = None
    if message.document is not None:
        document = message.document[0].rsplit(".", 1)[-1]
    return Expected(message.text, tuple(label for label, _ in message.buttons()), document)


@dataclass
class Inbox:
    """What a test has already read of each chat."""

    api: RecordingSession
    read: dict[int, int] = field(default_factory=dict)

    def new(self, chat_id: int) -> list[Sent]:
        """The messages that arrived in ``chat_id`` since the last call, marked read."""
        messages = self.api.chat(chat_id)
        fresh = messages[self.read.get(chat_id, 0) :]
        self.read[chat_id] = len(messages)
        return fresh


@dataclass(eq=False)
class TelegramActor:
    """A person in their private Telegram chat with the bot."""

    journey: Journey
    user: TelegramUser
    language: str
    person_id: int

    @property
    def chat_id(self) -> int:
        return self.user.id

    def last(self) -> Sent:
        """The bot's newest message in this chat."""
        return self.journey.api.last(self.chat_id)

    async def send(self, text: str) -> Sent:
        """Type ``text``; the bot's newest message after it."""
        await self.journey.feed(self.user.text(text))
        return self.last()

    async def press(self, message: Sent, label: str) -> Sent:
        """Press the button of ``message`` labelled exactly ``label`` (English source, shown
        in the person's language); the bot's newest message after it."""
        wanted = say(self.language, label)
        for shown_label, data in message.buttons():
            if shown_label == wanted or shown_label.removeprefix("✓ ") == wanted:
                return await self.press_data(message, data)
        raise AssertionError(f"no button {wanted!r} ({label!r}) in {message.buttons()}")

    async def press_data(self, message: Sent, data: str) -> Sent:
        """Press a button of ``message`` by its callback data."""
        await self.journey.feed(self.user.press(message, data))
        return self.last()

    def received(self) -> list[Sent]:
        """What arrived in this chat since the last look."""
        return self.journey.inbox.new(self.chat_id)


@dataclass
class Journey:
    """The running product: app, Telegram dispatcher, web app, outbox worker, one clock."""

    app: App
    clock: JourneyClock
    bot: Bot
    dispatcher: Dispatcher
    api: RecordingSession
    transport: httpx.ASGITransport
    inbox: Inbox
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    browsers: list[Browser] = field(default_factory=list)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app.sessions

    async def feed(self, data: dict[str, Any]) -> None:
        """Hand one update to the dispatcher, as polling would."""
        await self.dispatcher.feed_update(self.bot, update(self.bot, data))

    def telegram(self, user_id: int, language: str, person_id: int) -> TelegramActor:
        """A person already linked to Telegram chat ``user_id``."""
        return TelegramActor(self, TelegramUser(user_id, language), language, person_id)

    async def browser(self, language: str = "en") -> Browser:
        """A staff member's browser on the web app."""
        browser = Browser(self.transport, language)
        self.browsers.append(browser)
        return browser

    def phone(self) -> ChatUser:
        """A phone's browser on the web chat (its own cookies)."""
        client = httpx.AsyncClient(transport=self.transport, base_url="http://testserver")
        self.clients.append(client)
        return ChatUser(client)

    async def deliver(self) -> None:
        """Send everything due now, by the product's outbox worker and Telegram sender."""
        worker = OutboxWorker(
            sender=TelegramSender(self.bot),
            sessions=self.app.sessions,
            catalogs=self.app.catalogs,
            clock=self.clock,
            overall=AsyncLimiter(100_000, 1),
            chats=ChatPacer(0.0),
            batch_size=200,
        )
        while await worker.drain_once():
            pass

    async def queue(self) -> list[tuple[str, str, str | None, str | None]]:
        """Every queue item as (kind, status, waiting reason, decision), oldest first."""
        async with self.sessions() as session:
            items = await session.scalars(select(QueueItem).order_by(QueueItem.id))
            return [
                (
                    item.kind.value,
                    item.status.value,
                    item.waiting_reason.value if item.waiting_reason else None,
                    item.decision.value if item.decision else None,
                )
                for item in items
            ]

    async def referral_item(self) -> int:
        """The id of the (only) referral's queue item."""
        async with self.sessions() as session:
            found = await session.scalar(
                select(QueueItem.id).where(QueueItem.kind == models.QueueKind.REFERRAL)
            )
        assert found is not None
        return found

    async def trajectory_id(self) -> int:
        """The id of the (only) trajectory."""
        async with self.sessions() as session:
            found = await session.scalar(select(models.Trajectory.id))
        assert found is not None
        return int(found)

    async def stage(self) -> str:
        """The trajectory's status and what it is waiting for, as the lifecycle sees it."""
        async with self.sessions() as session:
            trajectory = await session.scalar(select(models.Trajectory))
            assert trajectory is not None
            return str(trajectory.status.value)

    async def evaluations(self) -> list[tuple[str, date, date | None]]:
        """The trajectory's evaluations as (kind, due on, held on)."""
        evaluation = models.TrajectoryEvaluation
        async with self.sessions() as session:
            rows = await session.execute(
                select(evaluation.kind, evaluation.due_on, evaluation.held_on).order_by(
                    evaluation.id
                )
            )
            return [(kind.value, due, held) for kind, due, held in rows]

    async def referrals(self) -> int:
        """How many referrals were sent."""
        async with self.sessions() as session:
            return len((await session.scalars(select(models.Referral.id))).all())

    async def appointment_end(self, starts_at: datetime) -> datetime:
        """When the (one) appointment starting at ``starts_at`` ends (UTC)."""
        async with self.sessions() as session:
            ends = (
                await session.scalars(
                    select(models.Appointment.ends_at).where(
                        models.Appointment.starts_at == starts_at
                    )
                )
            ).all()
        assert len(ends) == 1, ends
        return ends[0] if ends[0].tzinfo else ends[0].replace(tzinfo=UTC)

    async def resolved_by(self) -> list[str]:
        """Why queue items resolved themselves (audit ``queue.resolve``), oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(models.AuditLog)
                .where(models.AuditLog.action == "queue.resolve")
                .order_by(models.AuditLog.id)
            )
            return [str((row.details or {}).get("because")) for row in rows]

    async def invite(self, person_id: int, role: models.Role) -> str:
        """A personal link's token for ``person_id`` (an onboarding invitation)."""
        from services.accounts.invites import create_invite

        async with self.sessions() as session, session.begin():
            person = await session.get_one(models.Person, person_id)
            return await create_invite(session=session, person=person, role=role, now=self.clock())

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
        for browser in self.browsers:
            await browser.close()


def assert_received(
    actors: Iterable[TelegramActor], expected: Mapping[TelegramActor, Iterable[Expected]]
) -> None:
    """Each actor received exactly the expected messages since the last look, in order; the
    others nothing. (Buttons ``None`` in an expectation: not compared.)"""
    problems = []
    for actor in actors:
        got = [shown(message) for message in actor.received()]
        wanted = list(expected.get(actor, ()))
        comparable = [
            g if w.buttons is not None else Expected(g.text, None, g.document)
            for g, w in zip(got, wanted, strict=False)
        ]
        if comparable != wanted or len(got) != len(wanted):
            problems.append(
                f"person {actor.person_id} ({actor.language}):\n  got    {got}\n  wanted {wanted}"
            )
    assert not problems, "\n".join(problems)


@asynccontextmanager
async def running_journey(
    database_url: str, clock: JourneyClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Journey]:
    """The product on ``database_url`` (migrated): Telegram (recording session), the web app
    and the outbox worker, all on ``clock``."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        flood_limit=1000,  # a journey taps faster than any person
    )
    async with build_app(settings, log_level="WARNING") as app:
        api = RecordingSession()
        bot = Bot("42:TEST", session=api)
        dispatcher = create_dispatcher(app)
        patch_bot_clock(monkeypatch, clock)
        web_app = create_web_app(app, clock=clock)
        transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=True)
        journey = Journey(app, clock, bot, dispatcher, api, transport, Inbox(api))
        try:
            yield journey
        finally:
            await journey.close()


# --- the school of the journeys ----------------------------------------------------------------

#: Monday 2 March 2026, 08:30 in Amsterdam: the journey's first moment.
START = at(date(2026, 3, 2), 8, 30)
STAFF_PASSWORD = "journey-staff-password"


@dataclass(frozen=True)
class School:
    """Who is who (person ids) and their Telegram chats. Every name is invented."""

    school_id: int
    zoco: int
    coach: int
    mentor: int
    student: int
    other_student: int
    parent: int
    teacher: int


#: (external id, given name, family name, role, language, Telegram chat or None, group)
PEOPLE: tuple[tuple[str, str, str, models.Role, str, int | None, str | None], ...] = (
    ("zoco", "Zora", "Lindeboom", models.Role.CARE_COORDINATOR, "en", 5001, None),
    ("coach", "Coen", "Vlasblom", models.Role.COACH, "en", 5002, None),
    ("mentor", "Mila", "Verbeek", models.Role.MENTOR, "nl", 5003, None),
    ("student", "Taras", "Kovalenko", models.Role.STUDENT, "uk", 5004, "2B"),
    ("student2", "Lotte", "Brinkhorst", models.Role.STUDENT, "nl", None, "2B"),
    ("parent", "Samira", "Kovalenko-Haddad", models.Role.PARENT, "ar", 5005, None),
    ("teacher", "Elif", "Aksoy", models.Role.TEACHER, "tr", 5006, None),
)


async def build_school(sessions: async_sessionmaker[AsyncSession]) -> School:
    """A school with the default appointment types, a coach on duty Mon–Fri 8:30–16:30, a
    care coordinator and a coach with web accounts, a Dutch mentor of two students, a
    Ukrainian student and their Arabic parent, a Turkish teacher; Telegram chats linked (as
    `/start <invite>` and the language screen would leave them: `tests/bot/test_telegram_flows.py`
    tests that)."""
    from services.accounts.staff_accounts import create_staff_account, hash_password
    from services.appointments.defaults import install_defaults

    async with sessions() as session, session.begin():
        school = models.School(code="journey", name="Journey College")
        session.add(school)
        await session.flush()
        await install_defaults(session=session, school_id=school.id)
        ids: dict[str, int] = {}
        for external_id, given, family, role, language, chat, group in PEOPLE:
            person = models.Person(
                school_id=school.id,
                external_id=external_id,
                given_name=given,
                family_name=family,
                group_name=group,
                language=language,
                telegram_user_id=chat,
                telegram_chat_id=chat,
                roles=[models.PersonRole(role=role)],
            )
            session.add(person)
            await session.flush()
            ids[external_id] = person.id
            if role in (models.Role.CARE_COORDINATOR, models.Role.COACH):
                await create_staff_account(
                    session=session,
                    person=person,
                    username=external_id,
                    password_hash=hash_password(STAFF_PASSWORD),
                    now=START,
                )
        for student in ("student", "student2"):
            session.add(
                models.Mentorship(
                    school_id=school.id, mentor_id=ids["mentor"], student_id=ids[student]
                )
            )
        session.add(
            models.Guardianship(
                school_id=school.id, parent_id=ids["parent"], student_id=ids["student"]
            )
        )
        for weekday in range(5):
            session.add(
                models.CoachAvailability(
                    school_id=school.id,
                    coach_id=ids["coach"],
                    weekday=weekday,
                    starts_at=time(8, 30),
                    ends_at=time(16, 30),
                )
            )
    return School(
        school_id=school.id,
        zoco=ids["zoco"],
        coach=ids["coach"],
        mentor=ids["mentor"],
        student=ids["student"],
        other_student=ids["student2"],
        parent=ids["parent"],
        teacher=ids["teacher"],
    )
