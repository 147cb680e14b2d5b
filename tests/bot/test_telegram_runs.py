"""A button belongs to one run of one flow (issue 11): through `Dispatcher.feed_update`.

Before runs, the version restarted with every run of a flow, so Send on a summary left behind
submitted the answers of the run that had reached the same version since.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.telegram.callbacks import CALLBACK_DATA_LIMIT, FlowCallback
from dialogs.events import MAX_RUN_LENGTH, Action, Event
from dialogs.flow import StepKind
from dialogs.flows import FLOWS
from dialogs.state import RUN_LENGTH, new_run_id
from storage.models import QueueItem, Referral, Role
from tests.bot.telegram_fakes import Person, Sent
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg

tg = _tg
flood_limit = _flood_limit

STALE = "That question is already closed. Here is the current one."


async def fill_referral_to_summary(
    tg: Harness, mentor: Person, student: str, texts: tuple[str, str, str]
) -> Sent:
    """Start a referral from the menu and answer every question; the summary message."""
    chat = mentor.id
    await tg.feed(mentor.press(tg.api.last(chat), "m:flow:verwijzing"))
    question = tg.api.last(chat)
    await tg.feed(mentor.press(question, question.data_for(student)))
    for answer in texts:
        await tg.feed(mentor.text(answer))
    for _ in range(2):  # what works at home / at school: skip
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for("Skip")))
    for label in ("High", "Yes", "Time-out"):
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for(label)))
    await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for("Done")))
    day = tg.api.last(chat)
    await tg.feed(mentor.press(day, day.buttons()[0][1]))
    for label in ("Wednesday", "Done", "No"):
        await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for(label)))
    summary = tg.api.last(chat)
    assert "Please check your referral" in summary.text
    return summary


A_TEXTS = (
    "She wants to feel less anxious in class.",
    "How can I help her take part without pressure?",
    "A fixed seat near the window and a weekly check-in.",
)
B_TEXTS = (
    "He wants to stop getting sent out of class.",
    "How can I help him calm down before a conflict?",
    "Two talks with the mentor and a seat near the door.",
)


async def test_send_on_an_earlier_runs_summary_never_submits_the_new_run(tg: Harness) -> None:
    mentor, chat = Person(1310, "en"), 1310
    await tg.link(mentor, "mentor2", Role.MENTOR)
    summary_a = await fill_referral_to_summary(tg, mentor, "Lieke", A_TEXTS)
    old_send = summary_a.data_for("Send")
    await tg.feed(mentor.text("/stop"))  # leave
    await tg.feed(mentor.text("/start"))  # the menu again
    summary_b = await fill_referral_to_summary(tg, mentor, "Bram", B_TEXTS)
    new_send = summary_b.data_for("Send")
    old, new = FlowCallback.unpack(old_send), FlowCallback.unpack(new_send)
    assert (old.flow, old.action, old.version) == (new.flow, new.action, new.version)
    assert old.run != new.run  # only the run tells the two summaries apart

    await tg.feed(mentor.press(summary_a, old_send))

    texts = [m.text for m in tg.api.chat(chat)]
    assert STALE in texts
    assert "Bram" in tg.api.last(chat).text  # the current summary, asked again
    async with tg.app.sessions() as session:
        assert list(await session.scalars(select(Referral))) == []
        assert list(await session.scalars(select(QueueItem))) == []

    await tg.feed(mentor.press(tg.api.last(chat), tg.api.last(chat).data_for("Send")))
    assert "Your referral has been sent" in tg.api.last(chat).text
    async with tg.app.sessions() as session:
        referral = await session.scalar(select(Referral))
        assert referral is not None
        assert referral.help_question_student == B_TEXTS[0]


async def test_a_button_packed_before_runs_existed_is_never_applied(tg: Harness) -> None:
    mentor, chat = Person(1320, "en"), 1320
    await tg.link(mentor, "mentor2", Role.MENTOR)
    await tg.feed(mentor.press(tg.api.last(chat), "m:flow:verwijzing"))
    question = tg.api.last(chat)
    shown = FlowCallback.unpack(question.data_for("Bram"))
    legacy = f"f:verwijzing:c:{shown.version}:{shown.value}"  # flow, action, version, value

    await tg.feed(mentor.press(question, legacy))

    assert tg.api.answered_alerts()[-1] == "This button no longer works."
    assert "Question 1 of 13" in question.text  # not answered
    assert question.markup is not None


def _longest_values(flow_id: str) -> list[str]:
    """The longest value each kind of button of the flow can carry."""
    flow = FLOWS[flow_id]
    values = ["", "99"]  # plain actions; a page number
    for step in flow.steps:
        values.append(step.key)  # EDIT from the summary
        values.extend(o.code for o in step.options)
        if step.kind is StepKind.DATE:
            values.append("2026-11-24")
        if step.options_from is not None:
            # Person-specific codes: ids (at most 10 digits) and slot codes.
            values.extend(["9" * 10, "2026-11-24T1030"])
    return values


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_the_longest_flow_button_fits_telegrams_64_bytes(flow_id: str) -> None:
    assert RUN_LENGTH <= MAX_RUN_LENGTH
    longest = ""
    for value in _longest_values(flow_id):
        for action in Action:
            if action is Action.TEXT:
                continue
            data = FlowCallback(
                flow=flow_id,
                action=action.value,
                version=10**7,  # ten million events in one run
                run=new_run_id(),
                value=value,
            ).pack()  # aiogram refuses data over 64 bytes
            longest = max(longest, data, key=lambda d: len(d.encode()))
    assert len(longest.encode("utf-8")) <= CALLBACK_DATA_LIMIT, longest


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_a_buttons_data_without_the_model_is_what_the_model_packs(flow_id: str) -> None:
    run = new_run_id()
    for value in ["", *_longest_values(flow_id)]:
        for action in Action:
            if action is Action.TEXT:
                continue
            for version, run_id in ((0, None), (3, run), (10**7, run)):
                event = Event(action, value, version, run_id)
                assert FlowCallback.data_for(flow_id, event) == (
                    FlowCallback.from_event(flow_id, event).pack()
                )


@pytest.mark.parametrize(
    "event",
    [
        Event(Action.CHOOSE, "a:b", 1, "r1"),  # the separator inside a value
        Event(Action.CHOOSE, "x" * 60, 1, "r1"),  # over 64 bytes
        Event(Action.CHOOSE, "1", -1, "r1"),  # a version out of range
    ],
)
def test_what_the_model_refuses_is_refused_without_it_too(event: Event) -> None:
    try:
        FlowCallback.from_event("verwijzing", event).pack()
    except ValueError as error:
        refusal = str(error)
    else:
        pytest.fail("the model packed it")
    with pytest.raises(ValueError, match=re.escape(refusal)):
        FlowCallback.data_for("verwijzing", event)
