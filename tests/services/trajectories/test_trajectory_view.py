"""The trajectory page's storage: overdue flags, authorization and audit, evaluations held,
the logbook (written by staff of the school, read in chat by the student's own people only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.closing import close_trajectory
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.trajectories.evaluations import mark_evaluation_held
from services.trajectories.lifecycle import TrajectoryPlan, set_plan
from services.trajectories.logbook import AuthorRole, add_logbook_entry, logbook_for
from services.trajectories.rules import FlagKind, OverdueFlag
from services.trajectories.view import InvitationState, list_trajectories, open_trajectory
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    Guardianship,
    LogbookEntry,
    Person,
    RespondentType,
    Role,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.factories import (
    CLOSING,
    NOW,
    add_mentorship,
    add_person,
    add_school,
    add_trajectory,
    count,
)
from tests.support.units import unit

TODAY = date(2026, 3, 2)  # NOW's school-local day, a Monday


# --- a school with people ---------------------------------------------------------------------


@dataclass
class World:
    zoco: Person
    coach: Person
    mentor: Person
    student: Person
    parent: Person
    other_parent: Person
    other_student: Person
    other_mentor: Person
    teacher: Person
    stranger_coach: Person
    trajectory_id: int
    other_trajectory_id: int


async def _world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        coach = await add_person(session, school, "c1", Role.COACH)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        other_mentor = await add_person(session, school, "m2", Role.MENTOR)
        teacher = await add_person(session, school, "t1", Role.TEACHER)
        student = await add_person(session, school, "s1", Role.STUDENT, given_name="Noor")
        other_student = await add_person(session, school, "s2", Role.STUDENT, given_name="Daan")
        parent = await add_person(session, school, "p1", Role.PARENT)
        other_parent = await add_person(session, school, "p2", Role.PARENT)
        await add_mentorship(session, mentor, student)
        await add_mentorship(session, other_mentor, other_student)
        session.add_all(
            [
                Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id),
                Guardianship(
                    school_id=school.id, parent_id=other_parent.id, student_id=other_student.id
                ),
            ]
        )
        trajectory = await add_trajectory(session, mentor, student, end=date(2026, 6, 26))
        other = await add_trajectory(session, other_mentor, other_student)
        elsewhere = await add_school(session, "elders")
        stranger_coach = await add_person(
            session, elsewhere, "c9", Role.COACH, Role.CARE_COORDINATOR
        )
    return World(
        zoco=zoco,
        coach=coach,
        mentor=mentor,
        student=student,
        parent=parent,
        other_parent=other_parent,
        other_student=other_student,
        other_mentor=other_mentor,
        teacher=teacher,
        stranger_coach=stranger_coach,
        trajectory_id=trajectory.id,
        other_trajectory_id=other.id,
    )


async def _add_timeout(
    session_factory: async_sessionmaker[AsyncSession],
    world: World,
    starts_at: datetime,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
) -> None:
    async with session_factory() as session, session.begin():
        school_id = world.student.school_id
        session.add(
            Appointment(
                school_id=school_id,
                trajectory_id=world.trajectory_id,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                status=status,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                busy_until=starts_at + timedelta(minutes=30),
                resource="room:time_out",
                booked_by_id=world.student.id,
                cancelled_at=starts_at if status is AppointmentStatus.CANCELLED else None,
            )
        )


async def _audit(session_factory: async_sessionmaker[AsyncSession], action: str) -> list[AuditLog]:
    async with session_factory() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


# --- the page: who may open it, what it shows, the audit --------------------------------------


async def test_staff_of_the_school_open_the_trajectory_and_the_view_is_audited(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    for viewer in (world.zoco, world.coach):
        async with session_factory() as session:
            page = await unit(
                session,
                open_trajectory,
                viewer=viewer,
                trajectory_id=world.trajectory_id,
                now=NOW,
            )
        assert page.student_name == world.student.display_name
        assert page.mentor_name == world.mentor.display_name
        assert page.status is TrajectoryStatus.ACTIVE
        assert page.flags == ()
    views = await _audit(session_factory, "trajectory.view")
    assert [(v.actor_id, v.subject_id) for v in views] == [
        (world.zoco.id, world.trajectory_id),
        (world.coach.id, world.trajectory_id),
    ]
    assert views[0].details == {"student_id": world.student.id}


async def test_another_schools_trajectory_and_an_unknown_id_get_the_same_refusal(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    reasons = []
    for trajectory_id in (world.trajectory_id, 999_999):
        async with session_factory() as session:
            with pytest.raises(NotAllowed) as refused:
                await unit(
                    session,
                    open_trajectory,
                    viewer=world.stranger_coach,
                    trajectory_id=trajectory_id,
                    now=NOW,
                )
            reasons.append(refused.value.reason)
    assert reasons[0] == reasons[1]
    assert await _audit(session_factory, "trajectory.view") == []


async def test_family_mentor_and_teacher_cannot_open_the_staff_page(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    for viewer in (world.mentor, world.parent, world.student, world.teacher):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    open_trajectory,
                    viewer=viewer,
                    trajectory_id=world.trajectory_id,
                    now=NOW,
                )
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(session, list_trajectories, viewer=viewer, now=NOW)


async def test_time_outs_over_the_cap_are_counted_per_school_local_week(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)  # cap: 2 per week
    # Sunday 8 March 23:30 UTC is Monday 9 March 00:30 in Amsterdam: the NEXT week.
    await _add_timeout(session_factory, world, datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    await _add_timeout(session_factory, world, datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    await _add_timeout(session_factory, world, datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    # Cancelled and no-show time-outs do not count.
    await _add_timeout(
        session_factory, world, datetime(2026, 3, 4, 10, 0, tzinfo=UTC), AppointmentStatus.CANCELLED
    )
    await _add_timeout(
        session_factory, world, datetime(2026, 3, 6, 10, 0, tzinfo=UTC), AppointmentStatus.NO_SHOW
    )
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert page.flags == ()
    assert len(page.appointments) == 5
    await _add_timeout(
        session_factory, world, datetime(2026, 3, 6, 12, 0, tzinfo=UTC), AppointmentStatus.ATTENDED
    )
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert page.flags == (OverdueFlag(FlagKind.TIMEOUTS_OVER_CAP, day=date(2026, 3, 2), count=3),)


async def test_the_list_shows_flags_first_and_only_the_viewers_school(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    plan = TrajectoryPlan(
        goals="Rustig blijven in de les en op tijd hulp vragen.",
        start=date(2026, 2, 2),
        end=date(2026, 6, 26),
        evaluations=(date(2026, 2, 27),),
        timeouts_in_plan=True,
        timeouts_per_week=2,
        coach_id=world.coach.id,
    )
    async with session_factory() as session:
        await unit(
            session,
            set_plan,
            actor=world.zoco,
            trajectory_id=world.other_trajectory_id,
            plan=plan,
            now=NOW,
        )
    async with session_factory() as session:
        summaries = await unit(session, list_trajectories, viewer=world.coach, now=NOW)
    assert [s.trajectory_id for s in summaries] == [world.other_trajectory_id, world.trajectory_id]
    assert summaries[0].flags == (OverdueFlag(FlagKind.EVALUATION_MISSED, day=date(2026, 2, 27)),)
    async with session_factory() as session:
        flagged = await unit(
            session, list_trajectories, viewer=world.coach, now=NOW, flagged_only=True
        )
    assert [s.trajectory_id for s in flagged] == [world.other_trajectory_id]
    async with session_factory() as session:
        assert await unit(session, list_trajectories, viewer=world.stranger_coach, now=NOW) == []
    listed = await _audit(session_factory, "trajectory.list")
    assert listed[0].details["trajectory_ids"] == [world.other_trajectory_id, world.trajectory_id]


async def test_marking_the_evaluation_held_clears_its_flag_and_is_audited(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    async with session_factory() as session, session.begin():
        evaluation = TrajectoryEvaluation(
            school_id=world.student.school_id,
            trajectory_id=world.trajectory_id,
            kind="interim",
            due_on=date(2026, 2, 27),
        )
        session.add(evaluation)
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert [f.kind for f in page.flags] == [FlagKind.EVALUATION_MISSED]
    assert page.evaluations[0].missed
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(
                session,
                mark_evaluation_held,
                actor=world.stranger_coach,
                trajectory_id=world.trajectory_id,
                evaluation_id=evaluation.id,
                now=NOW,
            )
    async with session_factory() as session:
        with pytest.raises(NotAllowed):  # the evaluation is not of that trajectory
            await unit(
                session,
                mark_evaluation_held,
                actor=world.coach,
                trajectory_id=world.other_trajectory_id,
                evaluation_id=evaluation.id,
                now=NOW,
            )
    async with session_factory() as session:
        held_on = await unit(
            session,
            mark_evaluation_held,
            actor=world.coach,
            trajectory_id=world.trajectory_id,
            evaluation_id=evaluation.id,
            now=NOW,
        )
    assert held_on == TODAY
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert page.flags == ()
    assert page.evaluations[0].held_on == TODAY
    held = await _audit(session_factory, "trajectory.evaluation_held")
    assert [(h.actor_id, h.details) for h in held] == [
        (world.coach.id, {"evaluation_id": evaluation.id})
    ]


async def test_a_new_plan_replaces_coming_evaluations_and_keeps_held_ones(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    first = TrajectoryPlan(
        goals="Rustig blijven in de les en op tijd hulp vragen.",
        start=date(2026, 2, 2),
        end=date(2026, 6, 26),
        evaluations=(date(2026, 2, 27), date(2026, 4, 17)),
        coach_id=world.coach.id,
    )
    async with session_factory() as session:
        await unit(
            session,
            set_plan,
            actor=world.zoco,
            trajectory_id=world.trajectory_id,
            plan=first,
            now=NOW,
        )
    async with session_factory() as session:
        held_id = await session.scalar(
            select(TrajectoryEvaluation.id).where(TrajectoryEvaluation.due_on == date(2026, 2, 27))
        )
    assert held_id is not None
    async with session_factory() as session:
        await unit(
            session,
            mark_evaluation_held,
            actor=world.coach,
            trajectory_id=world.trajectory_id,
            evaluation_id=held_id,
            now=NOW,
        )
    second = TrajectoryPlan(
        goals=first.goals,
        start=first.start,
        end=date(2026, 7, 3),
        evaluations=(date(2026, 5, 1),),
        coach_id=world.coach.id,
    )
    async with session_factory() as session:
        await unit(
            session,
            set_plan,
            actor=world.zoco,
            trajectory_id=world.trajectory_id,
            plan=second,
            now=NOW,
        )
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(TrajectoryEvaluation.due_on, TrajectoryEvaluation.held_on).order_by(
                    TrajectoryEvaluation.due_on
                )
            )
        ).all()
    assert rows == [
        (date(2026, 2, 27), TODAY),
        (date(2026, 5, 1), None),
        (date(2026, 7, 3), None),
    ]


# --- the logbook: writing ---------------------------------------------------------------------


async def test_coach_and_care_coordinator_write_in_the_logbook_audited_with_ids_only(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    text = "  Goed gesprek gehad over de toetsweek.\nVolgende week weer.  "
    async with session_factory() as session:
        entry_id = await unit(
            session,
            add_logbook_entry,
            author=world.coach,
            trajectory_id=world.trajectory_id,
            text=text,
            now=NOW,
        )
    async with session_factory() as session:
        await unit(
            session,
            add_logbook_entry,
            author=world.zoco,
            trajectory_id=world.trajectory_id,
            text="Ouders gebeld.",
            now=NOW + timedelta(hours=1),
        )
    async with session_factory() as session:
        stored = await session.get(LogbookEntry, entry_id)
    assert stored is not None
    assert stored.text == text.strip()
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert [(e.author_role, e.text) for e in page.logbook] == [
        (AuthorRole.CARE_COORDINATOR, "Ouders gebeld."),
        (AuthorRole.COACH, text.strip()),
    ]
    added = await _audit(session_factory, "logbook.add")
    assert added[0].details == {"logbook_entry_id": entry_id}
    assert all("gesprek" not in str(a.details) for a in added)


async def test_a_logbook_entry_outside_its_limits_is_refused_and_nothing_is_written(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    for text in ("   \n ", "x" * 2001):
        async with session_factory() as session:
            with pytest.raises(InputInvalid):
                await unit(
                    session,
                    add_logbook_entry,
                    author=world.coach,
                    trajectory_id=world.trajectory_id,
                    text=text,
                    now=NOW,
                )
    async with session_factory() as session:
        assert await count(session, LogbookEntry) == 0
    async with session_factory() as session:
        await unit(
            session,
            add_logbook_entry,
            author=world.coach,
            trajectory_id=world.trajectory_id,
            text="x" * 2000,
            now=NOW,
        )
    async with session_factory() as session:
        assert await count(session, LogbookEntry) == 1


async def test_only_staff_of_the_school_write_and_not_in_a_closed_trajectory(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    for author in (world.mentor, world.parent, world.student, world.stranger_coach):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    add_logbook_entry,
                    author=author,
                    trajectory_id=world.trajectory_id,
                    text="Mag ik dit schrijven?",
                    now=NOW,
                )
    async with session_factory() as session:
        await unit(
            session,
            close_trajectory,
            actor=world.zoco,
            trajectory_id=world.trajectory_id,
            closing=CLOSING,
            now=NOW,
        )
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await unit(
                session,
                add_logbook_entry,
                author=world.coach,
                trajectory_id=world.trajectory_id,
                text="Na het sluiten.",
                now=NOW,
            )
    async with session_factory() as session:
        assert await count(session, LogbookEntry) == 0


# --- the logbook: reading in chat -------------------------------------------------------------


async def _write(
    session_factory: async_sessionmaker[AsyncSession],
    world: World,
    trajectory_id: int,
    text: str,
    minutes: int,
) -> None:
    async with session_factory() as session:
        await unit(
            session,
            add_logbook_entry,
            author=world.coach,
            trajectory_id=trajectory_id,
            text=text,
            now=NOW + timedelta(minutes=minutes),
        )


async def test_student_parent_and_mentor_read_only_their_own_students_logbook(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    await _write(session_factory, world, world.trajectory_id, "Noor: eerste gesprek.", 1)
    await _write(session_factory, world, world.trajectory_id, "Noor: tweede gesprek.", 2)
    await _write(session_factory, world, world.other_trajectory_id, "Daan: eerste gesprek.", 3)

    async def texts(reader: Person) -> list[str]:
        async with session_factory() as session:
            page = await unit(session, logbook_for, reader=reader, now=NOW)
        return [entry.text for entry in page.entries]

    noors = ["Noor: tweede gesprek.", "Noor: eerste gesprek."]  # newest first
    assert await texts(world.student) == noors
    assert await texts(world.parent) == noors
    assert await texts(world.mentor) == noors
    assert await texts(world.other_parent) == ["Daan: eerste gesprek."]
    assert await texts(world.other_mentor) == ["Daan: eerste gesprek."]
    for nobody in (world.teacher, world.coach, world.stranger_coach):
        assert await texts(nobody) == []


async def test_a_parent_of_another_child_sees_nothing(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    await _write(session_factory, world, world.trajectory_id, "Noor: eerste gesprek.", 1)
    async with session_factory() as session:
        page = await unit(session, logbook_for, reader=world.other_parent, now=NOW)
    assert page.entries == ()
    assert page.total == 0
    assert await _audit(session_factory, "logbook.read") == []


async def test_the_chat_logbook_pages_and_audits_what_was_shown(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    for minute in range(7):
        await _write(session_factory, world, world.trajectory_id, f"Gesprek {minute}.", minute)
    async with session_factory() as session:
        first = await unit(session, logbook_for, reader=world.parent, now=NOW, limit=5)
    assert [e.text for e in first.entries] == [f"Gesprek {m}." for m in (6, 5, 4, 3, 2)]
    assert (first.total, first.has_more, first.several_students) == (7, True, False)
    assert first.entries[0].author_role is AuthorRole.COACH
    async with session_factory() as session:
        second = await unit(session, logbook_for, reader=world.parent, now=NOW, offset=5, limit=5)
    assert [e.text for e in second.entries] == ["Gesprek 1.", "Gesprek 0."]
    assert not second.has_more
    reads = await _audit(session_factory, "logbook.read")
    assert [(r.actor_id, r.subject_id, len(r.details["logbook_entry_ids"])) for r in reads] == [
        (world.parent.id, world.trajectory_id, 5),
        (world.parent.id, world.trajectory_id, 2),
    ]


async def test_a_parent_loses_the_logbook_when_the_guardianship_is_removed(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    await _write(session_factory, world, world.trajectory_id, "Noor: eerste gesprek.", 1)
    async with session_factory() as session, session.begin():
        link = await session.scalar(
            select(Guardianship).where(Guardianship.parent_id == world.parent.id)
        )
        await session.delete(link)
    async with session_factory() as session:
        page = await unit(session, logbook_for, reader=world.parent, now=NOW)
    assert page.entries == ()


async def test_after_closing_the_page_shows_the_exit_questionnaire_invitations(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await _world(session_factory)
    async with session_factory() as session:
        await unit(
            session,
            close_trajectory,
            actor=world.zoco,
            trajectory_id=world.trajectory_id,
            closing=CLOSING,
            now=NOW,
        )
    async with session_factory() as session:
        page = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW,
        )
    assert page.status is TrajectoryStatus.CLOSED
    assert sorted((i.respondent_type, i.state) for i in page.exit_survey) == [
        (RespondentType.PARENT, InvitationState.OPEN),
        (RespondentType.STUDENT, InvitationState.OPEN),
        (RespondentType.TEACHER, InvitationState.OPEN),
    ]
    async with session_factory() as session:
        much_later = await unit(
            session,
            open_trajectory,
            viewer=world.coach,
            trajectory_id=world.trajectory_id,
            now=NOW + timedelta(days=365),
        )
    assert {i.state for i in much_later.exit_survey} == {InvitationState.EXPIRED}
