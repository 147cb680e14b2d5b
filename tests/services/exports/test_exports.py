"""The exports for the seed systems on a real database (issue 12, deliverable 4): the Magister
attendance file and the LVS weekly summary compared byte for byte with the fixtures under
`tests/support/fixtures/exports/` (and field by field), the week's boundary in school time
(also across the change to summer time), cancelled and unmarked appointments left out, no free
text in the LVS summary, the closing report's data and PDF, who may export, the audit rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import Catalogs
from services.exports.closing_report_pdf import render_closing_report_pdf
from services.exports.rules import (
    SCHOOL_LANGUAGE,
    Week,
    encode_csv,
    encode_text,
    lvs_table,
    lvs_text,
    parse_week,
)
from services.exports.views import (
    CLOSING_REPORT,
    LVS,
    MAGISTER,
    Channel,
    LvsOutput,
    closing_report,
    intake_report,
    lvs_summary,
    magister_export,
)
from services.kernel.errors import NotAllowed
from services.trajectories.intake_report import DOWNLOAD as INTAKE_DOWNLOAD
from storage.models import AppointmentKind, AppointmentStatus, AuditLog, Person, Trajectory
from tests.support.export_world import (
    ADVICE,
    AMS,
    FINAL_NOTES,
    GOALS,
    PRIVATE_EVALUATION,
    PRIVATE_LOGBOOK,
    PRIVATE_QUEUE_NOTE,
    WEEK,
    ExportWorld,
    add_appointment,
    at,
    build_export_world,
)
from tests.support.units import in_unit

FIXTURES = Path(__file__).resolve().parents[2] / "support" / "fixtures" / "exports"
NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
BASE_URL = "https://trajectbot.example.nl"
CATALOG = Catalogs().get(SCHOOL_LANGUAGE)


def _week(value: str = WEEK) -> Week:
    week = parse_week(value)
    assert isinstance(week, Week)
    return week


@pytest.fixture
async def world(session: AsyncSession) -> ExportWorld:
    async with session.begin():
        built = await build_export_world(session)
    # Detached, loaded: a refused export's rollback cannot expire what the tests read.
    session.expunge_all()
    return built


async def _magister(
    session: AsyncSession, world: ExportWorld, actor: Person | None, week: str = WEEK
) -> bytes:
    table = await in_unit(
        magister_export,
        session=session,
        actor=actor,
        school_id=world.school.id,
        week=_week(week),
        now=NOW,
        channel=Channel.WEB,
    )
    return encode_csv(table, CATALOG)


async def _lvs(session: AsyncSession, world: ExportWorld, actor: Person | None) -> bytes:
    summary = await in_unit(
        lvs_summary,
        session=session,
        actor=actor,
        school_id=world.school.id,
        week=_week(),
        now=NOW,
        channel=Channel.CLI,
        output=LvsOutput.CSV,
    )
    return encode_csv(lvs_table(summary.rows, _week(), BASE_URL), CATALOG)


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_the_magister_file_is_the_fixture_byte_for_byte(
    session: AsyncSession, world: ExportWorld
) -> None:
    data = await _magister(session, world, world.zoco)

    assert data == (FIXTURES / "magister-2026-W10.csv").read_bytes()
    assert b"\r\n" in data
    header, *rows = _rows(data)
    assert header == ["Leerlingnummer", "Datum", "Tijd", "Soort", "Aanwezigheid"]
    assert rows == [
        ["100234", "02-03-2026", "00:15-00:45", "begeleidingsgesprek", "aanwezig"],
        ["100301", "02-03-2026", "08:30-09:30", "intakegesprek", "aanwezig"],
        ["100234", "02-03-2026", "10:00-10:45", "begeleidingsgesprek", "aanwezig"],
        ["100234", "03-03-2026", "10:10-10:30", "time-out", "aanwezig"],
        ["100117", "04-03-2026", "14:00-14:45", "begeleidingsgesprek", "afwezig"],
        ["100117", "05-03-2026", "09:00-09:30", "evaluatiegesprek", "aanwezig"],
        ["100117", "05-03-2026", "13:30-13:50", "time-out", "afwezig"],
    ]


async def test_cancelled_unmarked_other_weeks_and_other_schools_are_left_out(
    session: AsyncSession, world: ExportWorld
) -> None:
    rows = _rows(await _magister(session, world, world.zoco))[1:]

    times = {(row[0], row[1], row[2]) for row in rows}
    assert ("100234", "04-03-2026", "09:00-09:45") not in times  # cancelled
    assert ("100234", "06-03-2026", "11:00-11:45") not in times  # booked, never marked
    assert ("100234", "01-03-2026", "23:30-00:00") not in times  # Sunday before, 23:30
    assert all(row[1] != "09-03-2026" for row in rows)  # Monday after, 00:30
    assert all(row[0] != "900001" for row in rows)  # the other school's student
    # The week after holds the Monday 00:30 appointment, and nothing of this week.
    after = _rows(await _magister(session, world, world.zoco, "2026-W11"))[1:]
    assert after == [["100234", "09-03-2026", "00:30-01:00", "begeleidingsgesprek", "aanwezig"]]


async def test_the_week_turns_at_monday_midnight_school_time_across_summer_time(
    session: AsyncSession, world: ExportWorld
) -> None:
    """Summer time starts on Sunday 29 March 2026: week 14 begins at 22:00 UTC, not 23:00."""
    async with session.begin():
        trajectory = await session.get_one(Trajectory, world.trajectories["sam"])
        for starts_at in (
            datetime(2026, 3, 29, 21, 30, tzinfo=UTC),  # Sunday 23:30 CEST: week 13
            datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # Monday 00:30 CEST: week 14
        ):
            await add_appointment(
                session,
                trajectory,
                kind=AppointmentKind.GESPREK,
                status=AppointmentStatus.ATTENDED,
                starts_at=starts_at,
                minutes=15,
                booked_by=world.zoco,
            )

    week13 = _rows(await _magister(session, world, None, "2026-W13"))[1:]
    week14 = _rows(await _magister(session, world, None, "2026-W14"))[1:]

    assert week13 == [["100234", "29-03-2026", "23:30-23:45", "begeleidingsgesprek", "aanwezig"]]
    assert week14 == [["100234", "30-03-2026", "00:30-00:45", "begeleidingsgesprek", "aanwezig"]]


async def test_the_lvs_summary_is_the_fixture_byte_for_byte(
    session: AsyncSession, world: ExportWorld
) -> None:
    data = await _lvs(session, world, None)

    assert data == (FIXTURES / "lvs-2026-W10.csv").read_bytes()
    header, *rows = _rows(data)
    assert header == [
        "Leerlingnummer",
        "Naam",
        "Week",
        "Status traject",
        "Afspraken: aanwezig",
        "Afspraken: niet gekomen",
        "Gebruikte time-outs",
        "Time-outs: niet gekomen",
        "Evaluaties gehouden",
        "Aantekeningen in het logboek",
        "Data van de aantekeningen in het logboek",
        "Logboek",
    ]
    sam, nina, otto = (
        world.trajectories["sam"],
        world.trajectories["nina"],
        world.trajectories["otto"],
    )
    assert rows == [
        [
            "100117", "Nina Aydın", "2026-W10", "lopend", "1", "1", "0", "1", "1", "0", "",
            f"{BASE_URL}/trajectories/{nina}",
        ],
        [
            "100234", "Sam de Vries", "2026-W10", "lopend", "2", "0", "1", "0", "0", "3",
            "03-03-2026, 05-03-2026", f"{BASE_URL}/trajectories/{sam}",
        ],
        [
            "100301", "Otto Bakker", "2026-W10", "afgesloten", "1",
            "0", "0", "0", "1", "0", "", f"{BASE_URL}/trajectories/{otto}",
        ],
    ]  # fmt: skip


async def test_the_lvs_summary_carries_no_free_text(
    session: AsyncSession, world: ExportWorld
) -> None:
    """A private logbook entry, an evaluation's notes, a queue note, the referral's help
    questions, the goals and the advice: none of it leaves the school in the LVS files."""
    summary = await in_unit(
        lvs_summary,
        session=session,
        actor=world.admin,
        school_id=world.school.id,
        week=_week(),
        now=NOW,
        channel=Channel.WEB,
        output=LvsOutput.TEXT,
    )
    files = [
        encode_csv(lvs_table(summary.rows, _week(), BASE_URL), CATALOG).decode("utf-8-sig"),
        encode_text(
            lvs_text(summary.rows, _week(), school_name=summary.school_name, base_url=BASE_URL),
            CATALOG,
        ).decode(),
    ]
    for text in files:
        for secret in (
            PRIVATE_LOGBOOK,
            PRIVATE_EVALUATION,
            PRIVATE_QUEUE_NOTE,
            "Ik wil rustiger worden",  # the referral's help question
            GOALS,
            ADVICE,
            FINAL_NOTES,
        ):
            assert secret not in text
            assert secret[:12] not in text
    assert "Aantekeningen in het logboek: 3 (03-03-2026, 05-03-2026)" in files[1]


async def test_a_trajectory_still_planned_is_not_in_the_summary(
    session: AsyncSession, world: ExportWorld
) -> None:
    numbers = [row[0] for row in _rows(await _lvs(session, world, world.zoco))[1:]]

    assert "100400" not in numbers
    assert numbers == ["100117", "100234", "100301"]


@pytest.mark.parametrize("who", ["mentor", "coach", "parent", "other_zoco"])
async def test_only_the_schools_care_coordinator_or_admin_may_export(
    session: AsyncSession, world: ExportWorld, who: str
) -> None:
    actor = getattr(world, who)
    with pytest.raises(NotAllowed):
        await _magister(session, world, actor)
    with pytest.raises(NotAllowed):
        await _lvs(session, world, actor)
    with pytest.raises(NotAllowed):
        await in_unit(
            closing_report,
            session=session,
            actor=actor,
            school_id=world.school.id,
            trajectory_id=world.trajectories["otto"],
            now=NOW,
            channel=Channel.WEB,
        )
    async with session.begin():
        assert (
            list(await session.scalars(select(AuditLog).where(AuditLog.action.like("export.%"))))
            == []
        )


async def test_every_export_is_audited_with_ids_and_counts_only(
    session: AsyncSession, world: ExportWorld
) -> None:
    await _magister(session, world, world.zoco)
    await _lvs(session, world, None)
    await in_unit(
        closing_report,
        session=session,
        actor=world.admin,
        school_id=world.school.id,
        trajectory_id=world.trajectories["otto"],
        now=NOW,
        channel=Channel.WEB,
    )

    async with session.begin():
        rows = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action.like("export.%")).order_by(AuditLog.id)
            )
        )
    assert [(r.action, r.actor_id, r.subject_type, r.subject_id) for r in rows] == [
        (MAGISTER, world.zoco.id, "school", world.school.id),
        (LVS, None, "school", world.school.id),
        (CLOSING_REPORT, world.admin.id, "trajectory", world.trajectories["otto"]),
    ]
    assert rows[0].details == {"week": WEEK, "channel": "web", "rows": 7}
    assert rows[1].details == {"week": WEEK, "channel": "cli", "rows": 3, "output": "csv"}
    assert rows[2].details == {"channel": "web"}
    flat = repr([r.details for r in rows])
    assert "Sam" not in flat
    assert "100234" not in flat


async def test_the_closing_report_holds_the_trajectory_and_reads_back_from_the_pdf(
    session: AsyncSession, world: ExportWorld
) -> None:
    report = await in_unit(
        closing_report,
        session=session,
        actor=world.zoco,
        school_id=world.school.id,
        trajectory_id=world.trajectories["otto"],
        now=NOW,
        channel=Channel.WEB,
    )

    assert report.goals == GOALS
    assert report.advice == ADVICE
    assert report.final_evaluation is not None
    assert report.final_evaluation.notes == FINAL_NOTES
    assert report.start == date(2026, 3, 2)
    assert report.end == date(2026, 3, 13)
    assert report.closed_on == date(2026, 3, 6)
    assert report.student_number == "100301"
    assert report.coach_name == "Coen Brandsma"
    assert report.mentor_names == ("Mila Terpstra",)
    assert dict(report.attended)[AppointmentKind.INTAKE] == 1
    assert report.attended_total == 1
    assert report.missed == 0
    assert report.questionnaires == (0, 0)

    pdf = render_closing_report_pdf(report, CATALOG)
    text = " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "Afsluitverslag" in text
    assert " ".join(GOALS.split()) in text
    assert ADVICE in text
    assert FINAL_NOTES in text
    assert "6 maart 2026" in text
    assert "7 dagen voor de geplande einddatum" in text
    assert "Otto Bakker (klas 3A)" in text


async def test_a_closing_report_needs_a_closed_trajectory_of_the_school(
    session: AsyncSession, world: ExportWorld
) -> None:
    for trajectory_id in (world.trajectories["sam"], world.trajectories["planned"], 999_999):
        with pytest.raises(NotAllowed):
            await in_unit(
                closing_report,
                session=session,
                actor=world.zoco,
                school_id=world.school.id,
                trajectory_id=trajectory_id,
                now=NOW,
                channel=Channel.WEB,
            )


def test_the_boundary_instants_of_the_fixture_week() -> None:
    start, end = _week().bounds(AMS)
    assert start == at(date(2026, 3, 2), 0, 0) == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 8, 23, 0, tzinfo=UTC)


async def test_the_intake_report_for_the_student_file_from_the_command_line(
    session: AsyncSession, world: ExportWorld
) -> None:
    report = await in_unit(
        intake_report,
        session=session,
        actor=None,
        school_id=world.school.id,
        trajectory_id=world.trajectories["otto"],
        now=NOW,
        channel=Channel.CLI,
    )
    assert report.goals == GOALS
    assert report.coach_name == "Coen Brandsma"
    # Nina's plan has no coach: no intake report; a mentor may not export at all.
    with pytest.raises(NotAllowed):
        await in_unit(
            intake_report,
            session=session,
            actor=None,
            school_id=world.school.id,
            trajectory_id=world.trajectories["nina"],
            now=NOW,
            channel=Channel.CLI,
        )
    with pytest.raises(NotAllowed):
        await in_unit(
            intake_report,
            session=session,
            actor=world.mentor,
            school_id=world.school.id,
            trajectory_id=world.trajectories["otto"],
            now=NOW,
            channel=Channel.WEB,
        )
    async with session.begin():
        rows = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == INTAKE_DOWNLOAD))
        )
    assert [(r.actor_id, r.subject_id, r.details) for r in rows] == [
        (None, world.trajectories["otto"], {"channel": "cli"})
    ]
