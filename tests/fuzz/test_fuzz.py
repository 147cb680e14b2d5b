"""Fuzz: thousands of seeded, hostile Telegram updates and web requests against the real
dispatcher and the real web app, on the demo school.

Asserted: no exception escapes the dispatcher, no ERROR log record, no 5xx; every update from a
person in a private chat gets an answer (a message, an edit or an answered button); a group gets
at most one short line and no personal data; a stranger never sees a demo person's name.

Bounded and reproducible: the seed is fixed (`generators.DEFAULT_SEED`), ``FUZZ_SEED=<n>``
replays another; a failure message carries the seed and each offending input.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
)
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.telegram import callbacks
from services.accounts import staff_accounts
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import DEMO_ACCOUNTS, DEMO_PASSWORD
from storage.models import Person as PersonRow
from storage.models import Role
from tests.bot.demo_bot import DemoBot, demo_bot
from tests.bot.telegram_fakes import BOT_USER, Person, Sent, update
from tests.fuzz import generators as gen
from tests.support.factories import NOW
from tests.web.chat_client import Page
from tests.web.staff_client import _CSRF, OTHER_PASSWORD, Browser, Clock, build_world, staff_app

SEED = int(os.environ.get("FUZZ_SEED", gen.DEFAULT_SEED))
UPDATES = 2_000
#: Demo people linked to Telegram users before the run: (external id, role, Telegram user id).
LINKED = (
    ("mentor1", Role.MENTOR, 501),
    ("mentor2", Role.MENTOR, 502),
    ("zoco", Role.CARE_COORDINATOR, 503),
    ("coach", Role.COACH, 504),
    ("lln01", Role.STUDENT, 505),
    ("ouder1", Role.PARENT, 506),
    ("admin", Role.ADMIN, 507),
)
STRANGERS = (900_001, 900_002, 900_003)
GROUP_CHAT = -100_123


class _Errors(logging.Handler):
    """Keeps every ERROR (or worse) record of any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def error_records() -> Iterator[list[logging.LogRecord]]:
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


def _show(value: object, limit: int = 160) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown)} chars)"


def test_every_callback_prefix_is_fuzzed() -> None:
    prefixes = {
        cls.__prefix__
        for cls in vars(callbacks).values()
        if isinstance(cls, type) and issubclass(cls, CallbackData) and cls is not CallbackData
    }
    assert prefixes == set(gen.PREFIXES)


async def _link(demo: DemoBot, user: Person, external_id: str, role: Role) -> None:
    async with demo.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        token = await create_invite(
            session=session, person=person, role=role, now=datetime.now(UTC)
        )
    await demo.dispatcher.feed_update(demo.bot, update(demo.bot, user.text(f"/start {token}")))
    screen = demo.api.last(user.id)
    await demo.dispatcher.feed_update(
        demo.bot, update(demo.bot, user.press(screen, f"lang:{user.user['language_code']}"))
    )


async def _names(demo: DemoBot) -> set[str]:
    """Family names of the demo school (distinctive enough to search for in a transcript)."""
    async with demo.app.sessions() as session:
        rows = await session.scalars(select(PersonRow.family_name))
        return {name for name in rows if len(name) >= 6}


def _buttons(sent: list[Sent]) -> list[str]:
    return [data for message in sent for _label, data in message.buttons() if data]


def _reaction(calls: list[Any], chat_id: int, query_id: str | None) -> list[str]:
    """What the bot did in ``chat_id`` (and for the callback ``query_id``): texts or markers."""
    out: list[str] = []
    for call in calls:
        if isinstance(call, SendMessage | EditMessageText) and int(call.chat_id or 0) == chat_id:
            out.append(call.text or "")
        elif isinstance(call, SendDocument) and int(call.chat_id) == chat_id:
            out.append(call.caption or "")
        elif isinstance(call, EditMessageReplyMarkup) and int(call.chat_id or 0) == chat_id:
            out.append("")
        elif isinstance(call, AnswerCallbackQuery) and call.callback_query_id == query_id:
            out.append(call.text or "")
    return out


