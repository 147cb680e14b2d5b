"""`trajectbot survey-report` as a separate process: the table and the CSV, in two languages.

The data is made the product's way (trajectories closed, questionnaires completed by
`complete_survey`) a few days before the real now, so that which invitations
are still open does not depend on the day the test runs.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogs.flows.exit_survey import ANONYMOUS, SURVEY_INVITATION
from dialogs.i18n import SCHOOL_TIMEZONE
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.appointments.closing import close_trajectory
from services.surveys.completion import complete_survey
from storage.db import create_engine, create_sessionmaker
from storage.models import Person, RespondentType, SurveyInvitation
from tests.support.factories import CLOSING, add_trajectory
from tests.support.units import unit

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)
TODAY = NOW.astimezone(SCHOOL_TIMEZONE).date()
PERIOD = ((TODAY - timedelta(days=10)).isoformat(), TODAY.isoformat())

# (respondent, answers); by hand: P1 (4+3)/2 = 3.5, P2 (5+4)/2 = 4.5, P3 only "don't know",
# P4 2 (one "don't know"), S1..S4 5/4/3/5, T1..T3 2/4/5 and T4 "don't know".
ANSWERS = {
    "ouder1": {"P1": "4", "P2": "5", "P3": "na", "P4": "2", "P5": "شكرا على المساعدة"},
    "ouder3": {"P1": "3", "P2": "4", "P3": "na", "P4": "na"},
    "lln15": {"S1": "5", "S2": "4", "S3": "3", "S4": "5"},
    "mentor2": {"T1": "2", "T2": "4", "T3": "5", "T4": "na"},
}
TYPES = {
    "ouder1": RespondentType.PARENT,
    "ouder3": RespondentType.PARENT,
    "lln15": RespondentType.STUDENT,
    "mentor2": RespondentType.TEACHER,
}


def trajectbot(
    database_url: str, *args: str, language: str = "en"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CLI_LANGUAGE": language,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


async def _fill(database_url: str) -> None:
    """Two trajectories closed two days ago (six invitations); four answered yesterday."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)

    async def person(external_id: str) -> Person:
        async with sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            found = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
        assert found is not None
        return found

    try:
        for student, mentor in (("lln15", "mentor2"), ("lln01", "mentor1")):
            async with sessions() as session, session.begin():
                trajectory = await add_trajectory(
                    session, await person(mentor), await person(student)
                )
            async with sessions() as session:
                await unit(
                    session,
                    close_trajectory,
                    actor=await person("zoco"),
                    trajectory_id=trajectory.id,
                    closing=CLOSING,
                    now=NOW - timedelta(days=2),
                )
        for external_id, answers in ANSWERS.items():
            respondent = await person(external_id)
            async with sessions() as session, session.begin():
                invitation = await session.scalar(
                    select(SurveyInvitation.id).where(
                        SurveyInvitation.respondent_id == respondent.id
                    )
                )
                assert invitation is not None
                await complete_survey(
                    session=session,
                    person=respondent,
                    respondent_type=TYPES[external_id],
                    answers={**answers, SURVEY_INVITATION: str(invitation)},
                    now=NOW - timedelta(days=1),
                )
    finally:
        await engine.dispose()


@pytest.fixture
async def survey_db(demo_url: str) -> str:
    await _fill(demo_url)
    return demo_url


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def _row(stdout: str, *starts: str) -> list[str]:
    for line in stdout.splitlines():
        cells = _cells(line)
        if cells[: len(starts)] == list(starts):
            return cells
    raise AssertionError(f"no row {starts} in:\n{stdout}")


