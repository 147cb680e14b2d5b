"""The web chat: the same flows as Telegram in a mobile page, for people without Telegram.

``/c/<token>`` is a personal link (an onboarding invitation or an exit questionnaire's link).
Its GET only shows a confirmation page (link previews and prefetching cannot use it); the
POST of that page opens the chat: a session cookie (HttpOnly, SameSite=Lax, Secure behind
HTTPS, path ``/chat``) and a redirect to ``/chat``, so the token leaves the address bar.

``/chat`` works without JavaScript: every button is a small POST form carrying the session's
CSRF token, typed answers go through a text form, and every POST answers with a redirect back
to ``/chat`` (POST → redirect → GET). The page asks the engine's current question, rendered by
`web.chat_render` from the very replies the Telegram channel renders. Nothing in a form is
trusted: the person comes from the session, the flows from the database, and the engine
refuses a button of an older version of the conversation (stale or forged) kindly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.events import Action, Event, typed
from dialogs.flows import get_flow
from dialogs.flows.afspraken import BOOK, appointment_text
from dialogs.flows.exit_survey import RESPONDENT_OF_FLOW, SURVEY_INVITATION
from dialogs.flows.parents_access import MENU_NOTE as PARENTS_MENU_NOTE
from dialogs.i18n import LANGUAGE_NAMES, LANGUAGES, Catalog
from dialogs.replies import Reply, ReplyKind
from dialogs.text import N_, Text
from services.appointments.attendance import open_intake_questions
from services.conversations.runtime import (
    ConcurrentUpdateError,
    Turn,
    handle_event,
    open_flow,
    school_today,
)
from services.conversations.survey_chat import SURVEY_REFUSALS, open_survey
from services.conversations.voice_chat import open_student_voice
from services.conversations.web_chat import (
    WEB_CHAT_TTL,
    ChatLinkInvalid,
    ChatSession,
    Flash,
    LinkKind,
    LinkProblem,
    MenuEntry,
    allowed_flow_ids,
    chat_menu,
    current_conversation,
    end_chat_session,
    inspect_chat_link,
    item_flows,
    redeem_chat_link,
    resolve_chat_session,
    set_chat_language,
    set_flash,
)
from services.kernel.adulthood import must_ask
from services.kernel.errors import InvalidTransition, NotAllowed
from services.outbox.channels import ChatTarget, parse_chat_target
from services.settings.about import TITLE as ABOUT_TITLE
from services.settings.about import about_for, may_read_about
from services.surveys.invitations import SurveyUnavailable
from services.trajectories.intake_report import intake_report_for_reader, report_lines
from storage.models import Role
from web.chat_render import render_messages, render_question, transcript
from web.deps import FormCsrfProtected, UnitOfWork, UnitOfWorkDep, WebDep
from web.errors import CSRF_REFUSED
from web.nav import NavItem
from web.pages import browser_language, form_page, page_language, render_page
from web.runtime import Web
from web.security import (
    CSRF_FIELD,
    FORM_COOKIE,
    delete_cookie,
    form_value,
    set_cookie,
    tokens_match,
)

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()

#: The web chat's own session cookie (not the staff login's), sent to ``/chat…`` only.
CHAT_COOKIE = "trajectbot_chat"
CHAT_PATH = "/chat"
#: The personal links' path: the chat cookie is sent there too, so a link opened again in a
#: browser whose chat is already its person's goes back to that chat (`_link_problem`).
LINK_PATH = "/c"
_COOKIE_PATHS = (CHAT_PATH, LINK_PATH)
#: Where a POST sends the browser back to: the current question (the page scrolls to it).
BACK_TO_CHAT = "/chat#current"
LINK_PROBLEMS: dict[LinkProblem, Text] = {
    LinkProblem.UNKNOWN: Text.of(
        N_("This link is not valid. Please ask the school for a new one.")
    ),
    LinkProblem.EXPIRED: Text.of(N_("This link has expired. Please ask the school for a new one.")),
    LinkProblem.USED: Text.of(
        N_(
            "This link has already been used. Each link works once; ask the school for a new "
            "one if you need it."
        )
    ),
    LinkProblem.ANSWERED: Text.of(N_("You have already answered this questionnaire. Thank you!")),
}
NO_SESSION = Text.of(
    N_(
        "This chat is not open on this device. Open your personal link from the school; if it "
        "has been used already, ask the school for a new one."
    )
)
BUTTON_REFUSED = Text.of(N_("This button is not for you, or no longer works."))
LEFT = Text.of(N_("You have closed the chat on this device. Your answers are saved."))
#: Said before closing and after it: a personal link works once, so only the school can
#: open the chat again (a parent without e-mail or Telegram has no other way back).
LEAVE_QUESTION = Text.of(N_("Close the chat on this device?"))
LEAVE_WARNING = Text.of(
    N_(
        "This device will no longer open your chat. Your answers stay saved. Your personal "
        "link works only once: to open the chat again, you need a new link from the school."
    )
)
LEAVE_CONFIRM = Text.of(N_("Yes, close the chat"))
COME_BACK = Text.of(N_("To open the chat again, ask the school for a new personal link."))


#: Where a personal link may send the browser after opening the chat (an e-mail's link to the
#: action of its notice): ``?then=<target>[/<id>]`` on ``/c/<token>``, a
#: `services.outbox.channels.ChatTarget` (the intake report, the mentor's intake question, the
#: decision on a referral, who leaves the lesson, "My appointments", the booking); nothing else.
INTAKE_REPORT_PATH = f"{CHAT_PATH}/{ChatTarget.INTAKE_REPORT.value}"
LEAVE_PATH = f"{CHAT_PATH}/leave"


# -- personal links ------------------------------------------------------------------------


async def link_page(
    request: Request, web: WebDep, uow: UnitOfWorkDep, token: str, then: str = ""
) -> Response:
    """The confirmation page of a personal link (GET does not use the link)."""
    try:
        link = await uow(lambda s: inspect_chat_link(session=s, token=token, now=web.now()))
    except ChatLinkInvalid as invalid:
        return await _link_problem(request, web, uow, invalid)
    return form_page(
        request,
        web,
        "chat/link.html",
        language=link.language,
        token=token,
        survey=link.kind is LinkKind.SURVEY,
        other_languages=[
            (code, LANGUAGE_NAMES[code]) for code in LANGUAGES if code != link.language
        ],
        then=then if parse_chat_target(then) is not None else "",
    )


async def open_link(request: Request, web: WebDep, uow: UnitOfWorkDep, token: str) -> Response:
    """Use the personal link: open the chat in this browser and go to it."""
    now = web.now()
    try:
        opened = await uow(lambda s: redeem_chat_link(session=s, token=token, now=now))
    except ChatLinkInvalid as invalid:
        return await _link_problem(request, web, uow, invalid)
    language = await form_value(request, "language") or ""
    if language in LANGUAGES:
        # Chosen on the link's page ("language first"): stored as /taal would, before the
        # chat (or the questionnaire) opens, so it opens in that language.
        reader = await uow(lambda s: resolve_chat_session(session=s, token=opened.token, now=now))
        if reader is not None:
            known: ChatSession = reader
            await uow(lambda s: set_chat_language(session=s, chat=known, language=language))
    then = await form_value(request, "then") or ""
    chosen = parse_chat_target(then)
    book = chosen is not None and chosen[0] is ChatTarget.BOOK
    # The student's help question opens in the chat itself, as the Telegram button opens it.
    voice = chosen[1] if chosen is not None and chosen[0] is ChatTarget.HELP_QUESTION else None
    in_chat = book or voice is not None
    target = f"{CHAT_PATH}/{then}" if chosen is not None and not in_chat else BACK_TO_CHAT
    response = RedirectResponse(target, status_code=303)
    _set_chat_cookies(response, web, opened.token)
    delete_cookie(response, FORM_COOKIE, secure=web.cookies_secure)
    if opened.survey_invitation_id is not None:
        # A questionnaire's link opens (or resumes) that questionnaire straight away.
        chat = await uow(lambda s: resolve_chat_session(session=s, token=opened.token, now=now))
        if chat is not None:
            await _open_survey(uow, web, chat, opened.survey_invitation_id)
    elif book:
        # "Book an appointment": the booking opens at once, as the Telegram button opens it.
        chat = await uow(lambda s: resolve_chat_session(session=s, token=opened.token, now=now))
        if chat is not None:
            await _open_menu_flow(uow, web, chat, BOOK.id)
    elif voice is not None:
        chat = await uow(lambda s: resolve_chat_session(session=s, token=opened.token, now=now))
        if chat is not None:
            await _open_student_voice(uow, web, chat, voice)
    return response


async def _open_student_voice(uow: UnitOfWork, web: Web, chat: ChatSession, referral: int) -> None:
    """Open the student's help question (`services.conversations.voice_chat`), or say why not."""
    catalog = web.catalog(chat.person.language)
    try:
        turn = await uow(
            lambda s: open_student_voice(
                session=s, person=chat.person, referral_id=referral, now=web.now()
            )
        )
    except (NotAllowed, InvalidTransition) as refusal:
        await _flash(uow, chat, [_notice(refusal.reason)], catalog)
        return
    await _flash(uow, chat, turn.replies, catalog)


