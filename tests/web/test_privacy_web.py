"""The AVG rights on the web (issue 13): a care coordinator finds a person and downloads
everything (JSON, PDF); only an administrator erases, after typing the name; a coach, another
school's coordinator and an unknown id are refused. Through the real web app (httpx, ASGI)."""

from __future__ import annotations

import json
from io import BytesIO

from pypdf import PdfReader

from storage.models import Person
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, StaffWorld

PATH = "/privacy"


async def _person(demo: StaffWorld, external_id: str) -> Person:
    async with demo.sessions()() as session:
        return await session.get_one(Person, demo.ids[external_id], populate_existing=True)


async def test_a_care_coordinator_downloads_everything_about_a_student(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    home = await zoco.get("/queue")
    assert f'href="{PATH}"' in home.text

    found = await zoco.get(f"{PATH}?number=lln02")
    assert found.status_code == 303
    person_id = demo.ids["lln02"]
    assert found.headers["location"] == f"{PATH}/people/{person_id}"
    page = await zoco.get(found.headers["location"])
    assert page.status_code == 200
    assert demo.student_name in zoco.text
    assert 'id="erase-form"' not in page.text  # erasing is for an administrator

    data = (await zoco.get(f"{PATH}/people/{person_id}/export.json")).json()
    assert data["person"]["id"] == person_id
    assert data["referrals_as_student"]
    assert "password_hash" not in json.dumps(data)
    pdf = await zoco.get(f"{PATH}/people/{person_id}/export.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"person-export-{person_id}-" in pdf.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    assert "Bremhorst" in text
    exports = await demo.audit("privacy.export")
    assert [(r.actor_id, r.subject_id) for r in exports] == [(demo.ids["zoco"], person_id)] * 2
    assert "Noor" not in str([r.details for r in exports])

    unknown = await zoco.get(f"{PATH}?number=nobody")
    assert unknown.status_code == 404
    assert "Nobody at this school has this number." in zoco.text


async def test_others_are_refused(demo: StaffWorld, browsers: BrowserFactory) -> None:
    person_id = demo.ids["lln02"]
    coach = await browsers()
    await coach.log_in("coach")
    assert (await coach.get(f"{PATH}/people/{person_id}")).status_code == 403
    assert (await coach.get(f"{PATH}/people/{person_id}/export.json")).status_code == 403
    other = await browsers()
    await other.log_in("zoco-zuid", OTHER_PASSWORD)
    assert (await other.get(f"{PATH}/people/{person_id}")).status_code == 404
    assert (await other.get(f"{PATH}/people/{person_id}/export.json")).status_code == 404
    zoco = await browsers()
    await zoco.log_in("zoco")
    assert (await zoco.get(f"{PATH}/people/999999999")).status_code == 404
    assert (await zoco.get(f"{PATH}/people/{2**63 + 5}")).status_code == 404
    assert (await zoco.get(f"{PATH}?number=S%001")).status_code == 404
    await zoco.get(f"{PATH}/people/{person_id}")
    refused = await zoco.post(f"{PATH}/people/{person_id}/erase", {"name": demo.student_name})
    assert refused.status_code == 403
    assert (await _person(demo, "lln02")).erased_at is None
    assert await demo.audit("privacy.export") == []


async def test_an_administrator_erases_after_typing_the_name(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    person_id = demo.ids["lln02"]
    admin = await browsers()
    await admin.log_in("admin")
    page = await admin.get(f"{PATH}/people/{person_id}")
    assert 'id="erase-form"' in page.text

    wrong = await admin.post(f"{PATH}/people/{person_id}/erase", {"name": "Noor Iemand"})
    assert wrong.status_code == 422
    assert "The name you typed is not this person's name" in admin.text
    no_token = await admin.post(
        f"{PATH}/people/{person_id}/erase", {"name": demo.student_name}, token=False
    )
    assert no_token.status_code == 403
    assert (await _person(demo, "lln02")).erased_at is None

    await admin.get(f"{PATH}/people/{person_id}")
    done = await admin.post(f"{PATH}/people/{person_id}/erase", {"name": demo.student_name})
    assert done.status_code == 303
    page = await admin.get(done.headers["location"])
    assert "The person has been erased." in admin.text
    assert f"Verwijderd {person_id}" in admin.text
    assert 'id="erase-form"' not in page.text
    [row] = await demo.audit("privacy.erase")
    assert (row.actor_id, row.subject_id) == (demo.ids["admin"], person_id)
    assert "Noor" not in str(row.details)


async def test_the_settings_overview_shows_the_retention_period(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    admin = await browsers()
    await admin.log_in("admin")
    page = await admin.get("/settings")
    assert page.status_code == 200
    assert 'data-retention="24"' in page.text
    assert "Care data of a closed trajectory is erased 24 months after closing." in admin.text
