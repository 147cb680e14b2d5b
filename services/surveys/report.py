"""Exit questionnaire figures per school (or the whole partnership) and period.

Definitions (also in docs/decisions.md):

- The period is a range of school days, ``start`` to ``end`` inclusive, in Europe/Amsterdam.
- **Mean per question and respondent type**: over the questionnaires *completed* in the
  period; only the answers 1–5 count, "don't know" (``na``) is counted apart and left out of
  the mean. Answers are pooled across questionnaire versions by question code (codes keep
  their meaning across versions).
- **Response rate**: of the invitations *created* (trajectories closed) in the period, the
  share answered so far: ``answered / invited``. Invitations still open are counted apart, so
  a recent period's rate is read as "so far"; it is final once none are open.
- **Anonymous answers** (issue 15) count like any other; a question whose answers include
  anonymous ones and number 1-4 is ``hidden`` (the small-group rule, `rules.SMALL_GROUP`):
  the command line and its CSV show "< 5" instead of its figures.

`survey_report` is a query (no writes, joins the caller's transaction if any) and returns
plain typed values, for the command line and for the indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.exit_survey import NOT_APPLICABLE, QUESTIONS
from dialogs.i18n import SCHOOL_TIMEZONE
from services.surveys.rules import hide_small_group
from storage.models import RespondentType, SurveyAnswer, SurveyInvitation, SurveyResponse

__all__ = ["QuestionResult", "ResponseRate", "SurveyReport", "period_bounds", "survey_report"]

_NUMERIC = ("1", "2", "3", "4", "5")


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question of one respondent type over the period.

    For a statement: ``answers`` is the number of 1–5 answers (the n of ``mean``),
    ``not_applicable`` the number of "don't know", ``mean`` ``None`` when n is 0. For the open
    question (``open``): ``answers`` is the number of written answers; no mean.
    """

    respondent_type: RespondentType
    code: str
    open: bool
    answers: int
    not_applicable: int
    mean: float | None
    #: How many of the answers are anonymous ones.
    anonymous: int = 0

    @property
    def hidden(self) -> bool:
        """Whether the figures must not be shown (`rules.hide_small_group`): anonymous
        answers in a group of 1-4, whose mean would give away a person's answers."""
        return hide_small_group(anonymous=self.anonymous, group=self.answers + self.not_applicable)


@dataclass(frozen=True, slots=True)
class ResponseRate:
    """Invitations created in the period and what became of them (``None``: every type)."""

    respondent_type: RespondentType | None
    invited: int
    answered: int
    still_open: int
    expired: int

    @property
    def rate(self) -> float | None:
        """``answered / invited``; ``None`` when nobody was invited."""
        return self.answered / self.invited if self.invited else None