async def _open_menu_flow(uow: UnitOfWork, web: Web, chat: ChatSession, flow_id: str) -> None:
    """Start ``flow_id`` if the person's menu has it (else the chat shows its menu)."""
    catalog = web.catalog(chat.person.language)
    menu = _Menu(
        await uow(lambda s: chat_menu(session=s, chat=chat, now=web.now())), item_flows(chat)
    )
    if flow_id not in allowed_flow_ids(menu.entries):
        return
    try:
        turn = await uow(
            lambda s: open_flow(session=s, person=chat.person, flow_id=flow_id, now=web.now())
        )
    except NotAllowed as refusal:
        await _flash(uow, chat, [_notice(refusal.reason)], catalog)
        return
    await _flash(uow, chat, turn.replies, catalog)


async def _link_problem(
    request: Request, web: Web, uow: UnitOfWork, invalid: ChatLinkInvalid
) -> Response:
    """Why a link cannot be opened; or, when this browser's chat is already the link's
    person's (a used or expired link tapped again), that chat. Another person's chat only
    adds "Back to the chat" (to their own): nothing about the link's person is said."""
    chat = await request_chat(request, web, uow)
    own = chat is not None and invalid.person_id == chat.person.id
    if own and invalid.problem in (LinkProblem.USED, LinkProblem.EXPIRED):
        log.info("web chat link %s: back to this browser's chat", invalid.problem.value)
        return RedirectResponse(BACK_TO_CHAT, status_code=303)
    status = 404 if invalid.problem is LinkProblem.UNKNOWN else 410
    log.info("web chat link refused: %s", invalid.problem.value)
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=status,
        language=invalid.language,
        message=LINK_PROBLEMS[invalid.problem],
        thanks=invalid.problem is LinkProblem.ANSWERED,
        back=chat is not None,
    )


