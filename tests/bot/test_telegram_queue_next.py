"""The queue in Telegram (issue 14): the same order as the web (a time-out request first, by
the time asked for), and after an action a "Next: …" button that opens the next open item
instead of sending the coordinator back to the top of the list."""

from __future__ import annotations

from datetime import timedelta

from bot.telegram.callbacks import MenuCallback, QueueCallback, TimeoutRequestCallback
from bot.telegram.handlers.menu import QUEUE
from services.appointments.timeout_requests import request_timeout
from storage.models import Person, Role, TimeoutRequestReason, Urgency
from tests.bot.demo_bot import demo_person
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_decision_messages import _submit, tg
from tests.bot.test_telegram_flows import Harness
from tests.support.factories import NOW, add_trajectory

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
