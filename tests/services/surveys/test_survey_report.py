"""Exit questionnaire figures against values computed by hand from the fixture below."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.surveys.invitations import SURVEY_TTL
from services.surveys.report import SurveyReport, period_bounds, survey_report
from storage.models import (
    Person,
    RespondentType,
    Role,
    School,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from tests.support.factories import add_person
from tests.support.survey_world import SurveyWorld, survey_world

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
REPORTED_AT = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
PARENT, STUDENT, TEACHER = RespondentType.PARENT, RespondentType.STUDENT, RespondentType.TEACHER


def at(day: int, hour: int = 10, month: int = 3, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One invitation of the fixture; ``answers`` by question code (text for open ones)."""

    person: str
    respondent_type: RespondentType
    created: datetime
    completed: datetime | None = None
    answers: Mapping[str, str] | None = None


# School "vmbo-noord", period March 2026 (Europe/Amsterdam days):
ROWS = (
    # parent a: invited and answered in March
    Row(
        "ar",
        PARENT,
        at(2),
        at(5),
        {"P1": "4", "P2": "5", "P3": "na", "P4": "2", "P5": "شكرا"},
    ),
    # parent b: invited in March, answered 1 April 00:30 local (31 March 22:30 UTC): its
    # answers fall outside the period, its invitation counts as answered
    Row("uk", PARENT, at(2), at(31, 22, minute=30), {"P1": "1", "P2": "1", "P3": "1", "P4": "1"}),
    # parent c: invited 2 March, never answered, expired 23 March
    Row("nl", PARENT, at(2)),
    # parent d: invited 28 March, still open on 10 April
    Row("pl", PARENT, at(28)),
    # parent e: invited in February, answered 3 March: counts for the means, not the rate
    Row("tr", PARENT, at(10, month=2), at(3), {"P1": "3", "P2": "na", "P3": "na", "P4": "4"}),
    Row(
        "student",
        STUDENT,
        at(4),
        at(10),
        {"S1": "5", "S2": "4", "S3": "3", "S4": "5", "S5": "Meer tijd om te praten."},
    ),
    # the mentor: invited 1 March 00:30 local (28 Feb 23:30 UTC), so in the period
    Row(
        "mentor",
        TEACHER,
        at(28, 23, month=2, minute=30),
        at(12),
        {"T1": "2", "T2": "4", "T3": "5", "T4": "na"},
    ),
    # another teacher: invited 1 April 00:30 local (31 March 22:30 UTC), so not in the period
    Row("teacher2", TEACHER, at(31, 22, minute=30)),
)


async def _store(session: AsyncSession, world: SurveyWorld, people: dict[str, Person]) -> None:
    for row in ROWS:
        person = people[row.person]
        invitation = SurveyInvitation(
            school_id=person.school_id,
            trajectory_id=world.trajectory_id,
            respondent_id=person.id,
            respondent_type=row.respondent_type,
            created_at=row.created,
            expires_at=row.created + SURVEY_TTL,
            completed_at=row.completed,
        )
        session.add(invitation)
        await session.flush()
        if row.completed is None or row.answers is None:
            continue
        response = SurveyResponse(
            school_id=person.school_id,
            invitation_id=invitation.id,
            respondent_type=row.respondent_type,
            version=1,
            language=person.language,
            completed_at=row.completed,
        )
        session.add(response)
        await session.flush()
        for code, value in row.answers.items():
            is_text = code.endswith("5")
            session.add(
                SurveyAnswer(
                    school_id=person.school_id,
                    response_id=response.id,
                    code=code,
                    value=None if is_text else value,
                    text=value if is_text else None,
                    text_language=person.language if is_text else None,
                )
            )


