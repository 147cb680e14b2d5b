"""What the web chat accepts from a form, and what it refuses: CSRF, stale and forged buttons,
another person's session, typed answers that break the limits, language, leaving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.events import Action, Event
from dialogs.flows.afspraken import BOOK
from dialogs.flows.exit_survey import EXIT_PARENT, OPEN_ANSWER_MAX
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.i18n import Catalogs
from dialogs.state import DialogState
from dialogs.text import Text
from storage.models import Conversation, Person, SurveyResponse, WebChatSession
from tests.support.chat_factories import ChatWorld, build_chat_world
from tests.support.factories import NOW
from tests.web.chat_client import ChatApp, ChatUser, chat_app
from web.errors import CSRF_REFUSED
from web.routes.chat import (
    BUTTON_REFUSED,
    CHAT_COOKIE,
    COME_BACK,
    LEAVE_CONFIRM,
    LEAVE_QUESTION,
    LEAVE_WARNING,
)

CATALOGS = Catalogs()
CLOCK = NOW + timedelta(hours=1)
STALE = Text.of("That question is already closed. Here is the current one.")


def rendered(language: str, text: Text | str) -> str:
    return CATALOGS.get(language).render(Text.of(text) if isinstance(text, str) else text)


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> ChatWorld:
    # Both parents read Dutch here: the assertions read like the page.
    return await build_chat_world(session, parent_language="nl", other_language="nl")


@pytest.fixture
async def web(world: ChatWorld, database_url: str) -> AsyncIterator[ChatApp]:
    async with chat_app(database_url, CLOCK) as running:
        yield running


async def conversation_state(web: ChatApp, person_id: int, flow: str) -> DialogState | None:
    async with web.sessions() as session:
        row = await session.scalar(
            select(Conversation).where(
                Conversation.person_id == person_id, Conversation.flow == flow
            )
        )
    return None if row is None else DialogState.from_json(row.state)


async def opened(web: ChatApp, token: str) -> ChatUser:
    user = web.user()
    await user.open_link(token)
    return user


async def test_a_button_without_the_csrf_token_is_refused(web: ChatApp, world: ChatWorld) -> None:
    parent = await opened(web, world.survey_token)
    assert parent.page is not None
    form = parent.page.form(rendered("nl", "4 · Agree"))
    before = await conversation_state(web, world.parent_id, EXIT_PARENT.id)

    without = {k: v for k, v in form.fields.items() if k != "csrf_token"}
    response = await parent.post(form.action, without)
    assert response.status_code == 403
    assert rendered("nl", CSRF_REFUSED) in response.text
    wrong = {**form.fields, "csrf_token": "x" * 43}
    assert (await parent.post(form.action, wrong)).status_code == 403
    for path in ("/chat/text", "/chat/start", "/chat/language", "/chat/leave"):
        assert (await parent.post(path, {"text": "hoi", "code": "en"})).status_code == 403
    assert await conversation_state(web, world.parent_id, EXIT_PARENT.id) == before

    await parent.submit(form)
    after = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert after is not None
    assert after.answers["P1"] == "4"


async def test_a_stale_button_shows_the_current_question_again(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = await opened(web, world.survey_token)
    assert parent.page is not None
    old = parent.page.form(rendered("nl", "4 · Agree"))
    await parent.press(rendered("nl", "2 · Disagree"))  # P1 answered: the page asks P2

    page = await parent.submit(old)  # the P1 button again, from an old tab
    assert page.status_code == 303
    assert parent.page is not None
    assert rendered("nl", STALE) in parent.page.text
    assert 'data-step="P2"' in parent.page.body
    state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert state is not None
    assert state.answers["P1"] == "2"
    assert "P2" not in state.answers


async def test_a_button_of_an_earlier_run_is_stale_in_the_new_run(
    web: ChatApp, world: ChatWorld
) -> None:
    # Issue 11: the version restarts with each run, so only the run tells the runs apart.
    parent = await opened(web, world.survey_token)
    await parent.press(rendered("nl", "4 · Agree"))
    assert parent.page is not None
    old = parent.page.form(rendered("nl", "1 · Strongly disagree"))  # P2 of the first run
    await parent.press(rendered("nl", "Stop"))
    await parent.press(rendered("nl", "Exit questionnaire"))
    await parent.choose_anonymity(False)
    await parent.press(rendered("nl", "2 · Disagree"))
    assert 'data-step="P2"' in parent.page.body
    first = Event.decode(old.fields["payload"])
    current = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert first is not None
    assert current is not None
    assert (first.version, first.run != current.run) == (current.version, True)

    await parent.submit(old)

    assert rendered("nl", STALE) in parent.page.text
    assert 'data-step="P2"' in parent.page.body
    state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert state == current
    assert "P2" not in state.answers


async def test_forged_buttons_are_refused_kindly(web: ChatApp, world: ChatWorld) -> None:
    parent = await opened(web, world.survey_token)
    assert parent.page is not None
    form = parent.page.form(rendered("nl", "4 · Agree"))
    before = await conversation_state(web, world.parent_id, EXIT_PARENT.id)

    # A flow this session may not use (a mentor's referral), a flow that does not exist,
    # a payload that is not an engine event, a choice the question does not offer.
    for changes in (
        {"flow": VERWIJZING.id},
        {"flow": "no-such-flow"},
        {"payload": "t::hello"},
        {"payload": "garbage"},
        {"flow": BOOK.id},  # a questionnaire link's session books nothing
    ):
        await parent.submit(form, **changes)
        assert parent.page is not None
        assert parent.page.status == 200
        assert rendered("nl", BUTTON_REFUSED) in parent.page.text
        assert 'data-step="P1"' in parent.page.body
    assert await conversation_state(web, world.parent_id, EXIT_PARENT.id) == before

    assert before is not None
    forged = Event(Action.CHOOSE, "42", before.version, before.run).encode()
    await parent.submit(form, payload=forged)
    assert parent.page is not None
    assert rendered("nl", "That choice is not available. Please use the buttons.") in (
        parent.page.text
    )
    state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert state is not None
    assert "P1" not in state.answers

    entry = parent.page.forms[0]  # not a menu entry of this session: refused
    await parent.post("/chat/start", {"csrf_token": entry.fields["csrf_token"], "entry": "x:1"})
    await parent.get("/chat")
    assert rendered("nl", BUTTON_REFUSED) in parent.page.text


async def test_another_persons_session_cannot_act_on_this_conversation(
    web: ChatApp, world: ChatWorld
) -> None:
    first = await opened(web, world.survey_token)
    second = await opened(web, world.other_survey_token)
    assert first.page is not None
    assert second.page is not None
    mine = first.page.form(rendered("nl", "4 · Agree"))
    theirs = second.page.form(rendered("nl", "1 · Strongly disagree"))

    # The second parent's browser posts the first parent's form: with the first parent's
    # CSRF token it is refused outright ...
    response = await second.post(mine.action, mine.fields)
    assert response.status_code == 403
    # ... and with its own token it reaches only the second parent's own questionnaire, where
    # it is another run's button: stale, applied to neither (issue 11).
    await second.submit(mine, csrf_token=theirs.fields["csrf_token"])
    assert second.page is not None
    assert rendered("nl", STALE) in second.page.text
    first_state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    second_state = await conversation_state(web, world.other_parent_id, EXIT_PARENT.id)
    assert first_state is not None
    assert second_state is not None
    assert "P1" not in first_state.answers
    assert "P1" not in second_state.answers
    await second.submit(theirs)  # their own button works
    second_state = await conversation_state(web, world.other_parent_id, EXIT_PARENT.id)
    assert second_state is not None
    assert second_state.answers["P1"] == "1"

    # A stolen CSRF token without the session cookie is nothing.
    stranger = web.user()
    assert (await stranger.post(mine.action, mine.fields)).status_code == 401


async def test_a_refused_typed_answer_comes_back_in_the_box(web: ChatApp, world: ChatWorld) -> None:
    parent = await opened(web, world.survey_token)
    for _ in range(4):
        await parent.press(rendered("nl", "3 · Neutral"))
    too_long = "Heel fijn. " * (OPEN_ANSWER_MAX // 10)
    await parent.type(too_long)
    assert parent.page is not None
    assert 'data-step="P5"' in parent.page.body
    problem = Text.plural_of(
        "That is too long: at most {count} character, yours has {length}.",
        "That is too long: at most {count} characters, yours has {length}.",
        OPEN_ANSWER_MAX,
        length=len(too_long.strip()),
    )
    assert rendered("nl", problem) in parent.page.text
    box = parent.page.text_form()
    assert box.text_field is not None
    assert box.fields[box.text_field].strip() == too_long.strip()

    await parent.type("Heel fijn, dank u.")
    assert 'data-step="summary"' in parent.page.body
    state = await conversation_state(web, world.parent_id, EXIT_PARENT.id)
    assert state is not None
    assert state.answers["P5"] == "Heel fijn, dank u."


async def test_the_language_switcher_stores_the_persons_language(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = await opened(web, world.survey_token)
    assert parent.page is not None
    assert (parent.page.lang, parent.page.dir) == ("nl", "ltr")
    await parent.press("العربية")
    assert (parent.page.lang, parent.page.dir) == ("ar", "rtl")
    async with web.sessions() as session:
        person = await session.get(Person, world.parent_id)
    assert person is not None
    assert person.language == "ar"
    # The same question, now in Arabic.
    assert 'data-step="P1"' in parent.page.body
    assert rendered("ar", "4 · Agree") in [f.button for f in parent.page.forms]


async def test_stop_ends_the_questionnaire_and_the_menu_starts_it_again(
    web: ChatApp, world: ChatWorld
) -> None:
    parent = await opened(web, world.survey_token)
    await parent.press(rendered("nl", "5 · Strongly agree"))
    await parent.press(rendered("nl", "Stop"))
    assert parent.page is not None
    assert rendered("nl", "Stopped. Nothing has been sent.") in parent.page.text
    assert 'data-step="' not in parent.page.body
    await parent.press(rendered("nl", "Exit questionnaire"))
    await parent.choose_anonymity(False)
    assert 'data-step="P1"' in parent.page.body


async def test_leaving_closes_the_chat_on_this_device(web: ChatApp, world: ChatWorld) -> None:
    parent = await opened(web, world.survey_token)
    assert parent.page is not None
    assert 'href="/chat/leave"' in parent.page.body  # a link to the question, not a button
    asked = await parent.get("/chat/leave")
    # Asked first, saying honestly what it means and how to come back.
    assert rendered("nl", LEAVE_QUESTION) in asked.text
    assert rendered("nl", LEAVE_WARNING) in asked.text
    assert 'href="/chat#current"' in asked.body  # keep it open
    # A post without that confirmation (an older page's button) goes to the question.
    fields = asked.form(rendered("nl", LEAVE_CONFIRM)).fields
    unconfirmed = await parent.post("/chat/leave", {**fields, "confirmed": ""})
    assert (unconfirmed.status_code, unconfirmed.headers["location"]) == (303, "/chat/leave")
    assert (await parent.get("/chat")).status == 200
    await parent.get("/chat/leave")
    await parent.press(rendered("nl", LEAVE_CONFIRM))
    assert parent.page is not None
    assert parent.page.status == 200
    assert rendered("nl", COME_BACK) in parent.page.text
    assert CHAT_COOKIE not in parent.client.cookies
    assert (await parent.get("/chat")).status == 401
    async with web.sessions() as session:
        assert list(await session.scalars(select(WebChatSession.id))) == []


async def test_the_web_chat_asks_about_anonymity_first_and_shows_the_goals(
    web: ChatApp, world: ChatWorld
) -> None:
    # Issue 15: the choice comes first; the plan's goals stand above "the agreed goals" (P2),
    # as written, framed in the reader's language; the anonymous answer is stored unlinked.
    parent = web.user()
    page = await parent.open_link(world.survey_token, anonymous=None)
    assert 'data-step="anonymous"' in page.body
    assert rendered("nl", "Answer anonymously") not in page.text  # the label is for the summary
    await parent.choose_anonymity(True)
    page = await parent.press(rendered("nl", "4 · Agree"))
    assert 'data-step="P2"' in page.body
    goals = "Rustig blijven in de les en hulp vragen als het te veel wordt."
    framing = "De doelen die aan het begin van de begeleiding zijn afgesproken:"
    question = page.body[page.body.index('id="current"') :]
    assert framing in question
    assert question.index(goals) < question.index("De afgesproken doelen zijn gehaald.")
    for label in ("5 · Strongly agree", "3 · Neutral", "4 · Agree"):
        page = await parent.press(rendered("nl", label))
    page = await parent.press(rendered("nl", "Skip"))
    page = await parent.press(rendered("nl", "Send ✓"))
    async with web.sessions() as session:
        response = await session.scalar(select(SurveyResponse))
    assert response is not None
    assert response.anonymous
    assert response.invitation_id is None
