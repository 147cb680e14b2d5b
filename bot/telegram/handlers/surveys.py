"""The exit questionnaire in chat: respondents open it from its invitation; the care coordinator
reads a completed one from the queue, and reading it resolves its queue item (issue 11).

Buttons carry ids only. Storage checks every press against the person who made it: only the
invitation's own respondent opens it, and only while it is unused and not expired; only a care
coordinator of the school reads a result.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from babel import Locale, UnknownLocaleError

from bot.app import App
from bot.telegram.callbacks import MenuCallback, SurveyCallback, SurveyItemCallback
from bot.telegram.handlers.care import STATUS, next_item_row, with_next
from bot.telegram.handlers.flows import show_turn
from bot.telegram.handlers.menu import OPEN_FLOW
from dialogs.flows.exit_survey import QUESTIONS, RESPONDENT_LABELS, RESPONDENT_OF_FLOW, scale_label
from dialogs.i18n import SCHOOL_TIMEZONE, Catalog
from dialogs.text import N_, Text
from services.conversations.runtime import Turn
from services.conversations.survey_chat import SURVEY_REFUSALS, open_survey, resume_survey
from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.rules import QueueAction, allowed_actions
from services.surveys.invitations import SurveyUnavailable
from services.surveys.results import SurveyResultView, close_survey_item, open_survey_result
from storage.models import Person, QueueKind

log = logging.getLogger(__name__)

OPEN, CLOSE = "open", "close"


async def on_survey(
    query: CallbackQuery,
    *,
    callback_data: SurveyCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """The invitation's button: start or resume this person's questionnaire."""
    await _show_survey(
        query,
        bot=bot,
        app=app,
        person=person,
        catalog=catalog,
        step="open",
        start=partial(open_survey, invitation_id=callback_data.invitation),
    )


async def on_survey_continue(
    query: CallbackQuery,
    *,
    callback_data: MenuCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """The menu's "Continue" for a questionnaire: its invitation is checked again first."""
    await _show_survey(
        query,
        bot=bot,
        app=app,
        person=person,
        catalog=catalog,
        step="resume",
        start=partial(resume_survey, flow_id=callback_data.value),
    )