async def _fixture(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """The rows above in one school; another school's parent answering P1 = 1 in March."""
    world = await survey_world(factory, languages=("ar", "uk", "nl", "pl", "tr"), close=False)
    other = await survey_world(factory, languages=("nl",), close=False, school_code="havo-zuid")
    async with factory() as session, session.begin():
        school = await session.get_one(School, world.student.school_id)
        teacher2 = await add_person(session, school, "t2", Role.TEACHER)
        people = {
            **world.parents,
            "student": world.student,
            "mentor": world.mentor,
            "teacher2": teacher2,
        }
        await _store(session, world, people)
        elsewhere = SurveyInvitation(
            school_id=other.student.school_id,
            trajectory_id=other.trajectory_id,
            respondent_id=other.parents["nl"].id,
            respondent_type=PARENT,
            created_at=at(10),
            expires_at=at(10) + SURVEY_TTL,
            completed_at=at(11),
        )
        session.add(elsewhere)
        await session.flush()
        response = SurveyResponse(
            school_id=elsewhere.school_id,
            invitation_id=elsewhere.id,
            respondent_type=PARENT,
            version=1,
            language="nl",
            completed_at=at(11),
        )
        session.add(response)
        await session.flush()
        for code, value in (("P1", "1"), ("P2", "2"), ("P3", "3"), ("P4", "na")):
            session.add(
                SurveyAnswer(
                    school_id=elsewhere.school_id, response_id=response.id, code=code, value=value
                )
            )
    return world.student.school_id, other.student.school_id


async def _report(factory: async_sessionmaker[AsyncSession], school_id: int | None) -> SurveyReport:
    async with factory() as session:
        return await survey_report(
            session=session, school_id=school_id, start=MARCH[0], end=MARCH[1], now=REPORTED_AT
        )


def _figures(
    report: SurveyReport, respondent_type: RespondentType, code: str
) -> tuple[object, ...]:
    result = report.question(respondent_type, code)
    return result.answers, result.not_applicable, result.mean


async def test_means_per_question_and_respondent_type(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    school_id, _ = await _fixture(session_factory)
    report = await _report(session_factory, school_id)
    # Completed in March (local): parents a and e, the student, the mentor. Parent b answered
    # on 1 April local time and the other school does not count.
    assert report.responses == 4
    # (n of 1-5 answers, "don't know", mean); by hand from ROWS:
    assert _figures(report, PARENT, "P1") == (2, 0, (4 + 3) / 2)
    assert _figures(report, PARENT, "P2") == (1, 1, 5.0)
    assert _figures(report, PARENT, "P3") == (0, 2, None)
    assert _figures(report, PARENT, "P4") == (2, 0, (2 + 4) / 2)
    assert _figures(report, PARENT, "P5") == (1, 0, None)  # one written answer
    assert [_figures(report, STUDENT, f"S{n}") for n in range(1, 6)] == [
        (1, 0, 5.0),
        (1, 0, 4.0),
        (1, 0, 3.0),
        (1, 0, 5.0),
        (1, 0, None),
    ]
    assert [_figures(report, TEACHER, f"T{n}") for n in range(1, 6)] == [
        (1, 0, 2.0),
        (1, 0, 4.0),
        (1, 0, 5.0),
        (0, 1, None),
        (0, 0, None),
    ]
    assert [(q.respondent_type, q.code) for q in report.questions][:5] == [
        (STUDENT, "S1"),
        (STUDENT, "S2"),
        (STUDENT, "S3"),
        (STUDENT, "S4"),
        (STUDENT, "S5"),
    ]
    assert len(report.questions) == 15


async def test_response_rate_counts_invitations_created_in_the_period(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    school_id, _ = await _fixture(session_factory)
    report = await _report(session_factory, school_id)
    parents = report.rate_of(PARENT)
    # a, b, c, d invited in March (e in February): a and b answered (b in April, still
    # answered), c expired on 23 March, d open until 18 April.
    assert (parents.invited, parents.answered, parents.still_open, parents.expired) == (4, 2, 1, 1)
    assert parents.rate == 2 / 4
    student = report.rate_of(STUDENT)
    assert (student.invited, student.answered, student.rate) == (1, 1, 1.0)
    teachers = report.rate_of(TEACHER)
    # Only the mentor (1 March local); teacher2 was invited on 1 April local.
    assert (teachers.invited, teachers.answered, teachers.still_open) == (1, 1, 0)
    total = report.total
    assert (total.invited, total.answered, total.still_open, total.expired) == (6, 4, 1, 1)
    assert total.rate == 4 / 6


async def test_partnership_and_other_school(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _, other_id = await _fixture(session_factory)
    everyone = await _report(session_factory, None)
    assert everyone.responses == 5
    assert _figures(everyone, PARENT, "P1") == (3, 0, (4 + 3 + 1) / 3)
    assert _figures(everyone, PARENT, "P4") == (2, 1, 3.0)
    assert everyone.total.invited == 7
    other = await _report(session_factory, other_id)
    assert other.responses == 1
    assert _figures(other, PARENT, "P1") == (1, 0, 1.0)
    assert _figures(other, STUDENT, "S1") == (0, 0, None)
    assert other.rate_of(PARENT).rate == 1.0
    assert other.rate_of(STUDENT).rate is None  # nobody invited: no rate, not 0 %


async def test_an_empty_period_has_no_figures(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    school_id, _ = await _fixture(session_factory)
    async with session_factory() as session:
        report = await survey_report(
            session=session,
            school_id=school_id,
            start=date(2025, 9, 1),
            end=date(2025, 12, 31),
            now=REPORTED_AT,
        )
    assert report.responses == 0
    assert all(q.answers == 0 and q.mean is None for q in report.questions)
    assert report.total.invited == 0
    assert report.total.rate is None


def test_the_period_is_school_days_in_amsterdam() -> None:
    begin, stop = period_bounds(date(2026, 3, 1), date(2026, 3, 31))
    assert begin == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # CET
    assert stop == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST from 29 March
    assert stop - begin == timedelta(days=31) - timedelta(hours=1)
    with pytest.raises(ValueError, match="ends before it starts"):
        period_bounds(date(2026, 3, 2), date(2026, 3, 1))