def _silent(user: Person, rng: random.Random) -> dict[str, Any]:
    """An update that deserves no answer: an edited message or a change of the bot's membership
    (the person blocked or unblocked it)."""
    data = user.text(gen.text(rng))
    if rng.random() < 0.5:
        data["edited_message"] = {**data.pop("message"), "edit_date": 1_700_000_001}
        return data
    message = data.pop("message")
    member = {"user": BOT_USER.model_dump(), "status": "kicked", "until_date": 0}
    data["my_chat_member"] = {
        "chat": message["chat"],
        "from": message["from"],
        "date": message["date"],
        "old_chat_member": {"user": BOT_USER.model_dump(), "status": "member"},
        "new_chat_member": member,
    }
    return data


def _ids(demo_ids: list[int]) -> list[int]:
    return [*demo_ids, *range(1, 30)]


async def test_telegram_updates(engine: AsyncEngine, database_url: str) -> None:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    rng = random.Random(SEED)
    failures: list[str] = []
    started = time.monotonic()
    async with demo_bot(database_url, flood_limit=10**6) as demo:
        linked = []
        for external_id, role, user_id in LINKED:
            user = Person(user_id, rng.choice(("en", "nl", "ar", "tr", "pl", "uk")))
            await _link(demo, user, external_id, role)
            linked.append(user)
        strangers = [Person(user_id, rng.choice(("en", "nl", "de"))) for user_id in STRANGERS]
        names = await _names(demo)
        async with demo.app.sessions() as session:
            known = _ids(list(await session.scalars(select(PersonRow.id))))
        with error_records() as errors:
            for step in range(UPDATES):
                stranger = rng.random() < 0.25
                user = rng.choice(strangers if stranger else linked)
                where = rng.random()
                chat_id = user.id
                if where < 0.1:
                    user = user.in_chat(GROUP_CHAT, rng.choice(("group", "supergroup")))
                    chat_id = GROUP_CHAT
                own = demo.api.chat(chat_id)
                kind = rng.random()
                query_id: str | None = None
                quiet = False
                if kind < 0.55:
                    data = user.text(gen.text(rng))
                elif kind < 0.95:
                    target = own[-1] if own else Sent(1, chat_id, "?", None)
                    demo.api.messages.setdefault(target.message_id, target)
                    data = user.press(target, gen.callback_data(rng, known, _buttons(own[-5:])))
                    query_id = data["callback_query"]["id"]
                elif kind < 0.97:
                    data = user.text("x")
                    del data["message"]["text"]
                    data["message"]["sticker"] = {
                        "file_id": "s", "file_unique_id": "s", "type": "regular",
                        "width": 1, "height": 1, "is_animated": False, "is_video": False,
                    }  # fmt: skip
                else:  # no answer expected: an edit, a note that the person blocked the bot
                    data = _silent(user, rng)
                    quiet = True
                before = len(demo.api.calls)
                label = f"step {step} (FUZZ_SEED={SEED}) user {user.id} chat {chat_id}:"
                label += f" {_show(data)}"
                try:
                    await demo.dispatcher.feed_update(demo.bot, update(demo.bot, data))
                except Exception as exc:
                    failures.append(f"{label}\n  raised {type(exc).__name__}: {_show(str(exc))}")
                    continue
                said = _reaction(demo.api.calls[before:], chat_id, query_id)
                if chat_id == GROUP_CHAT:
                    if len(said) > 1 or any(len(line) > 200 for line in said):
                        failures.append(f"{label}\n  group got {_show(said)}")
                elif not said and not quiet:
                    failures.append(f"{label}\n  no answer")
                if (stranger or chat_id == GROUP_CHAT) and any(
                    name in line for line in said for name in names
                ):
                    failures.append(f"{label}\n  personal data shown: {_show(said)}")
            failures += [
                f"ERROR log (FUZZ_SEED={SEED}): {r.name}: {_show(r.getMessage())}" for r in errors
            ]
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} findings in {elapsed:.0f} s:\n" + "\n".join(
        failures[:30]
    )


