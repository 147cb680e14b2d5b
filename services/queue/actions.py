"""The care coordinator's actions on one queue item: open, take in analysis, accept, decline, note.

Every function here is a unit of work (it opens and commits its own transaction, so
``session`` must not be inside one) and is authorized the same way: the actor is re-read from
the database, must hold the care coordinator role, and the item must belong to their school.
An item of another school and an id that does not exist give the same `NotAllowed`, so ids
cannot be probed. Every action writes an `AuditLog` row (ids and codes only, never free text).

Status and decision semantics (Zammad-like states, see `QueueStatus`):

=================  ==========================  ===========================================
action             allowed from                result
=================  ==========================  ===========================================
take_in_analysis   new                         in_progress, assignee = actor
mark_for_care_team new or in_progress          waiting for the care team (ZAT), assignee =
                                               actor if none
resume_analysis    waiting for the care team   in_progress (the ZAT has advised)
accept_for_intake  in_progress or waiting for  waiting (for the intake to be planned),
                   the care team (never new:   decision accepted
                   no placement without
                   analysis)
decline            new, in_progress or         closed, decision declined, reason kept
                   waiting for the care team
add_note           any status                  status unchanged
=================  ==========================  ===========================================

The age clock (`services.queue.listing.age`) pauses while an item is ``waiting``: every transition
keeps ``waiting_since`` and ``paused_seconds`` right (`_transition`).

Any care coordinator of the school may act, not only the assignee: they share one queue and
each holds the mandate to place. Who decided is kept on the item (``decided_by_id``) and in the
audit trail. Accepting and declining also tell the mentor who referred, through an `Outbox`
row in the same transaction. A status change only applies to the status it was checked
against (compare-and-set), so of two coordinators acting at once exactly one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.people import name_of, people_by_id
from services.kernel.access import reload_actor, require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text, validate_length
from services.trajectories.lifecycle import TrajectoryPlan, create_for_referral_in_transaction
from storage.models import (
    AuditLog,
    Outbox,
    Person,
    QueueDecision,
    QueueItem,
    QueueNote,
    QueueStatus,
    Referral,
    Role,
    SupportKind,
    Trajectory,
    Urgency,
    WaitingReason,
    Weekday,
)

log = logging.getLogger(__name__)

REFERRAL_ACCEPTED = "referral.accepted"
REFERRAL_DECLINED = "referral.declined"

DECLINE_REASON_MIN = 5
DECLINE_REASON_MAX = 1000
NOTE_MIN = 1
NOTE_MAX = 2000

#: Audit actions that make up an item's history. Views (``referral.view``, ``queue.view``)
#: stay in the audit trail but are not part of the history shown with the referral.
HISTORY_LABELS: dict[str, str] = {
    "referral.submit": N_("Referred"),
    "queue.take": N_("Taken in analysis"),
    "queue.care_team": N_("Marked for the care team (ZAT)"),
    "queue.resume": N_("Back in analysis after the care team"),
    "queue.accept": N_("Accepted for an intake"),
    "queue.decline": N_("Declined"),
    "queue.note": N_("Note added"),
}

_NOT_AVAILABLE = N_("This referral is not available to you.")

__all__ = [
    "DECLINE_REASON_MAX",
    "DECLINE_REASON_MIN",
    "HISTORY_LABELS",
    "NOTE_MAX",
    "NOTE_MIN",
    "REFERRAL_ACCEPTED",
    "REFERRAL_DECLINED",
    "HistoryEntry",
    "NoteView",
    "ReferralView",
    "accept_for_intake",
    "add_note",
    "add_note_in_transaction",
    "decline",
    "decline_in_transaction",
    "mark_for_care_team",
    "open_referral",
    "resume_analysis",
    "take_in_analysis",
    "validate_decline_reason",
    "validate_note",
]


@dataclass(frozen=True, slots=True)
class NoteView:
    """One internal note, oldest first. ``author_name`` is ``None`` once the author is erased."""

    note_id: int
    author_name: str | None
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step in the item's history, from the audit trail (which cannot be edited).

    ``action`` is the audit code (a key of `HISTORY_LABELS`); ``actor_name`` is ``None`` for
    the system or an erased person.
    """

    action: str
    at: datetime
    actor_name: str | None

    @property
    def label(self) -> Text:
        """The action as translatable text."""
        return Text.of(HISTORY_LABELS.get(self.action, self.action))


