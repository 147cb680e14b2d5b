"""Appointments in Telegram: "My appointments" (move, cancel), the mentor's answer about an
intake, the coach's list of today with attended / no-show, and a care coordinator's time-out
request (open, approve, decline with a reason).

Booking, moving and cancelling are flows (`dialogs.flows.afspraken`, run by
`services.conversations.runtime` like every flow); this module only lists and routes. Every press is
checked again by `services.appointments` against the person who pressed: the button's ids carry
no authority.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.telegram.callbacks import AppointmentCallback, MenuCallback, TimeoutRequestCallback
from bot.telegram.handlers.care import next_item_row, with_next
from bot.telegram.handlers.flows import show_turn
from bot.telegram.handlers.menu import MY_APPOINTMENTS, OPEN_FLOW, TODAY, WEEK
from bot.telegram.render import send_text
from dialogs.flows.afspraken import APPOINTMENT, BOOK, CANCEL, MOVE, appointment_text, kind_label
from dialogs.flows.logbook import AGENDA_LOGBOOK
from dialogs.flows.logbook import APPOINTMENT as LOGBOOK_APPOINTMENT
from dialogs.flows.queue import QUEUE_ITEM, TIMEOUT_DECLINE
from dialogs.i18n import SCHOOL_TIMEZONE, Catalog
from dialogs.text import N_, Text
from services.appointments.action_texts import (
    NO_LABEL,
    YES_LABEL,
    intake_question_lines,
    mentor_answer_lines,
    teacher_timeout_lines,
    upcoming_lines,
)
from services.appointments.agenda import Agenda, AgendaDay, coach_agenda
from services.appointments.attendance import (
    confirm_mentor_presence,
    intake_question,
    mark_attendance,
)
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.teacher_notice import timeout_for_teacher
from services.appointments.timeout_requests import (
    TimeoutRequestView,
    approve_timeout_request,
    open_timeout_request,
)
from services.appointments.views import AppointmentView
from services.conversations.appointment_bindings import changeable_upcoming
from services.conversations.runtime import flows_for, open_flow, school_today
from services.kernel.errors import InvalidTransition, NotAllowed, NotFound
from services.kernel.uow import run_unit_of_work
from services.queue.rules import QueueAction, allowed_actions
from storage.models import (
    AppointmentStatus,
    Person,
    QueueDecision,
    QueueKind,
    TimeoutRequestReason,
)

log = logging.getLogger(__name__)

#: Actions of `AppointmentCallback`; the outbox's mentor question uses YES, NO and SHOW.
MOVE_ACTION, CANCEL_ACTION = "move", "cancel"
YES, NO, SHOW = "yes", "no", "show"
#: The teacher's "Who is it?" on a time-out notice (`bot.outbox.messages.TIMEOUT_WHO`).
TEACHER = "teacher"
ATTENDED, NO_SHOW = "attended", "no_show"
#: After a mark: write the logbook entry of the appointment's trajectory (a flow).
LOGBOOK_ACTION = "logbook"
#: Actions of `TimeoutRequestCallback` besides "open" (decline starts a flow for the reason).
APPROVE, DECLINE = "approve", "decline"
#: A list in chat shows at most this many appointments (a student has a handful at most).
MAX_LISTED = 10

_FLOW_OF = {MOVE_ACTION: MOVE.id, CANCEL_ACTION: CANCEL.id}
_STATUS = {
    AppointmentStatus.BOOKED: N_("waiting for the mentor to confirm"),
    AppointmentStatus.CONFIRMED: N_("confirmed"),
    AppointmentStatus.CANCELLED: N_("cancelled"),
    AppointmentStatus.ATTENDED: N_("attended ✓"),
    AppointmentStatus.NO_SHOW: N_("did not come"),
}
_REFUSALS = (NotAllowed, BookingRefused, InvalidTransition)


def _button(
    catalog: Catalog, label: Text, action: str, view: AppointmentView
) -> InlineKeyboardButton:
    data = AppointmentCallback(action=action, appointment=view.appointment_id).pack()
    return InlineKeyboardButton(text=catalog.render(label), callback_data=data)


def _render(catalog: Catalog, *lines: Text) -> str:
    return "\n".join(catalog.render(line) for line in lines)


def _origin(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


@dataclass(frozen=True, slots=True)
class _Press:
    """One press of an appointment button, with what answering it needs."""

    bot: Bot
    app: App
    person: Person
    catalog: Catalog
    data: AppointmentCallback
    chat_id: int
    origin: Message | None


async def _edit(press: _Press, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show the outcome on the pressed message itself (a clean transcript), else as a new one."""
    if press.origin is None:
        await press.bot.send_message(press.chat_id, text, reply_markup=markup)
        return
    await press.bot.edit_message_text(
        text=text, chat_id=press.chat_id, message_id=press.origin.message_id, reply_markup=markup
    )


