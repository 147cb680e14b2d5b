"""Contact details (services.accounts.contacts): addresses checked, who may change them, the
bounce mark cleared by a new address, every change audited without the address."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.contacts import KEEP, normalize_email, set_contact
from services.kernel.errors import InputInvalid, NotAllowed
from storage.models import AuditLog, Person, Role
from tests.support.factories import NOW, add_person, add_school


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("ouder@example.nl", "ouder@example.nl"),
        ("  Ouder.Naam+school@Example.NL ", "Ouder.Naam+school@example.nl"),
        ("", None),
        ("   ", None),
    ],
)
def test_addresses_are_cleaned(raw: str, stored: str | None) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "ouder",
        "ouder@example",
        "ouder@@example.nl",
        "Ouder <ouder@example.nl>",
        "ou der@example.nl",
        "ouder..naam@example.nl",
        "ouder@example.nl\nBcc: x@example.org",
        "a" * 65 + "@example.nl",
        "a@" + "b" * 250 + ".nl",
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InputInvalid):
        normalize_email(raw)


async def test_who_may_change_contact_details(session: AsyncSession) -> None:
    async with session.begin():
        school = await add_school(session, "vmbo-noord")
        other = await add_school(session, "vmbo-zuid")
        parent = await add_person(session, school, "p1", Role.PARENT)
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        admin = await add_person(session, school, "a1", Role.ADMIN)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        stranger = await add_person(session, other, "z2", Role.CARE_COORDINATOR)
        parent.email = "oud@example.nl"
        parent.email_unreachable_at = NOW
    async with session.begin():
        for refused in (mentor, stranger, parent):
            with pytest.raises(NotAllowed):
                await set_contact(
                    session=session,
                    actor=refused,
                    person_id=parent.id,
                    email="x@example.nl",
                    now=NOW,
                )
        with pytest.raises(InputInvalid):
            await set_contact(
                session=session, actor=zoco, person_id=parent.id, preference="fax", now=NOW
            )
        # The preference alone leaves the address and its mark.
        kept = await set_contact(
            session=session, actor=admin, person_id=parent.id, preference="email", now=NOW
        )
        assert (kept.email, kept.email_unreachable, kept.preference) == (
            "oud@example.nl",
            True,
            "email",
        )
        details = await set_contact(
            session=session,
            actor=zoco,
            person_id=parent.id,
            email="nieuw@example.nl",
            preference=KEEP,
            now=NOW,
        )
        assert (details.email, details.email_unreachable) == ("nieuw@example.nl", False)
        # The same again changes nothing and is not audited again.
        await set_contact(
            session=session, actor=zoco, person_id=parent.id, email="nieuw@example.nl", now=NOW
        )
        removed = await set_contact(
            session=session, actor=None, person_id=parent.id, email="", preference="auto", now=NOW
        )
        assert (removed.email, removed.preference) == (None, "auto")
    stored = await session.get_one(Person, parent.id, populate_existing=True)
    assert (stored.email, stored.channel_preference) == (None, None)
    audit = list(
        await session.scalars(
            select(AuditLog).where(AuditLog.action == "contact.set").order_by(AuditLog.id)
        )
    )
    assert [(a.actor_id, a.details["changed"] if a.details else None) for a in audit] == [
        (admin.id, "preference"),
        (zoco.id, "email"),
        (None, "email,preference"),
    ]
    assert all("example" not in str(a.details) for a in audit)
