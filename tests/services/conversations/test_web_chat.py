"""The web chat's identity: personal links become browser sessions
(services.conversations.web_chat)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.engine import NO
from dialogs.events import Action, Event, typed
from dialogs.flows.afspraken import BOOK
from dialogs.flows.exit_survey import ANONYMOUS, EXIT_PARENT, SURVEY_INVITATION
from services.accounts.invites import redeem_invite
from services.conversations.runtime import handle_event
from services.conversations.survey_chat import open_survey
from services.conversations.web_chat import (
    ChatLinkInvalid,
    Flash,
    LinkKind,
    LinkProblem,
    allowed_flow_ids,
    chat_menu,
    current_conversation,
    end_chat_session,
    inspect_chat_link,
    redeem_chat_link,
    resolve_chat_session,
    set_flash,
)
from services.kernel.errors import InviteInvalid, InviteInvalidReason
from storage.models import AuditLog, Invite, WebChatSession
from tests.support.chat_factories import build_chat_world, person
from tests.support.factories import NOW
from tests.support.units import unit


async def test_a_questionnaire_link_opens_a_session_limited_to_that_questionnaire(
    session: AsyncSession,
) -> None:
    world = await build_chat_world(session)
    link = await unit(session, inspect_chat_link, token=world.survey_token, now=NOW)
    assert (link.kind, link.language) == (LinkKind.SURVEY, "ar")

    opened = await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    assert opened.person_id == world.parent_id
    assert opened.survey_invitation_id == world.parent_invitation_id
    chat = await unit(session, resolve_chat_session, token=opened.token, now=NOW)
    assert chat is not None
    assert chat.person.id == world.parent_id
    assert chat.csrf_token == opened.csrf_token

    menu = await unit(session, chat_menu, chat=chat, now=NOW)
    assert [(e.flow_id, dict(e.preset)) for e in menu] == [
        (EXIT_PARENT.id, {SURVEY_INVITATION: str(world.parent_invitation_id)})
    ]
    # Only the hash of the cookie's token is stored.
    async with session.begin():
        hashes = list(await session.scalars(select(WebChatSession.token_hash)))
    assert opened.token not in hashes
    assert len(hashes) == 1


async def test_a_questionnaire_link_opens_again_until_the_questionnaire_is_sent(
    session: AsyncSession,
) -> None:
    world = await build_chat_world(session)
    await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    again = await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    parent = await person(session, world.parent_id)

    turn = await unit(
        session, open_survey, person=parent, invitation_id=world.parent_invitation_id, now=NOW
    )
    for code in (NO, "4", "4", "4", "4"):
        turn = await unit(
            session,
            handle_event,
            person=parent,
            flow_id=EXIT_PARENT.id,
            event=Event(Action.CHOOSE, code, turn.state.version, turn.state.run),
            now=NOW,
        )
    turn = await unit(
        session, handle_event, person=parent, flow_id=EXIT_PARENT.id, event=typed("شكرا"), now=NOW
    )
    turn = await unit(
        session,
        handle_event,
        person=parent,
        flow_id=EXIT_PARENT.id,
        event=Event(Action.CONFIRM, "", turn.state.version, turn.state.run),
        now=NOW,
    )
    assert turn.finished

    with pytest.raises(ChatLinkInvalid) as refused:
        await unit(session, inspect_chat_link, token=world.survey_token, now=NOW)
    assert (refused.value.problem, refused.value.language) == (LinkProblem.ANSWERED, "ar")
    with pytest.raises(ChatLinkInvalid):
        await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    # The session opened earlier still works, but has nothing left to start.
    chat = await unit(session, resolve_chat_session, token=again.token, now=NOW)
    assert chat is not None
    assert await unit(session, chat_menu, chat=chat, now=NOW) == []


async def test_an_invitation_opened_in_the_browser_is_spent_for_telegram_too(
    session: AsyncSession,
) -> None:
    world = await build_chat_world(session)
    link = await unit(session, inspect_chat_link, token=world.invite_token, now=NOW)
    assert (link.kind, link.language) == (LinkKind.INVITE, "uk")
    opened = await unit(session, redeem_chat_link, token=world.invite_token, now=NOW)
    assert (opened.person_id, opened.survey_invitation_id) == (world.other_parent_id, None)

    with pytest.raises(ChatLinkInvalid) as refused:
        await unit(session, redeem_chat_link, token=world.invite_token, now=NOW)
    assert refused.value.problem is LinkProblem.USED
    with pytest.raises(InviteInvalid) as telegram:
        async with session.begin():
            await redeem_invite(
                session=session,
                token=world.invite_token,
                telegram_user_id=555,
                telegram_chat_id=555,
                now=NOW,
            )
    assert telegram.value.reason is InviteInvalidReason.USED
    async with session.begin():
        actions = list(await session.scalars(select(AuditLog.action)))
    assert "web_chat.open" in actions


async def test_an_invitation_used_in_telegram_does_not_open_the_web_chat(
    session: AsyncSession,
) -> None:
    world = await build_chat_world(session)
    async with session.begin():
        await redeem_invite(
            session=session,
            token=world.invite_token,
            telegram_user_id=556,
            telegram_chat_id=556,
            now=NOW,
        )
    with pytest.raises(ChatLinkInvalid) as refused:
        await unit(session, inspect_chat_link, token=world.invite_token, now=NOW)
    assert (refused.value.problem, refused.value.language) == (LinkProblem.USED, "uk")


async def test_an_invitation_session_offers_the_role_menu_and_open_questionnaires(
    session: AsyncSession,
) -> None:
    world = await build_chat_world(session)
    opened = await unit(session, redeem_chat_link, token=world.invite_token, now=NOW)
    chat = await unit(session, resolve_chat_session, token=opened.token, now=NOW)
    assert chat is not None
    flows = [entry.flow_id for entry in await unit(session, chat_menu, chat=chat, now=NOW)]
    # The other parent books appointments and has their own questionnaire to answer.
    assert flows == [BOOK.id, EXIT_PARENT.id]


@pytest.mark.parametrize(
    ("which", "later", "problem"),
    [
        ("invite", timedelta(days=15), LinkProblem.EXPIRED),
        ("survey", timedelta(days=22), LinkProblem.EXPIRED),
        ("nonsense", timedelta(0), LinkProblem.UNKNOWN),
    ],
)
async def test_expired_and_unknown_links_are_refused(
    session: AsyncSession, which: str, later: timedelta, problem: LinkProblem
) -> None:
    world = await build_chat_world(session)
    token = {"invite": world.invite_token, "survey": world.survey_token}.get(which, "x" * 32)
    with pytest.raises(ChatLinkInvalid) as refused:
        await unit(session, redeem_chat_link, token=token, now=NOW + later)
    assert refused.value.problem is problem
    async with session.begin():
        assert list(await session.scalars(select(WebChatSession.id))) == []
        used = await session.scalar(select(Invite.used_at))
    assert used is None


async def test_sessions_expire_and_end(session: AsyncSession) -> None:
    world = await build_chat_world(session)
    opened = await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    assert await unit(session, resolve_chat_session, token="x" * 43, now=NOW) is None
    later = opened.expires_at + timedelta(seconds=1)
    assert await unit(session, resolve_chat_session, token=opened.token, now=later) is None
    await unit(session, end_chat_session, token=opened.token, now=NOW)
    assert await unit(session, resolve_chat_session, token=opened.token, now=NOW) is None


async def test_a_flash_is_shown_once(session: AsyncSession) -> None:
    world = await build_chat_world(session)
    opened = await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    chat = await unit(session, resolve_chat_session, token=opened.token, now=NOW)
    assert chat is not None
    flash = Flash((("notice", "Te kort."),), draft="ok")
    await unit(session, set_flash, session_id=chat.session_id, flash=flash)
    # A POST's own lookup does not take it; the next page view does, once.
    assert (await unit(session, resolve_chat_session, token=opened.token, now=NOW)) is not None
    shown = await unit(session, resolve_chat_session, token=opened.token, now=NOW, take_flash=True)
    assert shown is not None
    assert shown.flash == flash
    again = await unit(session, resolve_chat_session, token=opened.token, now=NOW, take_flash=True)
    assert again is not None
    assert again.flash is None


async def test_the_current_conversation_is_the_sessions_own(session: AsyncSession) -> None:
    world = await build_chat_world(session)
    opened = await unit(session, redeem_chat_link, token=world.survey_token, now=NOW)
    chat = await unit(session, resolve_chat_session, token=opened.token, now=NOW)
    assert chat is not None
    allowed = allowed_flow_ids(await unit(session, chat_menu, chat=chat, now=NOW))
    assert await unit(session, current_conversation, chat=chat, allowed=allowed, now=NOW) is None

    await unit(
        session,
        open_survey,
        person=chat.person,
        invitation_id=world.parent_invitation_id,
        now=NOW,
    )
    current = await unit(session, current_conversation, chat=chat, allowed=allowed, now=NOW)
    assert current is not None
    assert (current.flow.id, current.state.step) == (EXIT_PARENT.id, ANONYMOUS)
    assert current.question.step == ANONYMOUS
    # Nothing outside the session's flows is shown.
    assert (
        await unit(session, current_conversation, chat=chat, allowed=frozenset(), now=NOW) is None
    )
