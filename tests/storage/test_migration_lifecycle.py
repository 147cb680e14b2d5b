"""0010: the trajectory lifecycle columns; rebuilding ``trajectory`` keeps its rows, its
evaluations and the partial unique index; a trajectory waiting for its plan is ``planned``
again after a downgrade."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine, create_sessionmaker
from storage.migrate import downgrade_database, upgrade_database
from storage.models import (
    EvaluationKind,
    Person,
    Role,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_school, add_trajectory


async def test_downgrade_and_upgrade_keep_the_trajectories(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        factory = create_sessionmaker(engine)
        async with factory() as session, session.begin():
            school = await add_school(session)
            mentor = await add_person(session, school, "m1", Role.MENTOR)
            first = await add_person(session, school, "s1", Role.STUDENT)
            second = await add_person(session, school, "s2", Role.STUDENT)
            for student in (first, second):
                await add_mentorship(session, mentor, student)
            active = await add_trajectory(session, mentor, first)
            waiting = await add_trajectory(
                session, mentor, second, status=TrajectoryStatus.INTAKE_HELD
            )
            session.add(
                TrajectoryEvaluation(
                    school_id=school.id,
                    trajectory_id=active.id,
                    kind=EvaluationKind.FINAL,
                    due_on=NOW.date(),
                    notes="Gehaald.",
                )
            )
    finally:
        await engine.dispose()

    await downgrade_database(database_url, "0009")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql("SELECT id, status FROM trajectory")
            rows = {m["id"]: m["status"] for m in result.mappings().all()}
        assert rows == {active.id: "active", waiting.id: "planned"}
    finally:
        await engine.dispose()

    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            held = (
                await connection.exec_driver_sql(
                    "SELECT id FROM trajectory WHERE intake_held_at IS NOT NULL ORDER BY id"
                )
            ).all()
            evaluations = (
                await connection.exec_driver_sql("SELECT COUNT(*) FROM trajectory_evaluation")
            ).scalar_one()
        # An intake that activated a trajectory was held then.
        assert [row[0] for row in held] == [active.id]
        assert evaluations == 1
        # The partial unique index is back: one open trajectory per student.
        factory = create_sessionmaker(engine)
        with pytest.raises(IntegrityError):
            async with factory() as session, session.begin():
                await add_trajectory(
                    session,
                    await session.get_one(Person, mentor.id),
                    await session.get_one(Person, first.id),
                )
    finally:
        await engine.dispose()
