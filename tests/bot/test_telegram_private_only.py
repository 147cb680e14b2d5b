"""Private chats only (issue 11): in a group, supergroup or channel the bot says at most one line
and does nothing personal. Through `Dispatcher.feed_update` with the recording Bot API session.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from storage.models import Conversation, Invite, LoginLink, Role
from tests.bot.telegram_fakes import BOT_USER, Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg

tg = _tg
flood_limit = _flood_limit

LINE = "Please talk to me in a private chat."
GROUP = -100200300


async def _invites_used(tg: Harness) -> list[bool]:
    async with tg.app.sessions() as session:
        return [i.used_at is not None for i in await session.scalars(select(Invite))]


async def _telegram_id_of(tg: Harness, external_id: str) -> int | None:
    async with tg.app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        return person.telegram_user_id


@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_an_invite_sent_in_a_group_is_not_used_and_still_works_in_private(
    tg: Harness, kind: str
) -> None:
    mentor = Person(1510, "en")
    token = await tg.invite("mentor2", Role.MENTOR)

    await tg.feed(mentor.in_chat(GROUP, kind).text(f"/start {token}"))

    assert [m.text for m in tg.api.chat(GROUP)] == [LINE]
    assert tg.api.chat(GROUP)[0].markup is None
    assert tg.api.chat(mentor.id) == []
    assert await _invites_used(tg) == [False]
    assert await _telegram_id_of(tg, "mentor2") is None

    await tg.feed(mentor.text(f"/start {token}"))  # the same link, in private

    assert "Welcome" in tg.api.chat(mentor.id)[0].text
    assert await _invites_used(tg) == [True]
    assert await _telegram_id_of(tg, "mentor2") == mentor.id
    assert [m.text for m in tg.api.chat(GROUP)] == [LINE]  # nothing more in the group


async def test_login_in_a_group_sends_no_link(tg: Harness) -> None:
    zoco = Person(1520, "nl")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")

    await tg.feed(zoco.in_chat(GROUP, "supergroup").text("/login"))

    assert [m.text for m in tg.api.chat(GROUP)] == [LINE]  # in their chosen language
    async with tg.app.sessions() as session:
        assert list(await session.scalars(select(LoginLink))) == []
    await tg.feed(zoco.text("/login"))  # in private the link is sent
    assert "/login/link/" in tg.api.last(zoco.id).text


async def test_a_flow_button_pressed_in_a_group_changes_nothing(tg: Harness) -> None:
    mentor = Person(1530, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    question = tg.api.last(mentor.id)
    async with tg.app.sessions() as session:
        before = (await session.scalars(select(Conversation))).one().state
    shown = len(tg.api.chat(mentor.id))

    group = mentor.in_chat(GROUP, "group")
    await tg.feed(group.press(question, question.data_for("Lieke")))
    await tg.feed(group.press(question, "m:flow:verwijzing"))  # a menu button too
    await tg.feed(group.press(question, "m:queue:"))

    assert tg.api.answered_alerts()[-3:] == [LINE, LINE, LINE]
    assert tg.api.chat(GROUP) == []
    assert len(tg.api.chat(mentor.id)) == shown
    assert "Question 1 of 13" in question.text
    assert question.markup is not None
    async with tg.app.sessions() as session:
        assert (await session.scalars(select(Conversation))).one().state == before


async def test_text_in_a_group_never_continues_a_flow_or_shows_names(tg: Harness) -> None:
    mentor = Person(1540, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    question = tg.api.last(mentor.id)
    await tg.feed(mentor.press(question, question.data_for("Lieke")))  # now a text question
    async with tg.app.sessions() as session:
        before = (await session.scalars(select(Conversation))).one().state
    group = mentor.in_chat(GROUP, "supergroup")

    await tg.feed(group.text("She wants to feel less anxious in class."))
    assert tg.api.chat(GROUP) == []  # not addressed to the bot: ignored
    mention = "@trajectbot_test_bot she wants to feel less anxious in class"
    message = group.text(mention)
    message["message"]["entities"] = [{"type": "mention", "offset": 0, "length": 20}]
    await tg.feed(message)
    await tg.feed(group.text("/stop"))
    await tg.feed(group.text("/help@trajectbot_test_bot"))
    await tg.feed(group.text("/help@another_bot"))  # for another bot: ignored
    reply = group.text("hello again")
    reply["message"]["reply_to_message"] = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": group.chat,
        "from": BOT_USER.model_dump(),
        "text": LINE,
    }
    await tg.feed(reply)

    assert [m.text for m in tg.api.chat(GROUP)] == [LINE] * 4
    async with tg.app.sessions() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        assert conversation.state == before
        assert conversation.status.value == "active"


async def test_a_channel_post_gets_no_answer(tg: Harness) -> None:
    token = await tg.invite("mentor2", Role.MENTOR)
    channel: dict[str, Any] = {"id": -100900, "type": "channel", "title": "News"}
    post = {
        "update_id": 990_001,
        "channel_post": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": channel,
            "sender_chat": channel,
            "text": f"/start {token}",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }

    await tg.feed(post)

    assert tg.api.chat(-100900) == []
    assert await _invites_used(tg) == [False]


async def test_private_chats_still_work(tg: Harness) -> None:
    mentor = Person(1550, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.text("hello"))
    assert "What would you like to do?" in tg.api.last(mentor.id).text
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    question = tg.api.last(mentor.id)
    await tg.feed(mentor.press(question, question.data_for("Lieke")))
    assert question.text == "Student: Lieke Noordeloos (3A) ✓"
    assert LINE not in [m.text for m in tg.api.chat(mentor.id)]
