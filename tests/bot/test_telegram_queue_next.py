"""The queue in Telegram (issue 14): the same order as the web (a time-out request first, by
the time asked for), and after an action a "Next: …" button that opens the next open item
instead of sending the coordinator back to the top of the list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.callbacks import MenuCallback, QueueCallback, TimeoutRequestCallback
from bot.telegram.handlers.menu import QUEUE
from services.appointments.timeout_requests import request_timeout
from services.queue.listing import list_queue
from storage.models import (
    Person,
    QueueItem,
    QueueStatus,
    Role,
    School,
    TimeoutRequestReason,
    Urgency,
)
from tests.bot.demo_bot import demo_person
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_decision_messages import _submit, tg
from tests.bot.test_telegram_flows import Harness
from tests.support.factories import NOW, add_mentorship, add_person, add_trajectory

__all__ = ["tg"]  # the fixture, shared with the decision messages' tests


async def _timeout_request(tg: Harness, student: Person, mentor: Person) -> int:
    async with tg.app.sessions() as session, session.begin():
        trajectory = await add_trajectory(session, mentor, student, timeouts_per_week=0)
        requested = await request_timeout(
            session=session,
            actor=student,
            trajectory=trajectory,
            starts_at=NOW + timedelta(days=1),
            reason=TimeoutRequestReason.OVER_CAP,
            now=NOW + timedelta(hours=1),
        )
    return requested.queue_item_id


async def test_the_time_out_request_comes_first_and_an_action_offers_the_next_item(
    tg: Harness,
) -> None:
    zoco = User(3300, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    ruben, daan = await demo_person(tg.app, "mentor2"), await demo_person(tg.app, "mentor1")
    urgent = await _submit(
        tg.app.sessions, daan, await demo_person(tg.app, "lln03"), urgency=Urgency.HIGH
    )
    normal = await _submit(tg.app.sessions, daan, await demo_person(tg.app, "lln05"))
    timeout = await _timeout_request(tg, await demo_person(tg.app, "lln14"), ruben)

    await tg.feed(zoco.press(tg.api.last(zoco.id), MenuCallback(action=QUEUE).pack()))
    listed = [data for _label, data in tg.api.last(zoco.id).buttons()]
    opened = TimeoutRequestCallback(action="open", item=timeout).pack()
    # Received last, listed first; then the high-urgency referral before the normal one.
    assert listed[0] == opened
    assert listed.index(QueueCallback(action="open", item=urgent).pack()) < listed.index(
        QueueCallback(action="open", item=normal).pack()
    )

    # Taking the urgent referral in analysis: the card offers the next open item after it.
    await tg.feed(
        zoco.press(tg.api.last(zoco.id), QueueCallback(action="open", item=urgent).pack())
    )
    card = tg.api.last(zoco.id)
    assert "Next:" not in str(card.buttons())  # only opened: nothing done yet
    await tg.feed(zoco.press(card, card.data_for("Take in analysis")))
    after = tg.api.last(zoco.id)
    following = after.data_for("Next:")
    assert following == listed[listed.index(QueueCallback(action="open", item=urgent).pack()) + 1]
    label = next(text for text, data in after.buttons() if data == following)
    assert label.startswith("Next: #")
    # The button opens that item.
    await tg.feed(zoco.press(after, following))
    assert tg.api.last(zoco.id).text.startswith(f"Referral #{following.split(':')[-1]}")


async def test_a_queue_longer_than_a_page_pages_with_more(tg: Harness) -> None:
    """A coordinator with 45 open items reaches every one: 20 per message, "More…" under
    each page but the last; the pressed "More…" row goes, the item buttons above it stay."""
    zoco = User(3301, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    daan = await demo_person(tg.app, "mentor1")
    async with tg.app.sessions() as session, session.begin():
        school = await session.get_one(School, daan.school_id)
        mentor = await session.get_one(Person, daan.id)
        students = [
            await add_person(session, school, f"q{n}", Role.STUDENT, given_name=f"Pupil{n}")
            for n in range(45 - await _open_items(session, school.id))
        ]
        for student in students:
            await add_mentorship(session, mentor, student)
    for student in students:
        await _submit(tg.app.sessions, daan, student)
    async with tg.app.sessions() as session, session.begin():
        expected = [
            entry.queue_item_id
            for entry in await list_queue(session=session, viewer=await demo_person(tg.app, "zoco"))
        ]
    assert len(expected) == 45

    await tg.feed(zoco.press(tg.api.last(zoco.id), MenuCallback(action=QUEUE).pack()))
    pages = [tg.api.last(zoco.id)]
    while (more := [d for label, d in pages[-1].buttons() if label == "More…"]) and len(pages) < 5:
        await tg.feed(zoco.press(pages[-1], more[0]))
        pages.append(tg.api.last(zoco.id))
    find = "\nTo find one: /queue and a name or number."
    assert [page.text for page in pages] == [
        "Open items 1–20 of 45:" + find,
        "Open items 21–40 of 45:" + find,
        "Open items 41–45 of 45:" + find,
    ]
    shown = [int(data.split(":")[-1]) for page in pages for _label, data in page.buttons()]
    assert shown == expected  # every item once, in the queue's own order
    assert all(len(page.buttons()) == n for page, n in zip(pages, (20, 20, 5), strict=True))

    # A forged offset past the end shows the last page, of this coordinator's own queue.
    await tg.feed(zoco.press(pages[0], MenuCallback(action=QUEUE, value="99999").pack()))
    assert tg.api.last(zoco.id).text == "Open items 41–45 of 45:" + find

    # Typed: /queue and a part of a name finds the items of those students (the web's search).
    await tg.feed(zoco.text("/queue pupil4"))
    found = tg.api.last(zoco.id)
    wanted = sorted(
        f"{pupil.given_name} {pupil.family_name}"
        for pupil in students
        if "pupil4" in pupil.given_name.lower()
    )
    assert found.text == f"{len(wanted)} open items match “pupil4”:"
    assert sorted(label.split(" · ")[1] for label, _data in found.buttons()) == wanted
    await tg.feed(zoco.text("/queue Pupil0"))
    assert tg.api.last(zoco.id).text == "1 open item matches “Pupil0”:"
    await tg.feed(zoco.text("/werkvoorraad niemand-zo"))
    assert tg.api.last(zoco.id).text == "No open item matches “niemand-zo”."
    await tg.feed(zoco.text("/queue"))
    assert tg.api.last(zoco.id).text.startswith(
        "45 open items\nThe first 20: type more of the name or the number."
    )
    await tg.feed(zoco.text("/help"))
    assert "/queue and a name or number: find an open item" in tg.api.last(zoco.id).text

    # A mentor is no care coordinator: no queue, whatever is typed.
    teacher = User(3302, "en")
    await tg.link(teacher, "mentor1", Role.MENTOR, "en")
    await tg.feed(teacher.text("/queue Pupil"))
    assert "Pupil" not in tg.api.last(teacher.id).text
    assert tg.api.last(teacher.id).buttons() == []
    await tg.feed(teacher.text("/help"))
    assert "/queue" not in tg.api.last(teacher.id).text


async def _open_items(session: AsyncSession, school_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(QueueItem)
            .where(QueueItem.school_id == school_id, QueueItem.status != QueueStatus.CLOSED)
        )
        or 0
    )
