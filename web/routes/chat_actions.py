"""The actions behind a notice's Telegram button, in the web chat (for people who get the
notice by e-mail and have no staff web account: a mentor, a teacher).

An e-mail's one-time link (``/c/<token>?then=<target>/<id>``, `services.outbox.channels.
ChatTarget`) opens the chat and lands here:

* ``/chat/intake-confirm/<appointment id>``: the mentor's question about an intake, with the
  student's name, and "Yes, I will be there" / "No, I cannot come" (a POST with the session's
  CSRF token) — `services.appointments.attendance.confirm_mentor_presence`, exactly what the
  Telegram buttons call: yes confirms the intake (the calendar files go out), no cancels it
  and asks whoever booked it to choose another time;
* ``/chat/referral-outcome/<referral id>``: the decision on a referral, for the mentor who
  sent it (`services.referrals.outcome.referral_outcome`);
* ``/chat/timeout-who/<appointment id>``: who leaves the teacher's lesson for a time-out
  (`services.appointments.teacher_notice.timeout_for_teacher`).

The id in the address carries no authority: every page and every answer is decided by the
service against the person of the chat session, read again from the database (a mentor
answers only about their own mentee's intake; anything else is refused with 403 and the
same words, whether the id exists or not). A questionnaire link's session is for its
questionnaire only and opens none of these.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.afspraken import APPOINTMENT, CANCEL, MOVE, kind_label
from dialogs.i18n import Catalog
from dialogs.replies import Reply, ReplyKind
from dialogs.text import N_, Text
from services.appointments.action_texts import (
    NO_LABEL,
    YES_LABEL,
    intake_question_lines,
    mentor_answer_lines,
    teacher_timeout_lines,
    upcoming_lines,
)
from services.appointments.attendance import confirm_mentor_presence, intake_question
from services.appointments.calendar import calendar_file
from services.appointments.errors import BookingRefused
from services.appointments.teacher_notice import timeout_for_teacher
from services.appointments.views import AppointmentView
from services.conversations.appointment_bindings import changeable_upcoming
from services.conversations.runtime import open_flow
from services.conversations.web_chat import ChatSession, Flash, set_flash
from services.kernel.errors import InvalidTransition, NotAllowed
from services.outbox.channels import ChatTarget
from services.referrals.outcome import outcome_lines, referral_outcome
from storage.models import AppointmentKind, AppointmentStatus
from web.chat_render import render_messages
from web.deps import UnitOfWork, UnitOfWorkDep, WebDep
from web.pages import render_page
from web.routes.chat import (
    BACK_TO_CHAT,
    BUTTON_REFUSED,
    CHAT_PATH,
    REPORT_NOT_HERE,
    no_session_page,
    posted_chat,
    request_chat,
)
from web.runtime import Web
from web.security import CSRF_FIELD

log = logging.getLogger(__name__)

NAV = ()

INTAKE_CONFIRM_PATH = f"{CHAT_PATH}/{ChatTarget.INTAKE_CONFIRM.value}"
REFERRAL_OUTCOME_PATH = f"{CHAT_PATH}/{ChatTarget.REFERRAL_OUTCOME.value}"
TIMEOUT_WHO_PATH = f"{CHAT_PATH}/{ChatTarget.TIMEOUT_WHO.value}"
APPOINTMENTS_PATH = f"{CHAT_PATH}/{ChatTarget.APPOINTMENTS.value}"

#: The mentor's two answers, as posted by the intake page's buttons.
YES, NO = "yes", "no"
_REFUSED = (NotAllowed, BookingRefused, InvalidTransition)

__all__ = [
    "APPOINTMENTS_PATH",
    "INTAKE_CONFIRM_PATH",
    "NO",
    "REFERRAL_OUTCOME_PATH",
    "TIMEOUT_WHO_PATH",
    "YES",
    "build_router",
]


def _refusal(
    request: Request, catalog: Catalog, reason: Text, *, status_code: int = 403
) -> Response:
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=status_code,
        language=catalog.language,
        message=reason,
        thanks=False,
        back=True,
    )


def _action_page(
    request: Request,
    chat: ChatSession,
    catalog: Catalog,
    *,
    title: Text,
    lines: list[Text],
    answers: tuple[tuple[str, Text], ...] = (),
    action: str = "",
    version: int | None = None,
) -> Response:
    return render_page(
        request,
        "chat/action.html",
        staff=None,
        language=catalog.language,
        title=catalog.render(title),
        lines=[catalog.render(line) for line in lines],
        answers=[(value, catalog.render(label)) for value, label in answers],
        action=action,
        version="" if version is None else str(version),
        chat_csrf=chat.csrf_token,
        csrf_field=CSRF_FIELD,
    )


async def _read(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    *,
    what: str,
    read: Callable[[AsyncSession, ChatSession], Awaitable[list[Text]]],
    title: Text,
    target_id: int,
) -> Response:
    """A page that only shows (the decision, who leaves the lesson): the service decides."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    person_id = chat.person.id  # read now: a refusal rolls back and expires the person
    if chat.survey_invitation_id is not None:
        return _refusal(request, catalog, Text.of(REPORT_NOT_HERE))
    try:
        lines = await uow(lambda s: read(s, chat))
    except NotAllowed as refused:
        log.info("web chat %s %s refused (person %s)", what, target_id, person_id)
        return _refusal(request, catalog, refused.reason)
    return _action_page(request, chat, catalog, title=title, lines=lines)


