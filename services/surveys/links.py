"""Personal links to the exit questionnaire, for respondents without Telegram (the web chat,
issue 6): a care coordinator issues one, the web chat opens the questionnaire from it.

Only the token's SHA-256 is stored. Services here take a session already in a transaction
and never begin one.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.surveys.invitations import (
    NOT_AVAILABLE,
    SurveyUnavailable,
    SurveyUnavailableReason,
    check_usable,
)
from storage.models import Person, Role, SurveyInvitation

log = logging.getLogger(__name__)

#: Longer than any token `issue_survey_link` makes; longer input is not even hashed.
_TOKEN_MAX = 200

__all__ = ["SurveyLink", "issue_survey_link", "redeem_survey_token"]


@dataclass(frozen=True, slots=True)
class SurveyLink:
    """What a personal link opens: the invitation and the person who may answer it."""

    invitation: SurveyInvitation
    respondent: Person


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_survey_link(
    *, session: AsyncSession, actor: Person, invitation_id: int, now: datetime
) -> str:
    """A new personal token for an invitation (care coordinator of its school).

    For respondents without Telegram: the web chat opens the questionnaire from this token.
    Only its SHA-256 is stored, so the returned value is the one chance to hand it out; a new
    link replaces the previous one. `NotAllowed` for another school's or an unknown
    invitation, `SurveyUnavailable` when it was answered or has expired.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    invitation = await session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id, SurveyInvitation.school_id == actor.school_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        log.info("refused: survey link for invitation_id=%s by %s", invitation_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    check_usable(invitation, now)
    token = secrets.token_urlsafe(24)
    invitation.token_hash = _hash(token)
    invitation.token_issued_at = now
    record_audit(
        session=session,
        school_id=invitation.school_id,
        actor_id=actor.id,
        action="survey.link",
        subject_type="survey_invitation",
        subject_id=invitation.id,
        at=now,
    )
    await session.flush()
    log.info("survey link issued for invitation_id=%s by person_id=%s", invitation.id, actor.id)
    return token


async def redeem_survey_token(*, session: AsyncSession, token: str, now: datetime) -> SurveyLink:
    """The invitation and respondent a personal link opens (`SurveyUnavailable`).

    The link is not used up by opening it: only completing the questionnaire uses the
    invitation, so a respondent can stop halfway and come back with the same link.
    """
    if not token or len(token) > _TOKEN_MAX:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    invitation = await session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.token_hash == _hash(token))
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    check_usable(invitation, now)
    respondent = await session.get(Person, invitation.respondent_id)
    if respondent is None:  # pragma: no cover - the foreign key cascades
        raise SurveyUnavailable(SurveyUnavailableReason.UNKNOWN)
    return SurveyLink(invitation=invitation, respondent=respondent)
