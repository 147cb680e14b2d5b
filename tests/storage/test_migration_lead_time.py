"""0009: each appointment type may have its own lead time; existing time-outs get none."""

from __future__ import annotations

from sqlalchemy import Connection, text

from storage.db import create_engine
from storage.migrate import downgrade_database, upgrade_database

_TYPE = (
    "INSERT INTO appointment_type (school_id, kind, resource, duration_minutes, step_minutes,"
    " buffer_minutes, capacity, bookable_by, attendees, active)"
    " VALUES (1, :kind, :resource, :duration, :duration, 0, :capacity, '[]', '[]', :active)"
)


def _seed(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO school (id, code, name, timezone, created_at)"
            " VALUES (1, 'x', 'X', 'Europe/Amsterdam', CURRENT_TIMESTAMP)"
        )
    )
    for kind, resource, duration, capacity in (
        ("time_out", "room", 50, 4),
        ("gesprek", "coach", 30, 1),
        ("intake", "coach", 60, 1),
    ):
        connection.execute(
            text(_TYPE),
            {
                "kind": kind,
                "resource": resource,
                "duration": duration,
                "capacity": capacity,
                "active": True,
            },
        )


async def test_existing_time_outs_need_no_notice_the_other_types_keep_the_schools(
    database_url: str,
) -> None:
    await upgrade_database(database_url, "0008")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_seed)
    finally:
        await engine.dispose()

    await upgrade_database(database_url, "0009")

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT kind, lead_time_minutes FROM appointment_type ORDER BY kind")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [("gesprek", None), ("intake", None), ("time_out", 0)]

    await downgrade_database(database_url, "0008")  # and back, rows kept
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM appointment_type"))
    finally:
        await engine.dispose()
    assert count == 3
