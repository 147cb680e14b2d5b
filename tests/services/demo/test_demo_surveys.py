"""The demo school with answered exit questionnaires (`demo-data --with-surveys`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.i18n import SCHOOL_TIMEZONE
from services.demo.school import create_demo_data
from services.demo.surveys import DEMO_ANSWERS
from services.surveys.report import survey_report
from storage.models import QueueItem, QueueKind, RespondentType, SurveyInvitation
from tests.support.factories import count
from tests.support.units import unit


async def test_demo_surveys_give_figures_and_queue_items(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        summary = await unit(session, create_demo_data, if_empty=True, with_surveys=True)
    assert summary.school_id is not None
    now = datetime.now(UTC)
    today = now.astimezone(SCHOOL_TIMEZONE).date()
    async with session_factory() as session:
        assert await count(session, SurveyInvitation) == 8  # 3 students, 2 parents, 3 mentors
        items = list(
            await session.scalars(select(QueueItem).where(QueueItem.kind == QueueKind.EXIT_SURVEY))
        )
        assert len(items) == len(DEMO_ANSWERS)
        report = await survey_report(
            session=session,
            school_id=summary.school_id,
            start=today - timedelta(days=30),
            end=today,
            now=now,
        )
    assert report.responses == len(DEMO_ANSWERS)
    assert (report.total.invited, report.total.answered) == (8, 5)
    # Saar 4 and Lieke 5 on S1; the parents 5 and 4 on P1.
    assert report.question(RespondentType.STUDENT, "S1").mean == 4.5
    assert report.question(RespondentType.PARENT, "P1").mean == 4.5


async def test_the_plain_demo_has_no_questionnaires(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        await unit(session, create_demo_data, if_empty=True)
    async with session_factory() as session:
        assert await count(session, SurveyInvitation) == 0