async def intake_confirm_page(
    request: Request, web: WebDep, uow: UnitOfWorkDep, appointment_id: int
) -> Response:
    """The mentor's question about an intake: which student, when, and the two answers."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    person_id = chat.person.id  # read now: a refusal rolls back and expires the person
    if chat.survey_invitation_id is not None:
        return _refusal(request, catalog, Text.of(REPORT_NOT_HERE))
    try:
        view = await uow(
            lambda s: intake_question(
                session=s, mentor=chat.person, appointment_id=appointment_id, now=web.now()
            )
        )
    except NotAllowed as refused:
        log.info("web chat intake %s refused (person %s)", appointment_id, person_id)
        return _refusal(request, catalog, refused.reason)
    return _action_page(
        request,
        chat,
        catalog,
        title=kind_label(AppointmentKind.INTAKE.value),
        lines=intake_question_lines(view),
        answers=((YES, Text.of(YES_LABEL)), (NO, Text.of(NO_LABEL))),
        action=f"{INTAKE_CONFIRM_PATH}/{appointment_id}",
        # The answer is about the intake as this page showed it: moved since, it is refused.
        version=view.version,
    )


async def answer_intake(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    appointment_id: int,
    *,
    answer: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """The mentor's answer: the same service as the Telegram buttons, for the session's
    person (CSRF checked); then back to the chat, which shows what the answer did."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    catalog = web.catalog(chat.person.language)
    person_id = chat.person.id  # read now: a refusal rolls back and expires the person
    if chat.survey_invitation_id is not None:
        return _refusal(request, catalog, Text.of(REPORT_NOT_HERE))
    if answer not in (YES, NO) or not version.isdigit() or len(version) > 9:
        return _refusal(request, catalog, BUTTON_REFUSED, status_code=400)
    present = answer == YES
    try:
        view = await uow(
            lambda s: confirm_mentor_presence(
                session=s,
                mentor=chat.person,
                appointment_id=appointment_id,
                now=web.now(),
                present=present,
                version=int(version),
            )
        )
    except NotAllowed as refused:
        log.info("web chat intake answer %s refused (person %s)", appointment_id, person_id)
        return _refusal(request, catalog, refused.reason)
    except (BookingRefused, InvalidTransition) as refused:
        return _refusal(request, catalog, refused.reason, status_code=409)
    done = Reply(ReplyKind.DONE, tuple(mentor_answer_lines(view, present=present)))
    flash = Flash(tuple((b.kind, b.text) for b in render_messages([done], catalog)))
    await uow(lambda s: set_flash(session=s, session_id=chat.session_id, flash=flash))
    return RedirectResponse(BACK_TO_CHAT, status_code=303)


