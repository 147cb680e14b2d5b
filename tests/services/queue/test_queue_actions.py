"""The care coordinator's actions on a queue item: who may, which transitions, what is written."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import Text
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.notes import add_note
from services.queue.referral_view import HistoryEntry, NoteView, ReferralView, open_referral
from services.queue.rules import QueueAction, validate_decline_reason, validate_note
from services.queue.status import move_item
from services.referrals.decisions import (
    REFERRAL_ACCEPTED,
    REFERRAL_DECLINED,
    accept_for_intake,
    decline,
    take_in_analysis,
)
from storage.models import (
    AuditLog,
    ConsentGiver,
    Outbox,
    OutboxStatus,
    Person,
    PersonRole,
    QueueDecision,
    QueueItem,
    QueueNote,
    QueueStatus,
    Role,
    School,
    SupportKind,
    Urgency,
    Weekday,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
    count,
)

REASON = "Eerst het gesprek met de ouders afwachten."
LATER = NOW + timedelta(hours=2)


@dataclass
class World:
    school: School
    zoco: Person
    zoco2: Person
    mentor: Person
    coach: Person
    student: Person
    other_zoco: Person
    other_item_id: int
    item_id: int
    referral_id: int


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        zoco = await add_person(
            session, school, "z1", Role.CARE_COORDINATOR, given_name="Ilse", family_name="Zorg"
        )
        zoco2 = await add_person(
            session, school, "z2", Role.CARE_COORDINATOR, Role.COACH, given_name="Bram"
        )
        mentor = await add_person(
            session, school, "m1", Role.MENTOR, given_name="Anouk", family_name="Klasema"
        )
        coach = await add_person(session, school, "c1", Role.COACH, Role.MENTOR)
        student = await add_person(
            session,
            school,
            "s1",
            Role.STUDENT,
            given_name="Daan",
            family_name="Verzonnen",
            group_name="2B",
        )
        await add_mentorship(session, mentor, student)
        item = await add_queued_referral(
            session,
            mentor,
            student,
            urgency=Urgency.HIGH,
            parents_informed=False,
            parents_not_informed_reason="Ouders zijn nog niet bereikt.",
        )

        other = await add_school(session, "havo-zuid")
        other_zoco = await add_person(session, other, "oz", Role.CARE_COORDINATOR)
        other_mentor = await add_person(session, other, "om", Role.MENTOR)
        other_student = await add_person(session, other, "os", Role.STUDENT)
        await add_mentorship(session, other_mentor, other_student)
        other_item = await add_queued_referral(session, other_mentor, other_student)
    assert item.referral_id is not None
    return World(
        school=school,
        zoco=zoco,
        zoco2=zoco2,
        mentor=mentor,
        coach=coach,
        student=student,
        other_zoco=other_zoco,
        other_item_id=other_item.id,
        item_id=item.id,
        referral_id=item.referral_id,
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything an action could write; equal before and after a refused action."""

    item: tuple[Any, ...]
    audit: int
    outbox: int
    notes: int


async def _snapshot(factory: async_sessionmaker[AsyncSession], item_id: int) -> Snapshot:
    async with factory() as session:
        item = await session.get_one(QueueItem, item_id)
        return Snapshot(
            item=(
                item.status,
                item.assignee_id,
                item.decision,
                item.decision_reason,
                item.decided_at,
                item.decided_by_id,
                item.updated_at,
            ),
            audit=await count(session, AuditLog),
            outbox=await count(session, Outbox),
            notes=await count(session, QueueNote),
        )


async def _item(factory: async_sessionmaker[AsyncSession], item_id: int) -> QueueItem:
    async with factory() as session:
        return await session.get_one(QueueItem, item_id)


async def _audit(factory: async_sessionmaker[AsyncSession], action: str) -> list[AuditLog]:
    async with factory() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        )
        return list(rows)


