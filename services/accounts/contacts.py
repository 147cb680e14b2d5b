"""A person's contact channels: their e-mail address and which channel they prefer.

The outbox sends each notice by the channel `services.outbox.channels.choose_channel` picks
from these. Setting an address validates it (one plain address, at most 254 characters);
a new or changed address clears the bounce mark (``email_unreachable_at``), so the school
can fix an address that bounced. Every change is audited. Runs in the caller's transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.kernel.text_input import clean_text
from storage.models import Person, Role

log = logging.getLogger(__name__)

#: RFC 5321's limit on a forward path; also the column's length.
EMAIL_MAX = 254
_LOCAL_MAX = 64
#: One plain address: no display name, no spaces, no quotes or angle brackets, a dot in the
#: domain. Deliberately simple: the SMTP server is the judge of the rest (a refusal marks it).
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
#: The stored preferences (``auto`` is stored as NULL).
PREFERENCES = ("telegram", "email", "auto")

#: The longest person number (``person.external_id``).
NUMBER_MAX = 64

__all__ = [
    "EMAIL_MAX",
    "KEEP",
    "NUMBER_MAX",
    "PREFERENCES",
    "ContactDetails",
    "ContactOverview",
    "ContactRow",
    "contact_overview",
    "find_person",
    "normalize_email",
    "set_contact",
]


class _Keep:
    """Marker: leave this field as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True, slots=True)
class ContactDetails:
    """A person's contact channels after a change (what the CLI and the web show)."""

    person_id: int
    email: str | None
    email_unreachable: bool
    preference: str
    telegram_linked: bool


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One person's contact channels as staff see them on the contact page."""

    person_id: int
    number: str
    name: str
    roles: tuple[str, ...]
    email: str | None
    email_unreachable_at: datetime | None
    preference: str
    telegram_linked: bool
    telegram_unreachable: bool


@dataclass(frozen=True, slots=True)
class ContactOverview:
    """The contact page: the people whose address does not work, and one person if asked."""

    not_working: tuple[ContactRow, ...]
    person: ContactRow | None
    #: A number was asked for and nobody at the school has it.
    unknown_number: bool = False


def normalize_email(raw: str) -> str | None:
    """The address cleaned (trimmed, domain lower-cased), or None for an empty one.

    Raises `InputInvalid` with a translated reason for a malformed or too long address.
    """
    text = clean_text(raw)
    if not text:
        return None
    if len(text) > EMAIL_MAX:
        raise InputInvalid(
            Text.of(N_("An e-mail address has at most {max} characters."), max=Text.raw(EMAIL_MAX))
        )
    local, _, domain = text.rpartition("@")
    if not _ADDRESS.fullmatch(text) or len(local) > _LOCAL_MAX or ".." in text:
        raise InputInvalid(
            Text.of(
                N_("“{value}” is not an e-mail address. Example: ouder@example.nl"),
                value=Text.raw(text[:80]),
            )
        )
    return f"{local}@{domain.lower()}"


async def find_person(*, session: AsyncSession, school_id: int, external_id: str) -> Person:
    """The school's person with ``external_id`` (the administration system's number)."""
    person = await session.scalar(
        select(Person).where(Person.school_id == school_id, Person.external_id == external_id)
    )
    if person is None:
        raise NotFound(
            Text.of(
                N_("There is no person with number “{external_id}” at this school."),
                external_id=Text.raw(external_id[:64]),
            )
        )
    return person


async def _require_staff(session: AsyncSession, actor: Person) -> Person:
    """``actor`` re-read: an administrator or care coordinator, else `NotAllowed`."""
    staff = await session.get(Person, actor.id, populate_existing=True)
    if staff is None or not (staff.has_role(Role.ADMIN) or staff.has_role(Role.CARE_COORDINATOR)):
        log.info("refused: contact details for person_id=%s", actor.id)
        raise NotAllowed(
            Text.of(N_("Only an administrator or care coordinator of the school can do this."))
        )
    return staff


def _row(person: Person) -> ContactRow:
    return ContactRow(
        person_id=person.id,
        number=person.external_id,
        name=person.display_name,
        roles=tuple(sorted(role.role.value for role in person.roles)),
        email=person.email,
        email_unreachable_at=person.email_unreachable_at,
        preference=person.channel_preference or "auto",
        telegram_linked=person.telegram_chat_id is not None,
        telegram_unreachable=person.unreachable_at is not None,
    )


