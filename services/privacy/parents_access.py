"""An adult student's answer: do their parents still see their data (domain.md, age 18)?

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

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.adulthood import may_decide
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from storage.models import (
    Appointment,
    Guardianship,
    Outbox,
    OutboxStatus,
    Person,
    Referral,
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
        # A parent's questionnaire about the student, not answered yet, ends now.
        await session.execute(
            update(SurveyInvitation)
            .where(
                SurveyInvitation.id.in_(invitations),
                SurveyInvitation.completed_at.is_(None),
                SurveyInvitation.expires_at > now,
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
