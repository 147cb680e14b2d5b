"""'About the support room' (issue 15.7) in the web chat and the settings area: a student and
a parent read it in their own language (the school's retention period in the privacy part);
an administrator's own text replaces the default in that language only, and an empty one
brings the default back; only an administrator edits, within the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.invites import create_invite
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.settings.about import ABOUT_MAX, TITLE, default_about, set_about_text
from storage.models import AuditLog, Person, Role, School, SchoolAboutText
from tests.support.chat_factories import ChatWorld, build_chat_world
from tests.support.factories import NOW, add_person
from tests.web.chat_client import ChatApp, ChatUser, chat_app
from web.routes.chat import REPORT_NOT_HERE

CATALOGS = Catalogs()
CLOCK = NOW + timedelta(hours=1)
ADMIN_PASSWORD = "admin-password-of-the-school"


def rendered(language: str, text: Text) -> str:
    return CATALOGS.get(language).render(text)


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> ChatWorld:
    del engine
    return await build_chat_world(session)


@pytest.fixture
async def web(world: ChatWorld, database_url: str) -> AsyncIterator[ChatApp]:
    async with chat_app(database_url, CLOCK) as running:
        yield running


async def _student_chat(web: ChatApp, world: ChatWorld, language: str) -> ChatUser:
    """The student (Yara) with the web chat open in ``language``."""
    async with web.sessions() as session, session.begin():
        student = await session.get_one(Person, world.student_id)
        student.language = language
        token = await create_invite(
            session=session, person=student, role=Role.STUDENT, ttl=timedelta(days=14), now=NOW
        )
    browser = web.user()
    await browser.open_link(token)
    return browser


async def _admin(web: ChatApp, world: ChatWorld) -> Person:
    async with web.sessions() as session, session.begin():
        school = await session.get_one(School, world.school_id)
        admin = await add_person(session, school, "admin1", Role.ADMIN, given_name="Ada")
        await create_staff_account(
            session=session,
            person=admin,
            username="admin1",
            password_hash=hash_password(ADMIN_PASSWORD),
            now=NOW,
        )
        return admin


async def test_a_parent_and_a_student_read_it_in_their_language(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    chat = await parent.open_link(world.invite_token)  # Olena, Ukrainian
    link = rendered("uk", Text.of(TITLE))
    assert link != "About the support room"  # translated
    assert 'href="/chat/about"' in chat.body
    assert link in chat.text
    about = await parent.get("/chat/about")
    assert (about.status, about.lang) == (200, "uk")
    for paragraph in default_about(months=24):
        assert rendered("uk", paragraph) in about.text
    assert "24" in rendered("uk", default_about(months=24)[3])  # the retention period

    student = await _student_chat(web, world, "tr")
    page = await student.get("/chat/about")
    assert (page.status, page.lang) == (200, "tr")
    assert rendered("tr", default_about(months=24)[0]) in page.text
    first = default_about(months=24)[0]
    assert rendered("tr", first) != rendered("en", first)


async def test_the_administrators_text_is_shown_in_that_language_only(
    web: ChatApp, world: ChatWorld
) -> None:
    admin = await _admin(web, world)
    async with web.sessions() as session, session.begin():
        await set_about_text(
            session=session,
            actor=admin,
            language="uk",
            text="Кімната підтримки\u202e школи.\r\n\r\n\r\nДругий абзац.",
            now=NOW,
        )
    parent = web.user()
    await parent.open_link(world.invite_token)
    about = await parent.get("/chat/about")
    assert "Кімната підтримки школи." in about.text  # bidi control stripped
    assert "Другий абзац." in about.text
    assert rendered("uk", default_about(months=24)[0]) not in about.text
    student = await _student_chat(web, world, "ar")
    assert rendered("ar", default_about(months=24)[0]) in (await student.get("/chat/about")).text
    async with web.sessions() as session, session.begin():
        await set_about_text(session=session, actor=admin, language="uk", text="  ", now=NOW)
    again = await parent.get("/chat/about")
    assert rendered("uk", default_about(months=24)[0]) in again.text
    async with web.sessions() as session:
        audits = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "settings.about"))
        )
        assert await session.scalar(select(SchoolAboutText.text)) is None
    assert [a.details for a in audits] == [
        {"language": "uk", "default": False},
        {"language": "uk", "default": True},
    ]


async def test_a_questionnaire_link_shows_no_about_page(web: ChatApp, world: ChatWorld) -> None:
    parent = web.user()
    page = await parent.open_link(world.survey_token)
    assert 'href="/chat/about"' not in page.body
    assert (await parent.get("/chat/about")).status == 404


async def test_the_settings_page_edits_one_language_within_the_limit(
    web: ChatApp, world: ChatWorld
) -> None:
    await _admin(web, world)
    browser = web.user()
    browser.client.cookies.set("trajectbot_lang", "en")
    login = await browser.get("/login")
    form = login.form("Log in")
    await browser.post(
        form.action, {**form.fields, "username": "admin1", "password": ADMIN_PASSWORD}
    )
    page = await browser.get("/settings/about")
    assert page.status == 200
    assert rendered("pl", default_about(months=24)[0]) in page.text  # the default, shown
    too_long = await browser.submit(
        page.form("Save this text", "/settings/about/pl"), text="x" * (ABOUT_MAX + 1)
    )
    assert too_long.status_code == 422
    assert "That is too long" in too_long.text
    await browser.submit(
        page.form("Save this text", "/settings/about/pl"),
        text="<b>Nasza</b> sala wsparcia.",
    )
    assert browser.page is not None
    assert "The text has been saved." in browser.page.text
    assert "&lt;b&gt;Nasza&lt;/b&gt; sala wsparcia." in browser.page.body  # escaped, as typed
    async with web.sessions() as session:
        stored = list(await session.scalars(select(SchoolAboutText)))
    assert [(row.language, row.text) for row in stored] == [("pl", "<b>Nasza</b> sala wsparcia.")]
    unknown = await browser.post(
        "/settings/about/xx", {"csrf_token": page.form("Save this text").fields["csrf_token"]}
    )
    assert unknown.status_code == 404
    parent = web.user()  # a parent has no staff login: the settings ask for one
    refused = await parent.client.get("/settings/about")
    assert refused.status_code in (303, 307, 401)


async def test_a_mentor_in_the_web_chat_is_refused_kindly(web: ChatApp, world: ChatWorld) -> None:
    async with web.sessions() as session, session.begin():
        mentor = await session.get_one(Person, world.mentor_id)
        token = await create_invite(
            session=session, person=mentor, role=Role.MENTOR, ttl=timedelta(days=14), now=NOW
        )
    browser = web.user()
    page = await browser.open_link(token)
    assert 'href="/chat/about"' not in page.body
    refused = await browser.get("/chat/about")
    assert refused.status == 404
    assert rendered(refused.lang, Text.of(REPORT_NOT_HERE)) in refused.text
