"""The one path of a new queue item (`services.queue.items.open_item`): the item, a notice for
every care coordinator of the school, the audit row — together in the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.uow import run_unit_of_work
from services.outbox.kinds import OutboxKind
from services.queue.items import Audit, Notice, open_item
from storage.models import AuditLog, Outbox, QueueItem, QueueKind, QueueStatus, Role
from tests.support.factories import NOW, add_person, add_school


async def test_a_new_item_is_announced_to_every_coordinator_and_audited(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        first = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        second = await add_person(session, school, "z2", Role.CARE_COORDINATOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        other = await add_school(session, "havo-zuid")
        await add_person(session, other, "oz", Role.CARE_COORDINATOR)
        item = await open_item(
            session=session,
            school_id=school.id,
            kind=QueueKind.TIMEOUT_REQUEST,
            actor_id=student.id,
            notice=Notice(OutboxKind.TIMEOUT_REQUESTED),
            audit=Audit("timeout.request", details={"student_id": student.id}),
            now=NOW,
        )
    async with session_factory() as session:
        stored = await session.get_one(QueueItem, item.id)
        assert (stored.status, stored.kind, stored.created_at) == (
            QueueStatus.NEW,
            QueueKind.TIMEOUT_REQUEST,
            NOW,
        )
        told = (await session.scalars(select(Outbox).order_by(Outbox.recipient_id))).all()
        assert [(o.recipient_id, o.kind, o.payload, o.dedup_key) for o in told] == [
            (
                who,
                "timeout.requested",
                {"queue_item_id": item.id},
                f"timeout.requested:{item.id}:{who}",
            )
            for who in sorted((first.id, second.id))
        ]
        (audit,) = (await session.scalars(select(AuditLog))).all()
        # The item is the subject: its id is not repeated in the details.
        assert (audit.action, audit.subject_type, audit.subject_id, audit.details) == (
            "timeout.request",
            "queue_item",
            item.id,
            {"student_id": student.id},
        )
        assert audit.actor_id == student.id


async def test_a_notice_and_audit_about_another_subject_name_the_item(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        item = await open_item(
            session=session,
            school_id=school.id,
            kind=QueueKind.EXIT_SURVEY,
            actor_id=None,
            notice=Notice(
                OutboxKind.SURVEY_COMPLETED, subject_id=41, payload={"survey_response_id": 41}
            ),
            audit=Audit("survey.complete", subject_type="survey_invitation", subject_id=40),
            now=NOW,
        )
    async with session_factory() as session:
        (notice,) = (await session.scalars(select(Outbox))).all()
        assert notice.payload == {"survey_response_id": 41, "queue_item_id": item.id}
        assert notice.dedup_key == f"survey.completed:41:{zoco.id}"
        (audit,) = (await session.scalars(select(AuditLog))).all()
        assert (audit.subject_type, audit.subject_id) == ("survey_invitation", 40)
        assert audit.details == {"queue_item_id": item.id}


async def test_nothing_is_kept_when_the_callers_transaction_fails(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        await add_person(session, school, "z1", Role.CARE_COORDINATOR)

    async def open_then_fail(session: AsyncSession) -> None:
        await open_item(
            session=session,
            school_id=school.id,
            kind=QueueKind.TIMEOUT_REQUEST,
            actor_id=None,
            notice=Notice(OutboxKind.TIMEOUT_REQUESTED),
            audit=Audit("timeout.request"),
            now=NOW,
        )
        raise RuntimeError("the caller's next step failed")

    with pytest.raises(RuntimeError):
        await run_unit_of_work(session_factory, open_then_fail)
    async with session_factory() as session:
        assert (await session.scalars(select(QueueItem))).all() == []
        assert (await session.scalars(select(Outbox))).all() == []
        assert (await session.scalars(select(AuditLog))).all() == []
