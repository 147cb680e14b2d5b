"""Duplicates visible (issue 11, item 5): what the mentor is warned about, what the referral
page lists, and merging a duplicate into the open one (note, audit, the mentor told)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action, Event
from dialogs.flows.verwijzing import EXISTING_STEP, HAS_EXISTING, VERWIJZING
from dialogs.i18n import Catalogs
from dialogs.replies import ReplyKind
from services.conversations.runtime import Turn, handle_event, open_flow
from services.kernel.errors import InvalidTransition, NotAllowed
from services.queue.duplicates import cases_of_student
from services.queue.referral_view import open_referral
from services.referrals.decisions import decline
from services.referrals.duplicates import OpenReferral, open_referrals_of_mentees
from services.referrals.merging import merge_duplicate
from services.referrals.outcome import referral_outcome
from services.referrals.progress import referrals_with_stage
from services.referrals.rules import ReferralStage
from storage.models import (
    AuditLog,
    Outbox,
    Person,
    QueueDecision,
    QueueItem,
    QueueNote,
    QueueStatus,
    Role,
    School,
    TrajectoryStatus,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
    add_trajectory,
    count,
)
from tests.support.units import unit

EN = Catalogs().get("en")
LATER = NOW + timedelta(days=2)


@dataclass
class World:
    zoco: Person
    mentor: Person
    other_mentor: Person
    sam: Person
    lisa: Person
    noor: Person
    stranger: Person


async def _world(factory: async_sessionmaker[AsyncSession]) -> World:
    """A mentor of Sam, Lisa and Noor; Sam also has another mentor; a stranger is nobody's
    mentee of this mentor."""
    async with factory() as session, session.begin():
        school = await add_school(session)
        zoco = await add_person(session, school, "zoco", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m1", Role.MENTOR, given_name="Mira")
        other = await add_person(session, school, "m2", Role.MENTOR, given_name="Otto")
        sam = await add_person(session, school, "s1", Role.STUDENT, given_name="Sam")
        lisa = await add_person(session, school, "s2", Role.STUDENT, given_name="Lisa")
        noor = await add_person(session, school, "s3", Role.STUDENT, given_name="Noor")
        stranger = await add_person(session, school, "s4", Role.STUDENT, given_name="Vera")
        for student in (sam, lisa, noor):
            await add_mentorship(session, mentor, student)
        await add_mentorship(session, other, sam)
        await add_mentorship(session, other, stranger)
    return World(zoco, mentor, other, sam, lisa, noor, stranger)


async def _item(factory: async_sessionmaker[AsyncSession], item_id: int) -> QueueItem:
    async with factory() as session:
        return await session.get_one(QueueItem, item_id)


# -- the mentor's warning ----------------------------------------------------------------------


async def test_the_mentor_sees_only_their_mentees_open_referrals_and_trajectories(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        # Sam: another mentor's referral, new. Lisa: declined (not open). Noor: running
        # support. Vera (not this mentor's mentee): open, never shown.
        await add_queued_referral(session, w.other_mentor, w.sam)
        declined = await add_queued_referral(session, w.mentor, w.lisa)
        await add_trajectory(session, w.mentor, w.noor, status=TrajectoryStatus.ACTIVE)
        await add_queued_referral(session, w.other_mentor, w.stranger)
    await unit(
        session_factory,
        decline,
        actor=w.zoco,
        queue_item_id=declined.id,
        reason="Eerst een gesprek.",
        now=LATER,
    )

    found = await unit(session_factory, open_referrals_of_mentees, mentor=w.mentor)

    sent_on = date(2026, 3, 2)
    assert found == {
        w.sam.id: (OpenReferral(w.sam.id, sent_on, ReferralStage.SUBMITTED),),
        w.noor.id: (OpenReferral(w.noor.id, sent_on, ReferralStage.RUNNING),),
    }


async def test_picking_a_student_with_an_open_referral_warns_in_the_chat_and_continue_works(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        await add_queued_referral(session, w.other_mentor, w.sam)
    now = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)

    async def step(turn: Turn, value: str, action: Action = Action.CHOOSE) -> Turn:
        event = next(
            b.event
            for r in turn.replies
            for b in r.buttons
            if b.event.action is action and b.event.value == value
        )
        async with session_factory() as session, session.begin():
            return await handle_event(
                session=session, person=w.mentor, flow_id=VERWIJZING.id, event=event, now=now
            )

    async with session_factory() as session, session.begin():
        turn = await open_flow(session=session, person=w.mentor, flow_id=VERWIJZING.id, now=now)
    warned = await step(turn, str(w.sam.id))

    assert warned.state.step == EXISTING_STEP
    assert warned.state.answers[HAS_EXISTING] is True
    question = [r for r in warned.replies if r.kind is ReplyKind.QUESTION][-1]
    lines = [EN.render(line) for line in question.lines]
    assert (
        "Note: Sam Persoon-s1 already has a referral from Monday, March 2 "
        "(sent, not picked up yet)."
    ) in lines
    # Only that one exists and its stage: nothing of what the other mentor wrote.
    assert not any("rustiger" in line or "Otto" in line for line in lines)

    going_on = await step(warned, "continue")
    assert going_on.state.step == "help_question_student"

    # Lisa has nothing open: no warning.
    async with session_factory() as session, session.begin():
        restart = await handle_event(
            session=session,
            person=w.mentor,
            flow_id=VERWIJZING.id,
            event=Event(Action.BACK, "", going_on.state.version, going_on.state.run),
            now=now,
        )
    back = await step(restart, "", Action.BACK)
    assert back.state.step == "student_id"
    lisa = await step(back, str(w.lisa.id))
    assert lisa.state.step == "help_question_student"
    assert HAS_EXISTING not in lisa.state.answers


# -- the referral page: the student's other referrals -------------------------------------------


async def test_the_referral_page_lists_the_students_other_referrals_and_offers_the_merge(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        first = await add_queued_referral(session, w.other_mentor, w.sam)
        second = await add_queued_referral(session, w.mentor, w.sam)

    view = await unit(
        session_factory, open_referral, viewer=w.zoco, queue_item_id=second.id, now=NOW
    )

    assert [case.queue_item_id for case in view.others] == [first.id]
    assert view.others[0].is_open
    assert view.merge_into_id == first.id
    assert "merge" in view.actions

    alone = await unit(
        session_factory, open_referral, viewer=w.zoco, queue_item_id=first.id, now=NOW
    )
    # The first can be merged into the second too: both are open, neither decided.
    assert alone.merge_into_id == second.id


# -- merging -----------------------------------------------------------------------------------


async def test_merging_closes_the_duplicate_keeps_its_words_audits_and_tells_its_mentor(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        original = await add_queued_referral(session, w.other_mentor, w.sam)
        duplicate = await add_queued_referral(
            session,
            w.mentor,
            w.sam,
            help_question_student="Ik wil niet meer weglopen uit de les.",
            works_at_home="Een vaste avondroutine.",
        )

    await unit(
        session_factory,
        merge_duplicate,
        actor=w.zoco,
        queue_item_id=duplicate.id,
        now=LATER,
        render=EN.render,
    )

    closed = await _item(session_factory, duplicate.id)
    assert closed.status is QueueStatus.CLOSED
    assert closed.merged_into_id == original.id
    assert closed.decision is None
    assert closed.assignee_id == w.zoco.id
    still_open = await _item(session_factory, original.id)
    assert still_open.status is QueueStatus.NEW
    async with session_factory() as session:
        notes = (await session.scalars(select(QueueNote))).all()
        audits = (
            await session.scalars(
                select(AuditLog).where(AuditLog.action.in_(["queue.merge", "queue.merged_in"]))
            )
        ).all()
        outbox = (
            await session.scalars(select(Outbox).where(Outbox.kind == "referral.merged"))
        ).all()
    assert [(n.queue_item_id, n.author_id) for n in notes] == [(original.id, w.zoco.id)]
    assert notes[0].text.splitlines() == [
        f"Merged from referral #{duplicate.id} by Mira Persoon-m1, sent Monday, March 2:",
        "Student's help question: Ik wil niet meer weglopen uit de les.",
        "Teacher's help question: Hoe help ik hem bij het plannen?",
        "Already tried: Vaste plek in de klas, korte gesprekjes na de les.",
        "What works at home: Een vaste avondroutine.",
        "What works at school: Duidelijke afspraken vooraf.",
    ]
    assert {(a.action, a.subject_id, a.actor_id) for a in audits} == {
        ("queue.merge", duplicate.id, w.zoco.id),
        ("queue.merged_in", original.id, w.zoco.id),
    }
    merge_audit = next(a for a in audits if a.action == "queue.merge")
    assert merge_audit.details["into_queue_item_id"] == original.id
    assert "weglopen" not in str(merge_audit.details)  # ids and codes only
    assert [(o.recipient_id, o.payload) for o in outbox] == [
        (w.mentor.id, {"referral_id": duplicate.referral_id, "queue_item_id": duplicate.id})
    ]

    # The mentor who sent it reads it in the chat and in "My referrals".
    assert duplicate.referral_id is not None
    outcome = await unit(
        session_factory,
        referral_outcome,
        viewer=w.mentor,
        referral_id=duplicate.referral_id,
        now=LATER,
    )
    assert outcome.merged
    progress = await unit(session_factory, referrals_with_stage, mentor=w.mentor)
    assert [p.stage for p in progress] == [ReferralStage.MERGED]

    # The open one's page: the note, the history; the duplicate's page: merged into #N.
    page = await unit(
        session_factory, open_referral, viewer=w.zoco, queue_item_id=original.id, now=NOW
    )
    assert "Ik wil niet meer weglopen" in page.notes[0].text
    assert "queue.merged_in" in [h.action for h in page.history]
    assert page.merge_into_id is None  # nothing else open any more
    gone = await unit(
        session_factory, open_referral, viewer=w.zoco, queue_item_id=duplicate.id, now=NOW
    )
    assert gone.merged_into_id == original.id
    assert gone.actions == frozenset({"note"})


async def test_a_running_trajectory_is_merged_into_before_an_older_open_referral(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        older = await add_queued_referral(session, w.other_mentor, w.sam)
        trajectory = await add_trajectory(session, w.mentor, w.sam)
        running = await session.scalar(
            select(QueueItem).where(QueueItem.referral_id == trajectory.referral_id)
        )
        assert running is not None
        # The intake was held: the trajectory's referral item is closed, the support runs.
        await session.execute(
            update(QueueItem).where(QueueItem.id == running.id).values(status=QueueStatus.CLOSED)
        )
        await session.execute(
            update(QueueItem)
            .where(QueueItem.id == older.id)
            .values(created_at=NOW - timedelta(days=30))
        )
        duplicate = await add_queued_referral(session, w.mentor, w.sam)

    await unit(
        session_factory,
        merge_duplicate,
        actor=w.zoco,
        queue_item_id=duplicate.id,
        now=LATER,
        render=EN.render,
    )

    assert (await _item(session_factory, duplicate.id)).merged_into_id == running.id


async def test_nothing_open_to_merge_into_is_refused_and_nothing_is_written(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        declined = await add_queued_referral(session, w.other_mentor, w.sam)
        only = await add_queued_referral(session, w.mentor, w.sam)
    await unit(
        session_factory,
        decline,
        actor=w.zoco,
        queue_item_id=declined.id,
        reason="Eerst een gesprek.",
        now=LATER,
    )

    with pytest.raises(InvalidTransition) as refused:
        await unit(
            session_factory,
            merge_duplicate,
            actor=w.zoco,
            queue_item_id=only.id,
            now=LATER,
            render=EN.render,
        )

    assert "no other open referral" in EN.render(refused.value.reason)
    assert (await _item(session_factory, only.id)).status is QueueStatus.NEW
    async with session_factory() as session:
        assert await count(session, QueueNote) == 0
        assert (
            await session.scalar(select(Outbox.id).where(Outbox.kind == "referral.merged"))
        ) is None


async def test_only_a_care_coordinator_of_the_school_may_merge(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        await add_queued_referral(session, w.other_mentor, w.sam)
        duplicate = await add_queued_referral(session, w.mentor, w.sam)
        elsewhere = await add_school(session, "havo-zuid")
        foreign = await add_person(session, elsewhere, "z9", Role.CARE_COORDINATOR)

    for actor in (w.mentor, foreign):
        with pytest.raises(NotAllowed):
            await unit(
                session_factory,
                merge_duplicate,
                actor=actor,
                queue_item_id=duplicate.id,
                now=LATER,
                render=EN.render,
            )
    assert (await _item(session_factory, duplicate.id)).status is QueueStatus.NEW


async def test_a_coach_sees_only_the_students_referrals_that_led_to_a_trajectory(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        coach = await add_person(
            session, await session.get_one(School, w.zoco.school_id), "c1", Role.COACH
        )
        earlier = await add_trajectory(session, w.mentor, w.sam, status=TrajectoryStatus.CLOSED)
        accepted = await add_trajectory(session, w.mentor, w.sam, status=TrajectoryStatus.PLANNED)
        open_only = await add_queued_referral(session, w.other_mentor, w.sam)
        items = {
            t.id: await session.scalar(
                select(QueueItem).where(QueueItem.referral_id == t.referral_id)
            )
            for t in (earlier, accepted)
        }
        for item in items.values():
            assert item is not None
            await session.execute(
                update(QueueItem)
                .where(QueueItem.id == item.id)
                .values(
                    status=QueueStatus.WAITING,
                    decision=QueueDecision.ACCEPTED,
                    decided_at=NOW,
                    decided_by_id=w.zoco.id,
                )
            )
    reading, closed_one = items[accepted.id], items[earlier.id]
    assert reading is not None
    assert closed_one is not None

    as_coach = await unit(
        session_factory, open_referral, viewer=coach, queue_item_id=reading.id, now=NOW
    )
    as_zoco = await unit(
        session_factory, open_referral, viewer=w.zoco, queue_item_id=reading.id, now=NOW
    )

    assert [c.trajectory_id for c in as_coach.others] == [earlier.id]
    assert {c.queue_item_id for c in as_zoco.others} == {open_only.id, closed_one.id}
    assert as_coach.actions == frozenset()


@pytest.mark.postgres_only
async def test_two_duplicates_merged_into_each_other_at_once_do_not_deadlock(
    session_factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two coordinators merge A into B and B into A at the same moment (PostgreSQL: row
    locks). Both reach the point where each has read its own item before either locks the
    other's (a barrier holds them there): the locks are taken in one order, so one merge goes
    through and the other is refused as changed meanwhile; neither fails with a deadlock."""
    w = await _world(session_factory)
    async with session_factory() as session, session.begin():
        first = await add_queued_referral(session, w.other_mentor, w.sam)
        second = await add_queued_referral(session, w.mentor, w.sam)
        second_zoco = await add_person(
            session,
            await session.get_one(School, w.zoco.school_id),
            "z9",
            Role.CARE_COORDINATOR,
        )
    barrier = asyncio.Barrier(2)
    real = cases_of_student
    waited: set[asyncio.Task[object] | None] = set()

    async def held(**kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task not in waited:  # the first read of each merge: wait for the other one
            waited.add(task)
            await asyncio.wait_for(barrier.wait(), timeout=10)
        return await real(**kwargs)

    monkeypatch.setattr("services.referrals.merging.cases_of_student", held)

    async def merge(actor: Person, item_id: int) -> str:
        try:
            await unit(
                session_factory,
                merge_duplicate,
                actor=actor,
                queue_item_id=item_id,
                now=LATER,
                render=EN.render,
            )
        except InvalidTransition:
            return "refused"
        return "merged"

    outcomes = await asyncio.gather(merge(w.zoco, first.id), merge(second_zoco, second.id))
    assert sorted(outcomes) == ["merged", "refused"]
    statuses = {(await _item(session_factory, i)).status for i in (first.id, second.id)}
    assert statuses == {QueueStatus.CLOSED, QueueStatus.NEW}  # one merged into the other