async def _show_survey(
    query: CallbackQuery,
    *,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
    step: str,
    start: Callable[..., Awaitable[Turn]],
) -> None:
    """Open or resume the questionnaire and show its question; a refusal (used, expired, not
    this person's) is said in the chat. ``start`` gets the session, the person and the time."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id
    try:
        # A refusal commits first: a run that can no longer be sent stays ended.
        turn = await run_unit_of_work(
            app.sessions,
            lambda session: start(session=session, person=person, now=datetime.now(UTC)),
            commit_on=SURVEY_REFUSALS,
        )
    except (SurveyUnavailable, NotAllowed) as refusal:
        log.info("survey %s refused for person %s", step, person.id)
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    await show_turn(bot, chat_id, turn, catalog)


def _language_name(code: str | None, catalog: Catalog) -> str:
    if not code:
        return "?"
    try:
        return Locale.parse(code).get_display_name(catalog.locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def result_text(view: SurveyResultView, catalog: Catalog) -> str:
    """A completed questionnaire as the care coordinator reads it, in their language.

    Statements and scale answers are in the reader's language; free text is shown as the
    respondent wrote it, with the language it was written in.
    """
    respondent = Text.of(RESPONDENT_LABELS.get(view.respondent_type.value, N_("respondent")))
    student = f"{view.student_name} ({view.group_name})" if view.group_name else view.student_name
    header = Text.of(
        N_("Exit questionnaire #{number} · {status}"),
        number=Text.raw(str(view.queue_item_id)),
        status=Text.of(STATUS[view.status]),
    )
    who = (
        [
            # No name and no student: the respondent chose to answer anonymously; the day only.
            Text.of(N_("Answered anonymously by a {respondent}"), respondent=respondent),
            Text.of(
                N_("Answered on: {date}"), date=view.completed_at.astimezone(SCHOOL_TIMEZONE).date()
            ),
        ]
        if view.anonymous
        else [
            Text.of(
                N_("Answered by: {name} ({respondent})"),
                name=Text.raw(view.respondent_name),
                respondent=respondent,
            ),
            Text.of(N_("About: {name}"), name=Text.raw(student)),
            Text.of(N_("Answered on: {date}"), date=view.completed_at),
        ]
    )
    lines = [
        header,
        *who,
        Text.of(
            N_("Version {version}, answered in {language}"),
            version=Text.raw(str(view.version)),
            language=Text.raw(_language_name(view.language, catalog)),
        ),
    ]
    given = {answer.code: answer for answer in view.answers}
    known = {q.code for q in QUESTIONS.get(view.respondent_type.value, ())}
    for question in QUESTIONS.get(view.respondent_type.value, ()):
        lines.append(
            Text.of(
                N_("{code} · {question}"),
                code=Text.raw(question.code),
                question=Text.of(question.text),
            )
        )
        answer = given.get(question.code)
        if answer is None:
            lines.append(Text.of(N_("→ (no answer)")))
        elif answer.text is not None:
            lines.append(
                Text.of(
                    N_("→ “{text}” (written in {language})"),
                    text=Text.raw(answer.text),
                    language=Text.raw(_language_name(answer.text_language, catalog)),
                )
            )
        else:
            lines.append(Text.of(N_("→ {answer}"), answer=scale_label(answer.value or "")))
    for code in sorted(set(given) - known):  # answers of another version's questions
        extra = given[code]
        shown = extra.text if extra.text is not None else (extra.value or "")
        lines.append(Text.raw(f"{code}: {shown}"))
    return "\n".join(catalog.render(line) for line in lines)


def result_actions(view: SurveyResultView, catalog: Catalog) -> InlineKeyboardMarkup | None:
    """ "Mark as handled" while the result is open; nothing once it is closed (the rule of
    `services.queue.rules.allowed_actions`, which the service enforces)."""
    if QueueAction.CLOSE not in allowed_actions(kind=QueueKind.EXIT_SURVEY, status=view.status):
        return None
    data = SurveyItemCallback(action=CLOSE, item=view.queue_item_id).pack()
    label = catalog.render(Text.of(N_("Mark as handled")))
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )


async def on_survey_item(
    query: CallbackQuery,
    *,
    callback_data: SurveyItemCallback,
    bot: Bot,
    app: App,
    person: Person | None,
    catalog: Catalog,
) -> None:
    """Open a completed questionnaire from the queue (which resolves its item), or mark it
    handled (an old card's button); then show it."""
    await query.answer()
    if person is None or query.message is None:
        return
    chat_id = query.message.chat.id
    try:
        if callback_data.action == CLOSE:
            await run_unit_of_work(
                app.sessions,
                lambda session: close_survey_item(
                    session=session,
                    actor=person,
                    queue_item_id=callback_data.item,
                    now=datetime.now(UTC),
                ),
            )
        view = await run_unit_of_work(
            app.sessions,
            # Reading the answers resolves the item (its step is done): shown closed.
            lambda session: open_survey_result(
                session=session,
                viewer=person,
                queue_item_id=callback_data.item,
                now=datetime.now(UTC),
            ),
        )
        # Read means handled: on to the next open item, not back to the top of the queue.
        following = await next_item_row(app, person, callback_data.item, catalog)
    except (NotAllowed, InvalidTransition) as refusal:
        log.info("survey item %s refused for person %s", callback_data.action, person.id)
        await bot.send_message(chat_id, catalog.render(refusal.reason))
        return
    await bot.send_message(
        chat_id,
        result_text(view, catalog),
        reply_markup=with_next(result_actions(view, catalog), following),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher).

    It comes before the flows router: the menu's "Continue" of a questionnaire lands here, so
    its invitation is checked again before the flow resumes.
    """
    router = Router(name=__name__)
    router.callback_query.register(on_survey, SurveyCallback.filter())
    router.callback_query.register(
        on_survey_continue,
        MenuCallback.filter((F.action == OPEN_FLOW) & F.value.in_(set(RESPONDENT_OF_FLOW))),
    )
    router.callback_query.register(on_survey_item, SurveyItemCallback.filter())
    return router
