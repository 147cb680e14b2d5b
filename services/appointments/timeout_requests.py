"""Time-out requests: a time-out outside the plan or above the week's cap waits in the care
coordinator's queue (`request_timeout`), who opens it, approves it (it is booked as asked) or
declines it with an internal reason. Operations in the caller's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments import notices, rules
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.placing import (
    announce,
    insert_appointment,
    refuse_bad_time,
    take_places,
)
from services.appointments.schedule import load_schedule
from services.appointments.slots import alternatives, candidates_at, student_busy
from services.appointments.views import AppointmentView, view_of
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.text_input import clean_text, validate_text
from services.queue.items import Audit, Notice, open_item
from services.queue.rules import DECLINE_REASON_MAX, DECLINE_REASON_MIN, QueueAction
from services.queue.status import ensure_allowed, move_item
from storage.models import (
    AppointmentKind,
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    TimeoutRequest,
    TimeoutRequestReason,
    Trajectory,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

#: Why a request of a closed trajectory cannot be approved (it was declined at closing).
TRAJECTORY_CLOSED = N_("This trajectory has been closed: nothing can be booked for it any more.")
#: The decision reason kept on a request declined because its trajectory was closed.
CLOSED_TRAJECTORY_REASON = "trajectory closed"


@dataclass(frozen=True, slots=True)
class BookingRequested:
    """Nothing was booked: the time-out request went to the care coordinator's queue."""

    queue_item_id: int


@dataclass(frozen=True, slots=True)
class TimeoutRequestView:
    """A time-out request as the care coordinator sees it in the queue."""

    queue_item_id: int
    status: QueueStatus
    decision: QueueDecision | None
    student_id: int
    student_name: str
    group_name: str | None
    starts_at: datetime
    reason: TimeoutRequestReason
    timeouts_per_week: int
    timeouts_in_plan: bool
    appointment_id: int | None
    #: The trajectory and its plan's dates (what "outside the plan" is measured against).
    trajectory_id: int | None = None
    plan_start: date | None = None
    plan_end: date | None = None
    #: Who asked (the student, or a parent for them) and when.
    requested_by_name: str | None = None
    requested_at: datetime | None = None
    #: The decision: who, when, and a decline's reason (internal, care coordinators only).
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


async def request_timeout(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory: Trajectory,
    starts_at: datetime,
    reason: TimeoutRequestReason,
    now: datetime,
) -> BookingRequested:
    """Put the time-out in the care coordinator's queue instead of booking it (`book` decided
    it needs approval). Asking twice for the same time is one request."""
    existing = await session.scalar(
        select(TimeoutRequest.queue_item_id)
        .join(QueueItem, QueueItem.id == TimeoutRequest.queue_item_id)
        .where(
            TimeoutRequest.trajectory_id == trajectory.id,
            TimeoutRequest.starts_at == starts_at,
            QueueItem.status != QueueStatus.CLOSED,
        )
    )
    if existing is not None:
        return BookingRequested(queue_item_id=existing)
    # The item, the care coordinators' notices (``timeout.requested``) and the audit row.
    item = await open_item(
        session=session,
        school_id=trajectory.school_id,
        kind=QueueKind.TIMEOUT_REQUEST,
        actor_id=actor.id,
        notice=Notice(notices.TIMEOUT_REQUESTED),
        audit=Audit(
            "timeout.request",
            details={
                "trajectory_id": trajectory.id,
                "student_id": trajectory.student_id,
                "reason": reason.value,
            },
        ),
        now=now,
    )
    session.add(
        TimeoutRequest(
            school_id=trajectory.school_id,
            queue_item_id=item.id,
            trajectory_id=trajectory.id,
            student_id=trajectory.student_id,
            requested_by_id=actor.id,
            starts_at=starts_at,
            reason=reason,
            created_at=now,
        )
    )
    await session.flush()
    log.info("time-out request queue_item_id=%s (%s) by person_id=%s", item.id, reason, actor.id)
    return BookingRequested(queue_item_id=item.id)


