"""A referral with every free-text answer at its maximum length (issue 11): its summary and the
coordinator's card are over Telegram's 4,096 characters, so they arrive in parts, the buttons
on the last. The recording session refuses longer messages, as Telegram does.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.telegram.chunks import MESSAGE_LIMIT, utf16_length
from dialogs.flows.verwijzing import HELP_TEXT_MAX, SUPPORT, VERWIJZING, WEEKDAYS
from storage.models import Referral, Role
from tests.bot.telegram_fakes import Person, Sent
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.dialogs.helpers import EN

tg = _tg
flood_limit = _flood_limit

REASON_MAX = VERWIJZING.step("parents_not_informed_reason").max_length


def _full(tag: str, length: int) -> str:
    """Words (an emoji now and then: two UTF-16 units each) of exactly ``length`` characters."""
    words: list[str] = []
    while len(" ".join(words)) < length:
        n = len(words) + 1
        words.append(f"{tag}{n}" + ("😀" if n % 5 == 0 else ""))
    text = " ".join(words)[:length]
    return text[:-1] + "." if text[-1].isspace() else text


TEXTS = {key: _full(key[:4], HELP_TEXT_MAX) for key in ("hqs", "hqt", "tried", "home", "school")}
REASON = _full("why", REASON_MAX)


async def _press(tg: Harness, user: Person, label: str) -> None:
    message = tg.api.last(user.id)
    await tg.feed(user.press(message, message.data_for(label)))


async def _maximal_summary(tg: Harness, mentor: Person) -> list[Sent]:
    await tg.feed(mentor.press(tg.api.last(mentor.id), "m:flow:verwijzing"))
    await _press(tg, mentor, "Lieke")
    for key in ("hqs", "hqt", "tried", "home", "school"):
        await tg.feed(mentor.text(TEXTS[key]))
    await _press(tg, mentor, "High")
    await _press(tg, mentor, "No")
    await tg.feed(mentor.text(REASON))
    for option in SUPPORT:
        await _press(tg, mentor, EN.render(option.label))
    await _press(tg, mentor, "Done")
    day = tg.api.last(mentor.id)
    await tg.feed(mentor.press(day, day.buttons()[0][1]))
    for option in WEEKDAYS:
        await _press(tg, mentor, EN.render(option.label))
    await _press(tg, mentor, "Done")
    await _press(tg, mentor, "No")  # the optional questions (issue 15)
    chat = tg.api.chat(mentor.id)
    first = max(i for i, m in enumerate(chat) if "Please check your referral" in m.text)
    return chat[first:]


def _within_limit(messages: list[Sent]) -> None:
    for message in messages:
        assert utf16_length(message.text) <= MESSAGE_LIMIT, len(message.text)


async def test_a_maximal_referral_is_summarised_in_parts_and_can_be_sent(tg: Harness) -> None:
    mentor = Person(1410, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)

    parts = await _maximal_summary(tg, mentor)

    assert len(parts) >= 2
    _within_limit(tg.api.chat(mentor.id))
    assert all(p.markup is None for p in parts[:-1])
    joined = "\n".join(p.text for p in parts)
    for text in (*TEXTS.values(), REASON):
        assert text in joined  # nothing lost, no answer cut (every cut is between lines)
    assert utf16_length(joined) > MESSAGE_LIMIT
    await tg.feed(mentor.press(parts[-1], parts[-1].data_for("Send")))
    assert "Your referral has been sent" in tg.api.last(mentor.id).text
    async with tg.app.sessions() as session:
        referral = await session.scalar(select(Referral))
        assert referral is not None
        assert referral.works_at_school == TEXTS["school"]

    # The coordinator opens the card: in parts too, the actions on the last.
    zoco = Person(1411, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.press(tg.api.last(zoco.id), "m:queue:"))
    queue = tg.api.last(zoco.id)
    before = len(tg.api.chat(zoco.id))
    await tg.feed(zoco.press(queue, queue.buttons()[0][1]))
    card = tg.api.chat(zoco.id)[before:]
    assert len(card) >= 2
    _within_limit(card)
    assert all(m.markup is None for m in card[:-1])
    assert card[-1].buttons()[0][0] == "Take in analysis"
    assert TEXTS["hqs"] in "\n".join(m.text for m in card)
    await tg.feed(zoco.press(card[-1], card[-1].data_for("Take in analysis")))
    assert "in progress" in "\n".join(m.text for m in tg.api.chat(zoco.id)[-3:])


async def test_going_back_to_a_maximal_summary_edits_in_place_and_sends_the_rest(
    tg: Harness,
) -> None:
    mentor = Person(1420, "en")
    await tg.link(mentor, "mentor2", Role.MENTOR)
    parts = await _maximal_summary(tg, mentor)
    last = parts[-1]
    await tg.feed(mentor.press(last, last.data_for("Change an answer")))
    assert "Back to the summary" in str(last.buttons())  # the list, drawn in place

    await tg.feed(mentor.press(last, last.data_for("Back to the summary")))

    _within_limit(tg.api.chat(mentor.id))
    assert last.markup is None  # the first part, in place, without buttons
    assert "Please check your referral" in last.text
    assert tg.api.last(mentor.id).data_for("Send")