# -- "My appointments" -----------------------------------------------------------------------


def upcoming_text(view: AppointmentView, person: Person, catalog: Catalog) -> str:
    """One upcoming appointment as its student or parent reads it in the chat."""
    return _render(catalog, *upcoming_lines(view, viewer_id=person.id))


async def on_my_appointments(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """The person's upcoming appointments, each with Move / Cancel when they may change it."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id

    async def look(session: AsyncSession) -> tuple[list[tuple[AppointmentView, bool]], bool]:
        entries = await changeable_upcoming(session=session, person=person, now=datetime.now(UTC))
        flows = await flows_for(session=session, person=person)
        return entries, BOOK.id in [flow.id for flow in flows]

    entries, may_book = await run_unit_of_work(app.sessions, look)
    if not entries:
        book = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=catalog.render(Text.of(BOOK.title)),
                            callback_data=MenuCallback(action=OPEN_FLOW, value=BOOK.id).pack(),
                        )
                    ]
                ]
            )
            if may_book
            else None
        )
        await bot.send_message(
            chat_id,
            catalog.render(Text.of(N_("You have no upcoming appointments."))),
            reply_markup=book,
        )
        return
    await bot.send_message(
        chat_id,
        catalog.render(
            Text.plural_of(
                "You have {count} upcoming appointment:",
                "You have {count} upcoming appointments:",
                len(entries),
            )
        ),
    )
    for view, changeable in entries[:MAX_LISTED]:
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        _button(catalog, Text.of(N_("Move")), MOVE_ACTION, view),
                        _button(catalog, Text.of(N_("Cancel")), CANCEL_ACTION, view),
                    ]
                ]
            )
            if changeable
            else None
        )
        await bot.send_message(chat_id, upcoming_text(view, person, catalog), reply_markup=markup)


async def _start_change(press: _Press) -> None:
    """Move or cancel: the flow, preset with the appointment (storage checks it is theirs)."""
    bot, app, person, catalog, data = press.bot, press.app, press.person, press.catalog, press.data
    chat_id = press.chat_id
    try:
        turn = await run_unit_of_work(
            app.sessions,
            lambda session: open_flow(
                session=session,
                person=person,
                flow_id=_FLOW_OF[data.action],
                now=datetime.now(UTC),
                preset={APPOINTMENT: str(data.appointment)},
            ),
        )
    except NotAllowed as refusal:
        log.info("appointment %s refused for person %s", data.action, person.id)
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    origin = press.origin
    if origin is not None:
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=origin.message_id, reply_markup=None
        )
    await show_turn(bot, chat_id, turn, catalog)


# -- the mentor and the intake ---------------------------------------------------------------


def mentor_question(view: AppointmentView, catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    """The intake with the student's name (inside the chat only) and the yes / no buttons."""
    text = _render(catalog, *intake_question_lines(view))

    def answer(label: Text, action: str) -> InlineKeyboardButton:
        data = AppointmentCallback(
            action=action, appointment=view.appointment_id, version=view.version
        ).pack()
        return InlineKeyboardButton(text=catalog.render(label), callback_data=data)

    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [answer(Text.of(YES_LABEL), YES)],
            [answer(Text.of(NO_LABEL), NO)],
        ]
    )
    return text, markup


