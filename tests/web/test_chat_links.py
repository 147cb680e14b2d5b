"""Personal links open the web chat (``/c/<token>``): questionnaire and onboarding links;
unknown, expired and used links get a kind page in the person's language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.conversations.web_chat import LinkProblem
from storage.models import Invite, WebChatSession
from tests.support.chat_factories import ChatWorld, build_chat_world
from tests.support.factories import NOW
from tests.web.chat_client import ChatApp, Page, chat_app
from web.routes.chat import CHAT_COOKIE, LINK_PROBLEMS, NO_SESSION

CATALOGS = Catalogs()
CLOCK = NOW + timedelta(hours=1)


def rendered(language: str, text: Text) -> str:
    return CATALOGS.get(language).render(text)


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> ChatWorld:
    return await build_chat_world(session)


@pytest.fixture
async def web(world: ChatWorld, database_url: str) -> AsyncIterator[ChatApp]:
    async with chat_app(database_url, CLOCK) as running:
        yield running


async def test_a_questionnaire_link_opens_the_questionnaire_in_arabic(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    landing = await parent.get(f"/c/{world.survey_token}")
    assert landing.status == 200
    assert (landing.lang, landing.dir) == ("ar", "rtl")
    # What a link preview fetches names nobody.
    assert "Samira" not in landing.text
    assert "Yara" not in landing.text

    response = await parent.post(f"/c/{world.survey_token}", landing.forms[0].fields)
    assert response.status_code == 303
    assert response.headers["location"] == "/chat#current"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(CHAT_COOKIE + "=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/chat" in lowered

    chat = await parent.get("/chat")
    assert chat.status == 200
    assert (chat.lang, chat.dir) == ("ar", "rtl")
    # First the choice to answer anonymously (issue 15), then the first statement.
    assert 'data-step="anonymous"' in chat.text
    chat = await parent.choose_anonymity(False)
    first = CATALOGS.get("ar").gettext("I am satisfied with the support my child received.")
    assert first in chat.text
    assert rendered("ar", Text.of("4 · Agree")) in [f.button for f in chat.forms]


async def test_a_questionnaire_link_can_be_opened_again_to_continue(
    web: ChatApp, world: ChatWorld
) -> None:
    phone = web.user()
    await phone.open_link(world.survey_token)
    await phone.press(rendered("ar", Text.of("4 · Agree")))
    laptop = web.user()
    page = await laptop.open_link(world.survey_token)
    second = CATALOGS.get("ar").gettext("The agreed goals were reached.")
    assert second in page.text
    assert rendered("ar", Text.of("Welcome back! Let's continue where you left off.")) in page.text


async def test_an_onboarding_link_opens_the_menu_and_works_once(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    landing = await parent.get(f"/c/{world.invite_token}")
    assert (landing.status, landing.lang, landing.dir) == (200, "uk", "ltr")
    page = await parent.open_link(world.invite_token)
    assert page.status == 200
    assert rendered("uk", Text.of("What would you like to do?")) in page.text
    assert rendered("uk", Text.of("Exit questionnaire")) in [f.button for f in page.forms]

    again = await web.user().get(f"/c/{world.invite_token}")
    assert again.status == 410
    assert rendered("uk", LINK_PROBLEMS[LinkProblem.USED]) in again.text
    async with web.sessions() as session:
        used = await session.scalar(select(Invite.used_at))
    assert used is not None


async def test_an_answered_questionnaire_link_says_thank_you(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    await parent.open_link(world.survey_token)
    for _ in range(4):
        await parent.press(rendered("ar", Text.of("5 · Strongly agree")))
    await parent.press(rendered("ar", Text.of("Skip")))
    await parent.press(rendered("ar", Text.of("Send ✓")))

    page = await web.user().get(f"/c/{world.survey_token}")
    assert page.status == 410
    assert (page.lang, page.dir) == ("ar", "rtl")
    assert rendered("ar", LINK_PROBLEMS[LinkProblem.ANSWERED]) in page.text


@pytest.mark.parametrize(
    ("token_of", "status", "problem"),
    [
        (lambda w: "not-a-real-token-at-all", 404, LinkProblem.UNKNOWN),
        (lambda w: w.survey_token + "x", 404, LinkProblem.UNKNOWN),
    ],
)
async def test_an_unknown_link_gets_a_kind_page(
    web: ChatApp, world: ChatWorld, token_of: object, status: int, problem: LinkProblem
) -> None:
    token = token_of(world)  # type: ignore[operator]
    page = await web.user().get(f"/c/{token}")
    assert page.status == status
    assert rendered("nl", LINK_PROBLEMS[problem]) in page.text
    assert page.forms == []


async def test_expired_links_get_a_kind_page(
    engine: AsyncEngine, session: AsyncSession, database_url: str
) -> None:
    world = await build_chat_world(session)
    async with chat_app(database_url, NOW + timedelta(days=22)) as web:
        survey = await web.user().get(f"/c/{world.survey_token}")
        invite = await web.user().get(f"/c/{world.invite_token}")
        opened = await web.user().post(f"/c/{world.invite_token}", {})
    assert survey.status == 410
    assert rendered("ar", LINK_PROBLEMS[LinkProblem.EXPIRED]) in survey.text
    assert invite.status == 410
    assert rendered("uk", LINK_PROBLEMS[LinkProblem.EXPIRED]) in invite.text
    assert opened.status_code == 403  # no form token: refused before the link is even read


async def test_opening_a_link_without_the_forms_token_is_refused(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    landing = await parent.get(f"/c/{world.invite_token}")
    fields = dict(landing.forms[0].fields)
    # No token at all, and a token that is not the one of this browser's form cookie.
    assert (await parent.post(f"/c/{world.invite_token}", {})).status_code == 403
    fields["csrf_token"] = "forged" + fields["csrf_token"][6:]
    assert (await parent.post(f"/c/{world.invite_token}", fields)).status_code == 403
    async with web.sessions() as session:
        assert await session.scalar(select(Invite.used_at)) is None
        assert list(await session.scalars(select(WebChatSession.id))) == []


async def test_the_chat_without_a_session_explains_how_to_get_in(web: ChatApp) -> None:
    visitor = web.user()
    page = await visitor.get("/chat")
    assert page.status == 401
    assert (
        rendered(
            "nl",
            NO_SESSION,
        )
        in page.text
    )
    visitor.client.cookies.set(CHAT_COOKIE, "made-up-token", path="/chat")
    assert (await visitor.get("/chat")).status == 401


# -- found by the exploratory test (a parent on a phone, no e-mail, no Telegram) --------------


async def test_a_used_link_tapped_again_in_its_own_browser_goes_back_to_the_chat(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    await parent.open_link(world.invite_token)
    again = await parent.client.get(f"/c/{world.invite_token}")
    assert (again.status_code, again.headers["location"]) == (303, "/chat#current")
    chat = await parent.get("/chat")
    assert chat.status == 200
    assert rendered("uk", Text.of("What would you like to do?")) in chat.text


async def test_a_used_link_in_another_persons_browser_says_nothing_of_its_person(
    web: ChatApp, world: ChatWorld
) -> None:
    owner = web.user()
    await owner.open_link(world.invite_token)
    someone = web.user()
    await someone.open_link(world.survey_token)  # another parent's own chat
    seen = await someone.get(f"/c/{world.invite_token}")
    assert seen.status == 410
    assert rendered("uk", LINK_PROBLEMS[LinkProblem.USED]) in seen.text
    assert 'href="/chat"' in seen.body  # back to their own chat
    stranger = await web.user().get(f"/c/{world.invite_token}")
    assert stranger.status == 410
    assert 'href="/chat"' not in stranger.body  # no chat to go back to
    # The two pages differ only by that way back: nothing of the link's person is shown.
    back = re.compile(r'<p><a class="btn" href="/chat">[^<]*</a></p>|\s+')
    assert back.sub("", seen.body) == back.sub("", stranger.body)
    # An expired link of this browser's own person goes back to the chat too.
    async with web.sessions() as session, session.begin():
        invite = await session.scalar(select(Invite).where(Invite.used_at.is_not(None)))
        assert invite is not None
        invite.used_at = None
        invite.expires_at = NOW
    expired = await owner.client.get(f"/c/{world.invite_token}")
    assert (expired.status_code, expired.headers["location"]) == (303, "/chat#current")


@pytest.mark.parametrize(
    ("accept", "language", "direction"),
    [
        ("ar,en;q=0.8", "ar", "rtl"),
        ("ar-MA", "ar", "rtl"),
        ("fr-FR, en;q=0.5, nl;q=0.4", "en", "ltr"),
        ("tr;q=0.2, pl;q=0.9", "pl", "ltr"),
        ("uk-UA,uk;q=0.9", "uk", "ltr"),
        ("fr, de", "nl", "ltr"),
        ("", "nl", "ltr"),
    ],
)
async def test_without_a_chat_the_page_speaks_the_browsers_language(
    web: ChatApp, accept: str, language: str, direction: str
) -> None:
    """No session: nobody is known, so the browser's Accept-Language picks among the six."""
    headers = {"Accept-Language": accept} if accept else {}
    response = await web.user().client.get("/chat", headers=headers)
    page = Page(response.status_code, response.text)
    assert (page.status, page.lang, page.dir) == (401, language, direction)
    assert rendered(language, NO_SESSION) in page.text