async def _outbox(factory: async_sessionmaker[AsyncSession], kind: str) -> list[Outbox]:
    async with factory() as session:
        rows = await session.scalars(select(Outbox).where(Outbox.kind == kind))
        return list(rows)


Action = Callable[[AsyncSession, Person, int], Awaitable[object]]


async def _open(session: AsyncSession, actor: Person, item_id: int) -> object:
    return await run_unit_of_work(
        session, lambda s: open_referral(session=s, viewer=actor, queue_item_id=item_id, now=LATER)
    )


async def _take(session: AsyncSession, actor: Person, item_id: int) -> object:
    return await run_unit_of_work(
        session,
        lambda s: take_in_analysis(session=s, actor=actor, queue_item_id=item_id, now=LATER),
    )


async def _accept(session: AsyncSession, actor: Person, item_id: int) -> object:
    return await run_unit_of_work(
        session,
        lambda s: accept_for_intake(session=s, actor=actor, queue_item_id=item_id, now=LATER),
    )


async def _decline(session: AsyncSession, actor: Person, item_id: int) -> object:
    return await run_unit_of_work(
        session,
        lambda s: decline(session=s, actor=actor, queue_item_id=item_id, reason=REASON, now=LATER),
    )


async def _note(session: AsyncSession, actor: Person, item_id: int) -> object:
    return await run_unit_of_work(
        session,
        lambda s: add_note(
            session=s, actor=actor, queue_item_id=item_id, text="Gebeld.", now=LATER
        ),
    )


ACTIONS: dict[str, Action] = {
    "open": _open,
    "take": _take,
    "accept": _accept,
    "decline": _decline,
    "note": _note,
}


async def _ready_for(
    name: str, world: World, factory: async_sessionmaker[AsyncSession], item_id: int
) -> None:
    """Put the item where ``name`` would succeed for its own coordinator (accept needs
    analysis first), so that a refusal can only come from the authorization."""
    if name == "accept":
        zoco = world.other_zoco if item_id == world.other_item_id else world.zoco
        async with factory() as session:
            await run_unit_of_work(
                session,
                lambda s: take_in_analysis(session=s, actor=zoco, queue_item_id=item_id, now=NOW),
            )


