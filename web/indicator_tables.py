"""The indicator report as translated tables and charts.

One definition serves the page, the CSV and the XLSX, so they always show the same figures
under the same headings. Pure: a `services.indicators.report.IndicatorReport` and the reader's
`Catalog` in, tables and SVG out.

A school's own view is one wide table (a row per month, a column per indicator) plus the
questionnaire table; so is one school of the partnership's (its detail page, small groups
hidden). The partnership's exports have a table per indicator (a row per month, a column per
school and one for all schools together) plus the questionnaire table (a row per month and
school). The partnership's page is its summary (`build_summary`): a row per school with the key
figures over the whole period (each linking to the school's detail page), and all schools
together per month and per school year.

Cells are written by a `CellText`, made once per request: its number formats, month names
and the hidden figure's label are built once, not per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel.dates import format_skeleton
from markupsafe import Markup

from dialogs.flows.exit_survey import QUESTIONS
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.indicators.periods import Month, school_year_label
from services.indicators.report import (
    Figure,
    Indicator,
    IndicatorReport,
    MonthFigures,
    SchoolIndicators,
    YearFigures,
)
from services.indicators.rules import SMALL_GROUP
from web.charts import (
    ChartText,
    NumberKind,
    Point,
    Series,
    bar_chart,
    line_chart,
    number_formatter,
)

__all__ = ["number_formatter"]  # re-exported: the tables' formats are the charts'

LABELS: Mapping[Indicator, str] = {
    Indicator.ENROLLED: N_("Students enrolled"),
    Indicator.REFERRED: N_("Students referred"),
    Indicator.REFERRED_SHARE: N_("Share of enrolled students referred (%)"),
    Indicator.CLASS_OBSERVATIONS: N_("Class observations"),
    Indicator.OBSERVED_SHARE: N_("Share of enrolled students observed in class (%)"),
    Indicator.TEACHER_SUPPORT: N_("Teacher support (advice, sparring, training)"),
    Indicator.OPP: N_("Students with an OPP"),
    Indicator.OPP_SHARE: N_("Share of enrolled students with an OPP (%)"),
    Indicator.TLV_REQUESTED: N_("TLVs requested"),
    Indicator.TLV_REQUESTED_SHARE: N_("TLVs requested, share of enrolled students (%)"),
    Indicator.TLV_GRANTED: N_("TLVs granted"),
    Indicator.TLV_GRANTED_SHARE: N_("TLVs granted, share of enrolled students (%)"),
    Indicator.LONG_ABSENCE: N_("Long-term absence (thuiszitters)"),
    Indicator.LONG_ABSENCE_SHARE: N_("Long-term absence, share of enrolled students (%)"),
    Indicator.OUTFLOW: N_("Afstromers"),
    Indicator.OUTFLOW_WITH_OPP: N_("Afstromers with an OPP"),
    Indicator.OUTFLOW_SHARE: N_("Afstromers, share of enrolled students (%)"),
    Indicator.VAVO: N_("Students to VAVO"),
    Indicator.VAVO_WITH_OPP: N_("Students to VAVO with an OPP"),
    Indicator.VAVO_SHARE: N_("Students to VAVO, share of enrolled students (%)"),
    Indicator.VISITATIONS: N_("Visitation reports"),
    Indicator.ACTIVE_TRAJECTORIES: N_("Active trajectories"),
    Indicator.LENGTH_MEAN_DAYS: N_("Length of active trajectories, mean (days)"),
    Indicator.LENGTH_MEDIAN_DAYS: N_("Length of active trajectories, median (days)"),
    Indicator.TIMEOUTS_ATTENDED: N_("Time-outs attended"),
    Indicator.TIMEOUTS_PER_STUDENT: N_("Time-outs per student with an active trajectory"),
    Indicator.OVERDUE: N_("Overdue trajectories"),
}

KINDS: Mapping[Indicator, NumberKind] = {
    Indicator.ENROLLED: NumberKind.COUNT,
    Indicator.REFERRED: NumberKind.COUNT,
    Indicator.REFERRED_SHARE: NumberKind.PERCENT,
    Indicator.CLASS_OBSERVATIONS: NumberKind.COUNT,
    Indicator.OBSERVED_SHARE: NumberKind.PERCENT,
    Indicator.TEACHER_SUPPORT: NumberKind.COUNT,
    Indicator.OPP: NumberKind.COUNT,
    Indicator.OPP_SHARE: NumberKind.PERCENT,
    Indicator.TLV_REQUESTED: NumberKind.COUNT,
    Indicator.TLV_REQUESTED_SHARE: NumberKind.PERCENT,
    Indicator.TLV_GRANTED: NumberKind.COUNT,
    Indicator.TLV_GRANTED_SHARE: NumberKind.PERCENT,
    Indicator.LONG_ABSENCE: NumberKind.COUNT,
    Indicator.LONG_ABSENCE_SHARE: NumberKind.PERCENT,
    Indicator.OUTFLOW: NumberKind.COUNT,
    Indicator.OUTFLOW_WITH_OPP: NumberKind.COUNT,
    Indicator.OUTFLOW_SHARE: NumberKind.PERCENT,
    Indicator.VAVO: NumberKind.COUNT,
    Indicator.VAVO_WITH_OPP: NumberKind.COUNT,
    Indicator.VAVO_SHARE: NumberKind.PERCENT,
    Indicator.VISITATIONS: NumberKind.COUNT,
    Indicator.ACTIVE_TRAJECTORIES: NumberKind.COUNT,
    Indicator.LENGTH_MEAN_DAYS: NumberKind.DECIMAL,
    Indicator.LENGTH_MEDIAN_DAYS: NumberKind.DECIMAL,
    Indicator.TIMEOUTS_ATTENDED: NumberKind.COUNT,
    Indicator.TIMEOUTS_PER_STUDENT: NumberKind.DECIMAL,
    Indicator.OVERDUE: NumberKind.COUNT,
}

#: What each figure means (the page's footnote and the export's definitions sheet).
DEFINITIONS: Mapping[Indicator, str] = {
    Indicator.ENROLLED: N_(
        "Students with the role student at the school at any time in the month (or school "
        "year), from the roster imports' start and end dates."
    ),
    Indicator.REFERRED: N_(
        "Distinct students with at least one referral submitted in the month (school time)."
    ),
    Indicator.REFERRED_SHARE: N_("Students referred divided by students enrolled."),
    Indicator.CLASS_OBSERVATIONS: N_(
        "Observations in class recorded as held in the month (about a student, a class or a "
        "teacher); requests not yet held are not counted."
    ),
    Indicator.OBSERVED_SHARE: N_(
        "Distinct students an observation in class was about, divided by students enrolled."
    ),
    Indicator.TEACHER_SUPPORT: N_(
        "Advice, sparring and training for teachers recorded as held in the month."
    ),
    Indicator.OPP: N_("Distinct students with an OPP recorded as present in the period."),
    Indicator.OPP_SHARE: N_("Students with an OPP divided by students enrolled."),
    Indicator.TLV_REQUESTED: N_("Distinct students with a TLV requested in the period."),
    Indicator.TLV_REQUESTED_SHARE: N_("TLVs requested divided by students enrolled."),
    Indicator.TLV_GRANTED: N_("Distinct students with a TLV granted in the period."),
    Indicator.TLV_GRANTED_SHARE: N_("TLVs granted divided by students enrolled."),
    Indicator.LONG_ABSENCE: N_(
        "Distinct students with a period of long-term absence (entered on the web or imported "
        "from the attendance export) overlapping the period."
    ),
    Indicator.LONG_ABSENCE_SHARE: N_(
        "Students with long-term absence divided by students enrolled."
    ),
    Indicator.OUTFLOW: N_(
        "Distinct students whose trajectory was closed with afstroom (a lower level) in the period."
    ),
    Indicator.OUTFLOW_WITH_OPP: N_(
        "Of the afstromers, those with an OPP recorded on or before the day of closing; the "
        "rest had none."
    ),
    Indicator.OUTFLOW_SHARE: N_("Afstromers divided by students enrolled."),
    Indicator.VAVO: N_("Distinct students whose trajectory was closed with VAVO in the period."),
    Indicator.VAVO_WITH_OPP: N_(
        "Of the students to VAVO, those with an OPP recorded on or before the day of closing."
    ),
    Indicator.VAVO_SHARE: N_("Students to VAVO divided by students enrolled."),
    Indicator.VISITATIONS: N_("Visitation reports recorded with a day in the period."),
    Indicator.ACTIVE_TRAJECTORIES: N_(
        "Trajectories active at any time in the month: the intake took place on or before the "
        "month's last day and the trajectory was not closed before its first day."
    ),
    Indicator.LENGTH_MEAN_DAYS: N_(
        "Days from the intake to closing, or to the month's end (today in the current month), "
        "averaged over the active trajectories."
    ),
    Indicator.LENGTH_MEDIAN_DAYS: N_("The same days, the middle value."),
    Indicator.TIMEOUTS_ATTENDED: N_("Time-out appointments marked as attended in the month."),
    Indicator.TIMEOUTS_PER_STUDENT: N_(
        "Time-outs attended divided by the students with an active trajectory in the month."
    ),
    Indicator.OVERDUE: N_(
        "Trajectories not closed at the month's end (today in the current month) that are past "
        "their end date, have an evaluation due before that day and not held, or had a week "
        "with more time-outs than the plan allows."
    ),
}
QUESTIONNAIRE_DEFINITION = N_(
    "Exit questionnaire: mean score from 1 (strongly disagree) to 5 (strongly agree) over the "
    "questionnaires completed in the month, 'don't know' left out; response rate: answered "
    "so far of the invitations sent in the month."
)
SCHOOL_YEAR_DEFINITION = N_(
    "A school year runs from 1 August to 31 July (up to today in the current one); its "
    "figures count each student once. Targets are percentages the partnership sets per "
    "school and school year. The exit questionnaire per school year hides a figure about "
    "fewer than five respondents in that year."
)
SUPPRESSION_RULE = N_(
    "Figures about 1 to {small} children or respondents are shown as '< {threshold}'. The total "
    "of all schools is hidden as well when the hidden schools together concern fewer than "
    "{threshold}, so that no hidden figure can be worked out from the total. Zero is shown."
)
QUESTIONNAIRE_RULE = N_(
    "Questionnaire figures about fewer than {threshold} respondents are never shown, on any "
    "view: answers may be anonymous."
)

RESPONDENTS: Mapping[str, str] = {
    "student": N_("Students"),
    "parent": N_("Parents"),
    "teacher": N_("Teachers"),
}

#: The figures drawn as charts (the rest are in the tables): the trajectory's own figures
#: and the shares the partnership sets targets for.
CHARTED: tuple[Indicator, ...] = (
    Indicator.REFERRED,
    Indicator.REFERRED_SHARE,
    Indicator.CLASS_OBSERVATIONS,
    Indicator.ACTIVE_TRAJECTORIES,
    Indicator.LENGTH_MEAN_DAYS,
    Indicator.LENGTH_MEDIAN_DAYS,
    Indicator.TIMEOUTS_ATTENDED,
    Indicator.TIMEOUTS_PER_STUDENT,
    Indicator.OVERDUE,
)

#: Counts are drawn as bars, ratios and means as lines.
_LINE_CHARTS = frozenset(
    {
        Indicator.REFERRED_SHARE,
        Indicator.LENGTH_MEAN_DAYS,
        Indicator.LENGTH_MEDIAN_DAYS,
        Indicator.TIMEOUTS_PER_STUDENT,
    }
)


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its heading and, for numbers, how they are written (``None``: a label)."""

    header: str
    number: NumberKind | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """A month, a school's name, or a figure (``hidden``: shown as "< 5")."""

    value: float | str | Month | None
    hidden: bool = False
    #: How this cell's number is written when it differs from its column's.
    number: NumberKind | None = None
    #: Where the page links the cell to (a school's detail page); exports leave it out.
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """One table (one CSV file, one XLSX sheet); ``key`` names it in addresses."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the page."""

    key: str
    title: str
    svg: Markup


