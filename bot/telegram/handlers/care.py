"""The care coordinator in chat: the queue, a referral's summary, and the actions on it.

Every action goes through `services.queue` and `services.referrals.decisions` (one unit of
work each), which authorize the person who pressed (never the button's claim) and write the
audit log. The keyboard shows `ReferralView.actions` (`services.queue.rules.allowed_actions`):
the rule the services enforce and the web page renders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app import App
from bot.telegram.callbacks import (
    MenuCallback,
    QueueCallback,
    SurveyItemCallback,
    TimeoutRequestCallback,
)
from bot.telegram.handlers.flows import show_turn
from bot.telegram.handlers.menu import QUEUE
from bot.telegram.render import send_text
from dialogs.flows.exit_survey import RESPONDENT_LABELS
from dialogs.flows.queue import DECLINE as DECLINE_FLOW
from dialogs.flows.queue import NOTE as NOTE_FLOW
from dialogs.flows.queue import QUEUE_ITEM
from dialogs.flows.verwijzing import SUPPORT, URGENCY, WEEKDAYS
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.conversations.runtime import open_flow
from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.duplicates import StudentCase
from services.queue.listing import (
    SEARCH_MAX,
    QueueEntry,
    QueueFilters,
    list_queue,
    next_open_item,
    queue_overview,
)
from services.queue.referral_view import (
    ReferralView,
    consent_lines,
    extra_lines,
    open_referral,
)
from services.queue.rules import QueueAction
from services.referrals.decisions import (
    accept_for_intake,
    mark_for_care_team,
    resume_analysis,
    take_in_analysis,
)
from services.referrals.merging import merge_duplicate
from storage.models import Person, QueueKind, QueueStatus, TrajectoryStatus

log = logging.getLogger(__name__)

OPEN = "open"
#: Queue items per message: a page of buttons that fits a phone's screen.
QUEUE_PAGE = 20
#: Offsets beyond this are not a page anyone reached by pressing "More…".
MAX_QUEUE_OFFSET = 100_000
#: The button of each action (`QueueCallback.action` is the action's value), in this order.
BUTTONS: tuple[tuple[QueueAction, str], ...] = (
    (QueueAction.TAKE, N_("Take in analysis")),
    (QueueAction.CARE_TEAM, N_("Mark for the care team (ZAT)")),
    (QueueAction.RESUME, N_("Back in analysis (care team has advised)")),
    (QueueAction.ACCEPT, N_("Accept for intake")),
    (QueueAction.DECLINE, N_("Decline…")),
    (QueueAction.NOTE, N_("Add a note")),
    (QueueAction.MERGE, N_("Merge into the open referral")),
)
#: Actions that need typed text: they run as short flows (dialogs/flows/queue.py).
TEXT_ACTIONS = {QueueAction.DECLINE.value: DECLINE_FLOW.id, QueueAction.NOTE.value: NOTE_FLOW.id}
#: Actions done in one press.
STEPS: dict[str, Callable[..., Awaitable[object]]] = {
    QueueAction.TAKE.value: take_in_analysis,
    QueueAction.CARE_TEAM.value: mark_for_care_team,
    QueueAction.RESUME.value: resume_analysis,
    QueueAction.ACCEPT.value: accept_for_intake,
}
STATUS = {
    QueueStatus.NEW: N_("new"),
    QueueStatus.IN_PROGRESS: N_("in progress"),
    QueueStatus.WAITING: N_("waiting"),
    QueueStatus.CLOSED: N_("closed"),
}


def _label(options: tuple[object, ...], code: str) -> Text:
    for option in options:
        if getattr(option, "code", None) == code:
            label: Text = option.label  # type: ignore[attr-defined]
            return label
    return Text.raw(code)


async def on_queue(
    query: CallbackQuery,
    callback_data: MenuCallback,
    *,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """The open queue items in the queue's own order, as buttons, a page at a time.

    The button carries only where the page starts; the list is read again for the person who
    pressed (their own school's queue, `list_queue` decides). A page past the end (the queue
    shrank since, or a forged offset) shows the last one.
    """
    await query.answer()
    if person is None or query.message is None:
        return
    offset = min(int(callback_data.value), MAX_QUEUE_OFFSET) if callback_data.value.isdigit() else 0
    shown = query.message.reply_markup if isinstance(query.message, Message) else None
    if offset and shown is not None and _is_more_row(shown.inline_keyboard[-1:]):
        # "More…" was pressed: its row has done its work; the items above it stay usable.
        rows_above = shown.inline_keyboard[:-1]
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows_above) if rows_above else None,
        )
    try:
        entries = await run_unit_of_work(
            app.sessions, lambda session: list_queue(session=session, viewer=person)
        )
    except NotAllowed as refusal:
        await bot.send_message(query.message.chat.id, catalog.render(refusal.reason))
        return
    if not entries:
        await bot.send_message(
            query.message.chat.id, catalog.render(Text.of(N_("The queue is empty.")))
        )
        return
    if offset >= len(entries):
        offset = (len(entries) - 1) // QUEUE_PAGE * QUEUE_PAGE
    page = entries[offset : offset + QUEUE_PAGE]
    rows = _item_rows(page, catalog)
    following = offset + len(page)
    if following < len(entries):
        more = MenuCallback(action=QUEUE, value=str(following)).pack()
        rows.append(
            [InlineKeyboardButton(text=catalog.render(Text.of(N_("More…"))), callback_data=more)]
        )
    header = (
        Text.plural_of("{count} open item", "{count} open items", len(entries))
        if len(entries) <= QUEUE_PAGE
        else Text.of(
            N_("Open items {first}–{last} of {total}:"),
            first=offset + 1,
            last=following,
            total=len(entries),
        )
    )
    if len(entries) > QUEUE_PAGE:
        header = Text.of(N_("{list}\nTo find one: /queue and a name or number."), list=header)
    await bot.send_message(
        query.message.chat.id,
        catalog.render(header),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def cmd_queue(
    message: Message, command: CommandObject, *, app: App, person: Person | None, catalog: Catalog
) -> None:
    """``/queue`` lists the open items as the menu's button does; ``/queue <text>`` only those
    whose student's name or number holds the text (the web queue's search, same rule)."""
    if person is None:
        return
    search = " ".join((command.args or "").split())[:SEARCH_MAX]
    try:
        overview = await run_unit_of_work(
            app.sessions,
            lambda session: queue_overview(
                session=session, viewer=person, filters=QueueFilters(search=search)
            ),
        )
    except NotAllowed as refusal:
        await message.answer(catalog.render(refusal.reason))
        return
    entries = overview.entries
    if not search and not entries:
        await message.answer(catalog.render(Text.of(N_("The queue is empty."))))
        return
    if not entries:
        nothing = Text.of(N_("No open item matches “{search}”."), search=Text.raw(search))
        await message.answer(catalog.render(nothing))
        return
    header = Text.plural_of(
        "{count} open item matches “{search}”:",
        "{count} open items match “{search}”:",
        len(entries),
        search=Text.raw(search),
    )
    if not search:
        header = Text.plural_of("{count} open item", "{count} open items", len(entries))
    if len(entries) > QUEUE_PAGE:
        header = Text.of(
            N_("{list}\nThe first {shown}: type more of the name or the number."),
            list=header,
            shown=QUEUE_PAGE,
        )
    await message.answer(
        catalog.render(header),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=_item_rows(entries[:QUEUE_PAGE], catalog)
        ),
    )


def _item_rows(entries: list[QueueEntry], catalog: Catalog) -> list[list[InlineKeyboardButton]]:
    """One button per item, opening it."""
    return [
        [
            InlineKeyboardButton(
                text=catalog.render(_entry_label(e)),
                # A completed exit questionnaire opens as a result to read, not a referral.
                callback_data=_open_payload(e),
            )
        ]
        for e in entries
    ]


def _is_more_row(rows: list[list[InlineKeyboardButton]]) -> bool:
    """Whether these rows are one "More…" button of the queue."""
    return (
        len(rows) == 1
        and len(rows[0]) == 1
        and (rows[0][0].callback_data or "").startswith(f"{MenuCallback.__prefix__}:")
        and MenuCallback.unpack(rows[0][0].callback_data or "").action == QUEUE
    )


async def next_item_row(
    app: App, person: Person, after: int, catalog: Catalog
) -> list[InlineKeyboardButton] | None:
    """A button opening the open item that follows ``after`` in the queue's own order (the
    web's "next item": time-out requests first; `services.queue.listing.next_open_item`), or
    ``None`` when none is left. Shown after an action, so the coordinator goes on from there
    instead of from the top of the list."""
    following = await run_unit_of_work(
        app.sessions,
        lambda session: next_open_item(
            session=session,
            viewer=person,
            filters=QueueFilters(),
            sort=None,
            after=after,
            now=datetime.now(UTC),
        ),
    )
    if following is None:
        return None
    label = Text.of(N_("Next: {item}"), item=_entry_label(following))
    return [
        InlineKeyboardButton(text=catalog.render(label), callback_data=_open_payload(following))
    ]


def with_next(
    markup: InlineKeyboardMarkup | None, row: list[InlineKeyboardButton] | None
) -> InlineKeyboardMarkup | None:
    """``markup`` with the "next item" row under it (either may be missing)."""
    rows = [] if markup is None else list(markup.inline_keyboard)
    if row is not None:
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _open_payload(e: QueueEntry) -> str:
    # Each kind opens with its own handler: a completed exit questionnaire as a result to
    # read, a time-out request with its approve button, everything else as a referral.
    if e.kind is QueueKind.EXIT_SURVEY:
        return SurveyItemCallback(action=OPEN, item=e.queue_item_id).pack()
    if e.kind is QueueKind.TIMEOUT_REQUEST:
        return TimeoutRequestCallback(action=OPEN, item=e.queue_item_id).pack()
    return QueueCallback(action=OPEN, item=e.queue_item_id).pack()


def _entry_label(e: QueueEntry) -> Text:
    if e.kind is QueueKind.EXIT_SURVEY:
        return Text.of(
            N_("#{number} · questionnaire ({respondent}) · {student} · {status}"),
            number=Text.raw(str(e.queue_item_id)),
            respondent=Text.of(
                RESPONDENT_LABELS.get(e.respondent_type.value if e.respondent_type else "", "?")
            ),
            # No student: the respondent answered anonymously (issue 15).
            student=Text.raw(e.student_name) if e.student_name else Text.of(N_("anonymous")),
            status=Text.of(STATUS[e.status]),
        )
    if e.kind is QueueKind.TIMEOUT_REQUEST:
        return Text.of(
            N_("#{number} · time-out request · {student} · {status}"),
            number=Text.raw(str(e.queue_item_id)),
            student=Text.raw(e.student_name or "?"),
            status=Text.of(STATUS[e.status]),
        )
    return Text.of(
        N_("#{number} · {student} · {status}"),
        number=Text.raw(str(e.queue_item_id)),
        student=Text.raw(e.student_name or "?"),
        status=Text.of(STATUS[e.status]),
    )


def summary_text(view: ReferralView, catalog: Catalog) -> str:
    """The referral as the care coordinator reads it in chat."""
    lines = [
        Text.of(
            N_("Referral #{number} · {status}"),
            number=Text.raw(str(view.queue_item_id)),
            status=Text.of(STATUS[view.status]),
        ),
        Text.of(
            N_("Student: {name}"),
            name=Text.raw(
                f"{view.student_name} ({view.group_name})" if view.group_name else view.student_name
            ),
        ),
        Text.of(N_("Mentor: {name}"), name=Text.raw(view.mentor_name)),
        Text.of(N_("Received: {date}"), date=view.referred_at),
        Text.of(N_("Urgency: {urgency}"), urgency=_label(URGENCY, view.urgency.value)),
        Text.of(N_("Student's help question: {text}"), text=Text.raw(view.help_question_student)),
        Text.of(N_("Teacher's help question: {text}"), text=Text.raw(view.help_question_teacher)),
        Text.of(N_("Already tried: {text}"), text=Text.raw(view.tried)),
    ]
    if view.works_at_home:
        lines.append(Text.of(N_("What works at home: {text}"), text=Text.raw(view.works_at_home)))
    if view.works_at_school:
        lines.append(
            Text.of(N_("What works at school: {text}"), text=Text.raw(view.works_at_school))
        )
    if view.parents_informed:
        lines.append(Text.of(N_("Parents informed: yes")))
    else:
        lines.append(
            Text.of(
                N_("Parents informed: not yet ({reason})"),
                reason=Text.raw(view.parents_not_informed_reason or ""),
            )
        )
    lines.append(
        Text.of(
            N_("Support asked for: {support}"),
            support=tuple(_label(SUPPORT, s.value) for s in view.support),
        )
    )
    lines.append(
        Text.of(
            N_("Intake possible from {date}, on {days}"),
            date=view.intake_from,
            days=tuple(_label(WEEKDAYS, d.value) for d in view.intake_days),
        )
    )
    # Issue 15: the optional asks, the student's own words and the consents, as on the web.
    lines.extend(extra_lines(view))
    lines.extend(consent_lines(view))
    also = also_line(view)
    if also is not None:
        lines.insert(3, also)
    if view.merged_into_id is not None:
        lines.insert(
            1,
            Text.of(N_("Merged into #{number}"), number=Text.raw(str(view.merged_into_id))),
        )
    return "\n".join(catalog.render(line) for line in lines)


def also_line(view: ReferralView) -> Text | None:
    """The student's other open referrals and trajectories, with their numbers, in one line
    ("Also: 1 open referral (#12) and 1 trajectory (#9)"); ``None`` when there are none."""
    running = [
        case
        for case in view.open_others
        if case.trajectory_status not in (None, TrajectoryStatus.CLOSED)
    ]
    referrals = [case for case in view.open_others if case not in running]
    parts: list[Text] = []
    if referrals:
        parts.append(
            Text.plural_of(
                "{count} open referral ({numbers})",
                "{count} open referrals ({numbers})",
                len(referrals),
                numbers=_numbers(referrals),
            )
        )
    if running:
        parts.append(
            Text.plural_of(
                "{count} trajectory ({numbers})",
                "{count} trajectories ({numbers})",
                len(running),
                numbers=_numbers(running),
            )
        )
    return Text.of(N_("Also: {cases}"), cases=tuple(parts)) if parts else None


def _numbers(cases: list[StudentCase]) -> Text:
    return Text.raw(", ".join(f"#{case.queue_item_id}" for case in cases if case.queue_item_id))


def actions(view: ReferralView, catalog: Catalog) -> InlineKeyboardMarkup | None:
    """A button for each action the item allows (`ReferralView.actions`); none for a reader."""
    allowed = view.actions
    rows = [
        [
            InlineKeyboardButton(
                text=catalog.render(Text.of(label)),
                callback_data=QueueCallback(action=action.value, item=view.queue_item_id).pack(),
            )
        ]
        for action, label in BUTTONS
        if action in allowed
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def on_item(
    query: CallbackQuery,
    *,
    callback_data: QueueCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Open an item, or act on it; then show its summary as it is now."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id, item = query.message.chat.id, callback_data.item
    now = datetime.now(UTC)
    try:
        if callback_data.action in TEXT_ACTIONS:
            flow_id = TEXT_ACTIONS[callback_data.action]
            # Check the item is this person's to act on, and the action allowed now, before
            # asking for any text.
            await _check_allowed(app, person, item, QueueAction(callback_data.action), now)
            turn = await run_unit_of_work(
                app.sessions,
                lambda session: open_flow(
                    session=session,
                    person=person,
                    flow_id=flow_id,
                    now=now,
                    preset={QUEUE_ITEM: str(item)},
                ),
            )
            await show_turn(bot, chat_id, turn, catalog)
            return
        step = STEPS.get(callback_data.action)
        acted = step is not None or callback_data.action == QueueAction.MERGE.value
        if callback_data.action == QueueAction.MERGE.value:
            # The note the open referral gets is written in the presser's language.
            await run_unit_of_work(
                app.sessions,
                lambda session: merge_duplicate(
                    session=session,
                    actor=person,
                    queue_item_id=item,
                    now=now,
                    render=catalog.render,
                ),
            )
        elif step is not None:
            await run_unit_of_work(
                app.sessions,
                lambda session: step(session=session, actor=person, queue_item_id=item, now=now),
            )
        view = await run_unit_of_work(
            app.sessions,
            lambda session: open_referral(
                session=session, viewer=person, queue_item_id=item, now=now
            ),
        )
        # After an action: on to the next open item, not back to the top of the queue.
        following = await next_item_row(app, person, item, catalog) if acted else None
    except (NotAllowed, InvalidTransition) as refusal:
        log.info("queue action %s refused for person %s", callback_data.action, person.id)
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    # A referral of long answers is over Telegram's 4,096 characters: several messages, the
    # actions on the last.
    markup = with_next(actions(view, catalog), following)
    await send_text(bot, chat_id, summary_text(view, catalog), markup)


async def _check_allowed(
    app: App, person: Person, item: int, action: QueueAction, now: datetime
) -> None:
    """Raise the services' refusal when ``person`` may not do ``action`` on ``item`` at ``now``."""
    current = await run_unit_of_work(
        app.sessions,
        lambda session: open_referral(session=session, viewer=person, queue_item_id=item, now=now),
    )
    refused = current.refusal_of(action)
    if refused is not None:
        raise InvalidTransition(refused)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(on_queue, MenuCallback.filter(F.action == QUEUE))
    router.message.register(cmd_queue, Command("queue", "werkvoorraad"))
    router.callback_query.register(on_item, QueueCallback.filter())
    return router
