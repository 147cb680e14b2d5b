"""Consent of parents and student, per person and purpose (issue 15; seed 002).

A consent belongs to a referral (and so to the trajectory made from it): who gave it (the
student, or a parent of the student), for what (`ConsentPurpose`), when, and who recorded it.
The mentor records what was given when sending the referral; the care coordinator records and
withdraws later (web). Withdrawing keeps the row (``withdrawn_at``, ``withdrawn_by_id``).
Whether a purpose has consent is `services.consent.rules.consent_holds`, the one rule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.consent.rules import ConsentFact, consent_holds
from services.kernel.access import require_role
from services.kernel.adulthood import is_adult_at, parents_see
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition, NotAllowed
from storage.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Guardianship,
    Person,
    Referral,
    Role,
)

log = logging.getLogger(__name__)

NOT_AVAILABLE = N_("This referral is not available to you.")


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """One consent as the referral and trajectory pages show it."""

    consent_id: int
    giver: ConsentGiver
    giver_name: str
    purpose: ConsentPurpose
    given_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None


async def add_consent(
    *,
    session: AsyncSession,
    referral: Referral,
    giver_id: int,
    purpose: ConsentPurpose,
    recorded_by: Person,
    now: datetime,
) -> Consent:
    """Store one consent of ``giver_id`` (the referral's student or a parent of them); audited.

    An operation for the callers below (they have authorized ``recorded_by``). `NotAllowed`
    when ``giver_id`` is neither the student nor a parent of the student.
    """
    (consent,) = await add_consents(
        session=session,
        referral=referral,
        given=((giver_id, purpose),),
        recorded_by=recorded_by,
        now=now,
    )
    return consent


async def add_consents(
    *,
    session: AsyncSession,
    referral: Referral,
    given: Sequence[tuple[int, ConsentPurpose]],
    recorded_by: Person,
    now: datetime,
) -> list[Consent]:
    """Store the consents ``given`` as (giver, purpose), each audited, in the order given.

    Every giver is checked first (one query for all parents: a guardianship of the student
    within the referral's school); `NotAllowed` when any is neither the student nor a parent
    of the student, and then nothing is stored. One flush for all of them: a referral sent
    with four consents wrote eight rows in eight round trips before.
    """
    parent_ids = {giver_id for giver_id, _ in given if giver_id != referral.student_id}
    if parent_ids:
        parents = set(
            await session.scalars(
                select(Guardianship.parent_id)
                .join(Person, Person.id == Guardianship.parent_id)
                .where(
                    Person.school_id == referral.school_id,
                    Guardianship.school_id == referral.school_id,
                    Guardianship.student_id == referral.student_id,
                    Guardianship.parent_id.in_(parent_ids),
                    parents_see(Guardianship.student_id),
                )
            )
        )
        if refused := sorted(parent_ids - parents):
            log.info(
                "consent refused: giver person_id=%s for referral_id=%s", refused[0], referral.id
            )
            raise NotAllowed(
                Text.of(N_("Only the student or a parent of the student can consent."))
            )
    consents = [
        Consent(
            school_id=referral.school_id,
            referral_id=referral.id,
            student_id=referral.student_id,
            giver_id=giver_id,
            giver=(
                ConsentGiver.STUDENT if giver_id == referral.student_id else ConsentGiver.PARENT
            ),
            purpose=purpose,
            given_at=now,
            recorded_by_id=recorded_by.id,
        )
        for giver_id, purpose in given
    ]
    if not consents:
        return consents
    session.add_all(consents)
    await session.flush()
    for consent in consents:
        record_audit(
            session=session,
            school_id=referral.school_id,
            actor_id=recorded_by.id,
            action="consent.record",
            subject_type="referral",
            subject_id=referral.id,
            details={
                "consent_id": consent.id,
                "purpose": consent.purpose.value,
                "giver": consent.giver.value,
            },
            at=now,
        )
    return consents


async def _coordinator_referral(
    *, session: AsyncSession, actor: Person, referral_id: int
) -> tuple[Person, Referral]:
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    referral = await session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.school_id == actor.school_id)
    )
    if referral is None:
        # One answer for "another school's" and "no such referral".
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    return actor, referral


async def record_consent(
    *,
    session: AsyncSession,
    actor: Person,
    referral_id: int,
    giver_id: int,
    purpose: ConsentPurpose,
    now: datetime,
) -> int:
    """The care coordinator records a consent given later; returns its id. A standing consent
    of the same person for the same purpose is not recorded twice (`InvalidTransition`)."""
    actor, referral = await _coordinator_referral(
        session=session, actor=actor, referral_id=referral_id
    )
    standing = await session.scalar(
        select(Consent.id).where(
            Consent.referral_id == referral.id,
            Consent.giver_id == giver_id,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    )
    if standing is not None:
        raise InvalidTransition(Text.of(N_("This consent has already been recorded.")))
    consent = await add_consent(
        session=session,
        referral=referral,
        giver_id=giver_id,
        purpose=purpose,
        recorded_by=actor,
        now=now,
    )
    return consent.id


async def withdraw_consent(
    *, session: AsyncSession, actor: Person, consent_id: int, now: datetime
) -> None:
    """The care coordinator records that a consent was withdrawn (the row stays); audited.

    Withdrawing consent for the district coach ends their access at once: the access rule
    reads the consents on every request (`services.trajectories.access`).
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    consent = await session.scalar(
        select(Consent)
        .where(Consent.id == consent_id, Consent.school_id == actor.school_id)
        .with_for_update()
    )
    if consent is None:
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    if consent.withdrawn_at is not None:
        raise InvalidTransition(Text.of(N_("This consent has already been withdrawn.")))
    consent.withdrawn_at = now
    consent.withdrawn_by_id = actor.id
    record_audit(
        session=session,
        school_id=consent.school_id,
        actor_id=actor.id,
        action="consent.withdraw",
        subject_type="referral",
        subject_id=consent.referral_id,
        details={"consent_id": consent.id, "purpose": consent.purpose.value},
        at=now,
    )
    await session.flush()


async def consent_facts(*, session: AsyncSession, referral_id: int) -> list[ConsentFact]:
    """The referral's consents as `rules.consent_holds` reads them (a query)."""
    rows = await session.execute(
        select(Consent.giver, Consent.purpose, Consent.withdrawn_at).where(
            Consent.referral_id == referral_id
        )
    )
    return [
        ConsentFact(giver, purpose, withdrawn is not None) for giver, purpose, withdrawn in rows
    ]


async def has_consent(
    *, session: AsyncSession, referral_id: int, purpose: ConsentPurpose, now: datetime
) -> bool:
    """Whether ``purpose`` has consent on the referral at ``now`` (`rules.consent_holds`, with
    the student's age on the school's day: a student of 18 or older consents alone)."""
    birth_date = await session.scalar(
        select(Person.birth_date)
        .join(Referral, Referral.student_id == Person.id)
        .where(Referral.id == referral_id)
    )
    return consent_holds(
        await consent_facts(session=session, referral_id=referral_id),
        purpose,
        adult=is_adult_at(birth_date, now),
    )


async def consent_rows(
    *, session: AsyncSession, referral_id: int, school_id: int
) -> list[ConsentRow]:
    """The referral's consents, oldest first, with the names of who gave and recorded them
    (a query for pages whose caller has authorized the reader)."""
    consents = list(
        await session.scalars(
            select(Consent)
            .where(Consent.referral_id == referral_id, Consent.school_id == school_id)
            .order_by(Consent.given_at, Consent.id)
        )
    )
    ids = {c.giver_id for c in consents} | {c.recorded_by_id for c in consents}
    ids |= {c.withdrawn_by_id for c in consents if c.withdrawn_by_id is not None}
    names = (
        {
            person.id: person.display_name
            for person in await session.scalars(select(Person).where(Person.id.in_(ids)))
        }
        if ids
        else {}
    )
    return [
        ConsentRow(
            consent_id=c.id,
            giver=c.giver,
            giver_name=names.get(c.giver_id, ""),
            purpose=c.purpose,
            given_at=c.given_at,
            recorded_by=names.get(c.recorded_by_id, ""),
            withdrawn_at=c.withdrawn_at,
            withdrawn_by=None if c.withdrawn_by_id is None else names.get(c.withdrawn_by_id, ""),
        )
        for c in consents
    ]


async def consent_givers(
    *, session: AsyncSession, referral: Referral
) -> list[tuple[int, str, ConsentGiver]]:
    """Who may consent on ``referral``: the student, then the student's parents (id, name)."""
    student = await session.get(Person, referral.student_id)
    people: list[tuple[int, str, ConsentGiver]] = []
    if student is not None:
        people.append((student.id, student.display_name, ConsentGiver.STUDENT))
    parents = await session.scalars(
        select(Person)
        .join(Guardianship, Guardianship.parent_id == Person.id)
        .where(
            Guardianship.student_id == referral.student_id,
            Guardianship.school_id == referral.school_id,
            parents_see(Guardianship.student_id),
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    people.extend((p.id, p.display_name, ConsentGiver.PARENT) for p in parents)
    return people
