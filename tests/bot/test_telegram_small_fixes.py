"""Issue 11's smaller Telegram defects, through `Dispatcher.feed_update`: "My referrals" says
where each referral stands, and an unknown command lists the commands that exist."""

from __future__ import annotations

from storage.models import Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness, test_a_whole_verwijzing_by_buttons_and_text
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg

tg = _tg
flood_limit = _flood_limit


async def _my_referrals(tg: Harness, mentor: Person) -> list[str]:
    await tg.feed(mentor.text("/start"))
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:referrals:"))
    return tg.api.last(mentor.id).text.splitlines()


async def test_my_referrals_says_where_each_one_stands(tg: Harness) -> None:
    await test_a_whole_verwijzing_by_buttons_and_text(tg)  # mentor2 refers Lieke
    mentor = Person(1010, "en")
    lines = await _my_referrals(tg, mentor)
    assert lines[0] == "You sent 1 referral:"
    assert lines[1].startswith("• ")  # the date it was sent, in the reader's words
    assert lines[1].endswith(": Lieke Noordeloos – sent, not picked up yet")

    zoco, chat = Person(1080, "en"), 1080
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(chat), "m:queue:"))
    queue = tg.api.last(chat)
    await tg.feed(zoco.press(queue, queue.buttons()[0][1]))
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).data_for("Take in analysis")))
    assert (await _my_referrals(tg, mentor))[1].endswith(
        "Lieke Noordeloos – the care coordinator is looking at it"
    )
    await tg.feed(zoco.press(tg.api.last(chat), tg.api.last(chat).data_for("Accept for intake")))
    assert (await _my_referrals(tg, mentor))[1].endswith(
        "Lieke Noordeloos – accepted: the intake is still to be planned"
    )


async def test_an_unknown_command_lists_the_commands(tg: Harness) -> None:
    mentor, chat = Person(1201, "en"), 1201
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.text("/foo"))
    reply = tg.api.chat(chat)[-2].text
    assert reply.startswith("I do not know that command.")
    for command in ("/start", "/help", "/taal or /language", "/stop"):
        assert command in reply
    assert "/login" not in reply  # a mentor has no staff login
    assert "I can only read text" not in reply
    assert "What would you like to do?" in tg.api.last(chat).text  # and the menu


async def test_staff_also_hear_of_login(tg: Harness) -> None:
    zoco, chat = Person(1202, "en"), 1202
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.text("/foo@trajectbot_test_bot"))
    assert "/login – a link to log in to the web app (staff)" in tg.api.chat(chat)[-2].text
