"""An adult student's answer: do their parents still see their data (domain.md, age 18)?

`ask_adult_students` (the daily housekeeping) sends each student who has turned 18, has a
parent linked and has not answered one message with a button that opens the question
(outbox kind ``person.parents_access``, once per student: its dedup key).

The rule is `services.kernel.adulthood`; this is the write. "No" takes effect in the same
transaction for everything a parent would still get: the messages not yet sent to a parent
about this student (reminders, calendar files, the intake request and report, questionnaire
invitations) are withdrawn, and a parent's questionnaire about the student that is still open
expires. "Yes" gives the access back from now on (nothing withdrawn comes back). Every answer is
audited (``privacy.parents_access``, with the answer only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.adulthood import ADULT_AGE, is_adult, may_decide, years_before
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.outbox.kinds import OutboxKind
from storage.models import (
    Appointment,
    Guardianship,
    Outbox,
    OutboxStatus,
    Person,
    PersonRole,
    Referral,
    Role,
    SurveyInvitation,
    Trajectory,
)

log = logging.getLogger(__name__)

AUDIT_ACTION = "privacy.parents_access"
NOT_ADULT = N_("Only a student of 18 or older decides this.")

#: Rows that may still go: due or scheduled, or waiting for the parent to become reachable.
_NOT_SENT = (OutboxStatus.PENDING, OutboxStatus.UNREACHABLE)
#: The payload keys an outbox row names a student's things by (ids only: `services.outbox`).
_PAYLOAD_KEYS = ("student_id", "appointment_id", "trajectory_id", "referral_id", "invitation_id")


async def answer_parents_access(
    *, session: AsyncSession, student: Person, share: bool, now: datetime
) -> Person:
    """Store the adult student's answer (an operation in the caller's unit of work).

    `NotAllowed` unless ``student`` is, as stored now, a student of 18 or older.
    """
    student = await reload_actor(session=session, actor=student)
    if not may_decide(student, now.astimezone(SCHOOL_TIMEZONE).date()):
        log.info("refused: parents' access answer by person_id=%s", student.id)
        raise NotAllowed(Text.of(NOT_ADULT))
    withdrawing = not share and student.parents_access_withdrawn_at is None
    student.parents_access_answered_at = now
    if share:
        student.parents_access_withdrawn_at = None
    elif withdrawing:
        student.parents_access_withdrawn_at = now
        await _withdraw_from_parents(session, student, now)
    record_audit(
        session=session,
        school_id=student.school_id,
        actor_id=student.id,
        action=AUDIT_ACTION,
        subject_type="person",
        subject_id=student.id,
        details={"share": share},
        at=now,
    )
    return student


async def _withdraw_from_parents(session: AsyncSession, student: Person, now: datetime) -> None:
    parent_ids = list(
        await session.scalars(
            select(Guardianship.parent_id).where(
                Guardianship.school_id == student.school_id,
                Guardianship.student_id == student.id,
            )
        )
    )
    if not parent_ids:
        return
    trajectory_ids = set(
        await session.scalars(
            select(Trajectory.id).where(
                Trajectory.school_id == student.school_id, Trajectory.student_id == student.id
            )
        )
    )
    invitations = list(
        await session.scalars(
            select(SurveyInvitation.id).where(
                SurveyInvitation.school_id == student.school_id,
                SurveyInvitation.trajectory_id.in_(trajectory_ids),
                SurveyInvitation.respondent_id.in_(parent_ids),
            )
        )
    )
    if invitations:
        # A parent's questionnaire about the student, not answered yet, ends now. One created
        # at or after ``now`` (another worker's clock) cannot end before it began (the table's
        # check); it stays closed to the parent anyway: every read adds `parents_see`.
        await session.execute(
            update(SurveyInvitation)
            .where(
                SurveyInvitation.id.in_(invitations),
                SurveyInvitation.completed_at.is_(None),
                SurveyInvitation.expires_at > now,
                SurveyInvitation.created_at < now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
    owned: dict[str, set[int]] = {
        "student_id": {student.id},
        "trajectory_id": trajectory_ids,
        "invitation_id": set(invitations),
        "appointment_id": set(
            await session.scalars(
                select(Appointment.id).where(
                    Appointment.school_id == student.school_id,
                    Appointment.student_id == student.id,
                )
            )
        ),
        "referral_id": set(
            await session.scalars(
                select(Referral.id).where(
                    Referral.school_id == student.school_id, Referral.student_id == student.id
                )
            )
        ),
    }
    pending = await session.execute(
        select(Outbox.id, Outbox.payload).where(
            Outbox.school_id == student.school_id,
            Outbox.recipient_id.in_(parent_ids),
            Outbox.status.in_(_NOT_SENT),
        )
    )
    about_student = [row_id for row_id, payload in pending if _names(payload, owned)]
    if about_student:
        await session.execute(
            update(Outbox)
            .where(Outbox.id.in_(about_student), Outbox.status.in_(_NOT_SENT))
            .values(status=OutboxStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        )
    log.info(
        "parents' access withdrawn: %s messages and %s questionnaires withdrawn",
        len(about_student),
        len(invitations),
    )


def _names(payload: Mapping[str, Any] | None, owned: Mapping[str, set[int]]) -> bool:
    """Whether an outbox payload is about one of the student's things."""
    if not payload:
        return False
    for key in _PAYLOAD_KEYS:
        value = payload.get(key)
        if isinstance(value, int) and value in owned[key]:
            return True
    return False


async def ask_adult_students(*, session: AsyncSession, now: datetime) -> int:
    """Ask every student of 18 or older with a parent linked who has not answered yet, once
    (an operation; the housekeeping's unit of work). Returns how many were asked now."""
    today = now.astimezone(SCHOOL_TIMEZONE).date()
    kind = OutboxKind.PARENTS_ACCESS_ASK
    rows = await session.execute(
        select(Person.id, Person.school_id, Person.birth_date).where(
            Person.birth_date <= years_before(today, ADULT_AGE),
            Person.parents_access_answered_at.is_(None),
            Person.ended_at.is_(None),
            Person.erased_at.is_(None),
            exists().where(
                PersonRole.person_id == Person.id,
                PersonRole.role == Role.STUDENT,
                PersonRole.ended_at.is_(None),
            ),
            exists().where(
                Guardianship.student_id == Person.id, Guardianship.school_id == Person.school_id
            ),
            ~exists().where(Outbox.dedup_key == _ask_key(kind) + Person.id.cast(String)),
        )
    )
    asked = 0
    for person_id, school_id, birth_date in rows:
        if not is_adult(birth_date, today):  # pragma: no cover - the query's cutoff is exact
            continue
        session.add(
            Outbox(
                school_id=school_id,
                recipient_id=person_id,
                kind=kind,
                payload={"person_id": person_id},
                dedup_key=f"{_ask_key(kind)}{person_id}",
                next_attempt_at=now,
                created_at=now,
            )
        )
        asked += 1
    if asked:
        log.info("adult students asked about their parents' access: %s", asked)
    return asked


def _ask_key(kind: OutboxKind) -> str:
    return f"{kind}:"