def hidden_label(catalog: Catalog) -> str:
    """How a hidden figure reads ("< 5")."""
    return catalog.render(Text.of(N_("< {threshold}"), threshold=SMALL_GROUP))


def month_label(month: Month, catalog: Catalog, *, short: bool = False) -> str:
    """ "januari 2026" / "jan 2026" in the reader's language."""
    return _month_label(month, str(catalog.locale), short)


@lru_cache(maxsize=2048)
def _month_label(month: Month, locale: str, short: bool) -> str:
    return format_skeleton("yMMM" if short else "yMMMM", month.first_day, locale=locale)


class CellText:
    """How a page writes its cells in one reader's language, made once per request: the
    number formats of each kind (`web.charts.number_formatter`), the hidden figure's label
    and the month names are looked up once, not per cell."""

    def __init__(self, catalog: Catalog) -> None:
        locale = str(catalog.locale)
        self.hidden = hidden_label(catalog)
        self._numbers = {kind: number_formatter(kind, locale) for kind in NumberKind}
        self._catalog = catalog
        self._months: dict[Month, str] = {}

    def __call__(self, cell: Cell, column: Column) -> str:
        """The text of ``cell`` in ``column``."""
        if cell.hidden:
            return self.hidden
        value = cell.value
        if isinstance(value, Month):
            label = self._months.get(value)
            if label is None:
                label = self._months[value] = month_label(value, self._catalog)
            return label
        if value is None:
            return "–"
        if isinstance(value, str):
            return value
        return self._numbers[cell.number or column.number or NumberKind.DECIMAL](value)


