"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, create_sessionmaker
from storage.migrate import downgrade_database, upgrade_database
from storage.models import Base, QueueNote, Role
from tests.support.factories import (
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
)


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _check_constraints(connection: Connection) -> set[tuple[str, str | None]]:
    inspector = inspect(connection)
    return {
        (table, check["name"])
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_enum_check_constraints_are_named_by_convention(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        checks = await connection.run_sync(_check_constraints)
    assert {
        ("person_role", "ck_person_role_role"),
        ("invite", "ck_invite_role"),
        ("conversation", "ck_conversation_conversation_status"),
        ("referral", "ck_referral_urgency"),
        ("queue_item", "ck_queue_item_queue_kind"),
        ("queue_item", "ck_queue_item_queue_status"),
        ("outbox", "ck_outbox_outbox_status"),
    } <= checks


async def test_upgrade_is_idempotent_and_runs_inside_a_loop(database_url: str) -> None:
    # Two upgrades in a row (the bot's `init` runs at every start) and from a running loop.
    await upgrade_database(database_url)
    await asyncio.gather(asyncio.sleep(0), upgrade_database(database_url))
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_rebuilding_tables_keeps_the_rows_of_their_child_tables(database_url: str) -> None:
    # SQLite rebuilds queue_item (batch mode) in 0006 and 0007; with foreign keys on, dropping
    # the old copy cascaded into queue_note and every internal note was lost. Down past both
    # and up again: the note must still be there.
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        factory = create_sessionmaker(engine)
        async with factory() as session, session.begin():
            school = await add_school(session)
            zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
            mentor = await add_person(session, school, "m1", Role.MENTOR)
            student = await add_person(session, school, "s1", Role.STUDENT)
            await add_mentorship(session, mentor, student)
            item = await add_queued_referral(session, mentor, student)
            session.add(
                QueueNote(
                    school_id=school.id, queue_item_id=item.id, author_id=zoco.id, text="Bewaren."
                )
            )
    finally:
        await engine.dispose()

    await downgrade_database(database_url, "0005")
    await upgrade_database(database_url)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            notes = (await connection.exec_driver_sql("SELECT text FROM queue_note")).all()
            assert [tuple(row) for row in notes] == [("Bewaren.",)]
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