async def referral_outcome_page(
    request: Request, web: WebDep, uow: UnitOfWorkDep, referral_id: int
) -> Response:
    """The decision on a referral, for the mentor who sent it (the read is audited)."""

    async def read(session: AsyncSession, chat: ChatSession) -> list[Text]:
        outcome = await referral_outcome(
            session=session, viewer=chat.person, referral_id=referral_id, now=web.now()
        )
        return outcome_lines(outcome)

    return await _read(
        request,
        web,
        uow,
        what="referral outcome",
        read=read,
        title=Text.of(N_("Referral")),
        target_id=referral_id,
    )


async def timeout_who_page(
    request: Request, web: WebDep, uow: UnitOfWorkDep, appointment_id: int
) -> Response:
    """Who leaves the teacher's lesson for a time-out (first name and times; audited)."""

    async def read(session: AsyncSession, chat: ChatSession) -> list[Text]:
        view = await timeout_for_teacher(
            session=session, teacher=chat.person, appointment_id=appointment_id, now=web.now()
        )
        return teacher_timeout_lines(view)

    return await _read(
        request,
        web,
        uow,
        what="time-out",
        read=read,
        title=kind_label(AppointmentKind.TIME_OUT.value),
        target_id=appointment_id,
    )


async def appointments_page(request: Request, web: WebDep, uow: UnitOfWorkDep) -> Response:
    """ "My appointments": the person's upcoming appointments, as Telegram lists them (their
    own, their children's, the intakes and evaluations of their mentees), each with Move and
    Cancel when they may change it."""
    listed = await _my_appointments(request, web, uow)
    if isinstance(listed, Response):
        return listed
    chat, catalog, views = listed
    viewer_id = chat.person.id
    entries = [
        (
            [catalog.render(line) for line in upcoming_lines(view, viewer_id=viewer_id)],
            f"{APPOINTMENTS_PATH}/{view.appointment_id}" if changeable else None,
            _calendar_path(view.appointment_id) if _has_calendar(view) else None,
        )
        for view, changeable in views[:MAX_LISTED]
    ]
    return render_page(
        request,
        "chat/appointments.html",
        staff=None,
        language=catalog.language,
        title=catalog.render(Text.of(N_("My appointments"))),
        entries=entries,
        empty=catalog.render(Text.of(N_("You have no upcoming appointments."))),
        move=(MOVE_ACTION, catalog.render(Text.of(N_("Move")))),
        cancel=(CANCEL_ACTION, catalog.render(Text.of(N_("Cancel")))),
        add_to_calendar=catalog.render(Text.of(N_("Add to my calendar"))),
        chat_csrf=chat.csrf_token,
        csrf_field=CSRF_FIELD,
    )


