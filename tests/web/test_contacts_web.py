"""Contact details on the web (issue 12, e-mail channel): the school's care coordinators and
administrators see and change a person's e-mail address and preferred channel; addresses
that do not work are listed. Checked through the real web app (httpx, ASGI)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import AuditLog, Person
from tests.support.factories import NOW
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, StaffWorld

PATH = "/contacts"


async def _person(demo: StaffWorld, external_id: str) -> Person:
    async with demo.sessions()() as session:
        return await session.get_one(Person, demo.ids[external_id], populate_existing=True)


async def test_a_care_coordinator_sets_an_address_and_the_preference(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    home = await zoco.get("/queue")
    assert f'href="{PATH}"' in home.text  # in the navigation

    page = await zoco.get(f"{PATH}?number=ouder2")
    assert page.status_code == 200
    assert "Olena Bremhorst" in zoco.text
    assert 'data-telegram="no"' in page.text
    person_id = demo.ids["ouder2"]

    # A bad address: the form again, with the reason and what was typed.
    refused = await zoco.post(
        f"{PATH}/{person_id}",
        {"number": "ouder2", "email": "olena at example", "preference": "email"},
    )
    assert refused.status_code == 422
    assert "“olena at example” is not an e-mail address. Example: ouder@example.nl" in zoco.text
    assert 'value="olena at example"' in refused.text
    assert (await _person(demo, "ouder2")).email is None

    saved = await zoco.post(
        f"{PATH}/{person_id}",
        {"number": "ouder2", "email": "Olena.B@Example.ORG", "preference": "email"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PATH}?number=ouder2&done=1"
    page = await zoco.get(saved.headers["location"])
    assert "Contact details saved." in zoco.text
    assert 'value="Olena.B@example.org"' in page.text
    assert 'value="email" checked' in page.text
    stored = await _person(demo, "ouder2")
    assert (stored.email, stored.channel_preference) == ("Olena.B@example.org", "email")
    [change] = await demo.audit("contact.set")
    assert change.actor_id == demo.ids["zoco"]
    assert change.subject_id == person_id
    assert "Olena" not in str(change.details)
    assert await demo.audit("contact.view")


async def test_addresses_that_do_not_work_are_listed_and_a_new_one_clears_the_mark(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.sessions()() as session, session.begin():
        parent = await session.get_one(Person, demo.ids["ouder3"])
        parent.email = "kees@example.org"
        parent.email_unreachable_at = NOW - timedelta(days=1)
    zoco = await browsers()
    await zoco.log_in("zoco")
    listing = await zoco.get(PATH)
    assert f'data-person="{demo.ids["ouder3"]}"' in listing.text
    assert "Kees Akkerveld" in zoco.text

    page = await zoco.get(f"{PATH}?number=ouder3")
    assert 'data-not-working="yes"' in page.text
    await zoco.post(
        f"{PATH}/{demo.ids['ouder3']}",
        {"number": "ouder3", "email": "kees.nieuw@example.org", "preference": "auto"},
    )
    stored = await _person(demo, "ouder3")
    assert (stored.email, stored.email_unreachable_at) == ("kees.nieuw@example.org", None)
    listing = await zoco.get(PATH)
    assert f'data-person="{demo.ids["ouder3"]}"' not in listing.text
    assert "None: every e-mail address works as far as is known." in (
        listing.text.replace("&#39;", "'")
    )


async def test_another_school_and_other_roles_get_nothing(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    other = await browsers()
    await other.log_in("zoco-zuid", OTHER_PASSWORD)
    page = await other.get(f"{PATH}?number=ouder2")
    assert page.status_code == 200
    assert "Nobody at this school has this number." in other.text
    assert "Olena" not in other.text
    refused = await other.post(
        f"{PATH}/{demo.ids['ouder2']}",
        {"number": "ouder2", "email": "x@example.org", "preference": "auto"},
    )
    assert refused.status_code == 404
    assert (await _person(demo, "ouder2")).email is None

    coach = await browsers()
    await coach.log_in("coach")
    assert (await coach.get(PATH)).status_code == 403

    admin = await browsers()
    await admin.log_in("admin")
    shown = await admin.get(f"{PATH}?number=ouder2")
    assert shown.status_code == 200
    assert "Olena Bremhorst" in admin.text

    zoco = await browsers()
    await zoco.log_in("zoco")
    await zoco.get(f"{PATH}?number=ouder2")
    forged = await zoco.post(
        f"{PATH}/{demo.ids['ouder2']}",
        {"number": "ouder2", "email": "x@example.org", "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    async with demo.sessions()() as session:
        changes = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "contact.set"))
        )
    assert changes == []