# -- the chat --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Menu:
    entries: list[MenuEntry]
    #: Flows started from an item's button (Move / Cancel), not from the menu.
    items: frozenset[str] = frozenset()

    @property
    def allowed(self) -> frozenset[str]:
        return allowed_flow_ids(self.entries) | self.items

    def entry(self, key: str) -> MenuEntry | None:
        return next((e for e in self.entries if e.key == key), None)


async def chat_page(request: Request, web: WebDep, uow: UnitOfWorkDep) -> Response:
    """The chat: earlier answers, what the last action answered, the current question."""
    now = web.now()
    chat = await request_chat(request, web, uow, take_flash=True)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    menu = _Menu(await uow(lambda s: chat_menu(session=s, chat=chat, now=now)), item_flows(chat))
    current = await uow(
        lambda s: current_conversation(session=s, chat=chat, allowed=menu.allowed, now=now)
    )
    flash = chat.flash or Flash()
    question = history = None
    if current is not None:
        question = render_question(current.flow, current.question, catalog)
        history = transcript(current.flow, current.state, current.context, catalog)
    others = [e for e in menu.entries if current is None or e.flow_id != current.flow.id]
    to_answer: list[tuple[str, str]] = []
    if chat.survey_invitation_id is None:
        # A mentor's intakes still waiting for their answer (what the e-mails asked).
        waiting = await uow(lambda s: open_intake_questions(session=s, mentor=chat.person, now=now))
        to_answer = [
            (
                f"{CHAT_PATH}/{ChatTarget.INTAKE_CONFIRM.value}/{view.appointment_id}",
                catalog.render(
                    appointment_text(view.kind.value, view.starts_at, view.student_name)
                ),
            )
            for view in waiting
        ]
    page = render_page(
        request,
        "chat/chat.html",
        staff=None,
        language=catalog.language,
        chat_csrf=chat.csrf_token,
        csrf_field=CSRF_FIELD,
        flow_title=Text.of(current.flow.title) if current is not None else None,
        history=history or (),
        messages=flash.messages,
        draft=flash.draft or "",
        question=question,
        menu=[(entry.key, entry.title) for entry in others],
        to_answer=to_answer,
        appointments=chat.survey_invitation_id is None
        and any(chat.person.has_role(role) for role in _HAVE_APPOINTMENTS),
        about=chat.survey_invitation_id is None and may_read_about(chat.person),
        scoped=chat.survey_invitation_id is not None,
        # An adult student who has not answered about their parents' access: why the first
        # entry is there (as the Telegram menu says it).
        menu_note=(
            Text.of(PARENTS_MENU_NOTE)
            if chat.survey_invitation_id is None and must_ask(chat.person, school_today(now))
            else None
        ),
        chat_languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )
    # Sliding: the cookie's week starts again with every view, as the session's end does.
    _set_chat_cookies(page, web, request.cookies.get(CHAT_COOKIE, ""))
    return page


