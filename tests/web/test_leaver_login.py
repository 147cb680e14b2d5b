"""A staff member who left the school (ended by a full sync of the administration system)
loses the web app at once: the running session ends and the password no longer logs in;
listed again, they log in as before."""

from __future__ import annotations

from pathlib import Path

from services.accounts.roster.sync import sync_people
from storage.models import PersonRole, Role
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import StaffWorld


async def test_a_leaver_is_logged_out_and_cannot_log_in(
    demo: StaffWorld, browsers: BrowserFactory, tmp_path: Path
) -> None:
    # The care coordinator is also a teacher in the administration system.
    async with demo.app.sessions() as session, session.begin():
        session.add(PersonRole(person_id=demo.ids["zoco"], role=Role.TEACHER))
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    assert (await zoco.get("/queue")).status_code == 200

    roster = tmp_path / "export.csv"
    roster.write_text(
        "external_id,roles,given_name,family_name\nzoco,teacher,Marloes,Zorgvliet\n",
        encoding="utf-8",
    )
    left = tmp_path / "export-after.csv"
    left.write_text(
        "external_id,roles,given_name,family_name\nlln1,student,Test,Leerling\n", encoding="utf-8"
    )
    result = await sync_people(
        demo.app.sessions, path=left, school_code="demo", now=demo.clock(), full=True
    )
    assert result.plan is not None
    assert "zoco" in result.plan.ended

    after = await zoco.get("/queue")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
    again = await browsers()
    refused = await again.log_in("zoco")
    assert refused.status_code == 401
    assert "The username or password is not right." in again.text

    await sync_people(
        demo.app.sessions, path=roster, school_code="demo", now=demo.clock(), full=False
    )
    back = await browsers()
    assert (await back.log_in("zoco")).status_code == 303