# --- authorization -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("who", ["mentor", "coach", "other_school_zoco"])
async def test_only_a_coordinator_of_the_items_school_may_act(
    name: str, who: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _ready_for(name, world, session_factory, world.item_id)
    actor = {"mentor": world.mentor, "coach": world.coach, "other_school_zoco": world.other_zoco}
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await ACTIONS[name](session, actor[who], world.item_id)
    assert await _snapshot(session_factory, world.item_id) == before
    # ... while the school's own coordinator may.
    async with session_factory() as session:
        await ACTIONS[name](session, world.zoco, world.item_id)


@pytest.mark.parametrize("name", ACTIONS)
async def test_unknown_and_foreign_ids_get_the_same_refusal(
    name: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _ready_for(name, world, session_factory, world.other_item_id)
    before = await _snapshot(session_factory, world.other_item_id)
    async with session_factory() as session:
        with pytest.raises(NotAllowed) as foreign:
            await ACTIONS[name](session, world.zoco, world.other_item_id)
        with pytest.raises(NotAllowed) as unknown:
            await ACTIONS[name](session, world.zoco, 987_654)
    assert foreign.value.reason == unknown.value.reason
    assert await _snapshot(session_factory, world.other_item_id) == before
    # The other school's own coordinator is not refused.
    async with session_factory() as session:
        await ACTIONS[name](session, world.other_zoco, world.other_item_id)


@pytest.mark.parametrize("name", ACTIONS)
async def test_roles_are_read_from_the_database(
    name: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _ready_for(name, world, session_factory, world.item_id)
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(PersonRole).where(
                PersonRole.person_id == world.zoco.id, PersonRole.role == Role.CARE_COORDINATOR
            )
        )
    # `world.zoco` still lists the role in memory; the stored rows decide.
    assert world.zoco.has_role(Role.CARE_COORDINATOR)
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await ACTIONS[name](session, world.zoco, world.item_id)
    assert await _snapshot(session_factory, world.item_id) == before


async def test_a_person_not_in_the_database_is_refused(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ghost = Person(id=99_999, school_id=world.school.id, roles=[])
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await run_unit_of_work(
                session,
                lambda s: take_in_analysis(
                    session=s, actor=ghost, queue_item_id=world.item_id, now=LATER
                ),
            )
    assert (await _item(session_factory, world.item_id)).status is QueueStatus.NEW


# --- open_referral -----------------------------------------------------------------------


async def test_open_referral_shows_everything_the_summary_needs(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        view = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
    assert view == ReferralView(
        queue_item_id=world.item_id,
        referral_id=world.referral_id,
        status=QueueStatus.NEW,
        created_at=NOW,
        assignee_name=None,
        decision=None,
        decision_reason=None,
        decided_at=None,
        decided_by_name=None,
        student_name="Daan Verzonnen",
        group_name="2B",
        mentor_name="Anouk Klasema",
        referred_at=NOW,
        help_question_student="Ik wil rustiger worden in de klas.",
        help_question_teacher="Hoe help ik hem bij het plannen?",
        tried="Vaste plek in de klas, korte gesprekjes na de les.",
        works_at_home=None,
        works_at_school="Duidelijke afspraken vooraf.",
        urgency=Urgency.HIGH,
        parents_informed=False,
        parents_not_informed_reason="Ouders zijn nog niet bereikt.",
        support=(SupportKind.CONVERSATIONS, SupportKind.TIME_OUT),
        intake_from=date(2026, 3, 9),
        intake_days=(Weekday.MON, Weekday.WED),
        text_language="nl",
        notes=(),
        history=(HistoryEntry("referral.submit", NOW, "Anouk Klasema"),),
        # Who may consent (issue 15): the student (no parent on record here).
        consent_givers=((world.student.id, world.student.display_name, ConsentGiver.STUDENT),),
    )
    assert all(isinstance(code, SupportKind) for code in view.support)
    assert all(isinstance(code, Weekday) for code in view.intake_days)
    with pytest.raises(AttributeError):
        view.status = QueueStatus.CLOSED  # type: ignore[misc]


async def test_opening_is_audited_with_ids_only(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
    (audit,) = await _audit(session_factory, "referral.view")
    assert audit.actor_id == world.zoco.id
    assert audit.school_id == world.school.id
    assert (audit.subject_type, audit.subject_id) == ("referral", world.referral_id)
    assert audit.details == {"queue_item_id": world.item_id}


async def test_open_referral_after_work_shows_notes_history_and_decision(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW + timedelta(1)
            ),
        )
        await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s,
                actor=world.zoco2,
                queue_item_id=world.item_id,
                text="  ZAT bespreekt dit donderdag.\n",
                now=NOW + timedelta(2),
            ),
        )
        await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s,
                actor=world.zoco,
                queue_item_id=world.item_id,
                text="Moeder gebeld.",
                now=NOW + timedelta(3),
            ),
        )
        await run_unit_of_work(
            session,
            lambda s: accept_for_intake(
                session=s, actor=world.zoco2, queue_item_id=world.item_id, now=NOW + timedelta(4)
            ),
        )
        # Views are audited but are not part of the history.
        await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
        view = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )

    assert view.status is QueueStatus.WAITING
    assert view.assignee_name == "Ilse Zorg"
    assert view.decision is QueueDecision.ACCEPTED
    assert view.decided_at == NOW + timedelta(4)
    assert view.decided_by_name == "Bram Persoon-z2"
    assert view.decision_reason is None
    assert [(n.author_name, n.at, n.text) for n in view.notes] == [
        ("Bram Persoon-z2", NOW + timedelta(2), "ZAT bespreekt dit donderdag."),
        ("Ilse Zorg", NOW + timedelta(3), "Moeder gebeld."),
    ]
    assert all(isinstance(n, NoteView) for n in view.notes)
    assert view.history == (
        HistoryEntry("referral.submit", NOW, "Anouk Klasema"),
        HistoryEntry("queue.take", NOW + timedelta(1), "Ilse Zorg"),
        HistoryEntry("queue.note", NOW + timedelta(2), "Bram Persoon-z2"),
        HistoryEntry("queue.note", NOW + timedelta(3), "Ilse Zorg"),
        HistoryEntry("queue.accept", NOW + timedelta(4), "Bram Persoon-z2"),
    )
    assert view.history[-1].label == Text.of("Accepted for an intake")
    assert len(await _audit(session_factory, "referral.view")) == 2


