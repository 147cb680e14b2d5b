"""The exit questionnaire figures of a school and period (`trajectbot survey-report`).

As a table for reading (headers, labels and numbers in the command line's language) or as CSV
for a spreadsheet: one row per question and respondent type with the response figures of that
respondent type; headers in the command line's language, values language-independent (codes,
ISO dates, a dot as decimal separator).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import click
from babel.numbers import format_decimal, format_percent
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.flows.exit_survey import RESPONDENT_LABELS, question
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.schools import find_school
from services.kernel.uow import run_unit_of_work
from services.surveys.report import QuestionResult, ResponseRate, SurveyReport, survey_report
from services.surveys.rules import SMALL_GROUP
from storage.models import School, utcnow


async def print_survey_report(
    app: App,
    *,
    school_code: str | None,
    start: date,
    end: date,
    as_csv: bool,
    catalog: Catalog,
) -> int:
    """Print the figures; exit status 1 when the period ends before it starts."""
    if end < start:
        click.echo(
            catalog.render(Text.of(N_("The period ends before it starts: check --from and --to."))),
            err=True,
        )
        return 1

    async def read(session: AsyncSession) -> tuple[School, SurveyReport]:
        school = await find_school(session=session, code=school_code)
        report = await survey_report(
            session=session, school_id=school.id, start=start, end=end, now=utcnow()
        )
        return school, report

    school, report = await run_unit_of_work(app.sessions, read)
    if as_csv:
        click.echo(_csv(report, school.code, catalog), nl=False)
    else:
        _table(report, school.name, school.code, catalog)
    return 0


#: What a figure hidden by the small-group rule shows instead (anonymous answers, 1-4).
HIDDEN = f"< {SMALL_GROUP}"


def _tr(catalog: Catalog, message: str) -> str:
    return catalog.render(Text.of(message))


def _respondent(catalog: Catalog, rate: ResponseRate) -> str:
    if rate.respondent_type is None:
        return _tr(catalog, N_("total"))
    return _tr(catalog, RESPONDENT_LABELS[rate.respondent_type.value])


def _mean(result: QuestionResult, catalog: Catalog) -> str:
    if result.open or result.mean is None:
        return "–"
    return str(format_decimal(result.mean, format="0.00", locale=catalog.locale))


def _rate(rate: ResponseRate, catalog: Catalog) -> str:
    if rate.rate is None:
        return "–"
    return str(format_percent(rate.rate, format="0%", locale=catalog.locale))


def _print(rows: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in rows) for i in range(len(rows[0]))]
    header, *body = rows
    for line in [header, ["-" * w for w in widths], *body]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _table(report: SurveyReport, school_name: str, school_code: str, catalog: Catalog) -> None:
    click.echo(
        catalog.render(
            Text.of(
                N_("Exit questionnaire · {school} ({code}) · {start} – {end}"),
                school=Text.raw(school_name),
                code=Text.raw(school_code),
                start=report.start,
                end=report.end,
            )
        )
    )
    click.echo(
        catalog.render(
            Text.plural_of(
                "{count} questionnaire answered in this period.",
                "{count} questionnaires answered in this period.",
                report.responses,
            )
        )
    )
    click.echo("")
    rows = [
        [
            _tr(catalog, N_("Respondent")),
            _tr(catalog, N_("Code")),
            _tr(catalog, N_("Question")),
            _tr(catalog, N_("Answers")),
            _tr(catalog, N_("Don't know")),
            _tr(catalog, N_("Mean (1–5)")),
        ]
    ]
    rows += [
        [
            _tr(catalog, RESPONDENT_LABELS[result.respondent_type.value]),
            result.code,
            _tr(catalog, question(result.code).text),
            *(
                [HIDDEN, "" if result.open else HIDDEN, "" if result.open else HIDDEN]
                if result.hidden
                else [
                    catalog.render(Text.raw(result.answers)),
                    "" if result.open else catalog.render(Text.raw(result.not_applicable)),
                    _mean(result, catalog),
                ]
            ),
        ]
        for result in report.questions
    ]
    _print(rows)
    click.echo("")
    click.echo(
        _tr(
            catalog,
            N_(
                "Response rate: invitations sent in this period (closed trajectories) and how "
                "many were answered so far."
            ),
        )
    )
    rates = [
        [
            _tr(catalog, N_("Respondent")),
            _tr(catalog, N_("Invited")),
            _tr(catalog, N_("Answered")),
            _tr(catalog, N_("Still open")),
            _tr(catalog, N_("Expired")),
            _tr(catalog, N_("Response rate")),
        ]
    ]
    rates += [
        [
            _respondent(catalog, rate),
            catalog.render(Text.raw(rate.invited)),
            catalog.render(Text.raw(rate.answered)),
            catalog.render(Text.raw(rate.still_open)),
            catalog.render(Text.raw(rate.expired)),
            _rate(rate, catalog),
        ]
        for rate in (*report.rates, report.total)
    ]
    _print(rates)


def _csv(report: SurveyReport, school_code: str, catalog: Catalog) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            _tr(catalog, N_("School")),
            _tr(catalog, N_("From")),
            _tr(catalog, N_("To")),
            _tr(catalog, N_("Respondent")),
            _tr(catalog, N_("Code")),
            _tr(catalog, N_("Question")),
            _tr(catalog, N_("Answers")),
            _tr(catalog, N_("Don't know")),
            _tr(catalog, N_("Mean (1–5)")),
            _tr(catalog, N_("Invited")),
            _tr(catalog, N_("Answered")),
            _tr(catalog, N_("Response rate")),
        ]
    )
    for result in report.questions:
        rate = report.rate_of(result.respondent_type)
        writer.writerow(
            [
                school_code,
                report.start.isoformat(),
                report.end.isoformat(),
                result.respondent_type.value,
                result.code,
                _tr(catalog, question(result.code).text),
                *(
                    [HIDDEN, "" if result.open else HIDDEN, "" if result.open else HIDDEN]
                    if result.hidden
                    else [
                        result.answers,
                        "" if result.open else result.not_applicable,
                        "" if result.mean is None else f"{result.mean:.2f}",
                    ]
                ),
                rate.invited,
                rate.answered,
                "" if rate.rate is None else f"{rate.rate:.4f}",
            ]
        )
    return out.getvalue()
