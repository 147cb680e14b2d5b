"""The AVG rights on a real database (issue 13, deliverable 2): the export holds every row
about the person and nothing about another; the erasure leaves no planted name or text in any
column of any table, keeps the indicators' facts and the audit trail (without names), and
works although rows point at the person (SQLite and PostgreSQL); who may."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy_commands import export_json
from dialogs.i18n import Catalogs
from services.indicators.facts import read_facts
from services.indicators.periods import Month
from services.kernel.errors import NotAllowed, NotFound
from services.privacy.collect import SECTIONS
from services.privacy.erasure import ErasureRefused
from services.privacy.export_pdf import render_export_pdf
from services.privacy.rules import EXPORT_FORMAT, EXPORT_VERSION
from services.privacy.views import ERASE, EXPORT, Channel, erase, export_person
from storage.models import (
    AuditLog,
    Base,
    CareTeamCase,
    CareTeamDecision,
    Consent,
    DistrictCoachRequest,
    Person,
    QueueFilterSet,
    QueueItem,
    Referral,
    School,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.privacy_world import OTTO, SAM, PrivacyWorld, build_privacy_world
from tests.support.units import in_unit

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world(session: AsyncSession) -> PrivacyWorld:
    async with session.begin():
        built = await build_privacy_world(session)
    session.expunge_all()
    return built


async def _export(session: AsyncSession, actor: Person | None, person_id: int) -> dict[str, Any]:
    return await in_unit(
        export_person,
        session=session,
        actor=actor,
        person_id=person_id,
        now=NOW,
        channel=Channel.WEB,
        form="json",
    )


async def _dump(session: AsyncSession) -> str:
    """Every text and JSON column of every row of every table, as one string."""
    parts: list[str] = []
    async with session.begin():
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in (await session.execute(select(*columns))).all():
                parts.extend(json.dumps(v, ensure_ascii=False) for v in row if v is not None)
    return "\n".join(parts)


async def test_the_export_has_every_row_about_the_person_and_nothing_of_another(
    session: AsyncSession, world: PrivacyWorld
) -> None:
    data = await _export(session, world.zoco, world.sam.id)

    assert data["format"] == EXPORT_FORMAT
    assert data["version"] == EXPORT_VERSION
    assert list(data)[:5] == ["format", "version", "made_at", "school", "person"]
    assert set(SECTIONS) <= set(data)
    # One row of each kind was planted about Samira: each section has it.
    written = {
        "referrals_as_mentor",
        "queue_notes_written",
        "logbook_written",
        "care_team_meetings_created",
        "visitation_reports_recorded",
        "indicator_targets_set",
    }
    for section in set(SECTIONS) - written:
        assert data[section], f"{section} is empty"
    for section in written:
        assert data[section] == [], section
    assert data["person"]["given_name"] == SAM[0]
    assert data["person"]["email"] == "samira.quispelvaandel@example.org"
    assert data["person"]["birth_date"] == "2008-05-17"
    assert data["roles"] == ["student"]
    assert data["links"]["mentors"] == [world.mentor.id]
    assert data["links"]["parents"] == [world.parent.id]
    text = json.dumps(data, ensure_ascii=False)
    for planted in (
        "help-student",
        "tried",
        "goals",
        "advice",
        "note",
        "evaluation",
        "logbook",
        "survey",
        "conversation",
        "external-care",
        "student-voice",
        "team-question",
        "team-advice",
        "observation",
        "view",
    ):
        assert f"PLANT-sam-{planted}" in text, planted
    # Nothing of Ottokar, no secrets, no other person's name.
    assert "otto" not in text.casefold()
    assert OTTO[1] not in text
    for secret in ("HASH-sam", "CSRF-sam", "PLANT-sam-flash", "token_hash", "password_hash"):
        assert secret not in text
    assert "Marit" not in text
    assert "Zora" not in text
    assert "Coby" not in text
    # The outbox: kinds and dates only.
    assert set(data["outbox"][0]) == {"id", "kind", "status", "channel", "created_at", "sent_at"}
    assert data["web_accounts"][0]["username"] == "sam.login"
    # JSON round trip.
    assert json.loads(export_json(data)) == data
    # The tables of issues 14/15: both consents about her (a parent's and her own), the
    # district coach asked in, the care-team case, the OPP, her saved queue view.
    assert {(c["giver"], c["purpose"]) for c in data["consents"]} == {
        ("parent", "trajectory"),
        ("student", "district_coach"),
    }
    assert data["referrals_as_student"][0]["parents_language"] == "tr"
    assert [r["district_coach_id"] for r in data["district_coach_requests"]] == [world.coach.id]
    assert [e["kind"] for e in data["student_events"]] == ["opp"]
    assert data["queue_filter_sets"][0]["query"] == f"q={SAM[1]}&status=open"
    # What a person wrote is in their own export.
    assert len((await _export(session, world.zoco, world.mentor.id))["referrals_as_mentor"]) == 2
    assert len((await _export(session, world.zoco, world.coach.id))["logbook_written"]) == 2
    assert len((await _export(session, world.admin, world.zoco.id))["queue_notes_written"]) == 2
    zoco = await _export(session, world.admin, world.zoco.id)
    assert len(zoco["consents"]) == 4  # recorded by her
    assert len(zoco["care_team_cases"]) == 2
    assert len(zoco["care_team_meetings_created"]) == 2
    assert len(zoco["student_events"]) == 2
    assert len(zoco["district_coach_requests"]) == 2
    coach = await _export(session, world.zoco, world.coach.id)
    assert len(coach["district_coach_requests"]) == 2
    assert len(coach["support_activities"]) == 2
    parent = await _export(session, world.zoco, world.parent.id)
    assert {c["student_id"] for c in parent["consents"]} == {world.sam.id, world.otto.id}


async def test_the_export_is_audited_with_ids_only(
    session: AsyncSession, world: PrivacyWorld
) -> None:
    await _export(session, world.admin, world.sam.id)

    async with session.begin():
        row = await session.scalar(select(AuditLog).where(AuditLog.action == EXPORT))
    assert row is not None
    assert (row.actor_id, row.subject_type, row.subject_id) == (
        world.admin.id,
        "person",
        world.sam.id,
    )
    assert row.details == {"channel": "web", "form": "json"}


@pytest.mark.parametrize("language", ["nl", "ar"])
async def test_the_pdf_reads_back_in_the_requesters_language(
    session: AsyncSession, world: PrivacyWorld, language: str
) -> None:
    data = await _export(session, world.zoco, world.sam.id)

    pdf = render_export_pdf(data, Catalogs().get(language))

    reader = PdfReader(BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert SAM[1] in text
    assert "PLANT-sam-logbook" in text
    if language == "nl":
        assert "Persoonsgegevens" in text
    assert reader.metadata is not None
    assert reader.metadata.title


async def test_who_may_export_and_erase(session: AsyncSession, world: PrivacyWorld) -> None:
    with pytest.raises(NotAllowed):
        await _export(session, world.mentor, world.sam.id)
    with pytest.raises(NotAllowed):
        await _export(session, world.coach, world.sam.id)
    # Another school's coordinator: as if the person did not exist.
    with pytest.raises(NotFound):
        await _export(session, world.other_admin, world.sam.id)
    with pytest.raises(NotFound):
        await _export(session, world.zoco, 10**6)
    # Erasing is for an administrator only.
    for actor in (world.zoco, world.mentor):
        with pytest.raises(NotAllowed):
            await in_unit(
                erase,
                session=session,
                actor=actor,
                person_id=world.sam.id,
                now=NOW,
                channel=Channel.WEB,
            )
    with pytest.raises(NotFound):
        await in_unit(
            erase,
            session=session,
            actor=world.other_admin,
            person_id=world.sam.id,
            now=NOW,
            channel=Channel.WEB,
        )
    async with session.begin():
        sam = await session.get_one(Person, world.sam.id, populate_existing=True)
        assert sam.erased_at is None


async def _facts(session: AsyncSession) -> Any:
    async with session.begin():
        schools = list(await session.scalars(select(School).order_by(School.id)))
        facts = await read_facts(
            session=session,
            schools=schools,
            first=Month(2026, 1).first_day,
            last=Month(2026, 9).last_day,
            now=NOW,
        )
    # The rows come in no order (PostgreSQL moves updated rows): compare them as sets. The
    # enrolment keeps its starts; erasure ends the person's role on its day (the enrolment
    # before that day is unchanged), so the ends are left out here.
    return {
        school_id: {
            f.name: sorted(map(repr, value)) if isinstance(value, tuple) else value
            for f in dataclasses.fields(found)
            for value in [
                tuple((start, n) for start, _end, n in found.enrolment)
                if f.name == "enrolment"
                else getattr(found, f.name)
            ]
        }
        for school_id, found in facts.items()
    }


async def test_erasure_leaves_no_name_or_text_and_keeps_the_counts_and_the_trail(
    session: AsyncSession, world: PrivacyWorld
) -> None:
    before_facts = await _facts(session)
    async with session.begin():
        before_audit = len(list(await session.scalars(select(AuditLog.id))))
    assert SAM[1] in await _dump(session)

    result = await in_unit(
        erase,
        session=session,
        actor=world.admin,
        person_id=world.sam.id,
        now=NOW,
        channel=Channel.WEB,
        typed_name=f" {SAM[0].lower()}  {SAM[1]} ",
    )

    assert result.person_id == world.sam.id
    dump = await _dump(session)
    for trace in (
        SAM[0],
        SAM[1],
        "samira",
        "PLANT-sam",
        "S1001",
        "sam.login",
        "987654321",
        "3B",
    ):
        assert trace.casefold() not in dump.casefold(), trace
    # Ottokar's data is untouched.
    for planted in (
        "goals",
        "logbook",
        "note",
        "survey",
        "help-student",
        "mentor-typed",
        "external-care",
        "student-voice",
        "team-question",
        "team-advice",
        "observation",
        "view",
    ):
        assert f"PLANT-otto-{planted}" in dump, planted
    assert OTTO[1] in dump
    async with session.begin():
        sam = await session.get_one(Person, world.sam.id, populate_existing=True)
        assert sam.display_name == f"Verwijderd {world.sam.id}"
        assert sam.erased_at is not None
        assert sam.ended_at is not None
        assert sam.telegram_user_id is None
        assert sam.email is None
        assert sam.birth_date is None
        trail = list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))
        erased_row = trail[-1]
    # Her consents stay as records (the audit of who consented to what, when) pointing at the
    # pseudonymised anchor; the codes beside the texts stay; her saved queue view is gone.
    async with session.begin():
        consents = list(
            await session.scalars(select(Consent).where(Consent.student_id == world.sam.id))
        )
        referral = await session.scalar(select(Referral).where(Referral.student_id == world.sam.id))
        case = await session.scalar(
            select(CareTeamCase).join(QueueItem).where(QueueItem.referral_id == referral.id)
            if referral
            else select(CareTeamCase)
        )
        views = await session.scalar(select(func.count()).select_from(QueueFilterSet))
    assert len(consents) == 2
    assert referral is not None
    assert (referral.student_voice, referral.external_care_which) == (None, None)
    assert (referral.parents_language, referral.external_care) == ("tr", "yes")
    assert case is not None
    assert (case.question, case.advice, case.decision) == ("", "", CareTeamDecision.TRAJECTORY)
    assert views == 1  # Ottokar's
    # The trail kept every row (plus the erasure's own), with its ids.
    assert len(trail) == before_audit + 1
    assert erased_row.action == ERASE
    assert (erased_row.actor_id, erased_row.subject_id) == (world.admin.id, world.sam.id)
    about = next(r for r in trail if r.action == "test.about" and r.subject_id == world.sam.id)
    assert about.actor_id == world.zoco.id
    assert about.details == {"username": "[erased]", "name": "[erased]"}
    # The indicators count what they counted.
    assert await _facts(session) == before_facts


async def test_a_student_with_an_open_trajectory_is_erased_only_by_force(
    session: AsyncSession,
) -> None:
    async with session.begin():
        world = await build_privacy_world(session, sam_closed_at=None)
    session.expunge_all()

    with pytest.raises(ErasureRefused) as refused:
        await in_unit(
            erase,
            session=session,
            actor=None,
            person_id=world.sam.id,
            now=NOW,
            channel=Channel.CLI,
        )
    assert "still open" in refused.value.reason.msgid

    await in_unit(
        erase,
        session=session,
        actor=None,
        person_id=world.sam.id,
        now=NOW,
        channel=Channel.CLI,
        force=True,
    )
    async with session.begin():
        trajectory = await session.get_one(
            Trajectory, world.trajectories["sam"], populate_existing=True
        )
        assert trajectory.status is TrajectoryStatus.CLOSED
        assert trajectory.goals is None
        assert trajectory.care_erased_at is not None
    assert "PLANT-sam" not in await _dump(session)


async def test_a_wrong_typed_name_erases_nothing(
    session: AsyncSession, world: PrivacyWorld
) -> None:
    with pytest.raises(ErasureRefused):
        await in_unit(
            erase,
            session=session,
            actor=world.admin,
            person_id=world.sam.id,
            now=NOW,
            channel=Channel.WEB,
            typed_name="Ottokar Anderlingveld",
        )
    assert "PLANT-sam-goals" in await _dump(session)


async def test_staff_with_history_can_be_erased(session: AsyncSession, world: PrivacyWorld) -> None:
    """The mentor wrote both referrals and the coach both logbook entries: rows point at them
    from everywhere, yet the erasure passes the foreign keys and removes what they wrote."""
    for person in (world.mentor, world.coach, world.zoco):
        await in_unit(
            erase,
            session=session,
            actor=world.admin,
            person_id=person.id,
            now=NOW,
            channel=Channel.WEB,
        )
    dump = await _dump(session)
    assert "PLANT-otto-help-student" not in dump  # written by the mentor
    assert "PLANT-otto-logbook" not in dump  # written by the coach
    assert "PLANT-otto-note" not in dump  # written by the care coordinator
    assert "PLANT-otto-goals" in dump  # the trajectory's plan names no author
    assert "PLANT-otto-observation" not in dump  # recorded by the coach
    assert "PLANT-otto-team-advice" not in dump  # decided by the care coordinator
    assert "PLANT-otto-team-question" not in dump  # put on the agenda by her
    assert "PLANT-otto-student-voice" in dump  # the student's own words
    async with session.begin():
        open_requests = await session.scalar(
            select(func.count())
            .select_from(DistrictCoachRequest)
            .where(DistrictCoachRequest.ended_at.is_(None))
        )
    assert open_requests == 0  # the erased coach is no longer involved
