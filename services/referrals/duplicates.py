"""What a mentor is told about their mentees' open referrals and trajectories (issue 11,
item 5): the warning when they pick a student for a new referral.

Only the mentor's own mentees (the same students the flow offers), and of each open referral
only that it exists, its date and its stage in plain words: never its content, nor which
mentor sent it (it may be another mentor's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SCHOOL_TIMEZONE
from services.accounts.people import mentees_of
from services.kernel.access import reload_actor
from services.kernel.uow import update_cache
from services.queue.duplicates import StudentCase, cases_of_students
from services.referrals.rules import ReferralStage, referral_stage
from storage.models import Person
from storage.versions import wrote_cases


@dataclass(frozen=True, slots=True)
class OpenReferral:
    """One open referral (or the running trajectory it led to) of a mentee."""

    student_id: int
    #: The day the referral was sent (school time).
    sent_on: date
    stage: ReferralStage


def open_referral_of(case: StudentCase) -> OpenReferral:
    """A student's open case as the mentor may see it: date and stage only."""
    return OpenReferral(
        student_id=case.student_id,
        sent_on=case.sent_at.astimezone(SCHOOL_TIMEZONE).date(),
        stage=referral_stage(
            item_status=case.item_status,
            waiting_reason=case.waiting_reason,
            decision=case.decision,
            trajectory_status=case.trajectory_status,
            merged=case.merged_into_id is not None,
        ),
    )


async def open_referrals_of_mentees(
    *, session: AsyncSession, mentor: Person
) -> dict[int, tuple[OpenReferral, ...]]:
    """The open referrals and running trajectories of ``mentor``'s mentees, oldest first, by
    student id (students with nothing open are left out).

    A query in the caller's unit of work. The mentor is re-read and only their own mentees in
    their own school are looked at, so nothing about other students can show.
    """
    cache = await update_cache()
    key = ("open_referrals_of_mentees", mentor.id)
    if cache is not None and key in cache:
        # Inside a Telegram update: kept per process until a case or a mentorship changes
        # (`services.kernel.cache`), so the verwijzing's steps read no referral at all.
        return cast("dict[int, tuple[OpenReferral, ...]]", cache.get(key))
    mentor = await reload_actor(session=session, actor=mentor)
    mentees = await mentees_of(session=session, mentor=mentor)
    cases = await cases_of_students(
        session=session, school_id=mentor.school_id, student_ids=[m.id for m in mentees]
    )
    found: dict[int, tuple[OpenReferral, ...]] = {}
    for student_id, student_cases in cases.items():
        still_open = [open_referral_of(case) for case in reversed(student_cases) if case.is_open]
        if still_open:
            found[student_id] = tuple(still_open)
    if cache is not None and not wrote_cases(session):
        cache.put(key, found, cases=True)
    return found
