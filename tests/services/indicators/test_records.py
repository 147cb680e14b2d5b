"""Recording what the indicators count (services): the observation request a referral's tick
makes at acceptance, the absence import, visitation reports and targets (admin only), and
reading an attendance export."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_absence import parse_absence_csv
from services.indicators.records import (
    AbsenceRow,
    import_absences,
    record_visitation,
    set_target,
)
from services.kernel.errors import InputInvalid, NotAllowed
from services.trajectories.lifecycle import create_for_referral
from storage.models import (
    ActivityKind,
    IndicatorTarget,
    Person,
    Referral,
    Role,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    SupportKind,
)
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
)
from tests.support.units import unit


async def test_a_referral_asking_for_observation_becomes_a_request_at_acceptance(
    session: AsyncSession,
) -> None:
    async with session.begin():
        school = await add_school(session)
        coordinator = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        asks = await add_person(session, school, "s1", Role.STUDENT)
        plain = await add_person(session, school, "s2", Role.STUDENT)
        await add_mentorship(session, mentor, asks)
        await add_mentorship(session, mentor, plain)
        referrals = []
        for student, support in ((asks, SupportKind.CLASS_OBSERVATION), (plain, None)):
            item = await add_queued_referral(session, mentor, student)
            referral = await session.get_one(Referral, item.referral_id)
            referral.support = [support.value] if support else ["conversations"]
            referrals.append(referral)
        await session.flush()
        for referral in referrals:
            await create_for_referral(
                session=session, actor=coordinator, referral=referral, plan=None, now=NOW
            )
    async with session.begin():
        (request,) = await session.scalars(select(SupportActivity))
    assert (request.kind, request.student_id, request.referral_id) == (
        ActivityKind.CLASS_OBSERVATION,
        asks.id,
        referrals[0].id,
    )
    assert request.held_on is None


async def test_absence_import_adds_updates_and_names_what_it_did_not_find(
    session: AsyncSession,
) -> None:
    async with session.begin():
        school = await add_school(session)
        student = await add_person(session, school, "1001", Role.STUDENT)
    rows = [
        AbsenceRow("1001", date(2026, 1, 5), None),
        AbsenceRow("9999", date(2026, 1, 5), None),
    ]
    first = await unit(session, import_absences, school_id=school.id, rows=rows, now=NOW)
    assert (first.added, first.known, first.unknown) == (1, 0, ("9999",))
    again = await unit(
        session,
        import_absences,
        school_id=school.id,
        rows=[AbsenceRow("1001", date(2026, 1, 5), date(2026, 2, 6))],
        now=NOW,
    )
    assert (again.added, again.known) == (0, 1)
    async with session.begin():
        (event,) = await session.scalars(select(StudentEvent))
    assert (event.student_id, event.kind, event.until, event.source) == (
        student.id,
        StudentEventKind.LONG_ABSENCE,
        date(2026, 2, 6),
        StudentEventSource.IMPORT,
    )


def test_an_attendance_export_is_read_with_either_separator_and_dutch_dates() -> None:
    rows, bad = parse_absence_csv("student;from;until\n1001;05-01-2026;\n1002;2026-01-07;bad\n")
    assert rows == [("1001", date(2026, 1, 5), None)]
    assert bad == [3]
    rows, bad = parse_absence_csv("Student,From,Until\n1003,2026-02-01,2026-01-01\n")
    assert (rows, bad) == ([], [2])  # ends before it starts
    assert parse_absence_csv("name,day\nx,2026-01-01\n") == ([], [1])


async def test_targets_and_visitations_are_the_admins(session: AsyncSession) -> None:
    async with session.begin():
        school = await add_school(session)
        # Only the ids are trusted (`reload_actor`); fresh objects survive the commits.
        admin = Person(id=(await add_person(session, school, "a1", Role.ADMIN)).id)
        coordinator = Person(id=(await add_person(session, school, "z1", Role.CARE_COORDINATOR)).id)
    with pytest.raises(NotAllowed):
        await unit(
            session,
            set_target,
            actor=coordinator,
            school_year=2025,
            indicator="opp_share",
            target=10.0,
            now=NOW,
        )
    with pytest.raises(InputInvalid):
        await unit(
            session,
            set_target,
            actor=admin,
            school_year=2025,
            indicator="opp_share",
            target=101.0,
            now=NOW,
        )
    await unit(
        session,
        set_target,
        actor=admin,
        school_year=2025,
        indicator="opp_share",
        target=10.0,
        now=NOW,
    )
    await unit(
        session,
        set_target,
        actor=admin,
        school_year=2025,
        indicator="opp_share",
        target=12.5,
        now=NOW,
    )
    async with session.begin():
        (target,) = await session.scalars(select(IndicatorTarget))
        assert target.target == 12.5
    await unit(
        session,
        set_target,
        actor=admin,
        school_year=2025,
        indicator="opp_share",
        target=None,
        now=NOW,
    )
    async with session.begin():
        assert list(await session.scalars(select(IndicatorTarget))) == []
    with pytest.raises(NotAllowed):
        await unit(
            session,
            record_visitation,
            actor=coordinator,
            held_on=date(2026, 2, 1),
            summary="Verslag",
            link="",
            now=NOW,
        )
    with pytest.raises(InputInvalid):
        await unit(
            session,
            record_visitation,
            actor=admin,
            held_on=date(2026, 2, 1),
            summary="Verslag",
            link="javascript:alert(1)",
            now=NOW,
        )


async def test_erasing_care_data_removes_an_observations_outcome_and_keeps_the_count(
    session: AsyncSession,
) -> None:
    from services.privacy.erasure import erase_care_data
    from tests.support.factories import add_trajectory

    async with session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        trajectory = await add_trajectory(session, mentor, student)
        session.add(
            SupportActivity(
                school_id=school.id,
                kind=ActivityKind.CLASS_OBSERVATION,
                trajectory_id=trajectory.id,
                student_id=student.id,
                requested_at=NOW,
                held_on=date(2026, 3, 1),
                outcome="Onrustig in de les.",
                recorded_at=NOW,
            )
        )
        await session.flush()
        await erase_care_data(session=session, trajectory_ids=[trajectory.id], now=NOW)
    async with session.begin():
        (activity,) = await session.scalars(select(SupportActivity))
    assert activity.outcome is None
    assert activity.held_on == date(2026, 3, 1)
