"""The storage side of the appointment flows (`dialogs.flows.afspraken`): book, move, cancel.

Each function here is what `services.conversations.bindings.BINDINGS` connects to a flow: a
*preset* (answers the
flow does not ask: the only student there is, the appointment a move is about), a *context*
built from the answers so far (the kinds, days and free times the person may choose from) and
a *completion* that books, moves or cancels in the runtime's transaction.

Nothing here decides a rule: `services.appointments` does, again, when the completion books.
The options only show what it would accept, so a forged button is refused twice: by the engine
(not among the options) and by storage (the rules and the capacity rows).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, AnswerValue, FlowContext, Option
from dialogs.flows.afspraken import (
    APPOINTMENT,
    DAY,
    FOR_STUDENT,
    KIND,
    OFFERED,
    STUDENT,
    STUDENT_STEP,
    STUDENTS,
    SUMMARY,
    TEACHER,
    TEACHERS,
    TIME,
    TIME_OUT,
    appointment_text,
    kind_label,
    kinds_key_for,
    offered_key_for,
    offered_options,
    slot_choices,
    slot_code,
    slot_start,
    student_of,
    teacher_to_tell,
)
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.appointments.access import (
    bookable_kinds,
    bookable_students,
    students_by_bookability,
)
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.holds import HOLD_FOR, hold
from services.appointments.rules import is_late_cancel
from services.appointments.schedule import DEFAULT_LATE_CANCEL_HOURS
from services.appointments.slots import Slot, free_slots
from services.appointments.teacher_notice import teachers_of_school, tell_teacher
from services.appointments.timeout_requests import BookingRequested
from services.appointments.views import AppointmentView, upcoming_for
from services.kernel.errors import NotAllowed, Reroute
from services.kernel.ids import parse_id
from services.kernel.uow import update_memo
from services.outbox.channels import Contact, reachable
from storage.models import AppointmentKind, BookingSettings, Person

log = logging.getLogger(__name__)

_NOT_YOURS = N_("This appointment is not available to you (any more).")


def _local_day(at: datetime) -> date:
    return at.astimezone(SCHOOL_TIMEZONE).date()


def _context(
    now: datetime, choices: Mapping[str, tuple[Option, ...]], **details: Sequence[Text]
) -> FlowContext:
    return FlowContext(
        today=now.astimezone(SCHOOL_TIMEZONE).date(),
        choices=MappingProxyType(dict(choices)),
        details=MappingProxyType({key: tuple(lines) for key, lines in details.items()}),
    )


async def _free_slots_once(
    *,
    session: AsyncSession,
    person: Person,
    student_id: int,
    kind: AppointmentKind,
    now: datetime,
    moving: int | None,
) -> list[Slot]:
    """The free times to offer (none when a rule says no; booking would say why), read once
    per Telegram update: a step builds its context twice. Only for what is offered; booking
    checks the place again itself."""
    memo = update_memo()
    key = ("offered_slots", person.id, student_id, kind, now, moving)
    if memo is not None and key in memo:
        return list(cast("list[Slot]", memo[key]))
    try:
        slots = await free_slots(
            session=session,
            person=person,
            student_id=student_id,
            kind=kind,
            now=now,
            move_appointment_id=moving,
        )
    except (NotAllowed, BookingRefused):
        slots = []
    if memo is not None:
        memo[key] = list(slots)
    return slots


async def _slots(
    *,
    session: AsyncSession,
    person: Person,
    student: str,
    kinds: Sequence[AppointmentKind],
    now: datetime,
    answers: Answers,
    moving: int | None = None,
) -> tuple[list[AppointmentKind], dict[str, tuple[Option, ...]]]:
    """The kinds among ``kinds`` with a free time, and their day, time and offer options."""
    choices: dict[str, tuple[Option, ...]] = {}
    open_kinds: list[AppointmentKind] = []
    offered = answers.get(OFFERED)
    for kind in kinds:
        slots = await _free_slots_once(
            session=session,
            person=person,
            student_id=int(student),
            kind=kind,
            now=now,
            moving=moving,
        )
        if not slots:
            continue
        open_kinds.append(kind)
        starts = [slot.starts_at for slot in slots]
        choices.update(slot_choices(student, kind.value, starts))
        if isinstance(offered, list) and answers.get(KIND) == kind.value:
            choices[offered_key_for(student, kind.value)] = offered_options(offered, starts)
    return open_kinds, choices


# -- booking ---------------------------------------------------------------------------------


async def booking_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """The only student this person can book something for, so the flow does not ask (or
    the only student there is at all: the kind question then says nothing can be booked)."""
    del preset
    can, cannot = await students_by_bookability(session=session, person=person, now=now)
    if len(can) == 1:
        return {FOR_STUDENT: str(can[0][0])}
    if not can and len(cannot) == 1:
        return {FOR_STUDENT: str(cannot[0][0])}
    return {}


def _not_listed(cannot: Sequence[tuple[int, str]]) -> tuple[Text, ...]:
    """The line that says whom nothing can be booked for (they are not offered)."""
    if not cannot:
        return ()
    names = tuple(Text.raw(name) for _, name in cannot)
    return (Text.of(N_("Nothing can be booked for {names} at the moment."), names=names),)


async def booking_context(
    *,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Answers,
    step: str | None = None,
) -> FlowContext:
    """The students this person can book something for now (the others named under the
    question); for the chosen one the kinds, days and times with room."""
    can, cannot = await students_by_bookability(session=session, person=person, now=now)
    students = can
    only = student_of(answers) if STUDENT not in answers else None
    if only is not None and not can and [str(sid) for sid, _ in cannot] == [only]:
        students = cannot  # the only student there is (preset): the kinds say "nothing"
        cannot = []
    choices: dict[str, tuple[Option, ...]] = {
        STUDENTS: tuple(Option(str(sid), Text.raw(name)) for sid, name in students)
    }
    student = student_of(answers)
    if student is not None and student in {str(sid) for sid, _ in students}:
        kinds = await bookable_kinds(
            session=session, person=person, student_id=int(student), now=now
        )
        open_kinds, slot_options = await _slots(
            session=session, person=person, student=student, kinds=kinds, now=now, answers=answers
        )
        choices.update(slot_options)
        choices[kinds_key_for(student)] = tuple(
            Option(kind.value, kind_label(kind.value)) for kind in open_kinds
        )
    if answers.get(KIND) == TIME_OUT:
        teachers = await teachers_of_school(session=session, school_id=person.school_id)
        choices[TEACHERS] = tuple(Option(str(tid), Text.raw(name)) for tid, name in teachers)
    not_listed = _not_listed(cannot)
    # Under the child question; or under the kind question when that one was not asked.
    details = {STUDENT: not_listed, KIND: not_listed if FOR_STUDENT in answers else ()}
    named = _named_student(person, students, answers)
    preface = {KIND: named} if named else {}
    kept = await _hold_chosen(session=session, person=person, answers=answers, now=now, step=step)
    summary = (*named, *(() if kept is None else (kept,)))
    if summary:
        details[SUMMARY] = summary
    return FlowContext(
        today=now.astimezone(SCHOOL_TIMEZONE).date(),
        choices=MappingProxyType(choices),
        details=MappingProxyType(details),
        preface=MappingProxyType(preface),
    )


def _named_student(
    person: Person, students: Sequence[tuple[int, str]], answers: Answers
) -> tuple[Text, ...]:
    """ "For: Amira" when the child question was not asked (one child only can book) and the
    booking is not the student's own: above the kind question and under the summary, as the
    summary would have said it had the question been asked."""
    only = answers.get(FOR_STUDENT)
    if STUDENT in answers or only is None or only == str(person.id):
        return ()
    name = next((name for sid, name in students if str(sid) == only), None)
    if name is None:
        return ()
    line = Text.of(
        N_("{question}: {answer}"), question=Text.of(STUDENT_STEP.label), answer=Text.raw(name)
    )
    return (line,)


async def _hold_chosen(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime, step: str | None
) -> Text | None:
    """Once a time is chosen (the summary, or a time-out's teacher question, is shown) it is
    kept for this person for a few minutes (`services.appointments.holds`); the line that says
    so under the summary. ``None`` before that, or when the time was taken meanwhile ("Book"
    then says so and offers the nearest free times)."""
    student, kind = student_of(answers), answers.get(KIND)
    start = slot_start(str(answers.get(TIME, "")))
    if step not in (TEACHER, SUMMARY) or student is None or not isinstance(kind, str):
        return None
    if start is None or kind not in {k.value for k in AppointmentKind}:
        return None
    slots = await _free_slots_once(
        session=session,
        person=person,
        student_id=int(student),
        kind=AppointmentKind(kind),
        now=now,
        moving=None,
    )
    chosen = next((slot for slot in slots if slot.starts_at == start and slot.places), None)
    if chosen is None:
        return None
    until = chosen.held_until
    if until is None:
        place = chosen.places[0]
        until = await hold(
            session=session,
            school_id=person.school_id,
            holder_id=person.id,
            resource=place.resource,
            cells=place.cells,
            now=now,
        )
    return Text.of(
        N_("This time is kept for you for {duration}, until {time}."),
        duration=HOLD_FOR,
        time=until.astimezone(SCHOOL_TIMEZONE).time(),
    )


def _slot_of(answers: Answers) -> datetime:
    start = slot_start(str(answers.get(TIME, "")))
    if start is None:  # the engine only completes with an offered code; be safe anyway
        raise NotAllowed(Text.of(N_("Please choose a time with the buttons.")))
    return start


def _taken(taken: SlotTaken) -> Reroute:
    """Back to the time question with the nearest free times offered (answers kept)."""
    if not taken.alternatives:
        return Reroute(taken.reason, step=DAY, answers={DAY: None, TIME: None, OFFERED: None})
    codes = [slot_code(slot.starts_at) for slot in taken.alternatives]
    return Reroute(
        taken.reason,
        Text.of(N_("These times are still free. Pick one, or press “« Back” to change more.")),
        step=TIME,
        answers={OFFERED: codes},
    )


#: Said instead of "you will get a calendar file" to someone no notice can reach.
NO_CHANNEL_LINE = N_(
    "The school cannot send you the calendar file or a reminder: you have no Telegram chat "
    "with the bot and the school has no working e-mail address for you. Please note the "
    "time, and ask the school to add your e-mail address."
)


#: ... and where the calendar file is instead (the web chat's "My appointments").
DOWNLOAD_LINE = N_("You can download the calendar file under “My appointments”.")
DOWNLOAD_LATER_LINE = N_(
    "Once the intake is confirmed, you can download its calendar file under “My appointments”."
)


def can_receive_notices(person: Person) -> bool:
    """Whether the calendar file and reminders can reach ``person`` (Telegram or e-mail)."""
    return reachable(
        Contact(
            chat_linked=person.telegram_chat_id is not None,
            telegram_unreachable=person.unreachable_at is not None,
            has_email=bool(person.email),
            email_unreachable=person.email_unreachable_at is not None,
            preference=person.channel_preference,
        )
    )


def booked_lines(
    view: AppointmentView, now: datetime | None = None, *, reachable: bool = True
) -> tuple[Text, ...]:
    """What the person reads once the booking is made (booked for today, at ``now``: no
    day-before reminder is promised; a time-out is often for now). A person no notice can
    reach (``reachable`` False: no Telegram chat, no working e-mail address) is not promised
    a calendar file."""
    when = appointment_text(view.kind.value, view.starts_at)
    if not reachable:
        waits = view.kind is AppointmentKind.INTAKE and not view.mentor_confirmed
        return (
            Text.of(N_("Booked: {appointment}."), appointment=when),
            *(
                (
                    Text.of(
                        N_(
                            "The mentor is asked to confirm being there; the intake is "
                            "confirmed as soon as they do."
                        )
                    ),
                )
                if waits
                else ()
            ),
            Text.of(NO_CHANNEL_LINE),
            # The web chat's "My appointments" offers the file once it is confirmed.
            Text.of(DOWNLOAD_LINE if not waits else DOWNLOAD_LATER_LINE),
        )
    if view.kind is AppointmentKind.INTAKE and not view.mentor_confirmed:
        return (
            Text.of(N_("Booked: {appointment}."), appointment=when),
            Text.of(
                N_(
                    "The mentor is asked to confirm being there; the intake is confirmed as "
                    "soon as they do. You will get the calendar file then."
                )
            ),
        )
    today = now is not None and _local_day(view.starts_at) == _local_day(now)
    lines = [
        Text.of(N_("Booked: {appointment}."), appointment=when),
        Text.of(N_("You will get a calendar file."))
        if today
        else Text.of(N_("You will get a calendar file and a reminder the day before.")),
    ]
    if view.kind is AppointmentKind.TIME_OUT:
        lines.append(Text.of(N_("The coach expects you. Take the time you need.")))
    return tuple(lines)


async def complete_booking(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> tuple[Text, ...]:
    """Book the chosen slot (storage checks every rule and the capacity again)."""
    student = student_of(answers)
    if student is None:
        raise NotAllowed(Text.of(_NOT_YOURS))
    kind = AppointmentKind(str(answers[KIND]))
    try:
        result = await book(
            session=session,
            actor=person,
            student_id=int(student),
            kind=kind,
            starts_at=_slot_of(answers),
            now=now,
        )
    except SlotTaken as taken:
        log.info("booking by person %s: slot taken, alternatives offered", person.id)
        raise _taken(taken) from taken
    if isinstance(result, BookingRequested):
        log.info("booking by person %s became request %s", person.id, result.queue_item_id)
        return (
            Text.of(
                N_(
                    "This time-out is outside what was agreed in your plan, so it is now a "
                    "request. The care coordinator looks at it and lets you know."
                )
            )
            if kind.value == TIME_OUT
            else Text.of(N_("Your request went to the care coordinator, who will let you know.")),
        )
    lines = booked_lines(result, now, reachable=can_receive_notices(person))
    teacher_id = parse_id(teacher_to_tell(answers))
    if teacher_id is not None:
        # Checked again there (a teacher of the school, a time-out still planned); a refusal
        # undoes the booking with it, and the summary says why.
        await tell_teacher(
            session=session,
            actor=person,
            appointment_id=result.appointment_id,
            teacher_id=teacher_id,
            now=now,
        )
        lines = (*lines, Text.of(N_("The teacher gets a message with the times, not the reason.")))
    return lines


# -- move and cancel -------------------------------------------------------------------------


async def changeable_upcoming(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[tuple[AppointmentView, bool]]:
    """The person's upcoming appointments, each with whether the chat offers to move or
    cancel it: what they booked, and their own or their children's (storage decides again).
    """
    students = {sid for sid, _ in await bookable_students(session=session, person=person)}
    return [
        (view, view.booked_by_id == person.id or view.student_id in students)
        for view in await upcoming_for(session=session, person=person, now=now)
    ]


async def _own_upcoming(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> AppointmentView:
    """The upcoming appointment the flow is about, if this person may change it."""
    wanted = str(answers.get(APPOINTMENT, ""))
    for view, changeable in await changeable_upcoming(session=session, person=person, now=now):
        if str(view.appointment_id) == wanted and changeable:
            return view
    raise NotAllowed(Text.of(_NOT_YOURS))


async def cancellation_would_be_late(
    *, session: AsyncSession, person: Person, view: AppointmentView, now: datetime
) -> bool:
    """Whether cancelling ``view`` now would be flagged as at short notice."""
    hours = await session.scalar(
        select(BookingSettings.late_cancel_hours).where(
            BookingSettings.school_id == person.school_id
        )
    )
    limit = timedelta(hours=DEFAULT_LATE_CANCEL_HOURS if hours is None else hours)
    return is_late_cancel(starts_at=view.starts_at, now=now, window=limit)


async def own_appointment_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """For a move: the appointment's student and kind, which the flow keeps."""
    view = await _own_upcoming(session=session, person=person, answers=preset, now=now)
    return {FOR_STUDENT: str(view.student_id), KIND: view.kind.value}


def _now_line(view: AppointmentView) -> Text:
    return Text.of(
        N_("Now: {appointment}"), appointment=appointment_text(view.kind.value, view.starts_at)
    )


async def move_context(
    *,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Answers,
    step: str | None = None,
) -> FlowContext:
    """The free days and times of the appointment's kind, and where it is now."""
    memo = update_memo()
    key = ("own_upcoming", person.id, str(answers.get(APPOINTMENT, "")), now)
    try:
        kept = None if memo is None else memo.get(key)
        if isinstance(kept, AppointmentView):
            view = kept
        else:
            view = await _own_upcoming(session=session, person=person, answers=answers, now=now)
            if memo is not None:
                memo[key] = view
    except NotAllowed as refusal:
        return _context(now, {}, day=(refusal.reason,), summary=(refusal.reason,))
    student = str(view.student_id)
    _, choices = await _slots(
        session=session,
        person=person,
        student=student,
        kinds=[view.kind],
        now=now,
        answers={**answers, KIND: view.kind.value},
        moving=view.appointment_id,
    )
    now_line = _now_line(view)
    return _context(now, choices, day=(now_line,), summary=(now_line,))


async def complete_move(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> tuple[Text, ...]:
    """Move the appointment to the chosen slot (one transaction: the old place is freed)."""
    view = await _own_upcoming(session=session, person=person, answers=answers, now=now)
    try:
        result = await book(
            session=session,
            actor=person,
            student_id=view.student_id,
            kind=view.kind,
            starts_at=_slot_of(answers),
            now=now,
            move_appointment_id=view.appointment_id,
        )
    except SlotTaken as taken:
        log.info("move by person %s: slot taken, alternatives offered", person.id)
        raise _taken(taken) from taken
    if isinstance(result, BookingRequested):
        return (Text.of(N_("Your request went to the care coordinator, who will let you know.")),)
    return (
        Text.of(
            N_("Moved to {appointment}."),
            appointment=appointment_text(result.kind.value, result.starts_at),
        ),
        Text.of(N_("You will get an updated calendar file."))
        if can_receive_notices(person)
        else Text.of(NO_CHANNEL_LINE),
    )


async def cancel_context(
    *,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Answers,
    step: str | None = None,
) -> FlowContext:
    """The appointment to cancel, and a warning when it starts soon."""
    try:
        view = await _own_upcoming(session=session, person=person, answers=answers, now=now)
    except NotAllowed as refusal:
        return _context(now, {}, summary=(refusal.reason,))
    lines = [appointment_text(view.kind.value, view.starts_at)]
    if await cancellation_would_be_late(session=session, person=person, view=view, now=now):
        lines.append(
            Text.of(
                N_(
                    "It starts soon. You can still cancel, but it is noted as a cancellation "
                    "at short notice."
                )
            )
        )
    return _context(now, {}, summary=lines)


async def complete_cancel(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> tuple[Text, ...]:
    """Cancel the appointment (storage flags a late cancellation)."""
    view = await _own_upcoming(session=session, person=person, answers=answers, now=now)
    cancelled = await cancel(
        session=session, actor=person, appointment_id=view.appointment_id, now=now
    )
    lines = [
        Text.of(
            N_("Cancelled: {appointment}."),
            appointment=appointment_text(cancelled.kind.value, cancelled.starts_at),
        )
    ]
    if cancelled.late_cancel:
        lines.append(Text.of(N_("It was at short notice, so the coach is told.")))
    return tuple(lines)


async def cancel_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """Nothing to add; refuses an appointment this person may not cancel."""
    await _own_upcoming(session=session, person=person, answers=preset, now=now)
    return {}
