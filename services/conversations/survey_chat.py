"""Opening the exit questionnaire in a chat (Telegram now, the web chat of issue 6 later).

The questionnaire runs as an ordinary flow in `services.conversations.runtime` (state saved per
answer, so a respondent who stops halfway continues at the next question), with the invitation
as its preset. These two functions check the invitation first, so a used or expired one is
answered kindly instead of starting a flow that could never be sent.

Both run inside the caller's unit of work. A refusal (`SurveyUnavailable`) may have ended a
run that can never be sent, and that must stay ended: callers begin them with
``run_unit_of_work(..., commit_on=(SurveyUnavailable,))`` (`SURVEY_REFUSALS`), which commits
before the refusal goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.exit_survey import RESPONDENT_OF_FLOW, SURVEY_FLOWS, SURVEY_INVITATION
from dialogs.replies import Reply, ReplyKind
from dialogs.state import DialogState, Status
from dialogs.text import N_, Text
from services.conversations.runtime import Turn, open_flow
from services.kernel.ids import parse_id
from services.surveys.invitations import (
    OpenInvitation,
    SurveyUnavailable,
    SurveyUnavailableReason,
    open_invitations,
    usable_invitation,
)
from storage.models import Conversation, ConversationStatus, Person, SurveyInvitation

log = logging.getLogger(__name__)

__all__ = ["SURVEY_REFUSALS", "invitations_to_offer", "open_survey", "resume_survey"]

#: What `open_survey` / `resume_survey` raise after changes that must be committed.
SURVEY_REFUSALS: tuple[type[Exception], ...] = (SurveyUnavailable,)


async def invitations_to_offer(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[OpenInvitation]:
    """The person's open invitations minus those they are answering now (a query).

    A menu offers these; the one in progress is offered as "Continue" already.
    """
    busy = {
        parse_id(DialogState.from_json(state).answers.get(SURVEY_INVITATION))
        for state in await session.scalars(_answering_query(), {"person_id": person.id})
    }
    offered = await open_invitations(session=session, person=person, now=now)
    return [invitation for invitation in offered if invitation.invitation_id not in busy]


@cache
def _answering_query() -> Select[dict[str, Any]]:
    """The states of the person's questionnaire runs in progress (built once per process: every
    menu reads it). Only the state: no conversation object is loaded for it."""
    return select(Conversation.state).where(
        Conversation.person_id == bindparam("person_id"),
        Conversation.flow.in_(list(RESPONDENT_OF_FLOW)),
        Conversation.status == ConversationStatus.ACTIVE,
    )


async def open_survey(
    *, session: AsyncSession, person: Person, invitation_id: int, now: datetime
) -> Turn:
    """Start or resume the questionnaire of one invitation for its respondent.

    Raises `SurveyUnavailable` (``unknown`` for someone else's or a missing invitation,
    ``used``, ``expired``; its ``reason`` is the kind sentence to show). A run of this
    questionnaire that the person left halfway for *another* invitation that is still open is
    resumed first, with a word of explanation, so no answers are lost.
    """
    other: int | None = None
    checked = await _check(session, person, invitation_id, now)
    if isinstance(checked, SurveyUnavailable):
        # The caller's unit of work commits on it (`SURVEY_REFUSALS`): a run that can no
        # longer be sent stays ended.
        raise checked
    flow_id, active_id = checked
    if active_id is not None and active_id != invitation_id:
        try:
            await usable_invitation(
                session=session, person=person, invitation_id=active_id, now=now
            )
            other = active_id
        except SurveyUnavailable:
            other = None  # the old run can never be sent: the new one replaces it
    chosen = other if other is not None else invitation_id
    turn = await open_flow(
        session=session,
        person=person,
        flow_id=flow_id,
        now=now,
        preset={SURVEY_INVITATION: str(chosen)},
    )
    if other is None:
        return turn
    first = Text.of(
        N_(
            "You started another questionnaire earlier. Please finish that one first; "
            "then open this one again."
        )
    )
    return Turn(turn.flow, turn.state, (Reply(ReplyKind.NOTICE, (first,)), *turn.replies))


async def resume_survey(
    *, session: AsyncSession, person: Person, flow_id: str, now: datetime
) -> Turn:
    """Continue the person's unfinished questionnaire in ``flow_id`` (the menu's "Continue").

    Its invitation is checked again: if it was answered meanwhile (say, on the web) or has
    expired, the unfinished run is ended and `SurveyUnavailable` says why.
    """
    if flow_id not in RESPONDENT_OF_FLOW:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    row = await _active_run(session, person, flow_id)
    invitation_id = _preset_of(row)
    if invitation_id is None:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    return await open_survey(session=session, person=person, invitation_id=invitation_id, now=now)


async def _check(
    session: AsyncSession, person: Person, invitation_id: int, now: datetime
) -> tuple[str, int | None] | SurveyUnavailable:
    """The invitation's flow id and the invitation of the person's active run of that flow.

    When the invitation cannot be answered, the refusal is returned (the caller raises it,
    and its unit of work commits) and an active run about it is ended, so the menu stops
    offering to continue it.
    """
    invitation = await session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.id == invitation_id,
            SurveyInvitation.respondent_id == person.id,
            SurveyInvitation.school_id == person.school_id,
        )
    )
    if invitation is None:
        log.info("refused: survey invitation_id=%s for person_id=%s", invitation_id, person.id)
        return SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    flow_id = SURVEY_FLOWS[invitation.respondent_type.value].id
    row = await _active_run(session, person, flow_id)
    active_id = _preset_of(row)
    try:
        await usable_invitation(
            session=session, person=person, invitation_id=invitation_id, now=now
        )
    except SurveyUnavailable as refusal:
        if row is not None and active_id == invitation_id:
            _end(row)
            log.info("survey run of invitation_id=%s ended: no longer open", invitation_id)
        return refusal
    return flow_id, active_id


async def _active_run(session: AsyncSession, person: Person, flow_id: str) -> Conversation | None:
    row: Conversation | None = await session.scalar(
        select(Conversation).where(
            Conversation.person_id == person.id,
            Conversation.flow == flow_id,
            Conversation.status == ConversationStatus.ACTIVE,
        )
    )
    return row


def _preset_of(row: Conversation | None) -> int | None:
    if row is None:
        return None
    value = DialogState.from_json(row.state).answers.get(SURVEY_INVITATION)
    return parse_id(value)


def _end(row: Conversation) -> None:
    state = DialogState.from_json(row.state)
    ended = state.evolve(status=Status.CANCELLED, step=None, version=state.version + 1)
    row.state = ended.to_json()
    row.step = None
    row.status = ConversationStatus.CANCELLED