def display(cell: Cell, column: Column, catalog: Catalog) -> str:
    """The text of one cell on the page (a page writes many with one `CellText`)."""
    return CellText(catalog)(cell, column)


def _cell(figure: Figure) -> Cell:
    return Cell(figure.value, figure.hidden)


def _question_header(kind: str, code: str, catalog: Catalog) -> str:
    label = next((q.label for q in QUESTIONS.get(kind, ()) if q.code == code), code)
    return catalog.render(
        Text.of(
            N_("{respondents}: {question} ({code})"),
            respondents=Text.of(RESPONDENTS.get(kind, kind)),
            question=Text.of(label),
            code=Text.raw(code),
        )
    )


def _rate_header(kind: str, catalog: Catalog) -> str:
    return catalog.render(
        Text.of(N_("Response rate, {respondents} (%)"), respondents=Text.of(RESPONDENTS[kind]))
        if kind in RESPONDENTS
        else Text.of(N_("Response rate, {respondents} (%)"), respondents=Text.raw(kind))
    )


def _questionnaire_cells(
    report: IndicatorReport, month: MonthFigures | YearFigures
) -> tuple[Cell, ...]:
    return (
        *(_cell(month.questions.get(key, Figure(None))) for key in report.question_keys),
        *(_cell(month.response_rates.get(kind, Figure(None))) for kind in report.respondent_types),
    )


