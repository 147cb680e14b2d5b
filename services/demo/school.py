"""An invented demo school, so that `make run` shows something on a fresh machine.

Every name here is invented.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.importer import import_people
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.booking import install_demo_booking
from services.demo.surveys import install_demo_surveys
from storage.models import Person, School, StaffAccount

log = logging.getLogger(__name__)

DEMO_SCHOOL_CODE = "demo"
DEMO_SCHOOL_NAME = "Het Demo College"
#: The password of every demo web account: the demo school is for trying the product only
#: (README: "Trying it"). Real accounts are created with `trajectbot staff-account create`.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented, demo school only
#: Web accounts of the demo school; the username is the person's id.
DEMO_ACCOUNTS = ("zoco", "coach", "admin", "swv")

# (external_id, given_name, family_name, group). mentor1 has twelve mentees so that the bot's
# name search and paging are exercised; mentor2 has three.
_STUDENTS_MENTOR1 = (
    ("lln01", "Daan", "Akkerveld", "2B"),
    ("lln02", "Noor", "Bremhorst", "2B"),
    ("lln03", "Sem", "Coldewey", "2B"),
    ("lln04", "Yara", "Dijkhuis", "2B"),
    ("lln05", "Finn", "van Eemsteden", "2B"),
    ("lln06", "Lotte", "Fennema", "2B"),
    ("lln07", "Milan", "Gorterhof", "2B"),
    ("lln08", "Saar", "Holtkamp", "2B"),
    ("lln09", "Jesse", "IJsselmuiden", "2B"),
    ("lln10", "Fenna", "Jansema", "2B"),
    ("lln11", "Thijs", "Kroeskamp", "2B"),
    ("lln12", "Isa", "de Lindenhof", "2B"),
)
_STUDENTS_MENTOR2 = (
    ("lln13", "Bram", "Moerdijkstra", "3A"),
    ("lln14", "Lieke", "Noordeloos", "3A"),
    ("lln15", "Amira", "Oosterbeek-Haddou", "3A"),
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What `create_demo_data` did: ``created`` is False when it skipped."""

    created: bool
    school_id: int | None
    external_ids: tuple[str, ...]
    #: Usernames of the demo web accounts (password `DEMO_PASSWORD`).
    accounts: tuple[str, ...] = ()


def _people() -> list[dict[str, str]]:
    students = [*_STUDENTS_MENTOR1, *_STUDENTS_MENTOR2]
    rows = [
        {
            "external_id": ext,
            "roles": "student",
            "given_name": given,
            "family_name": family,
            "group": group,
            "language": "nl",
        }
        for ext, given, family, group in students
    ]
    staff = [
        ("zoco", "care_coordinator", "Marloes", "Zorgvliet", "", ""),
        ("coach", "coach", "Jeroen", "Trajectveld", "", ""),
        (
            "mentor1",
            "mentor;teacher",
            "Anouk",
            "Klasema",
            "lln01;lln02;lln03;lln04;lln05;lln06;lln07;lln08;lln09;lln10;lln11;lln12",
            "",
        ),
        ("mentor2", "mentor;teacher", "Ruben", "Lesterhuis", "lln13;lln14;lln15", ""),
        ("admin", "admin", "Petra", "Beheerma", "", ""),
        # The partnership (samenwerkingsverband): indicators across schools, aggregates only.
        ("swv", "partnership_viewer", "Hanneke", "Verbandsma", "", ""),
    ]
    parents = [
        # One parent with two children; others with one. Languages show the multilingual bot.
        ("ouder1", "Samira", "Oosterbeek-Haddou", "lln15;lln03", "ar"),
        ("ouder2", "Olena", "Bremhorst", "lln02", "uk"),
        ("ouder3", "Kees", "Akkerveld", "lln01", "nl"),
        ("ouder4", "Agnieszka", "Holtkamp", "lln08", "pl"),
    ]
    rows += [
        {
            "external_id": ext,
            "roles": roles,
            "given_name": given,
            "family_name": family,
            "mentor_of": mentor_of,
            "parent_of": parent_of,
            "language": "nl",
        }
        for ext, roles, given, family, mentor_of, parent_of in staff
    ]
    rows += [
        {
            "external_id": ext,
            "roles": "parent",
            "given_name": given,
            "family_name": family,
            "parent_of": children,
            "language": language,
        }
        for ext, given, family, children, language in parents
    ]
    return rows


async def create_demo_data(
    *,
    session: AsyncSession,
    if_empty: bool,
    with_appointments: bool = False,
    with_surveys: bool = False,
) -> DemoSummary:
    """Create the demo school with its people and links, in the caller's transaction.

    Idempotent: with ``if_empty`` it does nothing when any school exists; without, it does
    nothing when the demo school exists. Goes through the importer, so the demo data obeys the
    import rules.
    """
    # Hashed off the event loop (argon2 is slow on purpose) and once per process, before the
    # first statement (the database transaction only starts there).
    password_hash = await prepare_demo_password()
    blocking = select(School.id).limit(1)
    if not if_empty:
        blocking = blocking.where(School.code == DEMO_SCHOOL_CODE)
    if await session.scalar(blocking) is not None:
        log.info("demo data skipped: database not empty")
        return DemoSummary(created=False, school_id=None, external_ids=())
    school = School(code=DEMO_SCHOOL_CODE, name=DEMO_SCHOOL_NAME)
    session.add(school)
    await session.flush()
    report = await import_people(session=session, school_id=school.id, rows=_people())
    staff = await session.scalars(
        select(Person).where(Person.school_id == school.id, Person.external_id.in_(DEMO_ACCOUNTS))
    )
    for person in staff:
        await create_staff_account(
            session=session,
            person=person,
            username=person.external_id,
            password_hash=password_hash,
            now=datetime.now(UTC),
        )
    if with_appointments:
        # Appointments (issue 4): types, hours, the coach's hours, two trajectories. Not by
        # default: tests build on a demo school without trajectories or booking setup.
        await install_demo_booking(session=session, school_id=school.id, now=datetime.now(UTC))
    if with_surveys:
        # Exit questionnaires (issue 5): three closed trajectories, five answered, so the
        # queue and `trajectbot survey-report` show results. Not by default, as above.
        await install_demo_surveys(session=session, school_id=school.id, now=datetime.now(UTC))
    log.info("demo data created: school_id=%s, %s people", school.id, len(report.created))
    return DemoSummary(
        created=True, school_id=school.id, external_ids=report.created, accounts=DEMO_ACCOUNTS
    )


async def demo_accounts(*, session: AsyncSession) -> tuple[str, ...]:
    """The demo web accounts that exist (none without the demo school)."""
    found = await session.scalars(
        select(StaffAccount.username)
        .join(School, School.id == StaffAccount.school_id)
        .where(School.code == DEMO_SCHOOL_CODE, StaffAccount.username.in_(DEMO_ACCOUNTS))
    )
    present = set(found)
    return tuple(username for username in DEMO_ACCOUNTS if username in present)


async def prepare_demo_password() -> str:
    """The demo accounts' password hash, computed once per process in a worker thread."""
    return await asyncio.to_thread(_demo_password_hash)


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # One hash for every demo account (the same password, salted once): demo data is created
    # in many tests, and argon2 is slow on purpose.
    return hash_password(DEMO_PASSWORD)
