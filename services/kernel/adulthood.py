"""Age 18: a student of 18 or older decides whether their parents still see their data.

domain.md (as Magister and Somtoday do it): the product asks the adult student and respects
the answer. Until they answer, their parents keep what they had (the student is asked in the
chat, first thing in their menu); once they say "no", no `Guardianship` of theirs gives a parent
anything about them: their appointments, the intake report, the logbook, the questionnaire,
the notices. They may say "yes" again later. A student whose date of birth the school did not
supply counts as under 18 (the school's administration system is the source; nothing here
guesses an age).

The pure rules (`age_on`, `is_adult`, `may_decide`, `must_ask`) and the one SQL condition every
parent-facing read adds (`parents_see`) live here, below every domain package, so that the
access checks (`services.kernel.access`), the appointments, the trajectories, the surveys and
the consent rule all read the same rule.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from storage.models import Person, Role

#: The age from which a student decides for themself.
ADULT_AGE = 18


def age_on(birth_date: date, today: date) -> int:
    """Whole years between ``birth_date`` and ``today`` (a 29 February birthday counts on
    1 March in a year without one)."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def years_before(today: date, years: int) -> date:
    """The same day ``years`` earlier (29 February: the 28th in a year without one): the
    latest date of birth of someone who is ``years`` old on ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def is_adult(birth_date: date | None, today: date) -> bool:
    """18 or older on ``today``; an unknown date of birth is not."""
    return birth_date is not None and age_on(birth_date, today) >= ADULT_AGE


def is_adult_at(birth_date: date | None, now: datetime) -> bool:
    """18 or older on the school's calendar day at ``now`` (Europe/Amsterdam): the caller's
    clock, so that one request or update reads one "today" everywhere."""
    return is_adult(birth_date, now.astimezone(SCHOOL_TIMEZONE).date())


def may_decide(person: Person, today: date) -> bool:
    """Whether ``person`` is a student of 18 or older (and so decides about their parents)."""
    return person.has_role(Role.STUDENT) and is_adult(person.birth_date, today)


def must_ask(person: Person, today: date) -> bool:
    """An adult student who has not answered yet: the chat asks them first."""
    return may_decide(person, today) and person.parents_access_answered_at is None


def parents_see_person(student: Person) -> bool:
    """Whether the parents of this (loaded) student may see their data."""
    return student.parents_access_withdrawn_at is None


def parents_see(student_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL: the parents of the student ``student_id`` names may see their data (the student did
    not withdraw it). Added to every query that reaches a student's data through
    `Guardianship` (usually ``parents_see(Guardianship.student_id)``)."""
    # An alias of its own, so that a query that already joins `person` (the parent's row)
    # does not correlate this subquery with it.
    student = aliased(Person, name="adult_student")
    return ~exists(
        select(student.id).where(
            student.id == student_id, student.parents_access_withdrawn_at.is_not(None)
        )
    )


def staff_notice(*, adult: bool, withdrawn_at: datetime | None) -> Text | None:
    """What staff read on a student's referral and trajectory (both channels): that an adult
    student decides, or since when their parents no longer see their support."""
    if withdrawn_at is not None:
        return Text.of(
            N_(
                "The student is 18 or older and chose on {date} that their parents no "
                "longer see their support: do not share details with the parents."
            ),
            date=withdrawn_at,
        )
    if adult:
        return Text.of(
            N_(
                "The student is 18 or older: their own consent is enough, and they decide "
                "whether their parents see their support."
            )
        )
    return None
