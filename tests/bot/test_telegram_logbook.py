"""Reading the logbook in chat (feed_update): the student, their parent and their mentor read
what the coach wrote, newest first and by page; nobody else does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.trajectories.logbook import add_logbook_entry
from storage.models import Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import add_trajectory
from tests.support.units import unit

# The flow tests' fixtures: a real dispatcher on the demo school, Bot API recorded.
tg = _tg
flood_limit = _flood_limit


async def _trajectory_with_entries(tg: Harness, texts: list[str]) -> None:
    """A trajectory for the demo student lln02 (Noor; parent ouder2, mentor mentor1)."""
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
    start = datetime.now(UTC) - timedelta(days=len(texts))
    for days, text in enumerate(texts):
        async with tg.app.sessions() as session:
            await unit(
                session,
                add_logbook_entry,
                author=people["coach"],
                trajectory_id=trajectory.id,
                text=text,
                now=start + timedelta(days=days),
            )


async def test_a_parent_reads_the_logbook_newest_first_with_role_and_date(tg: Harness) -> None:
    await _trajectory_with_entries(
        tg, ["First talk: we agreed on a quiet start.", "Second talk: tests went well."]
    )
    parent = Person(2001, "en")
    await tg.link(parent, "ouder2", Role.PARENT, "en")
    menu = tg.api.last(parent.id)
    await tg.feed(parent.press(menu, menu.data_for("Logbook")))
    page = tg.api.last(parent.id).text
    assert page.startswith("Logbook, newest first (1–2 of 2):")
    second, first = page.index("Second talk"), page.index("First talk")
    assert second < first
    assert "Coach · " in page
    assert "Trajectveld" not in page  # the coach's role, not their name
    assert tg.api.last(parent.id).markup is None  # everything fits on one page


async def test_the_student_and_the_mentor_read_it_and_another_parent_does_not(
    tg: Harness,
) -> None:
    await _trajectory_with_entries(tg, ["We practised asking for help."])
    for user_id, external_id, role in (
        (2011, "lln02", Role.STUDENT),
        (2012, "mentor1", Role.MENTOR),
    ):
        reader = Person(user_id, "en")
        await tg.link(reader, external_id, role, "en")
        menu = tg.api.last(user_id)
        await tg.feed(reader.press(menu, menu.data_for("Logbook")))
        assert "We practised asking for help." in tg.api.last(user_id).text

    other = Person(2013, "en")  # ouder3: parent of lln01, who has no trajectory
    await tg.link(other, "ouder3", Role.PARENT, "en")
    assert all("Logbook" not in label for label, _ in tg.api.last(other.id).buttons())
    # A forged press of the menu's logbook button still shows nothing of Noor's.
    await tg.feed(other.press(tg.api.last(other.id), "m:logbook:"))
    answer = tg.api.last(other.id).text
    assert answer == "There are no logbook entries yet."
    assert "asking for help" not in answer


async def test_a_long_logbook_pages_with_older_entries(tg: Harness) -> None:
    await _trajectory_with_entries(tg, [f"Entry number {n}." for n in range(1, 8)])
    parent = Person(2021, "en")
    await tg.link(parent, "ouder2", Role.PARENT, "en")
    menu = tg.api.last(parent.id)
    await tg.feed(parent.press(menu, menu.data_for("Logbook")))
    first = tg.api.last(parent.id)
    assert [f"Entry number {n}." in first.text for n in range(7, 0, -1)] == [True] * 5 + [False] * 2
    await tg.feed(parent.press(first, first.buttons()[0][1]))
    assert first.markup is None  # the pressed "older" button is gone
    second = tg.api.last(parent.id)
    assert "Entry number 2." in second.text
    assert "Entry number 1." in second.text
    assert "Entry number 3." not in second.text
    assert second.markup is None  # nothing older
