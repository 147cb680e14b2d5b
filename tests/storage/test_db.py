"""Engine factory details that do not depend on a migrated database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine, create_sessionmaker


async def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "foreign_keys": 1,
            "busy_timeout": 5000,
        }
        assert path.exists()
        assert create_sessionmaker(engine).kw["expire_on_commit"] is False
    finally:
        await engine.dispose()
