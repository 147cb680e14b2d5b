"""The exit questionnaire's pure rules (`services.surveys.rules`), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.kernel.errors import InputInvalid
from services.surveys.rules import (
    REMINDERS,
    RESPONDENT_ROLES,
    SURVEY_TTL,
    SurveyUnavailableReason,
    answer_rows,
    reminder_times,
    unavailable_reason,
)
from storage.models import RespondentType, Role

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATEMENTS = {"P1": "4", "P2": "na", "P3": "1", "P4": "5"}


def test_who_answers_which_questionnaire() -> None:
    assert RESPONDENT_ROLES[RespondentType.STUDENT] == {Role.STUDENT}
    assert RESPONDENT_ROLES[RespondentType.PARENT] == {Role.PARENT}
    # The mentor who referred answers the teacher's questionnaire.
    assert RESPONDENT_ROLES[RespondentType.TEACHER] == {Role.MENTOR, Role.TEACHER}


def test_an_invitation_is_answerable_until_it_expires_and_once() -> None:
    expires = NOW + SURVEY_TTL
    assert unavailable_reason(completed_at=None, expires_at=expires, now=NOW) is None
    assert (
        unavailable_reason(
            completed_at=None, expires_at=expires, now=expires - timedelta(seconds=1)
        )
        is None
    )
    assert (
        unavailable_reason(completed_at=None, expires_at=expires, now=expires)
        is SurveyUnavailableReason.EXPIRED
    )
    assert (
        unavailable_reason(completed_at=NOW, expires_at=expires, now=NOW)
        is SurveyUnavailableReason.USED
    )


def test_used_wins_over_expired() -> None:
    reason = unavailable_reason(
        completed_at=NOW, expires_at=NOW + SURVEY_TTL, now=NOW + 2 * SURVEY_TTL
    )
    assert reason is SurveyUnavailableReason.USED


def test_two_reminders_after_three_and_seven_days_before_expiry() -> None:
    assert (timedelta(days=3), timedelta(days=7)) == REMINDERS
    assert reminder_times(NOW, NOW + SURVEY_TTL) == (
        (1, NOW + timedelta(days=3)),
        (2, NOW + timedelta(days=7)),
    )


def test_no_reminder_at_or_after_expiry() -> None:
    assert reminder_times(NOW, NOW + timedelta(days=7)) == ((1, NOW + timedelta(days=3)),)
    assert reminder_times(NOW, NOW + timedelta(days=3)) == ()


def test_answers_are_stored_by_question_code_scale_or_text() -> None:
    rows = answer_rows(RespondentType.PARENT, {**STATEMENTS, "P5": "  Dank je wel!  "})
    assert rows == [
        ("P1", "4", None),
        ("P2", "na", None),
        ("P3", "1", None),
        ("P4", "5", None),
        ("P5", None, "Dank je wel!"),
    ]


def test_the_open_question_is_optional_and_blank_text_is_not_stored() -> None:
    assert [code for code, _v, _t in answer_rows(RespondentType.PARENT, STATEMENTS)] == [
        "P1",
        "P2",
        "P3",
        "P4",
    ]
    assert len(answer_rows(RespondentType.PARENT, {**STATEMENTS, "P5": "   "})) == 4


def test_every_statement_needs_a_scale_answer() -> None:
    missing = {code: value for code, value in STATEMENTS.items() if code != "P3"}
    with pytest.raises(InputInvalid):
        answer_rows(RespondentType.PARENT, missing)
    with pytest.raises(InputInvalid):
        answer_rows(RespondentType.PARENT, {**STATEMENTS, "P3": "7"})


def test_an_open_answer_that_is_too_long_or_not_text_is_refused() -> None:
    with pytest.raises(InputInvalid):
        answer_rows(RespondentType.PARENT, {**STATEMENTS, "P5": "x" * 1001})
    with pytest.raises(InputInvalid):
        answer_rows(RespondentType.PARENT, {**STATEMENTS, "P5": ["a", "b"]})
