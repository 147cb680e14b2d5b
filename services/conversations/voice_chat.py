"""Opening the student's own help question in a chat (the notice's button, the web chat link).

The question runs as an ordinary flow (`dialogs.flows.student_voice`) with the referral as its
preset. `open_student_voice` checks the referral first, also when a run is resumed (the runtime
checks a preset only for a new run): another student's referral, an unknown id or one already
answered is refused with the reason. Runs inside the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.student_voice import REFERRAL, STUDENT_VOICE
from services.conversations.runtime import Turn, open_flow
from services.referrals.student_voice import pending_referral
from storage.models import Person


async def open_student_voice(
    *, session: AsyncSession, person: Person, referral_id: int, now: datetime
) -> Turn:
    """Start or resume the student's help question about ``referral_id``.

    `NotAllowed` unless ``person`` is the referral's student and was asked;
    `InvalidTransition` when they answered already.
    """
    await pending_referral(session=session, person=person, referral_id=referral_id)
    return await open_flow(
        session=session,
        person=person,
        flow_id=STUDENT_VOICE.id,
        now=now,
        preset={REFERRAL: str(referral_id)},
    )
