"""The web chat's session lasts a week after its last page view (issue 13, was 30 days from
opening): a view moves the end, a post alone does not, a week of silence ends it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.invites import hash_token
from services.conversations.web_chat import WEB_CHAT_TTL, resolve_chat_session
from storage.models import Role, WebChatSession
from tests.support.factories import NOW, add_person, add_school
from tests.support.units import in_unit

TOKEN = "a-web-chat-cookie-token"


async def test_the_session_slides_a_week_from_the_last_view(session: AsyncSession) -> None:
    assert timedelta(days=7) == WEB_CHAT_TTL
    async with session.begin():
        school = await add_school(session)
        parent = await add_person(session, school, "P1", Role.PARENT)
        row = WebChatSession(
            school_id=school.id,
            person_id=parent.id,
            token_hash=hash_token(TOKEN),
            csrf_secret="csrf",
            created_at=NOW,
            expires_at=NOW + WEB_CHAT_TTL,
        )
        session.add(row)
    row_id = row.id

    async def end() -> object:
        async with session.begin():
            found = await session.get_one(WebChatSession, row_id, populate_existing=True)
            return found.expires_at

    # A post (no page view) six days on: the end stays.
    later = NOW + timedelta(days=6)
    assert await in_unit(resolve_chat_session, session=session, token=TOKEN, now=later)
    assert await end() == NOW + WEB_CHAT_TTL
    # A page view: a week from now.
    assert await in_unit(
        resolve_chat_session, session=session, token=TOKEN, now=later, take_flash=True
    )
    assert await end() == later + WEB_CHAT_TTL
    # A week and a minute of silence: gone.
    gone = later + WEB_CHAT_TTL + timedelta(minutes=1)
    assert await in_unit(resolve_chat_session, session=session, token=TOKEN, now=gone) is None