async def open_timeout_request(
    *, session: AsyncSession, viewer: Person, queue_item_id: int
) -> TimeoutRequestView:
    """A time-out request in the queue, for a care coordinator of the school (audited as
    ``timeout.view``). `NotAllowed` for anyone else, another school's item and unknown ids."""
    viewer, item, request = await _timeout_request(
        session=session, actor=viewer, queue_item_id=queue_item_id, lock=False
    )
    student = await session.get(Person, request.student_id)
    trajectory = await session.get(Trajectory, request.trajectory_id)
    assert student is not None  # noqa: S101 - foreign key
    assert trajectory is not None  # noqa: S101 - foreign key
    requester = await session.get(Person, request.requested_by_id)
    decider = None if item.decided_by_id is None else await session.get(Person, item.decided_by_id)
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=viewer.id,
        action="timeout.view",
        subject_type="queue_item",
        subject_id=item.id,
    )
    return TimeoutRequestView(
        queue_item_id=item.id,
        status=item.status,
        decision=item.decision,
        student_id=student.id,
        student_name=student.display_name,
        group_name=student.group_name,
        starts_at=request.starts_at,
        reason=request.reason,
        timeouts_per_week=trajectory.timeouts_per_week,
        timeouts_in_plan=trajectory.timeouts_in_plan,
        appointment_id=request.appointment_id,
        trajectory_id=trajectory.id,
        plan_start=trajectory.start_date,
        plan_end=trajectory.end_date,
        requested_by_name=None if requester is None else requester.display_name,
        requested_at=request.created_at,
        decided_by_name=None if decider is None else decider.display_name,
        decided_at=item.decided_at,
        decision_reason=item.decision_reason,
    )


