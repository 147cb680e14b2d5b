"""The student's own help question (issue 15): asked once in the chat, kept beside the mentor's.

`ask_student_voice` writes the question to the outbox (kind ``referral.student_voice``; the
worker picks the channel: Telegram, or e-mail with a web chat link), once per referral: after
acceptance (`services.referrals.decisions`) or at once when the mentor chose so in the referral.
`pending_referral` is the one check behind the button, the link, the flow's start and its
save: the presser is the referral's student, was asked, and has not answered yet.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.student_voice import OWN_WORDS_MAX, OWN_WORDS_MIN
from dialogs.text import N_, Text
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text, validate_text
from services.outbox.kinds import OutboxKind
from storage.models import Outbox, Person, Referral, Role

log = logging.getLogger(__name__)

STUDENT_VOICE_ASK = OutboxKind.STUDENT_VOICE_ASK
NOT_AVAILABLE = N_("This question is not available to you.")
ALREADY_ANSWERED = N_("You have already given your help question. Thank you!")


async def ask_student_voice(*, session: AsyncSession, referral: Referral, now: datetime) -> bool:
    """Ask the referral's student for their help question, unless already asked (returns
    whether a question was written). An operation in the caller's transaction."""
    if referral.student_voice_asked_at is not None:
        return False
    referral.student_voice_asked_at = now
    session.add(
        Outbox(
            school_id=referral.school_id,
            recipient_id=referral.student_id,
            kind=OutboxKind.STUDENT_VOICE_ASK,
            # Ids only: the question is shown in the chat, after the student is identified.
            payload={"referral_id": referral.id},
            dedup_key=f"{STUDENT_VOICE_ASK}:{referral.id}:{referral.student_id}",
            next_attempt_at=now,
            created_at=now,
        )
    )
    await session.flush()
    log.info("student voice asked: referral_id=%s", referral.id)
    return True


async def pending_referral(*, session: AsyncSession, person: Person, referral_id: int) -> Referral:
    """The referral whose student ``person`` is and who was asked and has not answered yet.

    `NotAllowed` for anyone else (another student's, an unknown id, not asked);
    `InvalidTransition` when answered already.
    """
    person = await require_role(session=session, actor=person, role=Role.STUDENT)
    referral = await session.scalar(
        select(Referral)
        .where(
            Referral.id == referral_id,
            Referral.school_id == person.school_id,
            Referral.student_id == person.id,
            Referral.student_voice_asked_at.is_not(None),
        )
        .execution_options(populate_existing=True)
    )
    if referral is None:
        log.info("student voice refused: referral_id=%s person_id=%s", referral_id, person.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    if referral.student_voice is not None:
        raise InvalidTransition(Text.of(ALREADY_ANSWERED))
    return referral


async def save_student_voice(
    *, session: AsyncSession, person: Person, referral_id: int, text: str, now: datetime
) -> None:
    """Keep the student's own words (cleaned, 5–1,000 characters) in their language; audited.

    The mentor's description (``help_question_student``) is kept as it was.
    """
    referral = await pending_referral(session=session, person=person, referral_id=referral_id)
    problem = validate_text(text, OWN_WORDS_MIN, OWN_WORDS_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    referral.student_voice = clean_text(text)
    referral.student_voice_language = person.language
    referral.student_voice_at = now
    record_audit(
        session=session,
        school_id=referral.school_id,
        actor_id=person.id,
        action="referral.student_voice",
        subject_type="referral",
        subject_id=referral.id,
        at=now,
    )
    await session.flush()