@dataclass(frozen=True, slots=True)
class SurveyReport:
    """The figures of one school (``school_id``; ``None``: every school) for one period."""

    school_id: int | None
    start: date
    end: date
    responses: int
    questions: tuple[QuestionResult, ...]
    rates: tuple[ResponseRate, ...]
    total: ResponseRate

    def question(self, respondent_type: RespondentType, code: str) -> QuestionResult:
        """The result of one question (KeyError when the questionnaire has no such code)."""
        for result in self.questions:
            if result.respondent_type is respondent_type and result.code == code:
                return result
        raise KeyError((respondent_type, code))

    def rate_of(self, respondent_type: RespondentType) -> ResponseRate:
        """The response figures of one respondent type."""
        for rate in self.rates:
            if rate.respondent_type is respondent_type:
                return rate
        raise KeyError(respondent_type)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[from, to)`` in UTC for the school days ``start``…``end`` (Europe/Amsterdam)."""
    if end < start:
        raise ValueError("the period ends before it starts")
    begin = datetime.combine(start, time(0), SCHOOL_TIMEZONE).astimezone(UTC)
    stop = datetime.combine(end + timedelta(days=1), time(0), SCHOOL_TIMEZONE).astimezone(UTC)
    return begin, stop


async def survey_report(
    *,
    session: AsyncSession,
    school_id: int | None,
    start: date,
    end: date,
    now: datetime,
) -> SurveyReport:
    """The exit questionnaire figures of ``school_id`` (``None``: all schools) for a period.

    ``now`` decides which unanswered invitations have expired. ``ValueError`` when ``end`` is
    before ``start``.
    """
    begin, stop = period_bounds(start, end)

    answered = (
        select(
            SurveyResponse.respondent_type,
            SurveyAnswer.code,
            SurveyAnswer.value,
            SurveyResponse.anonymous,
            func.count(SurveyAnswer.id),
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.completed_at >= begin, SurveyResponse.completed_at < stop)
        .group_by(
            SurveyResponse.respondent_type,
            SurveyAnswer.code,
            SurveyAnswer.value,
            SurveyResponse.anonymous,
        )
    )
    responses = select(func.count(SurveyResponse.id)).where(
        SurveyResponse.completed_at >= begin, SurveyResponse.completed_at < stop
    )
    lapsed = case(
        (SurveyInvitation.completed_at.is_(None) & (SurveyInvitation.expires_at <= now), 1),
        else_=0,
    )
    invited = (
        select(
            SurveyInvitation.respondent_type,
            func.count(SurveyInvitation.id),
            func.count(SurveyInvitation.completed_at),
            func.coalesce(func.sum(lapsed), 0),
        )
        .where(SurveyInvitation.created_at >= begin, SurveyInvitation.created_at < stop)
        .group_by(SurveyInvitation.respondent_type)
    )
    if school_id is not None:
        answered = answered.where(SurveyResponse.school_id == school_id)
        responses = responses.where(SurveyResponse.school_id == school_id)
        invited = invited.where(SurveyInvitation.school_id == school_id)

    # (type, code) -> value -> count; free text has value None.
    counts: dict[tuple[RespondentType, str], dict[str | None, int]] = {}
    anonymous: dict[tuple[RespondentType, str], int] = {}
    for respondent_type, code, value, is_anonymous, number in await session.execute(answered):
        by_value = counts.setdefault((respondent_type, code), {})
        by_value[value] = by_value.get(value, 0) + int(number)
        if is_anonymous:
            key = (respondent_type, code)
            anonymous[key] = anonymous.get(key, 0) + int(number)

    questions: list[QuestionResult] = []
    for respondent_type in RespondentType:
        for question in QUESTIONS[respondent_type.value]:
            by_value = counts.get((respondent_type, question.code), {})
            if question.open:
                questions.append(
                    QuestionResult(
                        respondent_type,
                        question.code,
                        True,
                        by_value.get(None, 0),
                        0,
                        None,
                        anonymous.get((respondent_type, question.code), 0),
                    )
                )
                continue
            n = sum(by_value.get(value, 0) for value in _NUMERIC)
            points = sum(int(value) * by_value.get(value, 0) for value in _NUMERIC)
            questions.append(
                QuestionResult(
                    respondent_type,
                    question.code,
                    False,
                    n,
                    by_value.get(NOT_APPLICABLE, 0),
                    points / n if n else None,
                    anonymous.get((respondent_type, question.code), 0),
                )
            )

    tally = dict.fromkeys(RespondentType, (0, 0, 0, 0))
    for respondent_type, number, done, expired in await session.execute(invited):
        count, answered_count, lapsed_count = int(number), int(done), int(expired)
        tally[respondent_type] = (
            count,
            answered_count,
            count - answered_count - lapsed_count,
            lapsed_count,
        )
    rates = tuple(ResponseRate(t, *tally[t]) for t in RespondentType)
    total = ResponseRate(
        None,
        sum(r.invited for r in rates),
        sum(r.answered for r in rates),
        sum(r.still_open for r in rates),
        sum(r.expired for r in rates),
    )
    return SurveyReport(
        school_id=school_id,
        start=start,
        end=end,
        responses=int(await session.scalar(responses) or 0),
        questions=tuple(questions),
        rates=rates,
        total=total,
    )