def _questionnaire_columns(report: IndicatorReport, catalog: Catalog) -> tuple[Column, ...]:
    return (
        *(
            Column(_question_header(kind, code, catalog), NumberKind.DECIMAL)
            for kind, code in report.question_keys
        ),
        *(
            Column(_rate_header(kind, catalog), NumberKind.PERCENT)
            for kind in report.respondent_types
        ),
    )


def _year_tables(report: IndicatorReport, catalog: Catalog) -> list[Table]:
    """The figures per school year against the partnership's targets, and the questionnaire
    per school year (its small-group rule applied to the year)."""
    if report.total is None:
        sources: list[tuple[str | None, SchoolIndicators]] = [(None, report.schools[0])]
    else:
        sources = [(s.name, s) for s in report.schools]
        sources.append((all_schools_label(catalog), report.total))
    years = [year.school_year for year in sources[0][1].years]
    if not years:
        return []
    school_column = (Column(catalog.gettext(N_("School"))),) if report.total is not None else ()
    year_columns: list[Column] = []
    for school_year in years:
        label = school_year_label(school_year)
        year_columns.append(Column(label, NumberKind.DECIMAL))
        year_columns.append(
            Column(
                catalog.render(Text.of(N_("Target {year} (%)"), year=Text.raw(label))),
                NumberKind.PERCENT,
            )
        )
    rows: list[tuple[Cell, ...]] = []
    for name, school in sources:
        for indicator in Indicator:
            cells: list[Cell] = []
            for figures in school.years:
                figure = figures[indicator]
                cells.append(Cell(figure.value, figure.hidden, KINDS[indicator]))
                target = figures.targets.get(indicator)
                cells.append(Cell(target / 100 if target is not None else None))
            rows.append(
                (
                    *((Cell(name),) if name is not None else ()),
                    Cell(catalog.gettext(LABELS[indicator])),
                    *cells,
                )
            )
    figure_column = Column(catalog.gettext(N_("Figure")))
    tables = [
        Table(
            key="school_year",
            title=catalog.gettext(N_("Per school year, against the targets")),
            columns=(*school_column, figure_column, *year_columns),
            rows=tuple(rows),
        )
    ]
    if report.question_keys or report.respondent_types:
        tables.append(
            Table(
                key="questionnaire_year",
                title=catalog.gettext(N_("Exit questionnaire per school year")),
                columns=(
                    Column(catalog.gettext(N_("School year"))),
                    *school_column,
                    *_questionnaire_columns(report, catalog),
                ),
                rows=tuple(
                    (
                        Cell(school_year_label(year.school_year)),
                        *((Cell(name),) if name is not None else ()),
                        *_questionnaire_cells(report, year),
                    )
                    for index in range(len(years))
                    for name, school in sources
                    for year in (school.years[index],)
                ),
            )
        )
    return tables