async def approve_timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> AppointmentView:
    """The care coordinator approves a time-out request: it is booked as asked.

    The cap and the plan are what the care coordinator overrides; everything else still holds
    (a free place, opening hours, not in the past; `SlotTaken` / `BookingRefused` otherwise,
    and the request stays open once the caller rolls back). The item is closed as accepted
    and the student told.
    """
    actor, item, request = await _timeout_request(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    ensure_allowed(item, QueueAction.APPROVE_TIMEOUT)
    trajectory = await session.scalar(
        select(Trajectory)
        .where(Trajectory.id == request.trajectory_id, Trajectory.school_id == actor.school_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if trajectory is None or trajectory.status is TrajectoryStatus.CLOSED:
        raise BookingRefused(Text.of(TRAJECTORY_CLOSED))
    if trajectory.status is not TrajectoryStatus.ACTIVE:
        raise BookingRefused(Text.of(rules.NOT_STARTED_YET))
    schedule = await load_schedule(
        session=session,
        school_id=actor.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
    )
    rule = schedule.types.get(AppointmentKind.TIME_OUT)
    if rule is None:
        raise BookingRefused(Text.of(N_("Your school does not offer this kind of appointment.")))
    refuse_bad_time(schedule=schedule, rule=rule, starts_at=request.starts_at, now=now)
    candidates = await candidates_at(
        session=session,
        schedule=schedule,
        rule=rule,
        trajectory=trajectory,
        starts_at=request.starts_at,
    )
    if await student_busy(
        session=session,
        student_id=request.student_id,
        start=request.starts_at,
        end=candidates[0].ends_at,
        except_id=None,
    ):
        raise BookingRefused(Text.of(N_("The student already has an appointment at that time.")))
    # The care coordinator holds nothing: every hold of someone else counts (`holds`).
    chosen = await take_places(
        session=session,
        schedule=schedule,
        rule=rule,
        candidates=candidates,
        moving=None,
        now=now,
        holder_id=None,
    )
    if chosen is None:
        raise SlotTaken(
            Text.of(N_("Sorry, this time has just been taken. Please pick another time.")),
            await alternatives(
                session=session,
                schedule=schedule,
                rule=rule,
                trajectory=trajectory,
                student_id=request.student_id,
                starts_at=request.starts_at,
                now=now,
                moving=None,
                holder_id=None,
            ),
        )
    requester = await session.get(Person, request.requested_by_id)
    assert requester is not None  # noqa: S101 - foreign key
    appointment = await insert_appointment(
        session=session,
        actor=requester,
        trajectory=trajectory,
        kind=AppointmentKind.TIME_OUT,
        chosen=chosen,
        now=now,
        approved_by=actor,
    )
    request.appointment_id = appointment.id
    await _decide(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.APPROVE_TIMEOUT,
        decision=QueueDecision.ACCEPTED,
        reason=None,
        now=now,
    )
    await announce(session=session, schedule=schedule, rule=rule, appointment=appointment, now=now)
    notices.timeout_decided(
        session,
        school_id=item.school_id,
        queue_item_id=item.id,
        student_id=request.student_id,
        approved=True,
        appointment_id=appointment.id,
        now=now,
    )
    return await view_of(session=session, appointment=appointment)


async def decline_timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> None:
    """The care coordinator declines a time-out request, in the caller's transaction (a web
    form's unit of work, or a chat flow's confirm).

    Only a care coordinator of the request's school (`NotAllowed`, the same for another
    school's item and a missing one); the reason is cleaned and 5–1000 characters
    (`InputInvalid`, checked before anything is read: a bad reason costs no lock); a request
    already approved or declined is refused with `InvalidTransition`. The item is closed as
    declined with the reason (internal), the student told through the outbox
    (``timeout.decided``, without the reason) and the decision audited (``timeout.decide``,
    ids and codes only).
    """
    cleaned = _decline_reason(reason)
    actor, item, request = await _timeout_request(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    await _decline(
        session=session, actor=actor, item=item, request=request, reason=cleaned, now=now
    )
    await session.flush()
    log.info("time-out request queue_item_id=%s declined by person_id=%s", item.id, actor.id)


async def decline_open_requests_of(
    *, session: AsyncSession, actor: Person, trajectory: Trajectory, now: datetime
) -> int:
    """Decline every undecided time-out request of ``trajectory`` because it is being closed
    (part of `services.appointments.closing`; ``actor`` is the closing care coordinator).

    Each item is closed as declined with the reason ``trajectory closed`` and the student is
    told why (``timeout.decided`` with ``reason`` `notices.TRAJECTORY_CLOSED`); how many.
    """
    rows = (
        await session.execute(
            select(QueueItem, TimeoutRequest)
            .join(TimeoutRequest, TimeoutRequest.queue_item_id == QueueItem.id)
            .where(
                TimeoutRequest.school_id == trajectory.school_id,
                TimeoutRequest.trajectory_id == trajectory.id,
                QueueItem.kind == QueueKind.TIMEOUT_REQUEST,
                QueueItem.status != QueueStatus.CLOSED,
            )
            .order_by(QueueItem.id)
            .with_for_update(of=QueueItem)
            .execution_options(populate_existing=True)
        )
    ).all()
    for item, request in rows:
        await _decline(
            session=session,
            actor=actor,
            item=item,
            request=request,
            reason=CLOSED_TRAJECTORY_REASON,
            now=now,
            told_why=notices.TRAJECTORY_CLOSED,
        )
    return len(rows)


async def _decline(
    *,
    session: AsyncSession,
    actor: Person,
    item: QueueItem,
    request: TimeoutRequest,
    reason: str,
    now: datetime,
    told_why: str | None = None,
) -> None:
    """Close the (locked) request ``item`` as declined with the internal ``reason`` and tell
    the student through the outbox (``timeout.decided``; ``told_why`` is the code the message
    explains, never the care coordinator's own reason)."""
    await _decide(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.DECLINE_TIMEOUT,
        decision=QueueDecision.DECLINED,
        reason=reason,
        now=now,
    )
    notices.timeout_decided(
        session,
        school_id=item.school_id,
        queue_item_id=item.id,
        student_id=request.student_id,
        approved=False,
        appointment_id=None,
        now=now,
        reason=told_why,
    )


async def _timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, TimeoutRequest]:
    """The care coordinator (re-read), the queue item and its request; `NotAllowed` unless
    the item is a time-out request of the care coordinator's school."""
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    query = (
        select(QueueItem, TimeoutRequest)
        .join(TimeoutRequest, TimeoutRequest.queue_item_id == QueueItem.id)
        .where(
            QueueItem.id == queue_item_id,
            QueueItem.school_id == actor.school_id,
            QueueItem.kind == QueueKind.TIMEOUT_REQUEST,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=QueueItem)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        log.info("refused: queue_item_id=%s for person_id=%s", queue_item_id, actor.id)
        raise NotAllowed(Text.of(N_("This request is not available to you.")))
    item, request = row
    return actor, item, request


def _decline_reason(reason: str) -> str:
    cleaned = clean_text(reason)
    problem = validate_text(reason, DECLINE_REASON_MIN, DECLINE_REASON_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    return cleaned


async def _decide(
    *,
    session: AsyncSession,
    actor: Person,
    item: QueueItem,
    action: QueueAction,
    decision: QueueDecision,
    reason: str | None,
    now: datetime,
) -> None:
    # The queue's one status writer: the rule (a decided request is refused), compare-and-set
    # (of two decisions at the same moment only one finds the item open), the age clock.
    from_status = await move_item(
        session=session,
        item=item,
        action=action,
        to=QueueStatus.CLOSED,
        now=now,
        values={
            "decision": decision,
            "decision_reason": reason,
            "decided_at": now,
            "decided_by_id": actor.id,
            "assignee_id": item.assignee_id or actor.id,
        },
    )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="timeout.decide",
        subject_type="queue_item",
        subject_id=item.id,
        details={"decision": decision.value, "from_status": from_status.value},
        at=now,
    )