async def intake_report_page(
    request: Request, web: WebDep, uow: UnitOfWorkDep, trajectory_id: int
) -> Response:
    """The intake report for the student, a parent or a mentor (the e-mail's link leads here:
    what Telegram shows after the notice's button). The service checks the reader and audits."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    person_id = chat.person.id
    if chat.survey_invitation_id is not None:
        # A questionnaire link's session is for that questionnaire only.
        refused: Text = Text.of(REPORT_NOT_HERE)
    else:

        async def read(session: AsyncSession) -> list[str]:
            view = await intake_report_for_reader(
                session=session, reader=chat.person, trajectory_id=trajectory_id, now=web.now()
            )
            # Rendered while the session is open: the report's parts are read lazily.
            return [catalog.render(line) for line in report_lines(view)]

        try:
            lines = await uow(read)
        except NotAllowed as not_allowed:
            refused = not_allowed.reason
        else:
            return render_page(
                request,
                "chat/intake_report.html",
                staff=None,
                language=catalog.language,
                lines=lines,
            )
    log.info("web chat intake report %s refused (person %s)", trajectory_id, person_id)
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=404,
        language=catalog.language,
        message=refused,
        thanks=False,
        back=True,
    )


async def about_page(request: Request, web: WebDep, uow: UnitOfWorkDep) -> Response:
    """ "About the support room" for a student or a parent: the school's text in their
    language, else the default (the same `about_for` answer Telegram shows)."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    catalog = web.catalog(chat.person.language)
    # Read now: a refusal rolls the request's session back and expires the person.
    person_id = chat.person.id
    if chat.survey_invitation_id is None:
        try:
            view = await uow(lambda s: about_for(session=s, reader=chat.person))
        except NotAllowed:
            pass
        else:
            return render_page(
                request,
                "chat/about.html",
                staff=None,
                language=catalog.language,
                title=Text.of(ABOUT_TITLE),
                paragraphs=[catalog.render(paragraph) for paragraph in view.paragraphs],
            )
    log.info("web chat about page refused (person %s)", person_id)
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=404,
        language=catalog.language,
        message=Text.of(REPORT_NOT_HERE),
        thanks=False,
        back=True,
    )


