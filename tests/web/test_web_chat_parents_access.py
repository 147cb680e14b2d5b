"""Age 18 in the web chat (domain.md): the adult student's question about their parents'
access, through the product's web app as a browser uses it (forms, no JavaScript).

A small school (invented names): Jolien turns 18 on the chat's day, Tijn turns 18 the day
after; one parent is linked to both. Each student opens the chat with their own onboarding
link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.events import Action, Event
from dialogs.flows.parents_access import MENU_NOTE, PARENTS_ACCESS
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.invites import create_invite
from services.conversations.runtime import school_today
from services.privacy.parents_access import AUDIT_ACTION
from storage.models import AuditLog, Conversation, Guardianship, Person, Role
from tests.support.factories import NOW, add_person, add_school
from tests.web.chat_client import ChatApp, ChatUser, chat_app
from web.routes.chat import BUTTON_REFUSED

CATALOGS = Catalogs()
CLOCK = NOW + timedelta(hours=1)
TODAY = school_today(CLOCK)
TITLE = "Your parents' access"
BOOK = "Book an appointment"
YES = "Yes, they may keep seeing it"
DONE = "Thank you. Your answer has been saved; you can change it here at any time."


def rendered(text: Text | str) -> str:
    return CATALOGS.get("en").render(Text.of(text) if isinstance(text, str) else text)


@dataclass(frozen=True, slots=True)
class World:
    adult_id: int
    minor_id: int
    adult_token: str
    minor_token: str


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> World:
    del engine
    async with session.begin():
        school = await add_school(session)
        adult = await add_person(
            session, school, "lln21", Role.STUDENT, given_name="Jolien", group_name="5H"
        )
        adult.birth_date = date(TODAY.year - 18, TODAY.month, TODAY.day)  # 18 today: counts
        adult.language = "en"
        minor = await add_person(
            session, school, "lln22", Role.STUDENT, given_name="Tijn", group_name="5H"
        )
        tomorrow = TODAY + timedelta(days=1)
        minor.birth_date = date(tomorrow.year - 18, tomorrow.month, tomorrow.day)
        minor.language = "en"
        parent = await add_person(session, school, "ouder21", Role.PARENT, given_name="Wessel")
        session.add_all(
            Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id)
            for student in (adult, minor)
        )
        await session.flush()
        tokens = [
            await create_invite(
                session=session, person=student, role=Role.STUDENT, ttl=timedelta(days=14), now=NOW
            )
            for student in (adult, minor)
        ]
        return World(adult.id, minor.id, *tokens)


@pytest.fixture
async def web(world: World, database_url: str) -> AsyncIterator[ChatApp]:
    async with chat_app(database_url, CLOCK) as running:
        yield running


def menu_labels(user: ChatUser) -> list[str]:
    """The menu's buttons, in page order."""
    assert user.page is not None
    return [f.button for f in user.page.forms if f.action == "/chat/start"]


async def stored(web: ChatApp, person_id: int) -> Person:
    async with web.sessions() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


async def audits(web: ChatApp, person_id: int) -> list[AuditLog]:
    async with web.sessions() as session:
        return list(
            await session.scalars(
                select(AuditLog).where(
                    AuditLog.action == AUDIT_ACTION, AuditLog.subject_id == person_id
                )
            )
        )


async def runs(web: ChatApp, person_id: int) -> list[int]:
    async with web.sessions() as session:
        return list(
            await session.scalars(
                select(Conversation.id).where(
                    Conversation.person_id == person_id, Conversation.flow == PARENTS_ACCESS.id
                )
            )
        )


async def test_the_adult_student_is_asked_first_and_says_yes(web: ChatApp, world: World) -> None:
    jolien = web.user()
    page = await jolien.open_link(world.adult_token)
    assert rendered("What would you like to do?") in page.text
    assert rendered(MENU_NOTE) in page.text  # why the question is first
    assert menu_labels(jolien)[:2] == [rendered(TITLE), rendered(BOOK)]

    page = await jolien.press(rendered(TITLE))
    assert 'data-step="share"' in page.body
    assert "may your parents or carers still see your support" in page.text
    page = await jolien.press(rendered(YES))
    assert 'data-step="summary"' in page.body
    assert rendered("Please check your answer before saving it:") in page.text
    assert rendered(YES) in page.text
    page = await jolien.press(rendered("Send ✓"))

    assert rendered(DONE) in page.text
    assert 'data-step="' not in page.body
    student = await stored(web, world.adult_id)
    assert student.parents_access_answered_at == CLOCK
    assert student.parents_access_withdrawn_at is None
    [audit] = await audits(web, world.adult_id)
    assert (audit.actor_id, audit.details) == (world.adult_id, {"share": True})

    # Answered: still in the menu to change it, no longer first.
    labels = menu_labels(jolien)
    assert labels[0] == rendered(BOOK)
    assert rendered(TITLE) in labels[1:]
    page = await jolien.get("/chat")
    assert menu_labels(jolien)[0] == rendered(BOOK)
    assert rendered(MENU_NOTE) not in page.text


async def test_a_minors_menu_does_not_offer_it_and_posting_to_it_is_refused(
    web: ChatApp, world: World
) -> None:
    tijn = web.user()
    page = await tijn.open_link(world.minor_token)
    labels = menu_labels(tijn)
    assert labels[0] == rendered(BOOK)
    assert rendered(TITLE) not in labels
    assert rendered(TITLE) not in page.text
    csrf = page.forms[0].fields["csrf_token"]

    # Starting it from the menu, a button of its question, a typed answer: each is refused.
    forged_press = Event(Action.CHOOSE, "no", 1, "").encode()
    for path, fields in (
        ("/chat/start", {"entry": PARENTS_ACCESS.id}),
        ("/chat/press", {"flow": PARENTS_ACCESS.id, "payload": forged_press}),
        ("/chat/text", {"flow": PARENTS_ACCESS.id, "text": "no"}),
    ):
        response = await tijn.post(path, {"csrf_token": csrf, **fields})
        assert response.status_code == 303, path
        page = await tijn.get("/chat")
        assert rendered(BUTTON_REFUSED) in page.text, path
        assert 'data-step="' not in page.body, path

    minor = await stored(web, world.minor_id)
    assert minor.parents_access_answered_at is None
    assert minor.parents_access_withdrawn_at is None
    assert await audits(web, world.minor_id) == []
    assert await runs(web, world.minor_id) == []


async def test_a_question_open_when_the_birth_date_is_corrected_is_refused(
    web: ChatApp, world: World
) -> None:
    jolien = web.user()
    await jolien.open_link(world.adult_token)
    page = await jolien.press(rendered(TITLE))
    assert 'data-step="share"' in page.body
    yes = page.form(rendered(YES))
    async with web.sessions() as session, session.begin():
        student = await session.get(Person, world.adult_id)
        assert student is not None
        student.birth_date = date(TODAY.year - 17, TODAY.month, TODAY.day)  # the school's fix

    page = await jolien.get("/chat")
    assert 'data-step="share"' not in page.body  # the open question is no longer shown
    assert rendered(TITLE) not in menu_labels(jolien)
    await jolien.submit(yes)  # the button of the question still open in another tab

    assert jolien.page is not None
    assert rendered(BUTTON_REFUSED) in jolien.page.text
    student = await stored(web, world.adult_id)
    assert student.parents_access_answered_at is None
    assert await audits(web, world.adult_id) == []