def all_schools_label(catalog: Catalog) -> str:
    """The heading of the pooled column."""
    return catalog.gettext(N_("All schools"))


def build_tables(report: IndicatorReport, catalog: Catalog) -> tuple[Table, ...]:
    """The report's tables in the reader's language (see the module doc for their shape)."""
    month_column = Column(catalog.gettext(N_("Month")))
    tables: list[Table] = []
    if report.total is None:
        school = report.schools[0]
        tables.append(
            Table(
                key="indicators",
                title=catalog.gettext(N_("Indicators per month")),
                columns=(
                    month_column,
                    *(Column(catalog.gettext(LABELS[i]), KINDS[i]) for i in Indicator),
                ),
                rows=tuple(
                    (Cell(month.month), *(_cell(month[i]) for i in Indicator))
                    for month in school.months
                ),
            )
        )
        if report.question_keys or report.respondent_types:
            tables.append(
                Table(
                    key="questionnaire",
                    title=catalog.gettext(N_("Exit questionnaire")),
                    columns=(month_column, *_questionnaire_columns(report, catalog)),
                    rows=tuple(
                        (Cell(month.month), *_questionnaire_cells(report, month))
                        for month in school.months
                    ),
                )
            )
        tables.extend(_year_tables(report, catalog))
        return tuple(tables)

    columns: list[SchoolIndicators] = [*report.schools, report.total]
    names = [*(s.name for s in report.schools), all_schools_label(catalog)]
    tables.extend(
        Table(
            key=indicator.value,
            title=catalog.gettext(LABELS[indicator]),
            columns=(month_column, *(Column(name, KINDS[indicator]) for name in names)),
            rows=tuple(
                (
                    Cell(month),
                    *(_cell(school.months[index][indicator]) for school in columns),
                )
                for index, month in enumerate(report.months)
            ),
        )
        for indicator in Indicator
    )
    if report.question_keys or report.respondent_types:
        tables.append(
            Table(
                key="questionnaire",
                title=catalog.gettext(N_("Exit questionnaire")),
                columns=(
                    month_column,
                    Column(catalog.gettext(N_("School"))),
                    *_questionnaire_columns(report, catalog),
                ),
                rows=tuple(
                    (
                        Cell(month),
                        Cell(name),
                        *_questionnaire_cells(report, school.months[index]),
                    )
                    for index, month in enumerate(report.months)
                    for school, name in zip(columns, names, strict=True)
                ),
            )
        )
    tables.extend(_year_tables(report, catalog))
    return tuple(tables)


#: The figures of the partnership summary's row per school (the rest: the school's page).
SUMMARY: tuple[Indicator, ...] = (
    Indicator.ENROLLED,
    Indicator.REFERRED,
    Indicator.REFERRED_SHARE,
    Indicator.CLASS_OBSERVATIONS,
    Indicator.ACTIVE_TRAJECTORIES,
    Indicator.LENGTH_MEDIAN_DAYS,
    Indicator.TIMEOUTS_ATTENDED,
    Indicator.OVERDUE,
)