async def test_the_links_page_offers_the_languages_in_their_own_names(
    web: ChatApp, world: ChatWorld
) -> None:
    """ux.md, "language first": a parent stored as Ukrainian who reads Arabic picks it on the
    link's first screen; the chat opens in Arabic, right to left, and stays so."""
    parent = web.user()
    landing = await parent.get(f"/c/{world.invite_token}")
    names = re.findall(r'name="language" value="(\w+)" lang="\w+"[^>]*>([^<]+)<', landing.text)
    assert names == [
        ("nl", "Nederlands"),
        ("en", "English"),
        ("ar", "العربية"),
        ("tr", "Türkçe"),
        ("pl", "Polski"),
    ]  # the person's own (uk) is the main button's
    form = landing.forms[0]
    await parent.submit(form, language="ar")
    assert parent.page is not None
    assert (parent.page.status, parent.page.lang, parent.page.dir) == (200, "ar", "rtl")
    assert rendered("ar", Text.of("What would you like to do?")) in parent.page.text
    again = await parent.get("/chat")
    assert again.lang == "ar"


async def test_an_unknown_language_on_the_links_page_changes_nothing(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = web.user()
    landing = await parent.get(f"/c/{world.invite_token}")
    await parent.submit(landing.forms[0], language="xx")
    assert parent.page is not None
    assert (parent.page.status, parent.page.lang) == (200, "uk")
