"""`trajectbot queue` names a time-out request as the web's queue does (issue 14): the label of
`dialogs.labels`, translated into CLI_LANGUAGE, never the stored code ``timeout_request``."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.queue_table import print_queue
from dialogs.i18n import Catalogs
from dialogs.labels import QUEUE_KIND, QUEUE_STATUS, label
from storage.models import QueueItem, QueueKind, QueueStatus
from tests.web.staff_client import Clock, build_world, staff_app

CATALOGS = Catalogs()


@pytest.mark.parametrize("language", ["nl", "en", "ar"])
async def test_the_queue_table_prints_the_translated_kind_of_a_time_out_request(
    engine: AsyncEngine, database_url: str, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    del engine  # migrated by the fixture
    async with staff_app(database_url, Clock()) as (app, _transport):
        world = await build_world(app, Clock())
        async with app.sessions() as session, session.begin():
            session.add(
                QueueItem(
                    school_id=world.school_id,
                    kind=QueueKind.TIMEOUT_REQUEST,
                    status=QueueStatus.NEW,
                )
            )
        catalog = CATALOGS.get(language)
        capsys.readouterr()
        code = await print_queue(app, external_id="zoco", school_code="demo", catalog=catalog)
    out = capsys.readouterr().out
    assert code == 0
    assert "timeout_request" not in out
    assert "in_progress" not in out
    assert catalog.render(label(QUEUE_KIND, QueueKind.TIMEOUT_REQUEST)) in out
    assert catalog.render(label(QUEUE_STATUS, QueueStatus.NEW)) in out
    if language == "nl":
        assert "time-outaanvraag" in out