async def _my_appointments(
    request: Request, web: Web, uow: UnitOfWork
) -> tuple[ChatSession, Catalog, list[tuple[AppointmentView, bool]]] | Response:
    """This browser's person, their catalog and "My appointments" (each with whether they
    may change it); the page to show instead without a chat, or in a questionnaire's chat."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    if chat.survey_invitation_id is not None:
        return _refusal(request, catalog, Text.of(REPORT_NOT_HERE))
    views = await uow(lambda s: changeable_upcoming(session=s, person=chat.person, now=web.now()))
    return chat, catalog, views


def _has_calendar(view: AppointmentView) -> bool:
    """A calendar file exists once the appointment is confirmed (as Telegram and e-mail send
    it: an intake only after the mentor said yes)."""
    return view.status is AppointmentStatus.CONFIRMED


def _calendar_path(appointment_id: int) -> str:
    return f"{APPOINTMENTS_PATH}/{appointment_id}/{CALENDAR_FILE}"


async def appointment_calendar(
    request: Request, web: WebDep, uow: UnitOfWorkDep, appointment_id: int
) -> Response:
    """The calendar file of one of "My appointments", to download: what Telegram and e-mail
    send, for someone the school cannot reach either way (a web chat without e-mail). Only an
    appointment the list shows this person, confirmed; anything else gets the same refusal."""
    listed = await _my_appointments(request, web, uow)
    if isinstance(listed, Response):
        return listed
    _chat, catalog, views = listed
    found = [v for v, _ in views if v.appointment_id == appointment_id and _has_calendar(v)]
    if not found:
        return _refusal(request, catalog, BUTTON_REFUSED, status_code=404)
    view = found[0]
    data = calendar_file(view, title=catalog.render(kind_label(view.kind.value)), location=None)
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="appointment-{view.appointment_id}.ics"'
        },
    )


async def change_appointment(
    request: Request, web: WebDep, uow: UnitOfWorkDep, appointment_id: int, action: str
) -> Response:
    """Move or Cancel on "My appointments": the flow, preset with the appointment, exactly as
    Telegram's buttons start it (its preset refuses an appointment the person may not change).
    """
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    catalog = web.catalog(chat.person.language)
    person_id = chat.person.id  # read now: a refusal rolls back and expires the person
    flow_id = _FLOW_OF.get(action)
    if chat.survey_invitation_id is not None or flow_id is None:
        return _refusal(request, catalog, BUTTON_REFUSED)
    try:
        turn = await uow(
            lambda s: open_flow(
                session=s,
                person=chat.person,
                flow_id=flow_id,
                now=web.now(),
                preset={APPOINTMENT: str(appointment_id)},
            )
        )
        replies = list(turn.replies)
    except NotAllowed as refused:
        log.info("web chat %s of %s refused (person %s)", action, appointment_id, person_id)
        replies = [Reply(ReplyKind.NOTICE, (refused.reason,))]
    flash = Flash(tuple((b.kind, b.text) for b in render_messages(replies, catalog)))
    await uow(lambda s: set_flash(session=s, session_id=chat.session_id, flash=flash))
    return RedirectResponse(BACK_TO_CHAT, status_code=303)


MOVE_ACTION, CANCEL_ACTION = "move", "cancel"
#: The last part of a calendar file's address (a GET: a download, no state changed).
CALENDAR_FILE = "calendar.ics"
_FLOW_OF = {MOVE_ACTION: MOVE.id, CANCEL_ACTION: CANCEL.id}


#: The list shows at most this many (as Telegram's).
MAX_LISTED = 10


def build_router() -> APIRouter:
    """A fresh router with the notice actions of the web chat."""
    router = APIRouter()
    router.add_api_route(
        f"{INTAKE_CONFIRM_PATH}/{{appointment_id:int}}", intake_confirm_page, methods=["GET"]
    )
    router.add_api_route(
        f"{INTAKE_CONFIRM_PATH}/{{appointment_id:int}}", answer_intake, methods=["POST"]
    )
    router.add_api_route(
        f"{REFERRAL_OUTCOME_PATH}/{{referral_id:int}}", referral_outcome_page, methods=["GET"]
    )
    router.add_api_route(
        f"{TIMEOUT_WHO_PATH}/{{appointment_id:int}}", timeout_who_page, methods=["GET"]
    )
    router.add_api_route(APPOINTMENTS_PATH, appointments_page, methods=["GET"])
    router.add_api_route(
        f"{APPOINTMENTS_PATH}/{{appointment_id:int}}/{CALENDAR_FILE}",
        appointment_calendar,
        methods=["GET"],
    )
    router.add_api_route(
        f"{APPOINTMENTS_PATH}/{{appointment_id:int}}/{{action}}",
        change_appointment,
        methods=["POST"],
    )
    return router
