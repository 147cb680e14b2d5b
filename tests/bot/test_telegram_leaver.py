"""Telegram and a person who left the school (ended by a sync of the administration system):
the bot treats their account as a stranger's; listed again, they are known again."""

from __future__ import annotations

from pathlib import Path

from services.accounts.roster.sync import sync_people
from storage.models import Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import NOW

tg = _tg
flood_limit = _flood_limit
HEADER = "external_id,roles,given_name,family_name\n"


async def test_a_leaver_is_a_stranger_to_the_bot(tg: Harness, tmp_path: Path) -> None:
    mentor = Person(1601, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR, "en")
    await tg.feed(mentor.text("/start"))
    assert "What would you like to do?" in tg.api.last(mentor.id).text

    others = tmp_path / "zonder-mentor2.csv"
    others.write_text(HEADER + "mentor1,mentor;teacher,Anouk,Klasema\n", encoding="utf-8")
    ended = await sync_people(tg.app.sessions, path=others, school_code="demo", now=NOW, full=True)
    assert ended.plan is not None
    assert "mentor2" in ended.plan.ended

    await tg.feed(mentor.text("/start"))
    assert "personal invitation link" in tg.api.last(mentor.id).text

    back = tmp_path / "met-mentor2.csv"
    back.write_text(HEADER + "mentor2,mentor;teacher,Ruben,Lesterhuis\n", encoding="utf-8")
    await sync_people(tg.app.sessions, path=back, school_code="demo", now=NOW)
    await tg.feed(mentor.text("/start"))
    assert "What would you like to do?" in tg.api.last(mentor.id).text
