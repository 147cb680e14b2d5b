""" "About the support room" (issue 15.7): what students and parents read from the chat menu.

What the trajectvoorziening is, who works there, how time-out works, privacy (what is stored,
who sees it, how long: the school's retention period) and the complaints route. Every school
has a default text in each language (the catalogs); its administrator may replace it per
language in the settings area (`set_about_text`, audited; an empty text brings the default
back). Telegram and the web chat show the same `about_for` answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.languages import SUPPORTED_LANGUAGES
from services.kernel.text_input import clean_text, validate_text
from services.settings.changes import require_admin
from storage.models import Person, Role, School, SchoolAboutText

log = logging.getLogger(__name__)

#: A school's own text: at most this many characters (Telegram shows it in parts).
ABOUT_MAX = 6000
#: Who has "About the support room" in the chat menu.
ABOUT_READERS = (Role.STUDENT, Role.PARENT)

TITLE = N_("About the support room")

#: The default text, one paragraph each (the privacy one names the school's retention period).
_DEFAULT = (
    N_(
        "The support room (trajectvoorziening) is a room and a small team inside the school. "
        "Students who need some extra support get short, planned help there, so that they "
        "can keep taking part in their own lessons. You stay in your own class and come by "
        "appointment or at agreed times."
    ),
    N_(
        "Who works there: the coaches of the support room, who hold the talks and keep the "
        "logbook, and the care coordinator, who decides who gets a trajectory. The mentor "
        "asks for the support and is at the intake, together with the student and the parents."
    ),
    N_(
        "Time-out: a student may leave the lesson for a short while and come to the support "
        "room, but only at the moments agreed in the plan and at most a few times a week. "
        "The teacher is told who leaves the lesson, not why. Time-out outside the plan needs "
        "the care coordinator's approval. The support room is never a punishment room."
    ),
    N_(
        "Privacy: we store what is needed for the support: the referral, the plan with its "
        "goals, appointments and attendance, the logbook and the answers to the closing "
        "questionnaire. The student, the parents and the mentor read the plan and the "
        "logbook; the coaches and the care coordinator see the file. The texts of a closed "
        "trajectory are erased {months} months after closing. You may ask to see your data "
        "or to have it corrected or erased."
    ),
    N_(
        "Not happy about something? Talk to the coach or the mentor first. If that does not "
        "help, contact the care coordinator. After that you can use the school's complaints "
        "procedure; the school's office tells you how."
    ),
)


@dataclass(frozen=True, slots=True)
class AboutView:
    """The text one reader sees: the school's own (``custom``) or the default paragraphs."""

    paragraphs: tuple[Text, ...]
    custom: bool


def default_about(*, months: int) -> tuple[Text, ...]:
    """The default text's paragraphs (rendered in the reader's language by the channel)."""
    return tuple(
        Text.of(paragraph, months=months) if "{months}" in paragraph else Text.of(paragraph)
        for paragraph in _DEFAULT
    )


def may_read_about(person: Person) -> bool:
    """Whether the chat menu offers "About the support room" to this person (as loaded)."""
    return any(person.has_role(role) for role in ABOUT_READERS)


async def about_for(*, session: AsyncSession, reader: Person) -> AboutView:
    """The text for ``reader``: their school's own in their language, else the default.

    For students and parents (re-read from the database); `NotAllowed` for anyone else.
    """
    reader = await reload_actor(session=session, actor=reader)
    if not may_read_about(reader):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    own = await session.get(SchoolAboutText, (reader.school_id, reader.language))
    if own is not None and own.text:
        # Written by the school: shown as typed, never looked up in a catalog.
        return AboutView(tuple(Text.raw(part) for part in own.text.split("\n\n")), custom=True)
    school = await session.get_one(School, reader.school_id)
    return AboutView(default_about(months=school.care_retention_months), custom=False)


async def about_texts_for_admin(*, session: AsyncSession, actor: Person) -> dict[str, str]:
    """The school's own texts by language ('' where the default is shown); admin only."""
    await require_admin(session=session, actor=actor, school_id=actor.school_id)
    found = {
        row.language: row.text
        for row in await session.scalars(
            select(SchoolAboutText).where(SchoolAboutText.school_id == actor.school_id)
        )
    }
    return {language: found.get(language, "") for language in SUPPORTED_LANGUAGES}


def about_problem(text: str) -> Text | None:
    """What is wrong with an administrator's text (after cleaning), or ``None``."""
    if not clean_text(text):
        return None  # empty: the default is shown again
    return validate_text(text, 1, ABOUT_MAX)


async def set_about_text(
    *, session: AsyncSession, actor: Person, language: str, text: str, now: datetime
) -> None:
    """Store the school's own text in ``language`` (empty: back to the default). Audited
    (``settings.about``, the language only). Admin of their own school only (`NotAllowed`);
    an unknown language or a text over the limit is `InputInvalid`."""
    await require_admin(session=session, actor=actor, school_id=actor.school_id)
    if language not in SUPPORTED_LANGUAGES:
        raise InputInvalid(Text.of(N_("This language is not available.")))
    problem = about_problem(text)
    if problem is not None:
        raise InputInvalid(problem)
    cleaned = _paragraphs(clean_text(text))
    row = await session.get(SchoolAboutText, (actor.school_id, language))
    if not cleaned:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(
            SchoolAboutText(
                school_id=actor.school_id,
                language=language,
                text=cleaned,
                updated_by_id=actor.id,
                updated_at=now,
            )
        )
    else:
        row.text, row.updated_by_id, row.updated_at = cleaned, actor.id, now
    await session.flush()
    record_audit(
        session=session,
        school_id=actor.school_id,
        actor_id=actor.id,
        action="settings.about",
        subject_type="school",
        subject_id=actor.school_id,
        details={"language": language, "default": not cleaned},
        at=now,
    )
    log.info("about text (%s) set by person_id=%s", language, actor.id)


def _paragraphs(text: str) -> str:
    """Line endings normalised; paragraphs separated by exactly one empty line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)