async def _mentor_show(press: _Press) -> None:
    bot, app, person, catalog, data = press.bot, press.app, press.person, press.catalog, press.data
    try:
        view = await run_unit_of_work(
            app.sessions,
            lambda session: intake_question(
                session=session,
                mentor=person,
                appointment_id=data.appointment,
                now=datetime.now(UTC),
            ),
        )
    except NotAllowed as refusal:
        await bot.send_message(press.chat_id, catalog.render(refusal.reason))
        return
    text, markup = mentor_question(view, catalog)
    await _edit(press, text, markup)


async def _teacher_show(press: _Press) -> None:
    """Inside the chat, the teacher who was told reads who leaves their lesson (first name and
    times, no reason); storage refuses anyone else."""
    app, person, catalog, data = press.app, press.person, press.catalog, press.data
    view = await run_unit_of_work(
        app.sessions,
        lambda session: timeout_for_teacher(
            session=session, teacher=person, appointment_id=data.appointment, now=datetime.now(UTC)
        ),
    )
    await _edit(press, _render(catalog, *teacher_timeout_lines(view)), None)


async def _mentor_answer(press: _Press) -> None:
    app, person, catalog, data = press.app, press.person, press.catalog, press.data
    present = data.action == YES
    view = await run_unit_of_work(
        app.sessions,
        lambda session: confirm_mentor_presence(
            session=session,
            mentor=person,
            appointment_id=data.appointment,
            now=datetime.now(UTC),
            present=present,
            version=data.version or None,
        ),
    )
    await _edit(press, _render(catalog, *mentor_answer_lines(view, present=present)), None)


# -- the coach's day -------------------------------------------------------------------------


def attendance_text(view: AppointmentView, catalog: Catalog) -> str:
    """One appointment of the day as the coach reads it: time, kind, student, where it stands."""
    start = view.starts_at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None)
    status = Text.of(_STATUS[view.status])
    if view.status is AppointmentStatus.CANCELLED and view.late_cancel:
        status = Text.of(N_("cancelled at short notice"))
    return catalog.render(
        Text.of(
            N_("{time} · {kind} · {student} · {status}"),
            time=Text.raw(start),
            kind=kind_label(view.kind.value),
            student=Text.raw(view.student_name),
            status=status,
        )
    )


def attendance_keyboard(view: AppointmentView, catalog: Catalog) -> InlineKeyboardMarkup | None:
    """Attended / no-show (a mark can be corrected); none for a cancelled appointment."""
    if view.status is AppointmentStatus.CANCELLED:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(catalog, Text.of(N_("Attended")), ATTENDED, view),
                _button(catalog, Text.of(N_("No-show")), NO_SHOW, view),
            ]
        ]
    )


