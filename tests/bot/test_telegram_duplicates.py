"""Duplicates in Telegram (issue 11, item 5), asserted in the chats where they arrive.

A Dutch mentor who starts a referral for a student with an open one is warned (date and
stage, nothing of its content) and can continue; the care coordinator's card says "Also: …"
and merges the duplicate with its button; the mentor's phone shows the notice without a name
and, inside the chat, which student and what happened.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.outbox.messages import OPEN_REFERRAL_OUTCOME, UnknownMessageError, build_message
from bot.telegram.callbacks import QueueCallback
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.outbox.kinds import OutboxKind
from services.outbox.store import ClaimedMessage
from storage.models import QueueItem, QueueNote, QueueStatus, Role
from tests.bot.demo_bot import demo_person, send_outbox
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_decision_messages import _submit, tg
from tests.bot.test_telegram_flows import Harness
from tests.support.factories import NOW
from tests.support.notices import Notice, telegram_text

__all__ = ["tg"]  # the fixture, shared with the decision messages' tests

CATALOGS = Catalogs()
NL, EN = CATALOGS.get("nl"), CATALOGS.get("en")
MERGED = Notice(
    "News about a referral you sent: the student already had an open referral or support, so "
    "the care coordinator has added yours to it. Nothing you wrote is lost.",
    "Press the button to see which student it is.",
)


def _claimed(payload: dict[str, int], language: str) -> ClaimedMessage:
    return ClaimedMessage(
        outbox_id=1,
        kind=OutboxKind.REFERRAL_MERGED,
        payload=payload,
        recipient_id=5,
        chat_id=500,
        language=language,
        attempt=1,
    )


@pytest.mark.parametrize("language", ["nl", "en", "ar"])
def test_the_merged_notice_names_no_one_and_its_button_opens_the_outcome(language: str) -> None:
    catalog = CATALOGS.get(language)
    sent = build_message(_claimed({"referral_id": 7, "queue_item_id": 9}, language), CATALOGS)
    assert sent.text == telegram_text(catalog, MERGED)
    assert [(b.label, b.payload) for b in sent.buttons] == [
        (catalog.render(Text.of("Show the referral")), OPEN_REFERRAL_OUTCOME.format(referral_id=7))
    ]
    with pytest.raises(UnknownMessageError):
        build_message(_claimed({"queue_item_id": 9}, language), CATALOGS)


async def test_the_mentor_is_warned_the_coordinator_merges_and_the_mentor_hears_it(
    tg: Harness,
) -> None:
    zoco, mentor = User(3200, "en"), User(3201, "nl")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR, "nl")
    ruben, bram = await demo_person(tg.app, "mentor2"), await demo_person(tg.app, "lln13")
    first = await _submit(tg.app.sessions, ruben, bram, help_question_student="Eerste vraag.")

    # The mentor starts a new referral in the chat and picks Bram: warned, with the stage.
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    question = tg.api.last(mentor.id)
    await tg.feed(mentor.press(question, question.data_for("Bram")))
    warning = tg.api.last(mentor.id)
    stage = NL.render(Text.of("sent, not picked up yet"))
    assert "Bram Moerdijkstra (3A)" in warning.text
    assert stage in warning.text
    assert "Eerste vraag" not in warning.text
    assert NL.render(Text.raw(NOW.date())) in warning.text  # the day it was sent, in Dutch
    await tg.feed(
        mentor.press(warning, warning.data_for(NL.gettext("Continue with a new referral")))
    )
    going_on = tg.api.last(mentor.id)
    assert NL.gettext("What is the student's own help question? Use the student's words.") in (
        going_on.text
    )

    # The second referral arrives (as if sent); the coordinator's card says "Also: …".
    duplicate = await _submit(tg.app.sessions, ruben, bram, help_question_student="Tweede vraag.")
    await tg.feed(
        zoco.press(tg.api.last(zoco.id), QueueCallback(action="open", item=duplicate).pack())
    )
    card = tg.api.last(zoco.id)
    assert f"Also: 1 open referral (#{first})" in card.text
    before = len(tg.api.chat(mentor.id))
    await tg.feed(zoco.press(card, card.data_for("Merge into the open referral")))
    after = tg.api.last(zoco.id)
    assert f"Merged into #{first}" in after.text
    assert "Merge into" not in str(after.buttons())

    async with tg.app.sessions() as session:
        item = await session.get_one(QueueItem, duplicate)
        note = await session.scalar(select(QueueNote.text).where(QueueNote.queue_item_id == first))
    assert item.status is QueueStatus.CLOSED
    assert item.merged_into_id == first
    assert note is not None
    assert "Tweede vraag." in note

    # The mentor's phone: no name; the button shows, inside the chat, what happened.
    await send_outbox(tg.app, tg.bot)
    (notice,) = tg.api.chat(mentor.id)[before:]
    assert notice.text == telegram_text(NL, MERGED)
    assert "Bram" not in notice.text
    ((_label, data),) = notice.buttons()
    assert data.startswith(OPEN_REFERRAL_OUTCOME.split("{")[0])
    await tg.feed(mentor.press(notice, data))
    shown = tg.api.last(mentor.id).text
    told = Text.of(
        "Your referral for {student} (sent {date}) has been added to the referral for this "
        "student that was already open. What you wrote is kept with it; the care coordinator "
        "handles both together.",
        student=Text.raw("Bram Moerdijkstra"),
        date=NOW.date(),
    )
    assert NL.render(told) in shown
    assert "Eerste vraag" not in shown