def build_summary(
    report: IndicatorReport, catalog: Catalog, school_link: Callable[[int], str]
) -> tuple[Table, ...]:
    """The partnership's summary (a report with its total): a row per school with the
    `SUMMARY` figures over the whole period, its name linking to ``school_link(school_id)``,
    and all schools together; then all schools together per month (every figure), their
    questionnaire per month, and per school year (figures and questionnaire)."""
    total = report.total
    if total is None:
        raise ValueError("the summary is the partnership's: a report with its total")
    label = all_schools_label(catalog)
    month_column = Column(catalog.gettext(N_("Month")))
    tables = [
        Table(
            key="schools",
            title=catalog.gettext(N_("Per school, over the whole period")),
            columns=(
                Column(catalog.gettext(N_("School"))),
                *(Column(catalog.gettext(LABELS[i]), KINDS[i]) for i in SUMMARY),
            ),
            rows=(
                *(
                    (
                        Cell(school.name, link=school_link(school.school_id)),
                        *(_cell(school.period[i]) for i in SUMMARY),
                    )
                    for school in report.schools
                ),
                (Cell(label), *(_cell(total.period[i]) for i in SUMMARY)),
            ),
        ),
        Table(
            key="total",
            title=catalog.gettext(N_("All schools, per month")),
            columns=(
                month_column,
                *(Column(catalog.gettext(LABELS[i]), KINDS[i]) for i in Indicator),
            ),
            rows=tuple(
                (Cell(month.month), *(_cell(month[i]) for i in Indicator)) for month in total.months
            ),
        ),
    ]
    if report.question_keys or report.respondent_types:
        tables.append(
            Table(
                key="total_questionnaire",
                title=catalog.gettext(N_("All schools, exit questionnaire")),
                columns=(month_column, *_questionnaire_columns(report, catalog)),
                rows=tuple(
                    (Cell(month.month), *_questionnaire_cells(report, month))
                    for month in total.months
                ),
            )
        )
    if total.years:
        tables.append(
            Table(
                key="total_school_year",
                title=catalog.gettext(N_("All schools, per school year")),
                columns=(
                    Column(catalog.gettext(N_("Figure"))),
                    *(
                        Column(school_year_label(year.school_year), NumberKind.DECIMAL)
                        for year in total.years
                    ),
                ),
                rows=tuple(
                    (
                        Cell(catalog.gettext(LABELS[i])),
                        *(Cell(year[i].value, year[i].hidden, KINDS[i]) for year in total.years),
                    )
                    for i in Indicator
                ),
            )
        )
        if report.question_keys or report.respondent_types:
            tables.append(
                Table(
                    key="total_questionnaire_year",
                    title=catalog.gettext(N_("All schools, exit questionnaire per school year")),
                    columns=(
                        Column(catalog.gettext(N_("School year"))),
                        *_questionnaire_columns(report, catalog),
                    ),
                    rows=tuple(
                        (
                            Cell(school_year_label(year.school_year)),
                            *_questionnaire_cells(report, year),
                        )
                        for year in total.years
                    ),
                )
            )
    return tuple(tables)