async def test_history_and_notes_belong_to_this_item_only(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        school = await session.get_one(School, world.school.id)
        second_student = await add_person(session, school, "s2", Role.STUDENT)
        mentor = await session.get_one(Person, world.mentor.id)
        await add_mentorship(session, mentor, second_student)
        second = await add_queued_referral(session, mentor, second_student)
    async with session_factory() as session:
        await _take(session, world.zoco, second.id)
        await _note(session, world.zoco, second.id)
        await _note(session, world.other_zoco, world.other_item_id)
        view = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
    assert view.notes == ()
    assert [entry.action for entry in view.history] == ["referral.submit"]


async def test_names_of_erased_actors_are_left_out(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # The audit trail keeps the ids of people who are gone (no foreign key on purpose).
    async with session_factory() as session, session.begin():
        session.add(
            AuditLog(
                school_id=world.school.id,
                actor_id=None,
                action="queue.take",
                subject_type="queue_item",
                subject_id=world.item_id,
                at=LATER,
                details={},
            )
        )
    async with session_factory() as session:
        view = await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
    assert view.history[-1] == HistoryEntry("queue.take", LATER, None)


# --- transitions -------------------------------------------------------------------------


async def test_take_in_analysis(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        item = await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
    assert (item.status, item.assignee_id, item.updated_at) == (
        QueueStatus.IN_PROGRESS,
        world.zoco.id,
        LATER,
    )
    stored = await _item(session_factory, world.item_id)
    assert (stored.status, stored.assignee_id, stored.decision) == (
        QueueStatus.IN_PROGRESS,
        world.zoco.id,
        None,
    )
    (audit,) = await _audit(session_factory, "queue.take")
    assert (audit.actor_id, audit.subject_type, audit.subject_id, audit.at) == (
        world.zoco.id,
        "queue_item",
        world.item_id,
        LATER,
    )
    assert audit.details == {
        "referral_id": world.referral_id,
        "from_status": "new",
        "to_status": "in_progress",
        "decision": None,
    }
    # Taking in analysis tells no one.
    assert await _outbox(session_factory, REFERRAL_ACCEPTED) == []
    assert await _outbox(session_factory, REFERRAL_DECLINED) == []


async def test_accept_for_intake_after_analysis(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )
        # Another coordinator of the school may place: each holds the mandate.
        item = await run_unit_of_work(
            session,
            lambda s: accept_for_intake(
                session=s, actor=world.zoco2, queue_item_id=world.item_id, now=LATER
            ),
        )
    assert item.status is QueueStatus.WAITING
    stored = await _item(session_factory, world.item_id)
    assert (
        stored.status,
        stored.decision,
        stored.decided_at,
        stored.decided_by_id,
        stored.assignee_id,
        stored.decision_reason,
        stored.updated_at,
    ) == (
        QueueStatus.WAITING,
        QueueDecision.ACCEPTED,
        LATER,
        world.zoco2.id,
        world.zoco.id,
        None,
        LATER,
    )
    (audit,) = await _audit(session_factory, "queue.accept")
    assert audit.actor_id == world.zoco2.id
    assert audit.details == {
        "referral_id": world.referral_id,
        "from_status": "in_progress",
        "to_status": "waiting",
        "decision": "accepted",
    }
    (message,) = await _outbox(session_factory, REFERRAL_ACCEPTED)
    assert message.recipient_id == world.mentor.id
    assert message.school_id == world.school.id
    assert message.payload == {"referral_id": world.referral_id, "queue_item_id": world.item_id}
    assert message.dedup_key == f"referral.accepted:{world.referral_id}:{world.mentor.id}"
    assert message.status is OutboxStatus.PENDING
    assert message.next_attempt_at == LATER
    assert await _outbox(session_factory, REFERRAL_DECLINED) == []


async def test_no_placement_without_analysis(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as refused:
            await _accept(session, world.zoco, world.item_id)
    assert "in analysis first" in refused.value.reason.msgid
    assert await _snapshot(session_factory, world.item_id) == before


@pytest.mark.parametrize("analysed", [False, True], ids=["new", "in_progress"])
async def test_decline_from_new_or_in_progress(
    analysed: bool,
    world: World,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    if analysed:
        async with session_factory() as session:
            await run_unit_of_work(
                session,
                lambda s: take_in_analysis(
                    session=s, actor=world.zoco2, queue_item_id=world.item_id, now=NOW
                ),
            )
    async with session_factory() as session:
        item = await run_unit_of_work(
            session,
            lambda s: decline(
                session=s,
                actor=world.zoco,
                queue_item_id=world.item_id,
                reason=f"  {REASON}\n",
                now=LATER,
            ),
        )
    assert item.status is QueueStatus.CLOSED
    stored = await _item(session_factory, world.item_id)
    assert (
        stored.status,
        stored.decision,
        stored.decision_reason,
        stored.decided_at,
        stored.decided_by_id,
        stored.assignee_id,
    ) == (
        QueueStatus.CLOSED,
        QueueDecision.DECLINED,
        REASON,
        LATER,
        world.zoco.id,
        # An analysed item keeps its analyst; a new one is assigned to who declined it.
        world.zoco2.id if analysed else world.zoco.id,
    )
    (audit,) = await _audit(session_factory, "queue.decline")
    assert audit.details == {
        "referral_id": world.referral_id,
        "from_status": "in_progress" if analysed else "new",
        "to_status": "closed",
        "decision": "declined",
    }
    (message,) = await _outbox(session_factory, REFERRAL_DECLINED)
    assert message.recipient_id == world.mentor.id
    assert message.payload == {"referral_id": world.referral_id, "queue_item_id": world.item_id}
    assert message.dedup_key == f"referral.declined:{world.referral_id}:{world.mentor.id}"
    assert await _outbox(session_factory, REFERRAL_ACCEPTED) == []


@pytest.mark.parametrize(
    ("steps", "refused", "because"),
    [
        (["take"], "take", "This referral is already being analysed."),
        (["take", "accept"], "take", "This referral was already accepted for an intake."),
        (["take", "accept"], "accept", "This referral was already accepted for an intake."),
        (["take", "accept"], "decline", "This referral was already accepted for an intake."),
        (["decline"], "take", "This referral was already declined."),
        (["decline"], "accept", "This referral was already declined."),
        (["decline"], "decline", "This referral was already declined."),
        (["take", "decline"], "accept", "This referral was already declined."),
        (["take", "decline"], "decline", "This referral was already declined."),
    ],
)
async def test_invalid_transitions_are_refused_and_write_nothing(
    steps: list[str],
    refused: str,
    because: str,
    world: World,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        for step in steps:
            await ACTIONS[step](session, world.zoco, world.item_id)
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as error:
            await ACTIONS[refused](session, world.zoco2, world.item_id)
    assert error.value.reason == Text.of(because)
    assert await _snapshot(session_factory, world.item_id) == before


async def test_an_item_closed_without_decision_cannot_be_changed(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        (await session.get_one(QueueItem, world.item_id)).status = QueueStatus.CLOSED
    for name in ("take", "accept", "decline"):
        async with session_factory() as session:
            with pytest.raises(InvalidTransition) as error:
                await ACTIONS[name](session, world.zoco, world.item_id)
        assert error.value.reason == Text.of(
            "This referral is closed and can no longer be changed."
        )


async def test_a_stale_item_object_in_the_session_does_not_decide(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # The caller's session still holds the item as it was; another session declines it.
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: take_in_analysis(
                session=s, actor=world.zoco, queue_item_id=world.item_id, now=NOW
            ),
        )
        async with session_factory() as other:
            await _decline(other, world.zoco2, world.item_id)
        with pytest.raises(InvalidTransition):
            await _accept(session, world.zoco, world.item_id)
    assert await _outbox(session_factory, REFERRAL_ACCEPTED) == []


async def test_a_concurrent_change_between_read_and_write_is_refused(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # Session A checked the item (in progress) and is about to accept it; meanwhile B
    # declines. SQLite has no row lock, so only the compare-and-set UPDATE can notice.
    async with session_factory() as session:
        await _take(session, world.zoco, world.item_id)
    # A's read ends before B writes: on SQLite an open transaction holds the write lock
    # (BEGIN IMMEDIATE), so B would otherwise simply wait for A.
    async with session_factory() as session_a:
        async with session_a.begin():
            item = await session_a.get_one(QueueItem, world.item_id)
        assert item.status is QueueStatus.IN_PROGRESS
        async with session_factory() as session_b:
            await _decline(session_b, world.zoco2, world.item_id)
        async with session_a.begin():
            with pytest.raises(InvalidTransition) as error:
                await move_item(  # the race needs the inner step: the one status writer
                    session=session_a,
                    item=item,
                    action=QueueAction.ACCEPT,
                    to=QueueStatus.WAITING,
                    now=LATER,
                    values={},
                )
    assert error.value.reason == Text.of("This referral was already declined.")
    assert await _audit(session_factory, "queue.accept") == []
    stored = await _item(session_factory, world.item_id)
    assert (stored.status, stored.decision) == (QueueStatus.CLOSED, QueueDecision.DECLINED)


# --- decline reason and notes ------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "vier", "  vier \n\t", "\x00vier\x07", "x" * 1001])
async def test_decline_reason_limits_are_enforced(
    reason: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(InputInvalid) as error:
            await run_unit_of_work(
                session,
                lambda s: decline(
                    session=s,
                    actor=world.zoco,
                    queue_item_id=world.item_id,
                    reason=reason,
                    now=LATER,
                ),
            )
    assert error.value.reason is not None
    assert error.value.reason == validate_decline_reason(reason)
    assert await _snapshot(session_factory, world.item_id) == before


def test_decline_reason_messages() -> None:
    assert validate_decline_reason("vier") == Text.plural_of(
        "That is too short: please write at least {count} character.",
        "That is too short: please write at least {count} characters.",
        5,
    )
    too_long = validate_decline_reason("x" * 1001)
    assert too_long is not None
    assert too_long.count == 1000
    assert too_long.params["length"] == 1001
    assert too_long.plural is not None
    assert validate_decline_reason("vijf!") is None
    assert validate_decline_reason("x" * 1000) is None


@pytest.mark.parametrize("reason", ["vijf!", "x" * 1000])
async def test_decline_reason_limits_are_inclusive(
    reason: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: decline(
                session=s, actor=world.zoco, queue_item_id=world.item_id, reason=reason, now=LATER
            ),
        )
    assert (await _item(session_factory, world.item_id)).decision_reason == reason


async def test_add_note_keeps_status_and_audits_without_text(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await _take(session, world.zoco, world.item_id)
    before = await _snapshot(session_factory, world.item_id)
    text = "Vader vertelde over de situatie thuis."
    async with session_factory() as session:
        note = await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s, actor=world.zoco2, queue_item_id=world.item_id, text=text, now=LATER
            ),
        )
    async with session_factory() as session:
        stored = await session.get_one(QueueNote, note.id)
        assert (
            stored.school_id,
            stored.queue_item_id,
            stored.author_id,
            stored.text,
            stored.created_at,
        ) == (world.school.id, world.item_id, world.zoco2.id, text, LATER)
    after = await _snapshot(session_factory, world.item_id)
    assert after.item == before.item  # status, assignee, updated_at: untouched
    assert after.outbox == before.outbox  # notes are internal: nobody is notified
    (audit,) = await _audit(session_factory, "queue.note")
    assert (audit.actor_id, audit.subject_type, audit.subject_id) == (
        world.zoco2.id,
        "queue_item",
        world.item_id,
    )
    assert audit.details == {"note_id": note.id, "referral_id": world.referral_id}


async def test_notes_can_be_added_to_a_closed_item(
    world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await _decline(session, world.zoco, world.item_id)
        await _note(session, world.zoco, world.item_id)
    assert (await _item(session_factory, world.item_id)).status is QueueStatus.CLOSED
    async with session_factory() as session:
        assert await count(session, QueueNote) == 1


@pytest.mark.parametrize("text", ["", " \n\t ", "\x00\x07", "x" * 2001])
async def test_note_limits_are_enforced(
    text: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    before = await _snapshot(session_factory, world.item_id)
    async with session_factory() as session:
        with pytest.raises(InputInvalid) as error:
            await run_unit_of_work(
                session,
                lambda s: add_note(
                    session=s, actor=world.zoco, queue_item_id=world.item_id, text=text, now=LATER
                ),
            )
    assert error.value.reason == validate_note(text)
    assert await _snapshot(session_factory, world.item_id) == before


@pytest.mark.parametrize("text", ["!", "x" * 2000])
async def test_note_limits_are_inclusive(
    text: str, world: World, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        note = await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s, actor=world.zoco, queue_item_id=world.item_id, text=text, now=LATER
            ),
        )
    assert note.text == text


# --- privacy -----------------------------------------------------------------------------


async def test_no_names_or_free_text_in_logs_audit_or_outbox(
    world: World,
    session_factory: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_note = "Thuissituatie is zwaar."
    caplog.set_level(logging.DEBUG, logger="storage")
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda s: open_referral(
                session=s, viewer=world.zoco, queue_item_id=world.item_id, now=LATER
            ),
        )
        await _take(session, world.zoco, world.item_id)
        await run_unit_of_work(
            session,
            lambda s: add_note(
                session=s,
                actor=world.zoco,
                queue_item_id=world.item_id,
                text=secret_note,
                now=LATER,
            ),
        )
        await _decline(session, world.zoco, world.item_id)
        with pytest.raises(NotAllowed):
            await _open(session, world.mentor, world.item_id)
    async with session_factory() as session:
        audit = [str(a.details) for a in await session.scalars(select(AuditLog))]
        outbox = [str(o.payload) for o in await session.scalars(select(Outbox))]
    written = "\n".join([caplog.text, *audit, *outbox])
    for private in (
        secret_note,
        REASON,
        "Daan",
        "Verzonnen",
        "Anouk",
        "Klasema",
        "Ilse",
        "rustiger",
    ):
        assert private not in written


def test_referral_view_is_frozen_and_complete() -> None:
    names = {f.name for f in fields(ReferralView)}
    assert {
        "queue_item_id",
        "status",
        "created_at",
        "student_name",
        "group_name",
        "mentor_name",
        "help_question_student",
        "help_question_teacher",
        "tried",
        "works_at_home",
        "works_at_school",
        "urgency",
        "parents_informed",
        "parents_not_informed_reason",
        "support",
        "intake_from",
        "intake_days",
        "text_language",
        "notes",
        "history",
    } <= names
