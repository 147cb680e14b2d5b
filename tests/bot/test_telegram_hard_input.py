"""Issue 13: hard input in Telegram is answered, never an unhandled error.

Callback data naming an id no row can have (past PostgreSQL's ``integer``, past SQLite's 64-bit
integers, 0, negative, not a number) is answered as a button that no longer works; ``/stop``
and unknown commands get an answer from anyone, linked or not.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select

from bot.telegram import callbacks
from storage.models import Referral, Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg

tg = _tg
flood_limit = _flood_limit

BAD_IDS = ("9223372036854775808", "2147483648", "0", "-1", "x", "18446744073709551617")
ACTIONS = ("open", "take", "move", "cancel", "show", "approve", "yes", "attended", "close")


def _forged(bad: str) -> list[str]:
    """Callback data of every button kind with an id, the id replaced by ``bad``."""
    found = []
    for kind in vars(callbacks).values():
        if not (isinstance(kind, type) and issubclass(kind, CallbackData)) or kind is CallbackData:
            continue
        fields: dict[str, Any] = kind.model_fields
        if not any(f.annotation is int for n, f in fields.items() if n != "version"):
            continue
        prefix = kind.__prefix__
        for action in ACTIONS:
            parts = [prefix]
            for name, field in fields.items():
                if field.annotation is int:
                    parts.append(bad if name != "version" else "0")
                elif name == "action":
                    parts.append(action)
                else:
                    parts.append("")
            found.append(":".join(parts))
    return found


async def test_impossible_ids_in_buttons_are_answered_as_stale(tg: Harness) -> None:
    zoco, mentor, stranger = Person(1301, "en"), Person(1302, "en"), Person(1303, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.link(mentor, "mentor1", Role.MENTOR)
    sample = _forged("1")
    assert any(data.startswith("q:") for data in sample)  # the walk finds the queue's buttons
    assert any(data.startswith("ap:") for data in sample)
    for bad in BAD_IDS:
        for data in _forged(bad):
            for user in (zoco, mentor):
                before = len(tg.api.answered_alerts())
                await tg.feed(user.press(tg.api.last(user.id), data))  # raises on a crash
                answers = tg.api.answered_alerts()
                assert len(answers) == before + 1, data
                assert answers[-1] == "This button no longer works.", data
            await tg.feed(stranger.press(tg.api.last(zoco.id), data))
            assert "personal invitation link" in tg.api.answered_alerts()[-1]


async def test_stop_and_unknown_commands_are_answered_for_a_stranger(tg: Harness) -> None:
    stranger = Person(1304, "en")
    for command in ("/stop", "/foo", "/login", "/help", "/taal"):
        before = len(tg.api.chat(1304))
        await tg.feed(stranger.text(command))
        replies = tg.api.chat(1304)[before:]
        assert replies, command
        assert "personal invitation link" in replies[-1].text, command


async def test_stop_and_unknown_commands_are_answered_for_a_known_person(tg: Harness) -> None:
    mentor = Person(1305, "en")
    await tg.link(mentor, "mentor1", Role.MENTOR)
    await tg.feed(mentor.text("/stop"))
    assert "There is nothing to stop." in [m.text for m in tg.api.chat(1305)[-2:]]
    await tg.feed(mentor.text("/nonsense"))
    assert tg.api.chat(1305)[-2].text.startswith("I do not know that command.")
    assert "What would you like to do?" in tg.api.last(1305).text


async def test_a_referral_refuses_controls_and_stores_no_bidi_controls(tg: Harness) -> None:
    mentor, chat = Person(1306, "en"), 1306
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(chat), "m:flow:verwijzing"))
    question = tg.api.last(chat)
    await tg.feed(mentor.press(question, question.data_for("Lieke")))

    await tg.feed(mentor.text("She wants\x00 to feel less anxious."))
    assert "invisible control character" in tg.api.chat(chat)[-2].text
    assert await _referrals(tg) == []  # asked again, nothing taken
    for answer in (
        "\u202eShe wants to feel less anxious in class.",
        "How can I \u2067help\u2069 her take part?\u202c",
        "A fixed seat\r\nnear the window.",
    ):
        await tg.feed(mentor.text(answer))
    for _ in range(2):  # what works at home / at school: skip
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for("Skip")))
    for label in ("High", "Yes", "Time-out", "Done"):
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for(label)))
    await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).buttons()[0][1]))
    for label in ("Wednesday", "Done", "No", "Send"):
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for(label)))
    assert "Your referral has been sent" in tg.api.last(chat).text

    (referral,) = await _referrals(tg)
    assert referral.help_question_student == "She wants to feel less anxious in class."
    assert referral.help_question_teacher == "How can I help her take part?"
    assert referral.tried == "A fixed seat\nnear the window."

    # The care coordinator's card shows it without the override (isolates come from rendering).
    zoco = Person(1307, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(1307), "m:queue:"))
    queue = tg.api.last(1307)
    await tg.feed(zoco.press(queue, queue.buttons()[0][1]))
    card = tg.api.last(1307).text
    assert "less anxious in class" in card
    assert not BIDI & set(card)


BIDI = set("\u202a\u202b\u202c\u202d\u202e")


async def _referrals(tg: Harness) -> list[Referral]:
    async with tg.app.sessions() as session:
        return list(await session.scalars(select(Referral)))