async def contact_overview(
    *, session: AsyncSession, viewer: Person, number: str | None, now: datetime
) -> ContactOverview:
    """The contact page of ``viewer``'s school: everyone whose e-mail address does not work
    (refused or bounced, newest first), and the person with ``number`` when given.

    For an administrator or care coordinator (re-read; `NotAllowed` otherwise). Opening a
    person's details is audited as ``contact.view``.
    """
    staff = await _require_staff(session, viewer)
    not_working = await session.scalars(
        select(Person)
        .where(Person.school_id == staff.school_id, Person.email_unreachable_at.is_not(None))
        .order_by(Person.email_unreachable_at.desc(), Person.id)
        .limit(200)
    )
    rows = tuple(_row(person) for person in not_working)
    wanted = clean_text(number or "")[:NUMBER_MAX]
    if not wanted:
        return ContactOverview(rows, None)
    person = await session.scalar(
        select(Person).where(Person.school_id == staff.school_id, Person.external_id == wanted)
    )
    if person is None:
        return ContactOverview(rows, None, unknown_number=True)
    record_audit(
        session=session,
        school_id=staff.school_id,
        actor_id=staff.id,
        action="contact.view",
        subject_type="person",
        subject_id=person.id,
        at=now,
    )
    await session.flush()
    return ContactOverview(rows, _row(person))


async def set_contact(
    *,
    session: AsyncSession,
    actor: Person | None,
    person_id: int,
    email: str | _Keep | None = KEEP,
    preference: str | _Keep = KEEP,
    now: datetime,
) -> ContactDetails:
    """Set ``person_id``'s e-mail address and/or channel preference.

    ``actor`` is the staff member making the change (an administrator or care coordinator of
    the person's school, re-read here), or None for the command line. ``email``: the new
    address, None or "" to remove it, `KEEP` to leave it. ``preference``: ``telegram``,
    ``email`` or ``auto``. A new address clears its bounce mark. Raises `InputInvalid` for a
    bad address or preference, `NotAllowed` for an actor who may not, `NotFound`.
    Audited as ``contact.set`` (which fields changed; never the address itself).
    """
    person = await session.get(Person, person_id, populate_existing=True)
    if person is None:
        raise NotFound(Text.of(N_("This person does not exist (any more).")))
    if actor is not None:
        staff = await session.get(Person, actor.id, populate_existing=True)
        if (
            staff is None
            or staff.school_id != person.school_id
            or not (staff.has_role(Role.ADMIN) or staff.has_role(Role.CARE_COORDINATOR))
        ):
            log.info("refused: contact change of person_id=%s by %s", person_id, actor.id)
            raise NotAllowed(
                Text.of(N_("Only an administrator or care coordinator of the school can do this."))
            )
    changed: list[str] = []
    if not isinstance(email, _Keep):
        address = normalize_email(email or "")
        if address != person.email:
            person.email = address
            # A new address (or none) is not the one that bounced.
            person.email_unreachable_at = None
            changed.append("email")
    if not isinstance(preference, _Keep):
        if preference not in PREFERENCES:
            raise InputInvalid(
                Text.of(
                    N_("Choose the channel: telegram, email or auto (“{value}” is not one)."),
                    value=Text.raw(preference[:20]),
                )
            )
        stored = None if preference == "auto" else preference
        if stored != person.channel_preference:
            person.channel_preference = stored
            changed.append("preference")
    if changed:
        record_audit(
            session=session,
            school_id=person.school_id,
            actor_id=None if actor is None else actor.id,
            action="contact.set",
            subject_type="person",
            subject_id=person.id,
            details={
                "changed": ",".join(changed),
                "has_email": person.email is not None,
                "preference": person.channel_preference or "auto",
            },
            at=now,
        )
        await session.flush()
        log.info("contact of person_id=%s changed: %s", person.id, changed)
    return ContactDetails(
        person_id=person.id,
        email=person.email,
        email_unreachable=person.email_unreachable_at is not None,
        preference=person.channel_preference or "auto",
        telegram_linked=person.telegram_chat_id is not None,
    )
