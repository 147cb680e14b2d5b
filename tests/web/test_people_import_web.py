"""The administrator imports the school's people on the web (`web.routes.people_import`):
checking writes nothing and shows the command line's report; importing writes into the
administrator's own school and is audited with their name; bad rows stop it unless left out;
only an administrator, with the form's CSRF token, and a file within the size limit."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.demo.school import DEMO_PASSWORD
from storage.models import AuditLog, Person, Role
from tests.web.settings_world import SettingsWorld
from tests.web.staff_client import OTHER_PASSWORD, Browser
from tests.web.test_settings_web import world
from web.routes.people_import import UPLOAD_MAX_BYTES

Open = Callable[..., Awaitable[Browser]]
__all__ = ["world"]  # the fixture, shared with the settings' tests

ONEROSTER = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "oneroster"
GOOD = (
    b"external_id,roles,given_name,family_name,group\n"
    b"imp1,student,Ilse,Vermeulen-Test,2B\n"
    b"imp2,student,Omar,Bakkerveld,2B\n"
)
BAD = GOOD + b"imp3,wizard,Kees,Tovenaar,2B\n"


@pytest.fixture
async def browser_for(
    world: tuple[SettingsWorld, httpx.ASGITransport],
) -> AsyncIterator[Open]:
    _world, transport = world
    opened: list[Browser] = []

    async def open_browser(username: str, password: str = DEMO_PASSWORD) -> Browser:
        browser = Browser(transport, "en")
        opened.append(browser)
        assert (await browser.log_in(username, password)).status_code == 303, username
        return browser

    yield open_browser
    for browser in opened:
        await browser.close()


async def _send(
    browser: Browser,
    data: bytes,
    *,
    action: str,
    name: str = "people.csv",
    skip: bool = False,
    token: bool = True,
) -> httpx.Response:
    page = await browser.get("/settings/people")
    assert page.status_code == 200
    fields = {"action": action, **({"skip_bad_rows": "yes"} if skip else {})}
    if token:
        fields["csrf_token"] = browser.csrf()
    browser.page = await browser.client.post(
        "/settings/people", data=fields, files={"file": (name, data, "text/csv")}
    )
    return browser.page


async def _people(world: SettingsWorld, *external_ids: str) -> list[tuple[int, str]]:
    async with world.app.sessions() as session:
        rows = await session.execute(
            select(Person.school_id, Person.external_id).where(Person.external_id.in_(external_ids))
        )
        return sorted((int(school), str(external)) for school, external in rows)


async def test_checking_writes_nothing_and_importing_writes_into_the_admins_school(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    found, _transport = world
    admin = await browser_for("admin")
    checked = await _send(admin, GOOD, action="check")
    assert checked.status_code == 200
    assert "Dry run: nothing was written." in admin.text
    assert "New (2): imp1, imp2" in admin.text
    assert "Partial sync: people who are not in the file are left alone." in admin.text
    assert "choose it again and press “Import”" in admin.text
    assert await _people(found, "imp1", "imp2") == []

    imported = await _send(admin, GOOD, action="import")
    assert imported.status_code == 200
    assert "Imported. New: 2. Changed: 0. Ended: 0." in admin.text
    assert await _people(found, "imp1", "imp2") == [
        (found.school_id, "imp1"),
        (found.school_id, "imp2"),
    ]
    async with found.app.sessions() as session:
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.action == "people.import").order_by(AuditLog.id.desc())
        )
        admin_id = await session.scalar(
            select(Person.id).where(
                Person.school_id == found.school_id, Person.external_id == "admin"
            )
        )
    assert audit is not None
    assert (audit.actor_id, audit.school_id) == (admin_id, found.school_id)
    assert audit.details["added"] == 2
    assert "Ilse" not in str(audit.details)  # counts only, no names

    # The other school's administrator imports the same file into their own school only.
    other = await browser_for("beheer-zuid", OTHER_PASSWORD)
    await _send(other, GOOD, action="import")
    assert sorted(await _people(found, "imp1")) == sorted(
        [(found.school_id, "imp1"), (found.other_school_id, "imp1")]
    )


async def test_bad_rows_stop_the_import_unless_left_out(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    found, _transport = world
    admin = await browser_for("admin")
    refused = await _send(admin, BAD, action="import")
    assert refused.status_code == 422
    assert "Nothing was imported: 1 problem found." in admin.text
    assert "people.csv: Line 4:" in admin.text
    assert "tick “Leave the bad rows out”" in admin.text
    assert await _people(found, "imp1", "imp2", "imp3") == []

    await _send(admin, BAD, action="import", skip=True)
    assert "Bad rows left out: 1." in admin.text
    assert [external for _school, external in await _people(found, "imp1", "imp2", "imp3")] == [
        "imp1",
        "imp2",
    ]


async def test_an_unreadable_missing_or_too_large_file_gets_a_clear_answer(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    found, _transport = world
    admin = await browser_for("admin")
    broken = await _send(admin, b"PK\x03\x04 not really a zip", action="check", name="x.zip")
    assert broken.status_code == 422
    assert "The file could not be read; nothing was imported." in admin.text

    await admin.get("/settings/people")
    empty = await admin.client.post(
        "/settings/people", data={"action": "check", "csrf_token": admin.csrf()}
    )
    assert empty.status_code == 422
    assert "Choose a file to import." in empty.text

    big = await _send(admin, b"x" * (UPLOAD_MAX_BYTES + 1), action="check")
    assert big.status_code == 413
    assert "The file is larger than 20 MB." in big.text
    # A request announcing more than the limit is refused before it is read.
    await admin.get("/settings/people")
    huge = await admin.client.post(
        "/settings/people",
        content=b"x",
        headers={
            "content-length": str(UPLOAD_MAX_BYTES * 2),
            "content-type": "multipart/form-data; boundary=b",
        },
    )
    assert huge.status_code == 413
    assert await _people(found, "imp1") == []


async def test_only_an_administrator_with_the_forms_token_imports(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    found, _transport = world
    admin = await browser_for("admin")
    forged = await _send(admin, GOOD, action="import", token=False)
    assert forged.status_code == 403
    mentor = await browser_for("coach")
    assert (await mentor.get("/settings/people")).status_code == 403
    answer = await mentor.client.post(
        "/settings/people",
        data={"action": "import", "csrf_token": "x"},
        files={"file": ("people.csv", GOOD, "text/csv")},
    )
    assert answer.status_code == 403
    assert await _people(found, "imp1", "imp2") == []


async def test_the_apps_own_roles_are_not_given_or_taken_by_a_file_from_the_web(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    """An administrator cannot lock the school out, or hand out staff roles, with a file: a
    row naming admin, care coordinator or coach is a bad row, and the import leaves the roles
    given in the app as they are (the administrator listed as a teacher stays admin)."""
    found, _transport = world
    admin = await browser_for("admin")
    rows = (
        b"external_id,roles,given_name,family_name\n"
        b"admin,teacher,Petra,Beheerma\n"
        b"imp7,coach,Joost,Coachman-Test\n"
        b"imp8,admin;teacher,Vera,Opklimmer-Test\n"
    )
    await _send(admin, rows, action="import")
    assert "Nothing was imported: 2 problems found." in admin.text
    assert "people.csv: Line 3: roles such as admin, care coordinator and coach" in admin.text
    assert "people.csv: Line 4: roles such as" in admin.text

    await _send(admin, rows, action="import", skip=True)
    assert "Bad rows left out: 2." in admin.text
    async with found.app.sessions() as session:
        petra = await session.scalar(
            select(Person).where(Person.school_id == found.school_id, Person.external_id == "admin")
        )
        assert petra is not None
        assert petra.has_role(Role.ADMIN)
        assert petra.has_role(Role.TEACHER)
    assert await _people(found, "imp7", "imp8") == []
    # Still the administrator: the settings open.
    assert (await admin.get("/settings/people")).status_code == 200


def _zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for file in sorted(folder.iterdir()):
            bundle.write(file, file.name)
    return buffer.getvalue()


async def test_a_oneroster_export_of_several_schools_needs_the_school_named(
    world: tuple[SettingsWorld, httpx.ASGITransport], browser_for: Open
) -> None:
    """The partnership's export lists two schools: without naming one, the page says which it
    lists and where to name it; named, only that school's people are planned."""
    admin = await browser_for("admin")
    bundle = _zipped(ONEROSTER)
    unnamed = await _send(admin, bundle, action="check", name="export.zip")
    assert unnamed.status_code == 422
    assert "it lists VMBO-NOORD, 12XY00" in admin.text
    assert "“School in the export” on the web" in admin.text

    await admin.get("/settings/people")
    named = await admin.client.post(
        "/settings/people",
        data={"action": "check", "org": " VMBO-NOORD ", "csrf_token": admin.csrf()},
        files={"file": ("export.zip", bundle, "application/zip")},
    )
    assert named.status_code == 200
    assert "stu-1001" in named.text
    assert "stu-9001" not in named.text  # the other school's student
    assert 'value="VMBO-NOORD"' in named.text  # kept for the import that follows

    await admin.get("/settings/people")
    too_long = await admin.client.post(
        "/settings/people",
        data={"action": "check", "org": "x" * 65, "csrf_token": admin.csrf()},
        files={"file": ("export.zip", bundle, "application/zip")},
    )
    assert too_long.status_code == 422
    assert "Please write at most 64 characters." in too_long.text
