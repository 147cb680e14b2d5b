"""The exit questionnaire's pure rules: who may answer which questionnaire, how long and when
reminded, whether an invitation can still be answered, and which answers a confirmed
questionnaire stores.

No I/O: callers read the invitation and the person, and pass the values in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from dialogs.flow import Answers
from dialogs.flows.exit_survey import OPEN_ANSWER_MAX, QUESTIONS, SCALE_CODES
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.kernel.errors import InputInvalid
from services.kernel.text_input import clean_text, validate_text
from storage.models import RespondentType, Role

#: Figures about fewer people than this are hidden where they could give one away (the
#: indicators' rule, `services.indicators.rules`, and anonymous answers in the survey report).
SMALL_GROUP = 5

#: How long an invitation can be answered.
SURVEY_TTL = timedelta(days=21)
#: When the reminders go out, counted from the invitation (at most two; none after expiry).
REMINDERS: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=7))

#: The roles that may answer each questionnaire (the mentor answers the teacher's).
RESPONDENT_ROLES: Mapping[RespondentType, frozenset[Role]] = {
    RespondentType.STUDENT: frozenset({Role.STUDENT}),
    RespondentType.PARENT: frozenset({Role.PARENT}),
    RespondentType.TEACHER: frozenset({Role.MENTOR, Role.TEACHER}),
}

#: One stored answer: (question code, scale value, free text).
AnswerRow = tuple[str, str | None, str | None]


class SurveyUnavailableReason(StrEnum):
    """Why an invitation cannot be answered (now)."""

    #: No such invitation, or not this person's: one answer, so ids cannot be probed.
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def unavailable_reason(
    *, completed_at: datetime | None, expires_at: datetime, now: datetime
) -> SurveyUnavailableReason | None:
    """Why an invitation cannot be answered at ``now`` (``None``: it can).

    Used wins over expired: a respondent who answered in time is thanked, not told it closed.
    """
    if completed_at is not None:
        return SurveyUnavailableReason.USED
    if expires_at <= now:
        return SurveyUnavailableReason.EXPIRED
    return None


def reminder_times(now: datetime, expires_at: datetime) -> tuple[tuple[int, datetime], ...]:
    """(number, when) of each reminder of an invitation made at ``now``: only those before
    it expires (a short-lived invitation gets fewer)."""
    return tuple(
        (number, now + delay)
        for number, delay in enumerate(REMINDERS, start=1)
        if now + delay < expires_at
    )


def hide_small_group(*, anonymous: int, group: int) -> bool:
    """Whether figures about ``group`` answers, ``anonymous`` of them anonymous, are hidden:
    a group of 1-4 that holds an anonymous answer (its mean would give that answer away)."""
    return anonymous > 0 and 0 < group < SMALL_GROUP


def anonymous_time(now: datetime) -> datetime:
    """The time kept for an anonymous answer given at ``now``: the start of its school day
    (Europe/Amsterdam), in UTC; the day still counts it in the right month."""
    day = now.astimezone(SCHOOL_TIMEZONE).date()
    return datetime.combine(day, time(0), SCHOOL_TIMEZONE).astimezone(UTC)


def answer_rows(respondent_type: RespondentType, answers: Answers) -> list[AnswerRow]:
    """(code, scale value, free text) per answered question; `InputInvalid` for a bad one.

    Every statement needs a scale code (1-5 or "don't know"); the open question is optional,
    cleaned, and stored only when something is left of it.
    """
    rows: list[AnswerRow] = []
    for question in QUESTIONS[respondent_type.value]:
        value = answers.get(question.code)
        if question.open:
            if value is None:
                continue
            if not isinstance(value, str):
                raise InputInvalid(Text.of(N_("Please type your answer as a message.")))
            text = clean_text(value)
            if not text:
                continue
            problem = validate_text(value, 1, OPEN_ANSWER_MAX)
            if problem is not None:
                raise InputInvalid(problem)
            rows.append((question.code, None, text))
        elif isinstance(value, str) and value in SCALE_CODES:
            rows.append((question.code, value, None))
        else:
            raise InputInvalid(Text.of(N_("Please answer every statement before sending.")))
    return rows


__all__ = (
    "REMINDERS",
    "RESPONDENT_ROLES",
    "SMALL_GROUP",
    "SURVEY_TTL",
    "AnswerRow",
    "SurveyUnavailableReason",
    "anonymous_time",
    "answer_rows",
    "hide_small_group",
    "reminder_times",
    "unavailable_reason",
)
