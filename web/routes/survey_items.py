"""An exit questionnaire's result in the queue (issue 14): the answers on the web, and "Read".

The page shows who answered, about whom, and every question of the respondent's questionnaire
in the reader's language with the answer given (the 1–5 scale or "don't know", or the free
text as written, with the language it was written in). Opening the page only reads
(`services.surveys.results.open_survey_result` with ``resolve`` false; audited
``survey.view``); the button "I have read the answers" resolves the item the way reading in
the chat does (`services.surveys.results.mark_survey_read`: system action ``survey_read``,
audited ``queue.resolve``) and goes on to the next open item of the queue's view. Care
coordinators of the item's school only: another school's item and an unknown id give the same
404.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import Response

from dialogs.flows.exit_survey import QUESTIONS, RESPONDENT_LABELS, scale_label
from dialogs.text import N_, Text
from services.kernel.errors import InvalidTransition, NotAllowed
from services.queue.rules import QueueAction, allowed_actions
from services.surveys.results import SurveyResultView, mark_survey_read, open_survey_result
from storage.models import QueueKind
from web import labels
from web.deps import CoordinatorDep, CsrfProtected, Staff, UnitOfWork, UnitOfWorkDep, WebDep
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import page_language, render_page
from web.queue_view import handled_next, next_or, page_view

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()

#: The page of a questionnaire result (`web.routes.queue.ITEM_PATHS` links the queue here).
PATH = "/queue/questionnaires/{id}"
DONE = {"read": N_("Marked as read. The item is closed.")}


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One question with its answer, as the page shows it."""

    code: str
    question: Text
    #: The scale answer ("4 · Agree", "Don't know"), or ``None`` for free text / no answer.
    scale: Text | None
    #: The free text as written, and the name of the language it was written in.
    text: str | None
    text_language: str | None
    answered: bool


def _language_name(code: str | None, language: str) -> str | None:
    if not code:
        return None
    try:
        return Locale.parse(code).get_display_name(Locale.parse(language)) or code
    except (ValueError, UnknownLocaleError):
        return code


def answer_rows(view: SurveyResultView, language: str) -> list[AnswerRow]:
    """Every question of the respondent's questionnaire with its answer; answers to questions
    of another version come last, with their codes."""
    given = {answer.code: answer for answer in view.answers}
    rows: list[AnswerRow] = []
    questions = QUESTIONS.get(view.respondent_type.value, ())
    for question in questions:
        answer = given.get(question.code)
        text = None if answer is None else answer.text
        rows.append(
            AnswerRow(
                code=question.code,
                question=Text.of(question.text),
                scale=None
                if answer is None or text is not None
                else scale_label(answer.value or ""),
                text=text,
                text_language=None
                if answer is None
                else _language_name(answer.text_language, language),
                answered=answer is not None,
            )
        )
    known = {question.code for question in questions}
    for code in sorted(set(given) - known):
        extra = given[code]
        rows.append(
            AnswerRow(
                code=code,
                question=Text.raw(code),
                scale=None if extra.text is not None else scale_label(extra.value or ""),
                text=extra.text,
                text_language=_language_name(extra.text_language, language),
                answered=True,
            )
        )
    return rows


async def _page(
    request: Request,
    *,
    now: datetime,
    staff: Staff,
    uow: UnitOfWork,
    item_id: int,
    status_code: int = 200,
    error: Text | None = None,
    done: str = "",
) -> Response:
    try:
        view = await uow(
            lambda session: open_survey_result(
                session=session,
                viewer=staff.person,
                queue_item_id=item_id,
                now=now,
                resolve=False,
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    queue_view = await page_view(request)
    language = page_language(request, staff.person.language)
    return render_page(
        request,
        "survey_item.html",
        staff=staff,
        status_code=status_code,
        view=view,
        respondent=Text.of(RESPONDENT_LABELS.get(view.respondent_type.value, N_("respondent"))),
        answered_in=_language_name(view.language, language),
        rows=answer_rows(view, language),
        # The rule both channels render: an open result offers its one human action (Telegram:
        # "Mark as handled"; here "I have read the answers", which resolves it as read).
        can_read=QueueAction.CLOSE
        in allowed_actions(kind=QueueKind.EXIT_SURVEY, status=view.status),
        error=error,
        done=Text.of(DONE[done]) if done in DONE else handled_next(request),
        queue_view=None if queue_view is None else queue_view.query(),
        labels=labels,
    )


async def survey_item_page(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    done: str = "",
) -> Response:
    """The questionnaire's answers, and "I have read the answers" while the item is open."""
    return await _page(request, now=web.now(), staff=staff, uow=uow, item_id=item_id, done=done)


async def read(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """The answers are read: the item resolves (as reading them in the chat does), then on to
    the next open item of the queue's view."""
    now = web.now()
    try:
        await uow(
            lambda session: mark_survey_read(
                session=session, actor=staff.person, queue_item_id=item_id, now=now
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InvalidTransition as refused:
        log.info("survey item %s: read refused for person %s", item_id, staff.person.id)
        return await _page(
            request,
            now=now,
            staff=staff,
            uow=uow,
            item_id=item_id,
            status_code=409,
            error=refused.reason,
        )
    return await next_or(request, item_id, f"{PATH.format(id=item_id)}?done=read")


def build_router() -> APIRouter:
    """A fresh router with the questionnaire result page and its "read" action."""
    router = APIRouter()
    page = PATH.replace("{id}", "{item_id:int}")
    router.add_api_route(page, survey_item_page, methods=["GET"])
    router.add_api_route(f"{page}/read", read, methods=["POST"], dependencies=[CsrfProtected])
    return router