async def test_the_table_shows_means_and_the_response_rate(survey_db: str) -> None:
    result = trajectbot(
        survey_db, "survey-report", "--school", "demo", "--from", PERIOD[0], "--to", PERIOD[1]
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Exit questionnaire · Het Demo College (demo)" in out
    assert "4 questionnaires answered in this period." in out
    # respondent, code, question, answers, don't know, mean
    assert _row(out, "parent", "P1")[3:] == ["2", "0", "3.50"]
    assert _row(out, "parent", "P2")[3:] == ["2", "0", "4.50"]
    assert _row(out, "parent", "P3")[3:] == ["0", "2", "–"]
    assert _row(out, "parent", "P4")[3:] == ["1", "1", "2.00"]
    assert _row(out, "parent", "P5")[3:] == ["1", "–"]  # one written answer, no mean
    assert _row(out, "student", "S3")[3:] == ["1", "0", "3.00"]
    assert _row(out, "teacher", "T4")[3:] == ["0", "1", "–"]
    assert "I am satisfied with the support my child received." in _row(out, "parent", "P1")
    # invited, answered, still open, expired, rate (the second table)
    rates = out.split("Response rate:", 1)[1]
    assert _row(rates, "parent")[1:] == ["2", "2", "0", "0", "100%"]
    assert _row(rates, "student")[1:] == ["2", "1", "1", "0", "50%"]
    assert _row(rates, "teacher")[1:] == ["2", "1", "1", "0", "50%"]
    assert _row(rates, "total")[1:] == ["6", "4", "2", "0", "67%"]
    assert "شكرا" not in out  # free text stays in the queue item, never in the figures


async def test_the_table_speaks_the_command_lines_language(survey_db: str) -> None:
    result = trajectbot(
        survey_db,
        "survey-report",
        "--school",
        "demo",
        "--from",
        PERIOD[0],
        "--to",
        PERIOD[1],
        language="nl",
    )
    assert result.returncode == 0, result.stderr
    p1 = next(line for line in result.stdout.splitlines() if " P1 " in f" {line} ")
    assert _cells(p1)[-1] == "3,50"  # Dutch decimal comma
    assert "67%" in result.stdout


async def test_csv_for_a_spreadsheet(survey_db: str) -> None:
    result = trajectbot(
        survey_db,
        "survey-report",
        "--school",
        "demo",
        "--from",
        PERIOD[0],
        "--to",
        PERIOD[1],
        "--csv",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "School",
        "From",
        "To",
        "Respondent",
        "Code",
        "Question",
        "Answers",
        "Don't know",
        "Mean (1–5)",
        "Invited",
        "Answered",
        "Response rate",
    ]
    assert len(rows) == 1 + 15
    by_code = {row[4]: row for row in rows[1:]}
    assert by_code["P1"] == [
        "demo",
        PERIOD[0],
        PERIOD[1],
        "parent",
        "P1",
        "I am satisfied with the support my child received.",
        "2",
        "0",
        "3.50",
        "2",
        "2",
        "1.0000",
    ]
    assert by_code["P3"][6:9] == ["0", "2", ""]
    assert by_code["P5"][6:9] == ["1", "", ""]
    assert by_code["S1"][9:] == ["2", "1", "0.5000"]
    assert by_code["T4"][6:] == ["0", "1", "", "2", "1", "0.5000"]


async def test_a_period_that_ends_before_it_starts_is_refused(survey_db: str) -> None:
    result = trajectbot(
        survey_db, "survey-report", "--school", "demo", "--from", PERIOD[1], "--to", PERIOD[0]
    )
    assert result.returncode == 1
    assert "The period ends before it starts" in result.stderr
    unknown = trajectbot(
        survey_db, "survey-report", "--school", "nope", "--from", PERIOD[0], "--to", PERIOD[1]
    )
    assert unknown.returncode == 1
    assert "There is no school with code “nope”." in unknown.stderr


async def _answer_anonymously(database_url: str, external_id: str) -> None:
    """``external_id`` (a student) answers the open invitation anonymously, yesterday."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            student = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert student is not None
            invitation = await session.scalar(
                select(SurveyInvitation.id).where(SurveyInvitation.respondent_id == student.id)
            )
            assert invitation is not None
            await complete_survey(
                session=session,
                person=student,
                respondent_type=RespondentType.STUDENT,
                answers={
                    "S1": "1",
                    "S2": "2",
                    "S3": "1",
                    "S4": "2",
                    ANONYMOUS: True,
                    SURVEY_INVITATION: str(invitation),
                },
                now=NOW - timedelta(days=1),
            )
    finally:
        await engine.dispose()


async def test_anonymous_answers_in_a_small_group_are_hidden(survey_db: str) -> None:
    # Issue 15: two student answers, one of them anonymous: a group of 1-4 that would give
    # the anonymous one away. The table and the CSV show "< 5"; other groups stay as they were.
    await _answer_anonymously(survey_db, "lln01")
    result = trajectbot(
        survey_db, "survey-report", "--school", "demo", "--from", PERIOD[0], "--to", PERIOD[1]
    )
    assert result.returncode == 0, result.stderr
    assert _row(result.stdout, "student", "S1")[3:] == ["< 5", "< 5", "< 5"]
    assert _row(result.stdout, "parent", "P1")[3:] == ["2", "0", "3.50"]
    as_csv = trajectbot(
        survey_db,
        "survey-report",
        "--school",
        "demo",
        "--from",
        PERIOD[0],
        "--to",
        PERIOD[1],
        "--csv",
    )
    assert as_csv.returncode == 0, as_csv.stderr
    rows = {(r[3], r[4]): r for r in csv.reader(io.StringIO(as_csv.stdout))}
    assert rows[("student", "S1")][6:9] == ["< 5", "< 5", "< 5"]