@dataclass(frozen=True, slots=True)
class ReferralView:
    """Everything the care coordinator's summary of a referral shows.

    Names and free text are for display inside the chat only, never for logs or
    notifications. Free text is as the mentor wrote it, in ``text_language``.
    """

    queue_item_id: int
    referral_id: int
    status: QueueStatus
    created_at: datetime
    assignee_name: str | None
    decision: QueueDecision | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    student_name: str
    group_name: str | None
    mentor_name: str
    referred_at: datetime
    help_question_student: str
    help_question_teacher: str
    tried: str
    works_at_home: str | None
    works_at_school: str | None
    urgency: Urgency
    parents_informed: bool
    parents_not_informed_reason: str | None
    support: tuple[SupportKind, ...]
    intake_from: date
    intake_days: tuple[Weekday, ...]
    text_language: str
    notes: tuple[NoteView, ...]
    history: tuple[HistoryEntry, ...]
    waiting_reason: WaitingReason | None = None
    waiting_since: datetime | None = None
    paused_seconds: int = 0
    #: The trajectory created when the referral was accepted.
    trajectory_id: int | None = None
    #: False for a coach's read-only view: internal notes and actions are the coordinator's.
    coordinator_view: bool = True


def validate_decline_reason(reason: str) -> Text | None:
    """What is wrong with a decline reason (5–1000 characters), or ``None`` when it is fine."""
    return validate_length(clean_text(reason), DECLINE_REASON_MIN, DECLINE_REASON_MAX)


def validate_note(text: str) -> Text | None:
    """What is wrong with a note (1–2000 characters), or ``None`` when it is fine."""
    return validate_length(clean_text(text), NOTE_MIN, NOTE_MAX)


async def open_referral(
    *, session: AsyncSession, viewer: Person, queue_item_id: int
) -> ReferralView:
    """The full referral behind a queue item, with its notes and history; audited.

    A unit of work. A care coordinator of the item's school may open it; a coach of that
    school may read an accepted one (the student is coming to the trajectvoorziening), without
    the internal notes (``coordinator_view`` False). Anyone else, and any unknown id, gets
    `NotAllowed`. The view is recorded as ``referral.view``.
    """
    async with session.begin():
        viewer, item, referral = await _authorized_reader(
            session=session, actor=viewer, queue_item_id=queue_item_id
        )
        coordinator_view = viewer.has_role(Role.CARE_COORDINATOR)
        notes = (
            (
                await session.scalars(
                    select(QueueNote)
                    .where(
                        QueueNote.queue_item_id == item.id, QueueNote.school_id == item.school_id
                    )
                    .order_by(QueueNote.created_at, QueueNote.id)
                )
            ).all()
            if coordinator_view
            else []
        )
        trajectory_id = await session.scalar(
            select(Trajectory.id).where(
                Trajectory.referral_id == referral.id, Trajectory.school_id == item.school_id
            )
        )
        history = (
            await session.execute(
                select(AuditLog.action, AuditLog.at, AuditLog.actor_id)
                .where(
                    AuditLog.school_id == item.school_id,
                    AuditLog.action.in_(list(HISTORY_LABELS)),
                    or_(
                        and_(AuditLog.subject_type == "queue_item", AuditLog.subject_id == item.id),
                        and_(
                            AuditLog.subject_type == "referral", AuditLog.subject_id == referral.id
                        ),
                    ),
                )
                .order_by(AuditLog.at, AuditLog.id)
            )
        ).all()
        people = await people_by_id(
            session=session,
            school_id=item.school_id,
            ids={
                referral.student_id,
                referral.mentor_id,
                item.assignee_id,
                item.decided_by_id,
                *(note.author_id for note in notes),
                *(actor_id for _action, _at, actor_id in history),
            },
        )
        student = people[referral.student_id]
        view = ReferralView(
            queue_item_id=item.id,
            referral_id=referral.id,
            status=item.status,
            created_at=item.created_at,
            assignee_name=name_of(people, item.assignee_id),
            decision=item.decision,
            decision_reason=item.decision_reason,
            decided_at=item.decided_at,
            decided_by_name=name_of(people, item.decided_by_id),
            student_name=student.display_name,
            group_name=student.group_name,
            mentor_name=people[referral.mentor_id].display_name,
            referred_at=referral.created_at,
            help_question_student=referral.help_question_student,
            help_question_teacher=referral.help_question_teacher,
            tried=referral.tried,
            works_at_home=referral.works_at_home,
            works_at_school=referral.works_at_school,
            urgency=referral.urgency,
            parents_informed=referral.parents_informed,
            parents_not_informed_reason=referral.parents_not_informed_reason,
            support=tuple(SupportKind(code) for code in referral.support),
            intake_from=referral.intake_from,
            intake_days=tuple(Weekday(code) for code in referral.intake_days),
            text_language=referral.text_language,
            notes=tuple(
                NoteView(note.id, name_of(people, note.author_id), note.created_at, note.text)
                for note in notes
            ),
            history=tuple(
                HistoryEntry(action, at, name_of(people, actor_id))
                for action, at, actor_id in history
            ),
            waiting_reason=item.waiting_reason,
            waiting_since=item.waiting_since,
            paused_seconds=item.paused_seconds,
            trajectory_id=trajectory_id,
            coordinator_view=coordinator_view,
        )
        record_audit(
            session=session,
            school_id=item.school_id,
            actor_id=viewer.id,
            action="referral.view",
            subject_type="referral",
            subject_id=referral.id,
            details={"queue_item_id": item.id},
        )
    log.info("queue_item_id=%s opened by person_id=%s", item.id, viewer.id)
    return view


