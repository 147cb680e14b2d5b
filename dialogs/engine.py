"""The conversation engine: `advance(flow, state, event, context) -> (state, replies)`.

Pure and deterministic: no clock (``context.today`` is given), no I/O, no channel. Every
channel (Telegram, the terminal, tests, later the web chat) drives flows through `start` and
`advance` and renders the `Reply` values it gets back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import MappingProxyType
from typing import TypeVar

from dialogs import typed_text
from dialogs.dates import parse_date
from dialogs.events import Action, Event
from dialogs.flow import Answers, AnswerValue, Flow, FlowContext, Option, Step, StepKind
from dialogs.replies import Button, Reply, ReplyKind
from dialogs.state import DialogState, Status
from dialogs.text import N_, Text

_T = TypeVar("_T")

#: At most this many option buttons per keyboard; longer lists page (ux.md).
PAGE_SIZE = 8
#: After this many invalid answers in a row, explain the format with an example (domain.md).
HELP_AFTER_INVALID = 2
#: How many upcoming school days a date question offers as buttons.
DATE_BUTTONS = 5

YES, NO, DONT_KNOW = "yes", "no", "na"
SCALE_OPTIONS: tuple[Option, ...] = (
    Option("1", Text.of(N_("1 · Strongly disagree"))),
    Option("2", Text.of(N_("2 · Disagree"))),
    Option("3", Text.of(N_("3 · Neutral"))),
    Option("4", Text.of(N_("4 · Agree"))),
    Option("5", Text.of(N_("5 · Strongly agree"))),
    Option(DONT_KNOW, Text.of(N_("Don't know"))),
)
YES_NO_OPTIONS: tuple[Option, ...] = (
    Option(YES, Text.of(N_("Yes"))),
    Option(NO, Text.of(N_("No"))),
)


@dataclass(frozen=True, slots=True)
class _Invalid:
    reason: Text


def start(
    flow: Flow,
    context: FlowContext,
    preset: Mapping[str, AnswerValue] | None = None,
    *,
    run: str,
) -> tuple[DialogState, list[Reply]]:
    """Begin ``flow``: the first question.

    ``preset`` holds answers that are not asked (the queue item a decline is about); they are
    kept through to the confirmed answers. ``run`` names this run: every button carries it, so
    a press from another run is stale. The caller makes it (`dialogs.state.new_run_id`, a
    fresh random id per run), so the engine stays deterministic.
    """
    answers = dict(preset or {})
    if any(key in answers for key in (s.key for s in flow.steps)):
        raise ValueError("a preset may not answer a step of the flow")
    first = flow.active_steps(answers)[0]
    state = DialogState(
        flow=flow.id,
        flow_version=flow.version,
        step=first.key,
        version=1,
        run=run,
        answers=MappingProxyType(answers),
    )
    return state, [question(flow, state, context)]


def advance(
    flow: Flow, state: DialogState, event: Event, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    """Apply one event and return the new state with the replies to show, in order."""
    if state.status is not Status.ACTIVE or state.step is None:
        return state, [_notice(Text.of(N_("This conversation has already ended.")))]
    if event.action is Action.RESUME:
        return state, [question(flow, state, context)]
    if event.version is not None and (event.version != state.version or event.run != state.run):
        # A button from an earlier message, an earlier run of the flow or another flow (or a
        # forged one): never apply it to the question that is current now; say so kindly and
        # ask the current question again.
        stale = _notice(Text.of(N_("That question is already closed. Here is the current one.")))
        return state, [stale, question(flow, state, context)]

    step = flow.step(state.step)
    action = event.action
    if action is Action.CANCEL:
        done = Text.of(flow.stopped)
        return _bump(state, status=Status.CANCELLED, step=None), [Reply(ReplyKind.DONE, (done,))]
    if action is Action.BACK:
        return _back(flow, state, step, context)
    if action is Action.SKIP:
        return _skip(flow, state, step, context)
    if step.kind is StepKind.SUMMARY:
        return _on_summary(flow, state, step, event, context)
    if action is Action.PAGE:
        return _page(flow, state, event.value, context)
    return _answer(flow, state, step, event, context)


def reask(
    flow: Flow, state: DialogState, replies: list[Reply], context: FlowContext
) -> list[Reply]:
    """``replies`` with their closing question asked again in ``context``.

    For flows whose options depend on earlier answers (`Step.options_from` as a function): a
    channel builds the context from the answers before an event (so the answer is checked
    against the options that were shown); when the event changed the answers, it builds the
    context again from the new ones and lets this ask the next question with it.
    """
    if state.status is not Status.ACTIVE or not replies:
        return list(replies)
    if replies[-1].kind is not ReplyKind.QUESTION:
        return list(replies)
    return [*replies[:-1], question(flow, state, context)]


# -- questions -------------------------------------------------------------------------------


def question(flow: Flow, state: DialogState, context: FlowContext) -> Reply:
    """The reply that asks the current question (with its buttons, each carrying the state's
    run and version)."""
    reply = _ask(flow, state, context)
    rows = tuple(
        tuple(Button(b.label, replace(b.event, run=state.run)) for b in row) for row in reply.rows
    )
    return replace(reply, rows=rows)


def _ask(flow: Flow, state: DialogState, context: FlowContext) -> Reply:
    assert state.step is not None, "only an active conversation has a question"  # noqa: S101
    step = flow.step(state.step)
    if step.kind is StepKind.SUMMARY:
        return _summary(flow, state, step, context)

    lines = [
        _progress(flow, state.answers, step),
        *context.preface.get(step.key, ()),
        Text.of(step.prompt),
    ]
    lines.extend(context.details.get(step.key, ()))
    rows: list[tuple[Button, ...]] = []
    v = state.version
    if step.kind in (StepKind.SINGLE, StepKind.MULTI):
        options = _visible_options(step, state, context)
        total = len(_all_options(step, context, state.answers))
        if total == 0:
            lines.append(Text.of(step.empty or N_("There is nothing to choose here right now.")))
        elif _searchable(step):
            lines.append(_search_hint(state, total=total))
        rows.extend(_option_rows(step, state, options, v))
        if step.kind is StepKind.MULTI:
            rows.append((Button(Text.of(N_("Done ✓")), Event(Action.DONE, "", v)),))
    elif step.kind is StepKind.YES_NO:
        rows.append(tuple(Button(o.label, Event(Action.CHOOSE, o.code, v)) for o in YES_NO_OPTIONS))
    elif step.kind is StepKind.SCALE:
        rows.extend((Button(o.label, Event(Action.CHOOSE, o.code, v)),) for o in SCALE_OPTIONS)
    elif step.kind is StepKind.DATE:
        lines.append(
            Text.of(
                N_("Pick a day or type a date, for example {example}."),
                example=_example_date(context.today),
            )
        )
        days = _next_school_days(context.today, DATE_BUTTONS, step.max_days_ahead)
        rows.extend(
            tuple(Button(Text.raw(d), Event(Action.CHOOSE, d.isoformat(), v)) for d in pair)
            for pair in _pairs(days)
        )
    elif step.kind is StepKind.TEXT:
        lines.append(
            Text.plural_of(
                "Type your answer (at most {count} character).",
                "Type your answer (at most {count} characters).",
                step.max_length,
            )
        )
    rows.append(_nav_row(flow, state, step))
    accepts_text = step.kind in (StepKind.TEXT, StepKind.DATE) or _searchable(step)
    return Reply(ReplyKind.QUESTION, tuple(lines), tuple(rows), step.key, accepts_text)


def _progress(flow: Flow, answers: Answers, step: Step) -> Text:
    asked = [s for s in flow.active_steps(answers) if s.kind is not StepKind.SUMMARY]
    return Text.of(
        N_("Question {number} of {total}"), number=asked.index(step) + 1, total=len(asked)
    )


def _nav_row(flow: Flow, state: DialogState, step: Step) -> tuple[Button, ...]:
    v = state.version
    nav: list[Button] = []
    if state.editing or _previous(flow, state.answers, step) is not None:
        nav.append(Button(Text.of(N_("« Back")), Event(Action.BACK, "", v)))
    if step.optional:
        nav.append(Button(Text.of(N_("Skip")), Event(Action.SKIP, "", v)))
    nav.append(Button(Text.of(N_("Stop")), Event(Action.CANCEL, "", v)))
    return tuple(nav)


def _option_rows(
    step: Step, state: DialogState, options: tuple[Option, ...], v: int
) -> list[tuple[Button, ...]]:
    shown, paging = _one_page(options, state.page, v)
    buttons = [
        Button(
            Text.of(N_("✓ {option}"), option=o.label) if o.code in state.selection else o.label,
            Event(Action.CHOOSE, o.code, v),
        )
        for o in shown
    ]
    # Names and short words fit two to a row; sentences need the whole width.
    rows: list[tuple[Button, ...]] = (
        [tuple(pair) for pair in _pairs(buttons)]
        if all(o.label.literal or len(o.label.msgid) <= 24 for o in shown)
        else [(b,) for b in buttons]
    )
    if paging:
        rows.append(paging)
    return rows


def _one_page(
    items: tuple[_T, ...] | list[_T], page: int, v: int
) -> tuple[list[_T], tuple[Button, ...]]:
    """The items on ``page`` (at most `PAGE_SIZE`) and the "Previous"/"More…" buttons."""
    page_count = max(1, -(-len(items) // PAGE_SIZE))
    page = min(page, page_count - 1)
    paging: list[Button] = []
    if page > 0:
        paging.append(Button(Text.of(N_("‹ Previous")), Event(Action.PAGE, str(page - 1), v)))
    if page < page_count - 1:
        paging.append(Button(Text.of(N_("More…")), Event(Action.PAGE, str(page + 1), v)))
    return list(items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]), tuple(paging)


def _search_hint(state: DialogState, total: int) -> Text:
    if state.query:
        return Text.of(
            N_("Showing results for “{query}”. Type another name to search again."),
            query=Text.raw(state.query),
        )
    if total > PAGE_SIZE:
        return Text.of(N_("Tip: type part of a name to search."))
    return Text.of(N_("Tap a name."))


# -- answers ---------------------------------------------------------------------------------


def _answer(
    flow: Flow, state: DialogState, step: Step, event: Event, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    kind, action = step.kind, event.action

    # Inputs that change how the question looks without answering it yet.
    if kind is StepKind.MULTI and action is Action.CHOOSE:
        all_options = _all_options(step, context, state.answers)
        if event.value not in {o.code for o in all_options}:
            return _invalid(flow, state, context, Text.of(N_("Please use the buttons.")))
        ticked = set(state.selection) ^ {event.value}
        order = [o.code for o in all_options if o.code in ticked]
        new = _bump(state, selection=tuple(order))
        return new, [question(flow, new, context)]
    if _searchable(step) and action is Action.TEXT:
        return _search(flow, state, step, event.value, context)

    value = _read_value(step, state, event, context)
    if isinstance(value, _Invalid):
        return _invalid(flow, state, context, value.reason)
    if step.validate is not None:
        problem = step.validate(value, state.answers, context)
        if problem is not None:
            return _invalid(flow, state, context, problem)
    answers = {**state.answers, step.key: value}
    if step.updates is not None:
        for key, changed in step.updates(value, state.answers).items():
            if changed is None:
                answers.pop(key, None)
            else:
                answers[key] = changed
    if step.derive is not None:
        for key, derived in step.derive(value, state.answers, context).items():
            if derived is None:
                answers.pop(key, None)
            else:
                answers[key] = derived
    echo = Reply(
        ReplyKind.ANSWERED,
        (
            Text.of(
                N_("{question}: {answer} ✓"),
                question=Text.of(step.label),
                # The options the person chose from: those of the answers before this one.
                answer=answer_text(step, value, context, state.answers, short=True),
            ),
        ),
        step=step.key,
    )
    new, next_question = _move_on(flow, state, step, answers, context)
    return new, [echo, next_question]


def _read_value(
    step: Step, state: DialogState, event: Event, context: FlowContext
) -> AnswerValue | _Invalid:
    kind, action, raw = step.kind, event.action, event.value
    if kind is StepKind.TEXT:
        if action is not Action.TEXT:
            return _Invalid(Text.of(N_("Please type your answer as a message.")))
        return _read_text(step, raw)
    if kind is StepKind.DATE:
        return _read_date(step, event, context)
    if kind is StepKind.MULTI:
        if action is not Action.DONE:
            return _Invalid(Text.of(N_("Please use the buttons, then press “Done”.")))
        if len(state.selection) < step.min_choices:
            return _Invalid(
                Text.plural_of(
                    "Choose at least {count} option, then press “Done”.",
                    "Choose at least {count} options, then press “Done”.",
                    step.min_choices,
                )
            )
        return list(state.selection)
    if action is not Action.CHOOSE:
        return _Invalid(Text.of(N_("Please use the buttons.")))
    if kind is StepKind.YES_NO:
        if raw not in (YES, NO):
            return _Invalid(Text.of(N_("Please press “Yes” or “No”.")))
        return raw == YES
    allowed = (
        SCALE_OPTIONS if kind is StepKind.SCALE else _all_options(step, context, state.answers)
    )
    if raw not in {o.code for o in allowed}:
        # Also what a forged payload for someone else's student ends up as.
        return _Invalid(Text.of(N_("That choice is not available. Please use the buttons.")))
    return raw


def _read_text(step: Step, raw: str) -> AnswerValue | _Invalid:
    refused = typed_text.control_problem(raw)
    if refused is not None:
        return _Invalid(refused)
    text = _clean_text(raw)
    if len(text) < step.min_length:
        return _Invalid(
            Text.plural_of(
                "That is too short: please write at least {count} character.",
                "That is too short: please write at least {count} characters.",
                step.min_length,
            )
        )
    if len(text) > step.max_length:
        return _Invalid(
            Text.plural_of(
                "That is too long: at most {count} character, yours has {length}.",
                "That is too long: at most {count} characters, yours has {length}.",
                step.max_length,
                length=len(text),
            )
        )
    return text


def _read_date(step: Step, event: Event, context: FlowContext) -> AnswerValue | _Invalid:
    example = _example_date(context.today)
    if event.action is Action.CHOOSE:
        parsed = _iso_date(event.value)
    elif event.action is Action.TEXT:
        parsed = parse_date(event.value, today=context.today)
    else:
        return _Invalid(Text.of(N_("Please pick a day or type a date.")))
    if parsed is None:
        return _Invalid(
            Text.of(
                N_("I could not read that date. Please type it like {example}."), example=example
            )
        )
    if parsed < context.today and step.max_days_back == 0:
        return _Invalid(Text.of(N_("That date has passed. Please choose today or a later day.")))
    if parsed < context.today - timedelta(days=step.max_days_back):
        return _Invalid(
            Text.of(
                N_("That date is too long ago. Please choose {limit} or later."),
                limit=context.today - timedelta(days=step.max_days_back),
            )
        )
    if parsed > context.today + timedelta(days=step.max_days_ahead):
        return _Invalid(
            Text.of(
                N_("That date is too far ahead. Please choose {limit} or earlier."),
                limit=context.today + timedelta(days=step.max_days_ahead),
            )
        )
    return parsed.isoformat()


def _clean_text(raw: str) -> str:
    # Keep the person's words and line breaks; drop bidi controls and outer whitespace
    # (`dialogs.typed_text`: control characters are refused before).
    return typed_text.clean(raw)


def _search(
    flow: Flow, state: DialogState, step: Step, raw: str, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    query = _clean_text(raw)[:50]
    if not any(_matches(o, query) for o in _all_options(step, context, state.answers)):
        new = _bump(state, query="", page=0)
        nobody = Text.of(
            N_("No one found for “{query}”. Try another part of the name."), query=Text.raw(query)
        )
        return new, [_notice(nobody), question(flow, new, context)]
    new = _bump(state, query=query, page=0)
    return new, [question(flow, new, context)]


def _invalid(
    flow: Flow, state: DialogState, context: FlowContext, reason: Text
) -> tuple[DialogState, list[Reply]]:
    new = state.evolve(invalid=state.invalid + 1)
    replies = [_notice(reason)]
    if new.invalid >= HELP_AFTER_INVALID:
        assert new.step is not None  # noqa: S101 - only active conversations get here
        step = flow.step(new.step)
        help_lines = [Text.of(N_("Need a hand? Here is what this question expects:"))]
        help_lines.extend(_expects(step, new, context))
        help_lines.append(
            Text.of(N_("You can skip this question, go back, or stop."))
            if step.optional
            else Text.of(N_("You can go back, or stop and continue later."))
        )
        replies.append(_notice(*help_lines))
    replies.append(question(flow, new, context))
    return new, replies


# -- moving through the flow -----------------------------------------------------------------


def _move_on(
    flow: Flow,
    state: DialogState,
    step: Step,
    answers: Mapping[str, AnswerValue],
    context: FlowContext,
) -> tuple[DialogState, Reply]:
    """Go to the next question; after an edit, only to questions that still lack an answer."""
    active = flow.active_steps(answers)
    later = active[active.index(step) + 1 :] if step in active else active
    if state.editing:
        later = tuple(s for s in later if s.kind is StepKind.SUMMARY or s.key not in answers)
    target = later[0]
    new = _bump(
        state,
        step=target.key,
        answers=answers,
        editing=state.editing and target.kind is not StepKind.SUMMARY,
    )
    return new, question(flow, new, context)


def _previous(flow: Flow, answers: Answers, step: Step) -> Step | None:
    active = flow.active_steps(answers)
    index = active.index(step) if step in active else 0
    return active[index - 1] if index > 0 else None


def _back(
    flow: Flow, state: DialogState, step: Step, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    summary_step = flow.steps[-1]
    if state.editing and summary_step.kind is StepKind.SUMMARY:
        new = _bump(state, step=summary_step.key, editing=False)
        return new, [question(flow, new, context)]
    if step.kind is StepKind.SUMMARY and state.picking:
        new = _bump(state, picking=False)
        return new, [question(flow, new, context)]
    previous = _previous(flow, state.answers, step)
    if previous is None:
        first = Text.of(N_("This is the first question."))
        return state, [_notice(first), question(flow, state, context)]
    new = _bump(state, step=previous.key)
    return new, [question(flow, new, context)]


def _skip(
    flow: Flow, state: DialogState, step: Step, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    if not step.optional:
        required = Text.of(N_("This question needs an answer; it cannot be skipped."))
        return state, [_notice(required), question(flow, state, context)]
    answers = {k: v for k, v in state.answers.items() if k != step.key}
    echo = Reply(
        ReplyKind.ANSWERED,
        (Text.of(N_("{question}: skipped"), question=Text.of(step.label)),),
        step=step.key,
    )
    new, next_question = _move_on(flow, state, step, answers, context)
    return new, [echo, next_question]


def _page(
    flow: Flow, state: DialogState, value: str, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    number = _page_number(value)
    if number is None:
        return state, [question(flow, state, context)]
    new = _bump(state, page=number)
    return new, [question(flow, new, context)]


def _bump(state: DialogState, **changes: object) -> DialogState:
    """A new state version: resets the per-question scratch (errors, ticks, search, page)."""
    moved = "step" in changes and changes["step"] != state.step
    reset: dict[str, object] = {"invalid": 0}
    if moved:
        # Coming back to a multiple choice (back, or edit from the summary) shows its ticks.
        answers = changes.get("answers", state.answers)
        previous = answers.get(str(changes["step"])) if isinstance(answers, Mapping) else None
        ticks = tuple(previous) if isinstance(previous, list) else ()
        reset.update(selection=ticks, query="", page=0, picking=False)
    return state.evolve(**{**reset, **changes, "version": state.version + 1})


# -- the summary -----------------------------------------------------------------------------


def _summary(flow: Flow, state: DialogState, step: Step, context: FlowContext) -> Reply:
    v = state.version
    editable = [s for s in flow.active_steps(state.answers) if s.kind is not StepKind.SUMMARY]
    if state.picking:
        shown_steps, paging = _one_page(editable, state.page, v)
        rows: list[tuple[Button, ...]] = [
            (Button(Text.of(step_.label), Event(Action.EDIT, step_.key, v)),)
            for step_ in shown_steps
        ]
        if paging:
            rows.append(paging)
        rows.append((Button(Text.of(N_("« Back to the summary")), Event(Action.BACK, "", v)),))
        lines = (Text.of(N_("Which answer do you want to change?")),)
        return Reply(ReplyKind.QUESTION, lines, tuple(rows), step.key)

    body = [Text.of(step.prompt)]
    for s in editable:
        value = state.answers.get(s.key)
        shown_value = (
            Text.of(N_("(skipped)"))
            if value is None
            else answer_text(s, value, context, state.answers, short=False)
        )
        body.append(
            Text.of(N_("{question}: {answer}"), question=Text.of(s.label), answer=shown_value)
        )
    body.extend(context.details.get(step.key, ()))
    rows = [(Button(Text.of(flow.confirm), Event(Action.CONFIRM, "", v)),)]
    if editable:  # a flow of only a summary (confirm a cancellation) has nothing to change
        rows.append((Button(Text.of(N_("Change an answer")), Event(Action.EDIT, "", v)),))
    nav = [Button(Text.of(N_("Stop")), Event(Action.CANCEL, "", v))]
    if editable:
        nav.insert(0, Button(Text.of(N_("« Back")), Event(Action.BACK, "", v)))
    rows.append(tuple(nav))
    return Reply(ReplyKind.QUESTION, tuple(body), tuple(rows), step.key)


def _on_summary(
    flow: Flow, state: DialogState, step: Step, event: Event, context: FlowContext
) -> tuple[DialogState, list[Reply]]:
    action, value = event.action, event.value
    editable = {s.key for s in flow.active_steps(state.answers) if s.kind is not StepKind.SUMMARY}
    if action is Action.EDIT and not value:
        new = _bump(state, picking=True, page=0)
        return new, [question(flow, new, context)]
    if action is Action.PAGE and state.picking and (number := _page_number(value)) is not None:
        new = _bump(state, page=number)
        return new, [question(flow, new, context)]
    if action is Action.EDIT and value in editable:
        new = _bump(state, step=value, editing=True)
        return new, [question(flow, new, context)]
    if action is Action.CONFIRM:
        missing = [k for k in editable if k not in state.answers and not flow.step(k).optional]
        if missing:  # only reachable through a flow change between versions; be safe anyway
            new = _bump(state, step=missing[0], editing=True)
            return new, [question(flow, new, context)]
        # Drop answers of steps the final answers skip; keep presets (keys of no step).
        step_keys = {s.key for s in flow.steps}
        answers = {k: v for k, v in state.answers.items() if k in editable or k not in step_keys}
        done = Reply(ReplyKind.DONE, (Text.of(flow.done),))
        return _bump(state, status=Status.COMPLETED, step=None, answers=answers), [done]
    hint = Text.of(N_("Please check your answers, then press “Send” or change an answer."))
    return state, [_notice(hint), question(flow, state, context)]


# -- helpers ---------------------------------------------------------------------------------


def answer_text(
    step: Step, value: AnswerValue, context: FlowContext, answers: Answers, *, short: bool
) -> Text:
    """How a stored answer reads back to the person (in the summary and the echo).

    ``answers`` are those the step's options depend on (see `Step.options_from`). An option no
    longer offered (a time taken meanwhile) reads through the step's ``describe``.
    """
    if step.kind is StepKind.YES_NO:
        return YES_NO_OPTIONS[0 if value is True else 1].label
    if step.kind is StepKind.TEXT and isinstance(value, str):
        return Text.raw(value if not short or len(value) <= 60 else value[:57].rstrip() + "…")
    if step.kind is StepKind.DATE and isinstance(value, str):
        parsed = _iso_date(value)
        return Text.raw(parsed if parsed is not None else value)
    options = SCALE_OPTIONS if step.kind is StepKind.SCALE else _all_options(step, context, answers)
    labels = {o.code: o.label for o in options}

    def one(code: str) -> Text:
        if code in labels:
            return labels[code]
        return step.describe(code) if step.describe is not None else Text.raw(code)

    if isinstance(value, list):
        return Text.raw(tuple(one(code) for code in value))
    return one(str(value))


def _notice(*lines: Text) -> Reply:
    return Reply(ReplyKind.NOTICE, lines)


def _all_options(step: Step, context: FlowContext, answers: Answers) -> tuple[Option, ...]:
    key = step.choices_key(answers)
    if key is not None:
        return tuple(context.choices.get(key, ()))
    return step.options


def _searchable(step: Step) -> bool:
    return step.options_from is not None and step.search


def _visible_options(step: Step, state: DialogState, context: FlowContext) -> tuple[Option, ...]:
    options = _all_options(step, context, state.answers)
    if not _searchable(step) or not state.query:
        return options
    return tuple(o for o in options if _matches(o, state.query))


def _fold(value: str) -> str:
    # Accent- and case-insensitive, so "zoe" finds "Zoë" and "celik" finds "Çelik".
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _matches(option: Option, query: str) -> bool:
    label = option.label.params.get("value") if option.label.literal else option.label.msgid
    return bool(query) and _fold(query) in _fold(str(label))


def _page_number(value: str) -> int | None:
    # ASCII digits only: int() rejects some str.isdigit() characters ("²") and very long
    # numbers; a page payload is user input and must never raise.
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        return None
    return int(value)


def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _next_school_days(today: date, count: int, max_ahead: int) -> list[date]:
    days: list[date] = []
    day = today
    while len(days) < count and day < today + timedelta(days=max_ahead):
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _expects(step: Step, state: DialogState, context: FlowContext) -> list[Text]:
    """What the help after invalid answers says the question expects: the step's example for
    free text, an example school day for a date (the reader's locale names it; typed the way
    `parse_date` reads), the buttons for a choice (their labels when the list is short)."""
    if step.kind is StepKind.DATE:
        sample = _sample_day(context.today, step.max_days_ahead)
        return [
            Text.of(
                N_("For example: {date}. Type it as {typed}, or tap one of the days."),
                date=sample,
                typed=Text.raw(_typed_date(sample)),
            )
        ]
    if step.kind in (StepKind.SINGLE, StepKind.MULTI, StepKind.YES_NO, StepKind.SCALE):
        if step.kind is StepKind.YES_NO:
            options = YES_NO_OPTIONS
        elif step.kind is StepKind.SCALE:
            options = SCALE_OPTIONS
        else:
            options = _all_options(step, context, state.answers)
        if not options:
            return []
        if _searchable(step):
            return [Text.of(N_("Tap a name, or type part of a name to search."))]
        lines = [
            Text.of(N_("Tap the options that apply, then “Done”."))
            if step.kind is StepKind.MULTI
            else Text.of(N_("Tap one of the buttons."))
        ]
        if len(options) <= PAGE_SIZE and all(_short(o.label) for o in options):
            lines.extend(Text.of(N_("• {option}"), option=o.label) for o in options)
        return lines
    if step.example is not None:
        return [Text.of(N_("For example: {example}"), example=Text.of(step.example))]
    return []


def _short(label: Text) -> bool:
    """Whether a button label is short enough to list in the help (a name, a day, a word)."""
    shown = label.params.get("value") if label.literal else label.msgid
    return not isinstance(shown, str) or len(shown) <= _SHORT_LABEL


#: Labels up to this long are listed in the help and fit two buttons to a row.
_SHORT_LABEL = 24
#: How far ahead the example of a date question lies (then moved to a school day).
_EXAMPLE_DAYS_AHEAD = 21


def _sample_day(today: date, max_ahead: int) -> date:
    """A school day about three weeks ahead, within ``max_ahead`` days: a date's example."""
    day = today + timedelta(days=max(1, min(_EXAMPLE_DAYS_AHEAD, max_ahead)))
    if day.weekday() >= 5:
        monday = day + timedelta(days=7 - day.weekday())
        friday = day - timedelta(days=day.weekday() - 4)
        day = monday if (monday - today).days <= max_ahead or friday <= today else friday
    return day


def _typed_date(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"


def _example_date(today: date) -> str:
    return _typed_date(_sample_day(today, _EXAMPLE_DAYS_AHEAD))


def _pairs(items: list[_T]) -> list[list[_T]]:
    return [items[i : i + 2] for i in range(0, len(items), 2)]