REQUESTS = 1_500
#: Web accounts: the demo school's four (`DEMO_ACCOUNTS`) and the second school's coordinator.
ACCOUNTS = (*((name, DEMO_PASSWORD) for name in DEMO_ACCOUNTS), ("zoco-zuid", OTHER_PASSWORD))
#: Browsers that must never see a name of the demo school: nobody logged in, the second
#: school's coordinator, the partnership (aggregates only).
OUTSIDERS = ("anonymous", "zoco-zuid", "swv")
#: Demo people in the web chat (a phone that opened an invitation link).
CHAT_PEOPLE = (("mentor1", Role.MENTOR), ("lln01", Role.STUDENT), ("ouder1", Role.PARENT))
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_FIELD = re.compile(r'name="([^"]{1,60})"')
_FORM = re.compile(r'<form[^>]*action="([^"]*)"(.*?)</form>', re.DOTALL)
_DIGITS = re.compile(r"\d+")


def _shape(url: str) -> str:
    """A URL with its numbers blanked: the key of the forms posting there."""
    return _DIGITS.sub("#", url.split("?", 1)[0])


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at minimal cost: the fuzz is about the web app, not argon2's cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(staff_accounts, "password_hasher", lambda: cheap)


def _routes(routes: Sequence[object], prefix: str = "") -> list[tuple[str, set[str]]]:
    """(path template, methods) of every route under ``routes`` (a mount: its root).

    FastAPI 0.165 keeps an included router as one entry holding the original router (duck-typed
    here: ``original_router`` and its include context's ``prefix``).
    """
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            context = getattr(route, "include_context", None)
            found += _routes(router.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        methods = set(getattr(route, "methods", None) or {"GET"}) & {"GET", "POST"}
        found.append((prefix + path or "/", methods or {"GET"}))
    return sorted(found, key=lambda pair: (pair[0], sorted(pair[1])))


async def _in_web_chat(
    transport: httpx.ASGITransport, app: App, external_id: str, role: Role
) -> Browser:
    """A phone in the web chat as the demo person ``external_id`` (an invitation link opened)."""
    async with app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        token = await create_invite(session=session, person=person, role=role, now=NOW)
    browser = Browser(transport)
    landing = await browser.get(f"/c/{token}")
    form = Page(landing.status_code, landing.text).forms[0]
    response = await browser.client.post(form.action, data=form.fields)
    assert response.status_code == 303, (external_id, response.status_code)
    chat = await browser.get("/chat")
    assert chat.status_code == 200, (external_id, chat.status_code)
    return browser


async def _logged_in(transport: httpx.ASGITransport, username: str, password: str) -> Browser:
    browser = Browser(transport)
    response = await browser.log_in(username, password)
    assert response.status_code in (302, 303), (username, response.status_code)
    return browser


def _token(browser: Browser) -> str | None:
    page = browser.page
    found = _CSRF.search(page.text) if page is not None else None
    return found.group(1) if found else None


async def test_web_requests(
    engine: AsyncEngine, database_url: str, cheap_password_hashing: None
) -> None:
    del engine, cheap_password_hashing  # the fixtures' work is done
    rng = random.Random(SEED)
    failures: list[str] = []
    started = time.monotonic()
    clock = Clock()
    async with staff_app(database_url, clock) as (app, transport):
        world = await build_world(app, clock)
        web_app = transport.app
        assert isinstance(web_app, FastAPI)
        routes = _routes(web_app.routes)
        paths = {path for path, _methods in routes}
        chat_routes = [(path, methods) for path, methods in routes if path.startswith("/chat")]
        assert len(routes) > 40, routes  # the walk found the app's routes
        assert {"/login", "/healthz", "/static"} <= paths, paths
        known = _ids([world.item_id, world.referral_id, world.other_item_id, *world.ids.values()])
        browsers = [Browser(transport)] + [
            await _logged_in(transport, name, password) for name, password in ACCOUNTS
        ]
        for external_id, role in CHAT_PEOPLE:
            browsers.append(await _in_web_chat(transport, app, external_id, role))
        tokens: dict[int, str] = {}
        fields: set[str] = set()
        forms: dict[str, set[str]] = {}
        try:
            # A first walk with real ids: every page's form fields and each session's token.
            for browser in browsers:
                for path, methods in routes:
                    if "GET" in methods and "logout" not in path:
                        url = _PARAM.sub(lambda _m: str(rng.choice(known[:8])), path)
                        await browser.get(url)
                        page = browser.page.text if browser.page else ""
                        fields.update(_FIELD.findall(page))
                        for action, inner in _FORM.findall(page):
                            forms.setdefault(_shape(action), set()).update(_FIELD.findall(inner))
                        token = _token(browser)
                        if token is not None:
                            tokens.setdefault(id(browser), token)
            names = sorted(fields)
            async with app.sessions() as session:
                rows = await session.scalars(
                    select(PersonRow.family_name).where(
                        PersonRow.school_id == world.school_id,
                        PersonRow.external_id != "swv",  # their own name is in the header
                    )
                )
                names_of_demo = {name for name in rows if len(name) >= 6}
            with error_records() as errors:
                for step in range(REQUESTS):
                    index = rng.randrange(len(browsers))
                    browser = browsers[index]
                    chatting = index > len(ACCOUNTS)
                    path, methods = rng.choice(
                        chat_routes if chatting and rng.random() < 0.6 else routes
                    )
                    if index > 0 and path in ("/logout", "/chat/leave"):
                        continue  # keep the sessions; the anonymous browser tries these
                    method = rng.choice(sorted(methods)) if rng.random() < 0.9 else "POST"
                    url = _PARAM.sub(lambda m: gen.path_value(rng, m.group(0), known), path)
                    if rng.random() < 0.3:
                        url += gen.query_string(rng, names, known)
                    form: dict[str, str] = {}
                    if method == "POST":
                        csrf = rng.random()
                        own = sorted(forms.get(_shape(url), ()))
                        if own and rng.random() < 0.8:  # the page's own form, values fuzzed
                            form = {name: gen.form_value(rng, known) for name in own}
                        for _ in range(rng.randrange(0, 4)):
                            form[rng.choice(names or ["x"])] = gen.form_value(rng, known)
                        if csrf < 0.75:
                            form["csrf_token"] = tokens.get(id(browser), "")
                        elif csrf < 0.9:
                            form["csrf_token"] = gen.short(rng)
                        else:
                            form.pop("csrf_token", None)
                    label = f"step {step} (FUZZ_SEED={SEED}) {ACCOUNT_LABELS[index]}: {method} "
                    label += f"{_show(url)} {_show(form)}"
                    try:
                        response = await browser.client.request(method, url, data=form or None)
                    except Exception as exc:
                        failures.append(f"{label}\n  raised {type(exc).__name__}: {exc}")
                        continue
                    if response.status_code >= 500:
                        failures.append(f"{label}\n  answered {response.status_code}")
                    elif ACCOUNT_LABELS[index] in OUTSIDERS:
                        leaked = sorted(n for n in names_of_demo if n in response.text)
                        if leaked:
                            failures.append(f"{label}\n  shows demo names {leaked}")
                failures += [
                    f"ERROR log (FUZZ_SEED={SEED}): {r.name}: {_show(r.getMessage())}"
                    for r in errors
                ]
        finally:
            for browser in browsers:
                await browser.close()
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} findings in {elapsed:.0f} s:\n" + "\n".join(
        failures[:30]
    )


ACCOUNT_LABELS = (
    "anonymous",
    *(name for name, _password in ACCOUNTS),
    *(f"web chat {external_id}" for external_id, _role in CHAT_PEOPLE),
)