async def take_in_analysis(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Start the analysis of a new item: status ``in_progress``, assigned to ``actor``.

    A unit of work; `NotAllowed` as for `open_referral`, `InvalidTransition` unless the item
    is new (already in analysis, or already decided).
    """
    item = await _move(
        session=session,
        actor=actor,
        queue_item_id=queue_item_id,
        check=_check_take,
        to=QueueStatus.IN_PROGRESS,
        action="queue.take",
        now=now,
        values=lambda actor, _item: {"assignee_id": actor.id},
    )
    log.info("queue_item_id=%s taken in analysis by person_id=%s", item.id, actor.id)
    return item


async def mark_for_care_team(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Put the referral on the care team's (ZAT's) agenda: status ``waiting`` (the age clock
    pauses), waiting for the care team; assigned to ``actor`` if it had no assignee.

    A unit of work; `NotAllowed` as for `open_referral`, `InvalidTransition` unless the item
    is new or in analysis.
    """
    item = await _move(
        session=session,
        actor=actor,
        queue_item_id=queue_item_id,
        check=_check_care_team,
        to=QueueStatus.WAITING,
        action="queue.care_team",
        now=now,
        values=lambda actor, item: {
            "assignee_id": item.assignee_id or actor.id,
            "waiting_reason": WaitingReason.CARE_TEAM,
        },
    )
    log.info("queue_item_id=%s marked for the care team by person_id=%s", item.id, actor.id)
    return item


async def resume_analysis(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """The care team has advised: the item goes back to ``in_progress`` (the clock runs again).

    A unit of work; `NotAllowed` as for `open_referral`, `InvalidTransition` unless the item
    waits for the care team.
    """
    item = await _move(
        session=session,
        actor=actor,
        queue_item_id=queue_item_id,
        check=_check_resume,
        to=QueueStatus.IN_PROGRESS,
        action="queue.resume",
        now=now,
        values=lambda _actor, _item: {},
    )
    log.info("queue_item_id=%s back in analysis by person_id=%s", item.id, actor.id)
    return item


async def accept_for_intake(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    now: datetime,
    plan: TrajectoryPlan | None = None,
) -> QueueItem:
    """Place the student: decision ``accepted``, status ``waiting`` (for the intake planning).

    Only after analysis: a new item must first be taken in analysis (`take_in_analysis`), so a
    placement is never a single tap. A unit of work; `NotAllowed` as for `open_referral`,
    `InvalidTransition` from any status but ``in_progress`` or waiting for the care team.
    The mentor is told (``referral.accepted`` in the outbox). The student's `Trajectory` is
    created in the same transaction (``planned``; with ``plan`` if given, else to be completed
    after the intake); `InputInvalid` for a bad plan, and nothing is written.
    """
    async with session.begin():
        actor, item, referral = await _authorized(
            session=session, actor=actor, queue_item_id=queue_item_id, lock=True
        )
        await _transition(
            session=session,
            item=item,
            actor=actor,
            check=_check_accept,
            to=QueueStatus.WAITING,
            action="queue.accept",
            now=now,
            values={
                **_decision(actor=actor, decision=QueueDecision.ACCEPTED, reason=None, now=now),
                "waiting_reason": WaitingReason.INTAKE,
            },
        )
        await create_for_referral_in_transaction(
            session=session, actor=actor, referral=referral, plan=plan, now=now
        )
        _notify_mentor(
            session=session, item=item, referral=referral, kind=REFERRAL_ACCEPTED, now=now
        )
    log.info("queue_item_id=%s accepted by person_id=%s", item.id, actor.id)
    return item


async def decline(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> QueueItem:
    """Decline the referral: decision ``declined`` with ``reason``, status ``closed``.

    ``reason`` (5–1000 characters, outer whitespace and control characters dropped) is
    internal: it is kept on the item, never in the audit trail, a log or the notification.
    Allowed from ``new``, ``in_progress`` and waiting for the care team (turning down places
    no one); the item is
    assigned to ``actor`` if it had no assignee. A unit of work; `InputInvalid` for a bad
    reason, `NotAllowed` as for `open_referral`, `InvalidTransition` once decided. The mentor
    is told (``referral.declined`` in the outbox).
    """
    async with session.begin():
        return await decline_in_transaction(
            session=session, actor=actor, queue_item_id=queue_item_id, reason=reason, now=now
        )


async def decline_in_transaction(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> QueueItem:
    """`decline` as an operation: joins the caller's transaction (a chat flow's confirm)."""
    cleaned = clean_text(reason)
    problem = validate_length(cleaned, DECLINE_REASON_MIN, DECLINE_REASON_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    actor, item, referral = await _authorized(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    values = _decision(actor=actor, decision=QueueDecision.DECLINED, reason=cleaned, now=now)
    values["assignee_id"] = item.assignee_id or actor.id
    await _transition(
        session=session,
        item=item,
        actor=actor,
        check=_check_decline,
        to=QueueStatus.CLOSED,
        action="queue.decline",
        now=now,
        values=values,
    )
    _notify_mentor(session=session, item=item, referral=referral, kind=REFERRAL_DECLINED, now=now)
    log.info("queue_item_id=%s declined by person_id=%s", item.id, actor.id)
    return item


async def add_note(
    *, session: AsyncSession, actor: Person, queue_item_id: int, text: str, now: datetime
) -> QueueNote:
    """Add an internal note (1–2000 characters) to an item in any status; returns the note.

    Notes are for the school's care coordinators only and never change the status. A unit of
    work; `InputInvalid` for a bad text, `NotAllowed` as for `open_referral`.
    """
    async with session.begin():
        return await add_note_in_transaction(
            session=session, actor=actor, queue_item_id=queue_item_id, text=text, now=now
        )


async def add_note_in_transaction(
    *, session: AsyncSession, actor: Person, queue_item_id: int, text: str, now: datetime
) -> QueueNote:
    """`add_note` as an operation: joins the caller's transaction (a chat flow's confirm)."""
    cleaned = clean_text(text)
    problem = validate_length(cleaned, NOTE_MIN, NOTE_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    actor, item, referral = await _authorized(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=False
    )
    note = QueueNote(
        school_id=item.school_id,
        queue_item_id=item.id,
        author_id=actor.id,
        text=cleaned,
        created_at=now,
    )
    session.add(note)
    await session.flush()
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="queue.note",
        subject_type="queue_item",
        subject_id=item.id,
        details={"note_id": note.id, "referral_id": referral.id},
        at=now,
    )
    log.info("note_id=%s added to queue_item_id=%s by person_id=%s", note.id, item.id, actor.id)
    return note


async def _authorized(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, Referral]:
    """The fresh actor, the item and its referral, if the actor may handle the item.

    ``lock`` takes a row lock on the item (PostgreSQL; SQLite has one writer anyway), so two
    coordinators acting at once are serialised and the second sees the first one's result.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    item, referral = await _item_of_school(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=lock
    )
    return actor, item, referral


async def _authorized_reader(
    *, session: AsyncSession, actor: Person, queue_item_id: int
) -> tuple[Person, QueueItem, Referral]:
    """As `_authorized` for a care coordinator; a coach may read an accepted referral of their
    own school. Any other case gets the same refusal as an unknown id."""
    fresh = await reload_actor(session=session, actor=actor)
    if fresh.has_role(Role.CARE_COORDINATOR) or not fresh.has_role(Role.COACH):
        return await _authorized(
            session=session, actor=fresh, queue_item_id=queue_item_id, lock=False
        )
    item, referral = await _item_of_school(
        session=session,
        actor=fresh,
        queue_item_id=queue_item_id,
        lock=False,
        only=QueueItem.decision == QueueDecision.ACCEPTED,
    )
    return fresh, item, referral


async def _item_of_school(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    lock: bool,
    only: ColumnElement[bool] | None = None,
) -> tuple[QueueItem, Referral]:
    """The item and its referral in the actor's school (and matching ``only``), or the refusal
    (`NotAllowed`) that an unknown id gets too."""
    query = (
        select(QueueItem, Referral)
        .join(Referral, Referral.id == QueueItem.referral_id)
        .where(
            QueueItem.id == queue_item_id,
            QueueItem.school_id == actor.school_id,
            Referral.school_id == actor.school_id,
        )
        # Objects kept from an earlier transaction (expire_on_commit=False) may be stale.
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(only)
    if lock:
        query = query.with_for_update(of=QueueItem)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        # One answer for "another school's" and "no such item": ids cannot be probed.
        log.info("refused: queue_item_id=%s for person_id=%s", queue_item_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    item, referral = row
    return item, referral


def _waits_for_care_team(item: QueueItem) -> bool:
    return item.status is QueueStatus.WAITING and item.waiting_reason is WaitingReason.CARE_TEAM


def _check_care_team(item: QueueItem) -> Text | None:
    if item.status in (QueueStatus.NEW, QueueStatus.IN_PROGRESS):
        return None
    if _waits_for_care_team(item):
        return Text.of(N_("This referral is already waiting for the care team."))
    return _already_decided(item)


def _check_resume(item: QueueItem) -> Text | None:
    if _waits_for_care_team(item):
        return None
    if item.status in (QueueStatus.NEW, QueueStatus.IN_PROGRESS):
        return Text.of(N_("This referral is not waiting for the care team."))
    return _already_decided(item)


def _check_take(item: QueueItem) -> Text | None:
    if item.status is QueueStatus.NEW:
        return None
    if item.status is QueueStatus.IN_PROGRESS:
        return Text.of(N_("This referral is already being analysed."))
    if _waits_for_care_team(item):
        return Text.of(N_("This referral is already waiting for the care team."))
    return _already_decided(item)


def _check_accept(item: QueueItem) -> Text | None:
    if item.status is QueueStatus.IN_PROGRESS or _waits_for_care_team(item):
        return None
    if item.status is QueueStatus.NEW:
        return Text.of(
            N_(
                "Take this referral in analysis first: a student is placed only after the "
                "referral has been analysed."
            )
        )
    return _already_decided(item)


def _check_decline(item: QueueItem) -> Text | None:
    if item.status in (QueueStatus.NEW, QueueStatus.IN_PROGRESS) or _waits_for_care_team(item):
        return None
    return _already_decided(item)


def _already_decided(item: QueueItem) -> Text:
    if item.decision is QueueDecision.ACCEPTED:
        return Text.of(N_("This referral was already accepted for an intake."))
    if item.decision is QueueDecision.DECLINED:
        return Text.of(N_("This referral was already declined."))
    return Text.of(N_("This referral is closed and can no longer be changed."))


def _decision(
    *, actor: Person, decision: QueueDecision, reason: str | None, now: datetime
) -> dict[str, object]:
    return {
        "decision": decision,
        "decision_reason": reason,
        "decided_at": now,
        "decided_by_id": actor.id,
    }


async def _move(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    check: Callable[[QueueItem], Text | None],
    to: QueueStatus,
    action: str,
    now: datetime,
    values: Callable[[Person, QueueItem], Mapping[str, object]],
) -> QueueItem:
    """A unit of work that only moves the item: `_authorized` (locked), then `_transition`
    with the ``values`` worked out from the fresh actor and the locked item."""
    async with session.begin():
        actor, item, _referral = await _authorized(
            session=session, actor=actor, queue_item_id=queue_item_id, lock=True
        )
        await _transition(
            session=session,
            item=item,
            actor=actor,
            check=check,
            to=to,
            action=action,
            now=now,
            values=values(actor, item),
        )
    return item


async def _transition(
    *,
    session: AsyncSession,
    item: QueueItem,
    actor: Person,
    check: Callable[[QueueItem], Text | None],
    to: QueueStatus,
    action: str,
    now: datetime,
    values: Mapping[str, object],
) -> None:
    """Move ``item`` to status ``to`` (setting ``values``) if ``check`` allows it; audited.

    The UPDATE only matches while the status is still the one ``check`` saw: SQLite gives no
    row lock and reads outside the write transaction, so two coordinators acting at once
    could otherwise both succeed. The one that loses gets the refusal for the state it lost
    to. Raises `InvalidTransition` (nothing written) when refused.
    """
    problem = check(item)
    if problem is None:
        from_status = item.status
        changed = await session.scalar(
            update(QueueItem)
            .where(QueueItem.id == item.id, QueueItem.status == from_status)
            .values(status=to, updated_at=now, **{**_clock(item=item, to=to, now=now), **values})
            .returning(QueueItem.id)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(item)
        if changed is not None:
            record_audit(
                session=session,
                school_id=item.school_id,
                actor_id=actor.id,
                action=action,
                subject_type="queue_item",
                subject_id=item.id,
                details={
                    "referral_id": item.referral_id,
                    "from_status": from_status.value,
                    "to_status": to.value,
                    "decision": None if item.decision is None else item.decision.value,
                },
                at=now,
            )
            return
        log.info("queue_item_id=%s changed concurrently; %s refused", item.id, action)
        problem = check(item) or Text.of(
            N_("Someone else just changed this referral. Please open it again.")
        )
    raise InvalidTransition(problem)


def _clock(*, item: QueueItem, to: QueueStatus, now: datetime) -> dict[str, object]:
    """The age clock's columns after moving ``item`` to ``to`` at ``now``.

    Entering ``waiting`` starts a pause; leaving it adds the pause to ``paused_seconds``
    (a move between two waiting reasons keeps the running pause).
    """
    values: dict[str, object] = {}
    waiting = item.status is QueueStatus.WAITING
    if waiting and to is not QueueStatus.WAITING:
        since = item.waiting_since or item.updated_at
        values["paused_seconds"] = item.paused_seconds + max(int((now - since).total_seconds()), 0)
        values["waiting_since"] = None
        values["waiting_reason"] = None
    elif not waiting and to is QueueStatus.WAITING:
        values["waiting_since"] = now
    return values


def _notify_mentor(
    *, session: AsyncSession, item: QueueItem, referral: Referral, kind: str, now: datetime
) -> None:
    session.add(
        Outbox(
            school_id=item.school_id,
            recipient_id=referral.mentor_id,
            kind=kind,
            # Ids only: the mentor reads the outcome inside the chat, after being identified.
            payload={"referral_id": referral.id, "queue_item_id": item.id},
            dedup_key=f"{kind}:{referral.id}:{referral.mentor_id}",
            next_attempt_at=now,
            created_at=now,
        )
    )
