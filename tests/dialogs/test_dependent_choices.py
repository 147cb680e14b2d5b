"""Options that depend on earlier answers, answers that depend on each other, and the smaller
step and flow options the appointment flows use (describe, empty, details, summary-only flows).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dialogs.engine import PAGE_SIZE, advance, reask, start
from dialogs.events import Action, Event, typed
from dialogs.flow import Answers, AnswerValue, Flow, FlowContext, Option, Step, StepKind
from dialogs.replies import Reply, ReplyKind
from dialogs.state import DialogState, Status
from dialogs.text import Text
from tests.dialogs.helpers import (
    EN,
    TODAY,
    Chat,
    LiveChat,
    labels,
    notices,
    options,
    render,
    toy_flow,
)

FOODS: Mapping[str, tuple[Option, ...]] = {
    "fruit": options("apple", "pear"),
    "vegetable": options("leek", "kale", "bean"),
}


def _food_key(answers: Answers) -> str:
    return f"food:{answers.get('group', '')}"


def _drop_food(value: AnswerValue, before: Answers) -> Mapping[str, AnswerValue | None]:
    return {} if before.get("group") == value else {"food": None}


GROUP = Step(
    "group",
    StepKind.SINGLE,
    prompt="Which group?",
    label="Group",
    options=options("fruit", "vegetable"),
    updates=_drop_food,
)
FOOD = Step(
    "food",
    StepKind.SINGLE,
    prompt="Which one?",
    label="Food",
    options_from=_food_key,
    search=False,
    describe=lambda code: Text.raw(f"{code} (gone)"),
    empty="Nothing left in this group.",
)


def _context(answers: Answers, choices: Mapping[str, tuple[Option, ...]] = FOODS) -> FlowContext:
    """What a binding would build: only the options of the group already answered."""
    group = answers.get("group")
    built = {f"food:{group}": choices[str(group)]} if isinstance(group, str) else {}
    return FlowContext(today=TODAY, choices=MappingProxyType(built))


def test_options_follow_an_earlier_answer() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    replies = chat.press("Vegetable")
    assert render(replies[0]) == "Group: Vegetable ✓"
    assert labels(chat.question)[:3] == ["Leek", "Kale", "Bean"]
    chat.press("Kale")
    assert chat.state.answers == {"group": "vegetable", "food": "kale"}
    assert "Food: Kale" in render(chat.question)


def test_an_option_of_another_key_is_refused() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    chat.press("Fruit")
    replies = chat.act(Action.CHOOSE, "kale")  # a vegetable, not offered after "fruit"
    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert "food" not in chat.state.answers


def test_without_the_rebuild_the_next_question_has_no_options() -> None:
    """Why `reask` exists: the context built before the answer knows no foods yet."""
    flow = toy_flow(GROUP, FOOD)
    context = _context({})
    state, _ = start(flow, context, run="run001")
    state, replies = advance(
        flow, state, Event(Action.CHOOSE, "fruit", state.version, state.run), context
    )
    assert "Nothing left in this group." in render(replies[-1])
    fresh = reask(flow, state, replies, _context(state.answers))
    assert labels(fresh[-1])[:2] == ["Apple", "Pear"]
    assert fresh[:-1] == replies[:-1]


def test_reask_leaves_finished_conversations_alone() -> None:
    done = Reply(ReplyKind.DONE, (Text.of("Sent."),))
    state = DialogState(flow="toy", flow_version=1, step=None, status=Status.COMPLETED)
    assert reask(toy_flow(GROUP, FOOD), state, [done], _context({})) == [done]


def test_changing_an_answer_drops_the_answers_that_depended_on_it() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    chat.press("Fruit", "Pear")
    chat.press("Change an answer", "Group", "Vegetable")
    assert chat.state.answers == {"group": "vegetable"}
    assert chat.state.step == "food"  # asked again, then back to the summary
    chat.press("Bean")
    assert chat.state.step == "summary"
    assert chat.state.answers == {"group": "vegetable", "food": "bean"}


def test_the_same_answer_again_keeps_the_dependent_ones() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    chat.press("Fruit", "Pear")
    chat.press("Change an answer", "Group", "Fruit")
    assert chat.state.step == "summary"
    assert chat.state.answers == {"group": "fruit", "food": "pear"}


def test_an_answer_no_longer_offered_reads_through_describe() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    chat.press("Fruit", "Pear")
    sold_out = {**FOODS, "fruit": options("apple")}
    chat.build = lambda answers: _context(answers, sold_out)
    chat.act(Action.RESUME)
    assert "Food: pear (gone)" in render(chat.question)


def test_an_empty_option_list_says_so() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), lambda a: _context(a, {**FOODS, "fruit": ()}))
    chat.press("Fruit")
    assert "Nothing left in this group." in render(chat.question)
    assert labels(chat.question) == ["« Back", "Stop"]


def test_a_list_that_is_not_searched_takes_no_typing() -> None:
    chat = LiveChat(toy_flow(GROUP, FOOD), _context)
    chat.press("Fruit")
    assert not chat.question.accepts_text
    assert "Tap a name." not in render(chat.question)
    replies = chat.type("pea")
    assert notices(replies) == ["Please use the buttons."]
    assert chat.state.query == ""


def test_long_dependent_lists_page_by_eight() -> None:
    many = {**FOODS, "fruit": options(*(f"fruit{n:02d}" for n in range(1, 12)))}
    chat = LiveChat(toy_flow(GROUP, FOOD), lambda a: _context(a, many))
    chat.press("Fruit")
    shown = [b for b in chat.question.buttons if b.event.action is Action.CHOOSE]
    assert len(shown) == PAGE_SIZE
    chat.press("More…")
    shown = [b for b in chat.question.buttons if b.event.action is Action.CHOOSE]
    assert len(shown) == 3


def test_details_are_shown_under_their_question() -> None:
    context = FlowContext(
        today=TODAY,
        details=MappingProxyType({"group": (Text.raw("Only seasonal food."),)}),
    )
    chat = Chat(toy_flow(GROUP), context)
    assert render(chat.question).splitlines()[1:] == ["Which group?", "Only seasonal food."]


SUMMARY_ONLY = Flow(
    id="confirm_only",
    version=1,
    title="Confirm",
    confirm="Yes, do it",
    stopped="Nothing changed.",
    done="Done.",
    steps=(Step("summary", StepKind.SUMMARY, prompt="Do it?", label="Summary"),),
)


def test_a_summary_only_flow_offers_confirm_and_stop() -> None:
    context = FlowContext(
        today=TODAY, details=MappingProxyType({"summary": (Text.raw("It is Tuesday."),)})
    )
    chat = Chat(SUMMARY_ONLY, context)
    assert render(chat.question) == "Do it?\nIt is Tuesday."
    assert labels(chat.question) == ["Yes, do it", "Stop"]
    chat.press("Stop")
    assert chat.state.status is Status.CANCELLED
    assert chat.texts == ["Nothing changed."]


def test_a_summary_only_flow_completes_with_its_preset() -> None:
    context = FlowContext(today=TODAY)
    state, _ = start(SUMMARY_ONLY, context, {"item": "7"}, run="run001")
    state, replies = advance(
        SUMMARY_ONLY, state, Event(Action.CONFIRM, "", state.version, state.run), context
    )
    assert state.status is Status.COMPLETED
    assert state.answers == {"item": "7"}
    assert [EN.render(line) for line in replies[0].lines] == ["Done."]


def test_typed_text_never_reaches_a_summary_only_flow_as_an_answer() -> None:
    chat = Chat(SUMMARY_ONLY, FlowContext(today=TODAY))
    chat.send(typed("yes"))
    assert chat.state.status is Status.ACTIVE