#: Who has "My appointments" in the chat (their own, their children's, their mentees').
_HAVE_APPOINTMENTS = (Role.STUDENT, Role.PARENT, Role.MENTOR)

REPORT_NOT_HERE = N_(
    "This page is not available here. Please open the chat from the school's link."
)


async def start_flow(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    entry: Annotated[str, Form()] = "",
) -> Response:
    """Start (or resume) a flow of the menu; only an entry the server derives itself counts."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    catalog = web.catalog(chat.person.language)
    menu = _Menu(
        await uow(lambda s: chat_menu(session=s, chat=chat, now=web.now())), item_flows(chat)
    )
    chosen = menu.entry(entry)
    if chosen is None:
        log.info("web chat: menu entry refused for person %s", chat.person.id)
        await _flash(uow, chat, [_notice(BUTTON_REFUSED)], catalog)
        return _back()
    invitation = chosen.preset.get(SURVEY_INVITATION)
    if chosen.flow_id in RESPONDENT_OF_FLOW and invitation is not None:
        await _open_survey(uow, web, chat, int(invitation))
        return _back()
    flow_id = chosen.flow_id
    try:
        turn = await uow(
            lambda s: open_flow(session=s, person=chat.person, flow_id=flow_id, now=web.now())
        )
    except NotAllowed as refusal:
        await _flash(uow, chat, [_notice(refusal.reason)], catalog)
        return _back()
    await _flash(uow, chat, turn.replies, catalog)
    return _back()


async def press(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    flow: Annotated[str, Form()] = "",
    payload: Annotated[str, Form()] = "",
) -> Response:
    """A button of the current question."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    catalog = web.catalog(chat.person.language)
    event = Event.decode(payload)
    menu = _Menu(
        await uow(lambda s: chat_menu(session=s, chat=chat, now=web.now())), item_flows(chat)
    )
    if event is None or flow not in menu.allowed:
        # A forged or foreign button: refuse kindly, reveal nothing, show the current question.
        log.info("web chat: button refused for person %s", chat.person.id)
        await _flash(uow, chat, [_notice(BUTTON_REFUSED)], catalog)
        return _back()
    turn = await _advance(uow, web, chat, flow, event, catalog=catalog)
    if turn is not None:
        await _flash(uow, chat, turn.replies, catalog)
    return _back()


