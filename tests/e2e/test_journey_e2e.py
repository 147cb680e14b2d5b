"""The mentor's part of the referral journey through the Bot API emulator (issue 11, item 7).

The whole journey runs offline in `tests/journeys/` (feed_update, the web app, the web chat,
one clock); here the mentor's own steps go over HTTP with real polling and the running outbox
worker: submit the referral by buttons and text, the care coordinator accepts it (through the
services, as the web app does), and the decision arrives in the mentor's language (Dutch), with
no name on the lock screen and the student shown inside the chat.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.referrals.decisions import accept_for_intake, take_in_analysis
from storage.models import Person, QueueItem, Role
from tests.e2e.conftest import Harness
from tests.e2e.test_bot_e2e import DEMO_STUDENT_NAMES, _up_to_the_summary
from tests.support.journey import say
from tests.support.notices import Notice
from tests.support.units import unit

ACCEPTED = Notice(
    "News about a referral you sent: it has been accepted.\n"
    "The next step is the intake meeting; you will be asked whether you can be there.",
    "Press the button to see which student it is.",
)


async def _person(e2e: Harness, external_id: str) -> Person:
    async with e2e.app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
    assert person is not None
    return person


async def test_the_mentor_submits_and_hears_the_decision_in_dutch(e2e: Harness) -> None:
    mentor = e2e.person(2101)
    await e2e.onboard(mentor, "mentor2", Role.MENTOR)
    await mentor.press(await _up_to_the_summary(mentor), "Send")
    assert "Your referral has been sent" in "\n".join(await mentor.texts())
    await mentor.send("/taal")  # she reads Dutch from now on
    await mentor.press_data(await mentor.last(), "lang:nl")
    before = len(await mentor.chat())

    # The care coordinator takes and accepts it (the web app calls these services).
    zoco = await _person(e2e, "zoco")
    async with e2e.app.sessions() as session:
        item_id = await session.scalar(select(QueueItem.id))
    assert item_id is not None
    await unit(
        e2e.app.sessions,
        take_in_analysis,
        actor=zoco,
        queue_item_id=item_id,
        now=datetime.now(UTC),
    )
    await unit(
        e2e.app.sessions,
        accept_for_intake,
        actor=zoco,
        queue_item_id=item_id,
        now=datetime.now(UTC),
    )

    # The running outbox worker delivers the decision over HTTP, in Dutch, without a name.
    expected = say("nl", ACCEPTED)
    notice = await e2e.api.wait_for_message(mentor.id, expected.split("\n", 1)[0])
    assert notice.text == expected
    assert [label for label, _ in notice.buttons] == [say("nl", "Show the decision")]
    assert not [name for name in DEMO_STUDENT_NAMES if name in notice.text]
    assert len(await mentor.chat()) == before + 1  # nothing else arrived

    # Inside the chat she reads which student it is.
    await mentor.press(notice, say("nl", "Show the decision"))
    assert "Lieke Noordeloos" in (await mentor.last()).text