async def on_today(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """Today's appointments on the coach's agenda (their own and the room's: the web page's
    `coach_agenda`), each with attended / no-show."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id
    now = datetime.now(UTC)
    today = school_today(now)
    try:
        agenda = await run_unit_of_work(
            app.sessions,
            lambda session: coach_agenda(session=session, viewer=person, now=now, today=today),
        )
        views = [row.view for row in agenda.today_rows]
    except (NotAllowed, NotFound) as refusal:
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    await bot.send_message(
        chat_id,
        catalog.render(
            Text.plural_of(
                "Today, {day}: {count} appointment",
                "Today, {day}: {count} appointments",
                len(views),
                day=today,
            )
        ),
    )
    for view in views:
        await bot.send_message(
            chat_id, attendance_text(view, catalog), reply_markup=attendance_keyboard(view, catalog)
        )


async def _attendance(press: _Press) -> None:
    app, person, catalog, data = press.app, press.person, press.catalog, press.data
    view = await run_unit_of_work(
        app.sessions,
        lambda session: mark_attendance(
            session=session,
            coach=person,
            appointment_id=data.appointment,
            attended=data.action == ATTENDED,
            now=datetime.now(UTC),
        ),
    )
    # Marked: the logbook entry is offered right there (the flow checks the agenda again).
    markup = attendance_keyboard(view, catalog)
    rows = [] if markup is None else list(markup.inline_keyboard)
    rows.append([_button(catalog, Text.of(N_("Write in the logbook")), LOGBOOK_ACTION, view)])
    await _edit(press, attendance_text(view, catalog), InlineKeyboardMarkup(inline_keyboard=rows))


async def _start_logbook(press: _Press) -> None:
    """The logbook flow, preset with the appointment (storage checks it is on the agenda)."""
    turn = await run_unit_of_work(
        press.app.sessions,
        lambda session: open_flow(
            session=session,
            person=press.person,
            flow_id=AGENDA_LOGBOOK.id,
            now=datetime.now(UTC),
            preset={LOGBOOK_APPOINTMENT: str(press.data.appointment)},
        ),
    )
    await show_turn(press.bot, press.chat_id, turn, catalog=press.catalog)


def week_day_text(day: AgendaDay, catalog: Catalog) -> str:
    """One day of the coach's week: the date, then one line per appointment."""
    lines = [catalog.render(Text.of(N_("{day}:"), day=day.day))]
    lines.extend(attendance_text(row.view, catalog) for row in day.rows)
    return "\n".join(lines)


async def on_week(
    query: CallbackQuery, *, bot: Bot, app: App, person: Person | None, catalog: Catalog
) -> None:
    """This week's appointments on the coach's agenda (the web page's `coach_agenda`), one
    message per day that has any."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id
    now = datetime.now(UTC)
    try:
        agenda: Agenda = await run_unit_of_work(
            app.sessions,
            lambda session: coach_agenda(
                session=session, viewer=person, now=now, today=school_today(now)
            ),
        )
    except (NotAllowed, NotFound) as refusal:
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    days = [day for day in agenda.days if day.rows]
    count = sum(len(day.rows) for day in days)
    await bot.send_message(
        chat_id,
        catalog.render(
            Text.plural_of(
                "This week, {first} to {last}: {count} appointment",
                "This week, {first} to {last}: {count} appointments",
                count,
                first=agenda.days[0].day,
                last=agenda.days[-1].day,
            )
        ),
    )
    for day in days:
        await send_text(bot, chat_id, week_day_text(day, catalog))


# -- the care coordinator and a time-out request -------------------------------------------


def timeout_request_text(request: TimeoutRequestView, catalog: Catalog) -> str:
    """A time-out request as the care coordinator reads it (inside the chat only)."""
    student = (
        f"{request.student_name} ({request.group_name})"
        if request.group_name
        else request.student_name
    )
    lines = [
        Text.of(N_("Time-out request #{number}"), number=Text.raw(str(request.queue_item_id))),
        Text.of(N_("Student: {name}"), name=Text.raw(student)),
        Text.of(N_("Asked for: {when}"), when=request.starts_at),
        Text.plural_of(
            "Above the agreed {count} time-out per week.",
            "Above the agreed {count} time-outs per week.",
            request.timeouts_per_week,
        )
        if request.reason is TimeoutRequestReason.OVER_CAP
        else Text.of(N_("Outside the plan: time-out is not agreed for these dates.")),
    ]
    if request.decision is not None:
        lines.append(
            Text.of(N_("Approved and booked."))
            if request.decision is QueueDecision.ACCEPTED
            else Text.of(N_("Declined."))
        )
    return _render(catalog, *lines)


async def on_timeout_request(
    query: CallbackQuery,
    *,
    callback_data: TimeoutRequestCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Open a time-out request, approve it, or start declining it with a reason (storage
    checks the care coordinator)."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id, item = query.message.chat.id, callback_data.item
    try:
        if callback_data.action == DECLINE:
            await _start_decline(
                bot=bot, app=app, person=person, catalog=catalog, chat_id=chat_id, item=item
            )
            return
        if callback_data.action == APPROVE:
            view = await run_unit_of_work(
                app.sessions,
                lambda session: approve_timeout_request(
                    session=session, actor=person, queue_item_id=item, now=datetime.now(UTC)
                ),
            )
            following = await next_item_row(app, person, item, catalog)
            await bot.send_message(
                chat_id,
                _render(
                    catalog,
                    Text.of(
                        N_("Approved and booked: {appointment}. The student is told."),
                        appointment=appointment_text(
                            view.kind.value, view.starts_at, view.student_name
                        ),
                    ),
                ),
                reply_markup=with_next(None, following),
            )
            return
        request = await run_unit_of_work(
            app.sessions,
            lambda session: open_timeout_request(
                session=session, viewer=person, queue_item_id=item
            ),
        )
    except (*_REFUSALS, SlotTaken) as refusal:
        log.info("time-out request %s refused for person %s", callback_data.action, person.id)
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    await bot.send_message(
        chat_id,
        timeout_request_text(request, catalog),
        reply_markup=timeout_request_actions(request, catalog),
    )


#: The button of each action on a time-out request, in this order (decline asks a reason).
_TIMEOUT_BUTTONS = (
    (QueueAction.APPROVE_TIMEOUT, N_("Approve and book"), APPROVE),
    (QueueAction.DECLINE_TIMEOUT, N_("Decline…"), DECLINE),
)


def timeout_request_actions(
    request: TimeoutRequestView, catalog: Catalog
) -> InlineKeyboardMarkup | None:
    """A button for each action the request allows (`services.queue.rules.allowed_actions`,
    the rule the services enforce and the web page renders); none once it is decided."""
    allowed = allowed_actions(kind=QueueKind.TIMEOUT_REQUEST, status=request.status)
    row = [
        InlineKeyboardButton(
            text=catalog.render(Text.of(label)),
            callback_data=TimeoutRequestCallback(action=data, item=request.queue_item_id).pack(),
        )
        for action, label, data in _TIMEOUT_BUTTONS
        if action in allowed
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def _start_decline(
    *, bot: Bot, app: App, person: Person, catalog: Catalog, chat_id: int, item: int
) -> None:
    """The flow that asks the reason, preset with the item; its completion declines
    (`services.appointments.timeout_requests.decline_timeout_request` checks everything again).
    """
    # Before asking for any text: the request is this person's to decide, and still open.
    request = await run_unit_of_work(
        app.sessions,
        lambda session: open_timeout_request(session=session, viewer=person, queue_item_id=item),
    )
    if request.decision is not None:
        raise InvalidTransition(Text.of(N_("This request has already been decided.")))
    turn = await run_unit_of_work(
        app.sessions,
        lambda session: open_flow(
            session=session,
            person=person,
            flow_id=TIMEOUT_DECLINE.id,
            now=datetime.now(UTC),
            preset={QUEUE_ITEM: str(item)},
        ),
    )
    await show_turn(bot, chat_id, turn, catalog)


# -- routing ---------------------------------------------------------------------------------


async def on_appointment(
    query: CallbackQuery,
    *,
    callback_data: AppointmentCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """One appointment's button; storage decides whether this person may do it."""
    await query.answer()
    if person is None or query.message is None:
        return
    action = callback_data.action
    press = _Press(bot, app, person, catalog, callback_data, query.message.chat.id, _origin(query))
    try:
        if action in _FLOW_OF:
            await _start_change(press)
        elif action == SHOW:
            await _mentor_show(press)
        elif action == TEACHER:
            await _teacher_show(press)
        elif action in (YES, NO):
            await _mentor_answer(press)
        elif action in (ATTENDED, NO_SHOW):
            await _attendance(press)
        elif action == LOGBOOK_ACTION:
            await _start_logbook(press)
        else:
            await bot.send_message(
                query.message.chat.id,
                catalog.render(Text.of(N_("This button no longer works."))),
            )
    except _REFUSALS as refusal:
        log.info("appointment action %s refused for person %s", action, person.id)
        await bot.send_message(query.message.chat.id, catalog.render(refusal.reason))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(
        on_my_appointments, MenuCallback.filter(F.action == MY_APPOINTMENTS)
    )
    router.callback_query.register(on_today, MenuCallback.filter(F.action == TODAY))
    router.callback_query.register(on_week, MenuCallback.filter(F.action == WEEK))
    router.callback_query.register(on_appointment, AppointmentCallback.filter())
    router.callback_query.register(on_timeout_request, TimeoutRequestCallback.filter())
    return router
