"""Issue 11: lists in chat never pass Telegram's 4,096-character limit (feed_update).

"My referrals" (up to 20 lines, names up to 200 characters) and a logbook page (packed by a
character budget, while Telegram counts UTF-16 units: an emoji is two) are sent in parts
through `bot.telegram.render.send_text`. The recording Bot API refuses a message over the
limit as the real one does, so these tests fail when a list is sent in one piece.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.referrals.submission import submit_referral
from services.trajectories.logbook import add_logbook_entry
from storage.models import Role
from tests.bot.telegram_fakes import MESSAGE_LIMIT, Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import add_mentorship, add_person, add_trajectory, draft
from tests.support.units import unit

tg = _tg
flood_limit = _flood_limit


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_twenty_referrals_with_long_names_come_in_parts_with_every_line(
    tg: Harness,
) -> None:
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        mentor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        assert mentor is not None
        for n in range(20):
            student = await add_person(
                session,
                school,
                f"lang{n:02}",
                Role.STUDENT,
                given_name=f"Leerling{n:02}" + "a" * 90,
                family_name="Zandvoort" + "b" * 91,
            )
            await add_mentorship(session, mentor, student)
            await submit_referral(
                session=session, mentor=mentor, draft=draft(student.id), now=datetime.now(UTC)
            )
    user = Person(3101, "en")
    await tg.link(user, "mentor2", Role.MENTOR)
    await tg.feed(user.press(tg.api.last(user.id), "m:referrals:"))
    parts = [sent.text for sent in tg.api.chat(user.id) if "Zandvoort" in sent.text]
    assert len(parts) >= 2  # about 5,000 characters: more than one message
    assert all(_utf16(part) <= MESSAGE_LIMIT for part in parts)
    assert parts[0].startswith("You sent 20 referrals:")
    text = "\n".join(parts)
    for n in range(20):
        assert f"Leerling{n:02}" in text
    assert text.count("sent, not picked up yet") == 20


async def test_a_logbook_page_of_emoji_comes_in_parts_with_older_entries_on_the_last(
    tg: Harness,
) -> None:
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        people = {}
        for external_id in ("lln02", "mentor1", "coach"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        trajectory = await add_trajectory(session, people["mentor1"], people["lln02"])
    start = datetime.now(UTC) - timedelta(days=10)
    # 1,000 emoji: 1,000 characters for the page's budget, 2,000 units for Telegram.
    marks = ["😀", "🙂", "🎉", "🌱", "📚", "🧩"]
    for days, mark in enumerate(marks):
        async with tg.app.sessions() as session:
            await unit(
                session,
                add_logbook_entry,
                author=people["coach"],
                trajectory_id=trajectory.id,
                text=mark * 1000,
                now=start + timedelta(days=days),
            )
    parent = Person(3102, "en")
    await tg.link(parent, "ouder2", Role.PARENT, "en")
    menu = tg.api.last(parent.id)
    await tg.feed(parent.press(menu, menu.data_for("Logbook")))
    parts = [sent for sent in tg.api.chat(parent.id) if any(m in sent.text for m in marks)]
    assert all(_utf16(sent.text) <= MESSAGE_LIMIT for sent in parts)
    assert parts[0].text.startswith("Logbook, newest first (1–5 of 6):")
    shown = "".join(sent.text for sent in parts)
    # The newest five, each whole; the oldest is on the next page.
    assert [shown.count(mark) for mark in marks] == [0, 1000, 1000, 1000, 1000, 1000]
    assert [bool(sent.buttons()) for sent in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].buttons()[0][0] == "Older entries"