async def answer_text(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    flow: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    """A typed answer (free text, a date, part of a name to search)."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    catalog = web.catalog(chat.person.language)
    menu = _Menu(
        await uow(lambda s: chat_menu(session=s, chat=chat, now=web.now())), item_flows(chat)
    )
    if flow not in menu.allowed:
        log.info("web chat: typed answer refused for person %s", chat.person.id)
        await _flash(uow, chat, [_notice(BUTTON_REFUSED)], catalog, draft=text)
        return _back()
    turn = await _advance(uow, web, chat, flow, typed(text), catalog=catalog)
    if turn is not None:
        accepted = turn.finished or any(r.kind is ReplyKind.ANSWERED for r in turn.replies)
        refused = any(r.kind is ReplyKind.NOTICE for r in turn.replies)
        # A refused answer goes back into the box, so nothing typed is lost.
        draft = text if refused and not accepted else None
        await _flash(uow, chat, turn.replies, catalog, draft=draft)
    return _back()


async def choose_language(
    request: Request,
    web: WebDep,
    uow: UnitOfWorkDep,
    code: Annotated[str, Form()] = "",
) -> Response:
    """Store the person's language, as /taal does, and show the chat in it."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    if code in LANGUAGES:
        await uow(lambda s: set_chat_language(session=s, chat=chat, language=code))
        catalog = web.catalog(code)
        chosen = Text.of(N_("Language: {language} ✓"), language=Text.raw(LANGUAGE_NAMES[code]))
        await _flash(uow, chat, [_notice(chosen)], catalog)
    return _back()


async def leave_page(request: Request, web: WebDep, uow: UnitOfWorkDep) -> Response:
    """Before closing the chat on this device: what it means and how to come back (a link
    works once; only the school can give a new one), with the button that closes it."""
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    return render_page(
        request,
        "chat/leave.html",
        staff=None,
        language=web.catalog(chat.person.language).language,
        chat_csrf=chat.csrf_token,
        csrf_field=CSRF_FIELD,
        question=LEAVE_QUESTION,
        warning=LEAVE_WARNING,
        confirm=LEAVE_CONFIRM,
    )


async def leave(
    request: Request, web: WebDep, uow: UnitOfWorkDep, confirmed: Annotated[str, Form()] = ""
) -> Response:
    """Close the chat on this device (the answers stay saved), once confirmed on the page
    before (a post without the confirmation, such as an older page's, goes to that page)."""
    chat = await posted_chat(request, web, uow)
    if isinstance(chat, Response):
        return chat
    if confirmed != "yes":
        return RedirectResponse(LEAVE_PATH, status_code=303)
    token = request.cookies.get(CHAT_COOKIE, "")
    await uow(lambda s: end_chat_session(session=s, token=token, now=web.now()))
    response = render_page(
        request,
        "chat/message.html",
        staff=None,
        language=chat.person.language,
        message=LEFT,
        more=COME_BACK,
        thanks=False,
    )
    for path in _COOKIE_PATHS:
        delete_cookie(response, CHAT_COOKIE, secure=web.cookies_secure, path=path)
    return response


# -- helpers ---------------------------------------------------------------------------------


async def request_chat(
    request: Request, web: Web, uow: UnitOfWork, *, take_flash: bool = False
) -> ChatSession | None:
    token = request.cookies.get(CHAT_COOKIE)
    if not token:
        return None
    return await uow(
        lambda s: resolve_chat_session(session=s, token=token, now=web.now(), take_flash=take_flash)
    )


async def posted_chat(request: Request, web: Web, uow: UnitOfWork) -> ChatSession | Response:
    """The chat a form was posted in, or the page that refuses the post.

    Every POST of the chat needs the session cookie (401 otherwise) and the session's CSRF
    token in the form (403 otherwise).
    """
    chat = await request_chat(request, web, uow)
    if chat is None:
        return no_session_page(request)
    if not tokens_match(chat.csrf_token, await form_value(request, CSRF_FIELD)):
        return _csrf_refused(request, web, chat)
    return chat


def _csrf_refused(request: Request, web: Web, chat: ChatSession) -> Response:
    log.info("web chat form refused: CSRF token missing or wrong (person %s)", chat.person.id)
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=403,
        language=web.catalog(chat.person.language).language,
        message=CSRF_REFUSED,
        thanks=False,
        back=True,
    )


def no_session_page(request: Request) -> Response:
    """No chat in this browser: nobody is known, so the page speaks the browser's language
    (`web.pages.browser_language`), else Dutch."""
    return render_page(
        request,
        "chat/message.html",
        staff=None,
        status_code=401,
        language=page_language(request, browser_language(request)),
        message=NO_SESSION,
        thanks=False,
    )