def export_titles(report: IndicatorReport, catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """(key, title) of every table `build_tables` makes of ``report``, in its order, without
    building their rows: the page's download links (each a CSV of that table)."""
    survey = bool(report.question_keys or report.respondent_types)
    questionnaire = ("questionnaire", catalog.gettext(N_("Exit questionnaire")))
    if report.total is None:
        titles = [("indicators", catalog.gettext(N_("Indicators per month")))]
    else:
        titles = [(i.value, catalog.gettext(LABELS[i])) for i in Indicator]
    if survey:
        titles.append(questionnaire)
    if report.schools and report.schools[0].years:
        titles.append(("school_year", catalog.gettext(N_("Per school year, against the targets"))))
        if survey:
            titles.append(
                ("questionnaire_year", catalog.gettext(N_("Exit questionnaire per school year")))
            )
    return tuple(titles)


def definitions(report: IndicatorReport, catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """(heading, meaning) of every figure, and the small-group rule that applies."""
    rows = [(catalog.gettext(LABELS[i]), catalog.gettext(DEFINITIONS[i])) for i in Indicator]
    rows.append(
        (catalog.gettext(N_("Exit questionnaire")), catalog.gettext(QUESTIONNAIRE_DEFINITION))
    )
    rows.append((catalog.gettext(N_("School year")), catalog.gettext(SCHOOL_YEAR_DEFINITION)))
    rule = (
        Text.of(SUPPRESSION_RULE, small=SMALL_GROUP - 1, threshold=SMALL_GROUP)
        if report.suppressed
        else Text.of(QUESTIONNAIRE_RULE, threshold=SMALL_GROUP)
    )
    rows.append((catalog.gettext(N_("Small groups")), catalog.render(rule)))
    return tuple(rows)


def definitions_table(report: IndicatorReport, catalog: Catalog) -> Table:
    """The definitions as a table (the export's last sheet)."""
    return Table(
        key="definitions",
        title=catalog.gettext(N_("Definitions")),
        columns=(Column(catalog.gettext(N_("Figure"))), Column(catalog.gettext(N_("Meaning")))),
        rows=tuple((Cell(name), Cell(meaning)) for name, meaning in definitions(report, catalog)),
    )


def _chart_text(
    title: str,
    series: Sequence[Series],
    categories: Sequence[str],
    kind: NumberKind,
    catalog: Catalog,
) -> ChartText:
    hidden = hidden_label(catalog)
    parts = []
    for item in series:
        values = tuple(
            Text.raw(
                f"{category} "
                + (
                    hidden
                    if point.hidden
                    else "–"
                    if point.value is None
                    else number_formatter(kind, str(catalog.locale))(point.value)
                )
            )
            for category, point in zip(categories, item.points, strict=True)
        )
        parts.append(
            catalog.render(
                Text.of(
                    N_("{series}, per month: {values}."), series=Text.raw(item.name), values=values
                )
            )
        )
    return ChartText(title=title, description=" ".join(parts), hidden_label=hidden, empty_label="–")


def build_charts(
    report: IndicatorReport, catalog: Catalog, *, total_only: bool = False
) -> tuple[Chart, ...]:
    """A chart per charted indicator, one series per school (``total_only``: one series, all
    schools together); and the response rates per respondent type (of the school, or of all
    schools together)."""
    categories = [month_label(month, catalog, short=True) for month in report.months]
    charts: list[Chart] = []
    sources = (
        [(all_schools_label(catalog), report.total)]
        if total_only and report.total is not None
        else [(school.name, school) for school in report.schools]
    )
    for indicator in CHARTED:
        kind = KINDS[indicator]
        series = [
            Series(
                name,
                tuple(Point(m[indicator].value, m[indicator].hidden) for m in school.months),
            )
            for name, school in sources
        ]
        title = catalog.gettext(LABELS[indicator])
        draw = line_chart if indicator in _LINE_CHARTS else bar_chart
        charts.append(
            Chart(
                key=indicator.value,
                title=title,
                svg=draw(
                    chart_id=f"chart-{indicator.value}",
                    categories=categories,
                    series=series,
                    kind=kind,
                    locale=catalog.locale,
                    text=_chart_text(title, series, categories, kind, catalog),
                ),
            )
        )
    source = report.total or report.schools[0]
    if report.respondent_types:
        series = [
            Series(
                catalog.gettext(RESPONDENTS.get(kind, kind)),
                tuple(
                    Point(
                        m.response_rates.get(kind, Figure(None)).value,
                        m.response_rates.get(kind, Figure(None)).hidden,
                    )
                    for m in source.months
                ),
            )
            for kind in report.respondent_types
        ]
        title = catalog.gettext(N_("Exit questionnaire: response rate"))
        charts.append(
            Chart(
                key="response_rate",
                title=title,
                svg=line_chart(
                    chart_id="chart-response-rate",
                    categories=categories,
                    series=series,
                    kind=NumberKind.PERCENT,
                    locale=catalog.locale,
                    text=_chart_text(title, series, categories, NumberKind.PERCENT, catalog),
                ),
            )
        )
    return tuple(charts)
