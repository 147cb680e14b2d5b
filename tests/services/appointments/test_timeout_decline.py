"""Declining a time-out request (issue 4): as an operation in the caller's transaction (a chat
flow's confirm), its refusals, the student's notification and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action, Event, typed
from dialogs.flows.queue import QUEUE_ITEM, TIMEOUT_DECLINE
from dialogs.text import Text
from services.appointments.booking import book
from services.appointments.notices import TIMEOUT_DECIDED
from services.appointments.timeout_requests import (
    BookingRequested,
    approve_timeout_request,
    decline_timeout_request,
    open_timeout_request,
)
from services.conversations.runtime import Turn, handle_event, open_flow
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import validate_text
from services.kernel.uow import run_unit_of_work
from storage.models import (
    AppointmentKind,
    AuditLog,
    Outbox,
    Person,
    PersonRole,
    QueueDecision,
    QueueItem,
    QueueStatus,
    Role,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.booking_world import NOW, TUESDAY, WEDNESDAY, World, at, build_world
from tests.support.factories import add_person, add_school

Factory = async_sessionmaker[AsyncSession]
LATER = NOW + timedelta(hours=1)
REASON = "Eerst het plan bespreken met de mentor."


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


async def _request(session_factory: Factory, world: World) -> int:
    """Sam asks for a time-out while his plan has none: a request in the queue."""
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=False)
        )
    async with session_factory() as session:
        outcome = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=at(TUESDAY, 11),
                now=NOW,
            ),
        )
    assert isinstance(outcome, BookingRequested)
    return outcome.queue_item_id


async def _item(session_factory: Factory, item_id: int) -> QueueItem:
    async with session_factory() as session:
        return await session.get_one(QueueItem, item_id)


async def _told(session_factory: Factory) -> list[Outbox]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(Outbox).where(Outbox.kind == TIMEOUT_DECIDED).order_by(Outbox.id)
        )
        return list(rows)


async def _decisions(session_factory: Factory) -> list[AuditLog]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action == "timeout.decide").order_by(AuditLog.id)
        )
        return list(rows)


async def _decline(
    session: AsyncSession, actor: Person, item_id: int, reason: str = REASON
) -> None:
    async with session.begin():
        await decline_timeout_request(
            session=session, actor=actor, queue_item_id=item_id, reason=reason, now=LATER
        )


async def test_declining_in_the_callers_transaction_closes_tells_and_audits(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session:
        await _decline(session, world.zoco, item_id, f"  \u202e{REASON}\u202c \r\n")
    item = await _item(session_factory, item_id)
    assert (item.status, item.decision) == (QueueStatus.CLOSED, QueueDecision.DECLINED)
    assert item.decision_reason == REASON  # cleaned as every free text
    assert (item.decided_by_id, item.decided_at) == (world.zoco.id, LATER)
    assert item.assignee_id == world.zoco.id
    (told,) = await _told(session_factory)
    assert told.recipient_id == world.student.id
    assert told.school_id == world.school.id
    # Ids only: no reason, no name in what goes to the student's lock screen.
    assert told.payload == {"queue_item_id": item_id, "approved": False}
    (audited,) = await _decisions(session_factory)
    assert (audited.actor_id, audited.subject_type, audited.subject_id) == (
        world.zoco.id,
        "queue_item",
        item_id,
    )
    assert audited.details == {"decision": "declined", "from_status": "new"}
    async with session_factory() as session:
        seen = await run_unit_of_work(
            session,
            lambda work: open_timeout_request(
                session=work, viewer=world.zoco, queue_item_id=item_id
            ),
        )
    assert seen.decision is QueueDecision.DECLINED
    assert seen.decision_reason == REASON
    assert seen.decided_by_name == world.zoco.display_name


async def test_it_joins_the_callers_transaction_and_a_rollback_undoes_everything(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session:
        transaction = await session.begin()
        await decline_timeout_request(
            session=session, actor=world.zoco, queue_item_id=item_id, reason=REASON, now=LATER
        )
        assert transaction.is_active  # it did not commit nor end the caller's transaction
        await transaction.rollback()
    item = await _item(session_factory, item_id)
    assert (item.status, item.decision) == (QueueStatus.NEW, None)
    assert await _told(session_factory) == []
    assert await _decisions(session_factory) == []


@pytest.mark.parametrize("reason", ["", "nee", "  nee \n\t", "\x00nee\x07", "x" * 1001])
async def test_a_bad_reason_is_refused_with_the_reason_and_nothing_changes(
    reason: str, session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    expected = validate_text(reason, 5, 1000)
    async with session_factory() as session:
        with pytest.raises(InputInvalid) as error:
            await _decline(session, world.zoco, item_id, reason)
    assert error.value.reason == expected
    async with session_factory() as session:
        with pytest.raises(InputInvalid) as error:
            await run_unit_of_work(
                session,
                lambda work: decline_timeout_request(
                    session=work, actor=world.zoco, queue_item_id=item_id, reason=reason, now=LATER
                ),
            )
    assert error.value.reason == expected
    assert (await _item(session_factory, item_id)).status is QueueStatus.NEW
    assert await _told(session_factory) == []
    assert await _decisions(session_factory) == []


async def test_only_a_care_coordinator_of_the_school_declines(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session, session.begin():
        other = await add_school(session, "vmbo-zuid")
        other_zoco = await add_person(session, other, "z9", Role.CARE_COORDINATOR)
    for person in (world.coach, world.mentor, world.student, world.parent, other_zoco):
        async with session_factory() as session:
            with pytest.raises(NotAllowed) as error:
                await _decline(session, person, item_id)
        assert "Sam" not in str(error.value.reason)
    # A care coordinator who lost the role since they were loaded is refused too (re-read).
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(PersonRole).where(
                PersonRole.person_id == world.zoco.id, PersonRole.role == Role.CARE_COORDINATOR
            )
        )
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await _decline(session, world.zoco, item_id)
    item = await _item(session_factory, item_id)
    assert (item.status, item.decision) == (QueueStatus.NEW, None)
    assert await _told(session_factory) == []
    assert await _decisions(session_factory) == []


async def test_a_decided_request_cannot_be_decided_again(
    session_factory: Factory, world: World
) -> None:
    declined = await _request(session_factory, world)
    async with session_factory() as session:
        await _decline(session, world.zoco, declined)
    already = Text.of("This request has already been decided.")
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as error:
            await _decline(session, world.zoco, declined, "Toch nog een keer nee.")
    assert error.value.reason == already
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as error:
            await run_unit_of_work(
                session,
                lambda work: approve_timeout_request(
                    session=work, actor=world.zoco, queue_item_id=declined, now=LATER
                ),
            )
    assert error.value.reason == already
    # An approved request cannot be declined afterwards either.
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=True, timeouts_per_week=0)
        )
    async with session_factory() as session:
        approved_outcome = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=at(WEDNESDAY, 11),
                now=NOW,
            ),
        )
    assert isinstance(approved_outcome, BookingRequested)
    approved = approved_outcome.queue_item_id
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: approve_timeout_request(
                session=work, actor=world.zoco, queue_item_id=approved, now=LATER
            ),
        )
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as error:
            await _decline(session, world.zoco, approved)
    assert error.value.reason == already
    assert (await _item(session_factory, approved)).decision is QueueDecision.ACCEPTED
    stored = await _item(session_factory, declined)
    assert stored.decision_reason == REASON  # the first decision stands
    # One message per decision, one audit row per decision.
    assert [row.payload["approved"] for row in await _told(session_factory)] == [False, True]
    assert [row.details["decision"] for row in await _decisions(session_factory)] == [
        "declined",
        "accepted",
    ]


async def test_the_view_shows_the_plan_and_who_asked(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session:
        seen = await run_unit_of_work(
            session,
            lambda work: open_timeout_request(
                session=work, viewer=world.zoco, queue_item_id=item_id
            ),
        )
    async with session_factory() as session:
        trajectory = await session.scalar(
            select(Trajectory).where(
                Trajectory.student_id == world.student.id,
                Trajectory.status == TrajectoryStatus.ACTIVE,
            )
        )
    assert trajectory is not None
    assert seen.trajectory_id == trajectory.id
    assert (seen.plan_start, seen.plan_end) == (trajectory.start_date, trajectory.end_date)
    assert seen.requested_by_name == world.student.display_name
    assert seen.requested_at == NOW
    assert (seen.decision, seen.decided_by_name, seen.decision_reason) == (None, None, None)


# --- the chat flow ----------------------------------------------------------------------------


def _button(turn: Turn, action: Action) -> Event:
    for reply in reversed(turn.replies):
        for button in reply.buttons:
            if button.event.action is action:
                return button.event
    raise AssertionError(f"no {action} button")


async def test_the_chat_flow_declines_on_confirm_and_keeps_a_refused_reason(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)

    async def step(event: Event) -> Turn:
        async with session_factory() as session, session.begin():
            return await handle_event(
                session=session,
                person=world.zoco,
                flow_id=TIMEOUT_DECLINE.id,
                event=event,
                now=LATER,
            )

    async with session_factory() as session, session.begin():
        turn = await open_flow(
            session=session,
            person=world.zoco,
            flow_id=TIMEOUT_DECLINE.id,
            now=LATER,
            preset={QUEUE_ITEM: str(item_id)},
        )
    assert (turn.state.step, turn.state.answers[QUEUE_ITEM]) == ("reason", str(item_id))
    refused = await step(typed("nee"))  # too short: asked again, nothing written
    assert refused.state.step == "reason"
    summary = await step(typed(REASON))
    assert summary.state.step == "summary"
    done = await step(_button(summary, Action.CONFIRM))
    assert done.state.status.value == "completed"
    item = await _item(session_factory, item_id)
    assert (item.decision, item.decision_reason) == (QueueDecision.DECLINED, REASON)
    assert len(await _told(session_factory)) == 1


async def test_the_chat_flow_is_refused_for_another_person_and_a_decided_request(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session, session.begin():
        with pytest.raises(NotAllowed):
            await open_flow(
                session=session,
                person=world.coach,
                flow_id=TIMEOUT_DECLINE.id,
                now=LATER,
                preset={QUEUE_ITEM: str(item_id)},
            )
    # The care coordinator's flow reaches its summary; meanwhile the request was decided.
    async with session_factory() as session, session.begin():
        await open_flow(
            session=session,
            person=world.zoco,
            flow_id=TIMEOUT_DECLINE.id,
            now=LATER,
            preset={QUEUE_ITEM: str(item_id)},
        )
    async with session_factory() as session, session.begin():
        summary = await handle_event(
            session=session,
            person=world.zoco,
            flow_id=TIMEOUT_DECLINE.id,
            event=typed(REASON),
            now=LATER,
        )
    async with session_factory() as session:
        await _decline(session, world.zoco, item_id, "Al besproken in het zorgoverleg.")
    async with session_factory() as session, session.begin():
        again = await handle_event(
            session=session,
            person=world.zoco,
            flow_id=TIMEOUT_DECLINE.id,
            event=_button(summary, Action.CONFIRM),
            now=LATER,
        )
    assert again.state.status.value == "active"  # the summary stays, with the refusal
    shown = [line for reply in again.replies for line in reply.lines]
    assert Text.of("This request has already been decided.") in shown
    assert (await _item(session_factory, item_id)).decision_reason == (
        "Al besproken in het zorgoverleg."
    )
    async with session_factory() as session:
        count = await session.scalar(
            select(func.count(Outbox.id)).where(Outbox.kind == TIMEOUT_DECIDED)
        )
    assert count == 1