def _set_chat_cookies(response: Response, web: Web, token: str) -> None:
    """The session's cookie, for the chat and for the personal links."""
    for path in _COOKIE_PATHS:
        set_cookie(
            response,
            CHAT_COOKIE,
            token,
            secure=web.cookies_secure,
            max_age=int(WEB_CHAT_TTL.total_seconds()),
            path=path,
        )


def _back() -> Response:
    return RedirectResponse(BACK_TO_CHAT, status_code=303)


def _notice(text: Text) -> Reply:
    return Reply(ReplyKind.NOTICE, (text,))


async def _flash(
    uow: UnitOfWork,
    chat: ChatSession,
    replies: tuple[Reply, ...] | list[Reply],
    catalog: Catalog,
    *,
    draft: str | None = None,
) -> None:
    messages = tuple((b.kind, b.text) for b in render_messages(replies, catalog))
    flash = Flash(messages, draft)
    await uow(lambda s: set_flash(session=s, session_id=chat.session_id, flash=flash))


async def _open_survey(uow: UnitOfWork, web: Web, chat: ChatSession, invitation: int) -> None:
    catalog = web.catalog(chat.person.language)
    try:
        # A refusal commits first: a run that can no longer be sent stays ended.
        turn = await uow(
            lambda s: open_survey(
                session=s, person=chat.person, invitation_id=invitation, now=web.now()
            ),
            commit_on=SURVEY_REFUSALS,
        )
    except SurveyUnavailable as unavailable:
        await _flash(uow, chat, [_notice(unavailable.reason)], catalog)
        return
    await _flash(uow, chat, turn.replies, catalog)


async def _advance(
    uow: UnitOfWork,
    web: Web,
    chat: ChatSession,
    flow_id: str,
    event: Event,
    *,
    catalog: Catalog,
) -> Turn | None:
    """Apply one event (one retry when another request of this person committed first)."""
    try:
        get_flow(flow_id)
    except KeyError:
        await _flash(uow, chat, [_notice(BUTTON_REFUSED)], catalog)
        return None
    for attempt in (1, 2):
        try:
            # One unit of work per try: a lost race rolls back whole before the next.
            return await uow(
                lambda s: handle_event(
                    session=s, person=chat.person, flow_id=flow_id, event=event, now=web.now()
                )
            )
        except NotAllowed:
            log.info("web chat: flow %s refused for person %s", flow_id, chat.person.id)
            await _flash(uow, chat, [_notice(BUTTON_REFUSED)], catalog)
            return None
        except ConcurrentUpdateError:
            if attempt == 2:
                # Two presses at once: the other one counted; show the question as it is now.
                return await uow(
                    lambda s: handle_event(
                        session=s,
                        person=chat.person,
                        flow_id=flow_id,
                        event=Event(Action.RESUME),
                        now=web.now(),
                    )
                )
    return None


def build_router() -> APIRouter:
    """A fresh router with the personal links and the chat."""
    router = APIRouter()
    router.add_api_route("/c/{token}", link_page, methods=["GET"])
    router.add_api_route(
        "/c/{token}", open_link, methods=["POST"], dependencies=[FormCsrfProtected]
    )
    router.add_api_route(CHAT_PATH, chat_page, methods=["GET"])
    router.add_api_route(
        f"{INTAKE_REPORT_PATH}/{{trajectory_id:int}}", intake_report_page, methods=["GET"]
    )
    router.add_api_route(f"{CHAT_PATH}/about", about_page, methods=["GET"])
    router.add_api_route(f"{CHAT_PATH}/start", start_flow, methods=["POST"])
    router.add_api_route(f"{CHAT_PATH}/press", press, methods=["POST"])
    router.add_api_route(f"{CHAT_PATH}/text", answer_text, methods=["POST"])
    router.add_api_route(f"{CHAT_PATH}/language", choose_language, methods=["POST"])
    router.add_api_route(LEAVE_PATH, leave_page, methods=["GET"])
    router.add_api_route(LEAVE_PATH, leave, methods=["POST"])
    return router
