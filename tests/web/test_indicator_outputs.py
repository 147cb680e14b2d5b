"""Indicator tables, SVG charts, CSV and XLSX from a report built by hand (no database).

The report below is what `services.indicators.views` returns; its figures are arbitrary but fixed,
so every expected text can be read off it.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from types import MappingProxyType

import pytest
from babel import Locale
from openpyxl import load_workbook

from dialogs.i18n import Catalogs
from services.indicators.periods import Month
from services.indicators.report import (
    Figure,
    Indicator,
    IndicatorReport,
    MonthFigures,
    SchoolIndicators,
    YearFigures,
)
from web.charts import ChartText, NumberKind, Point, Series, bar_chart, format_number, line_chart
from web.exports import to_csv, to_xlsx
from web.indicator_tables import (
    CHARTED,
    SUMMARY,
    Cell,
    CellText,
    Column,
    build_charts,
    build_summary,
    build_tables,
    definitions_table,
    display,
    export_titles,
)

CATALOGS = Catalogs()
NL, EN = CATALOGS.get("nl"), CATALOGS.get("en")
JAN, FEB = Month(2026, 1), Month(2026, 2)
SVG = "{http://www.w3.org/2000/svg}"
HIDDEN = Figure(None, hidden=True)
EVIL = '=HYPERLINK("http://x.invalid")<b>'
HIDDEN_CELL = Cell(None, hidden=True)
PLAIN = Column("")


def _month(month: Month, **values: Figure) -> MonthFigures:
    figures = dict.fromkeys(Indicator, Figure(0))
    figures.update({Indicator(key): value for key, value in values.items()})
    return MonthFigures(
        month=month,
        figures=MappingProxyType(figures),
        questions=MappingProxyType({("teacher", "T1"): Figure(4.2), ("teacher", "T2"): HIDDEN}),
        response_rates=MappingProxyType({"teacher": Figure(0.5)}),
    )


def _school(school_id: int, name: str, jan: MonthFigures, feb: MonthFigures) -> SchoolIndicators:
    return SchoolIndicators(school_id=school_id, name=name, months=(jan, feb))


SCHOOL = IndicatorReport(
    first=JAN,
    last=FEB,
    schools=(
        _school(
            1,
            "Noord College",
            _month(
                JAN,
                enrolled=Figure(10),
                referred=Figure(2),
                referred_share=Figure(0.2),
                length_mean_days=Figure(None),
            ),
            _month(FEB, enrolled=Figure(10), length_mean_days=Figure(26.75), overdue=Figure(3)),
        ),
    ),
    total=None,
    suppressed=False,
    question_keys=(("teacher", "T1"), ("teacher", "T2")),
    respondent_types=("teacher",),
)

PARTNERSHIP = IndicatorReport(
    first=JAN,
    last=FEB,
    schools=(
        _school(1, "Noord College", _month(JAN, referred=HIDDEN), _month(FEB, referred=Figure(7))),
        _school(2, EVIL, _month(JAN, referred=Figure(6)), _month(FEB, referred=HIDDEN)),
    ),
    total=_school(0, "", _month(JAN, referred=HIDDEN), _month(FEB, referred=HIDDEN)),
    suppressed=True,
    question_keys=(("teacher", "T1"), ("teacher", "T2")),
    respondent_types=("teacher",),
)


def _parse(svg: object) -> ET.Element:
    """Our own markup, parsed to prove it is well-formed XML with nothing unescaped."""
    return ET.fromstring(str(svg))  # noqa: S314 - the product's output, not outside data


def test_numbers_are_written_the_readers_way() -> None:
    nl, en = Locale.parse("nl"), Locale.parse("en")
    assert format_number(26.75, NumberKind.DECIMAL, nl) == "26,8"
    assert format_number(26.75, NumberKind.DECIMAL, en) == "26.8"
    assert format_number(1234, NumberKind.COUNT, nl) == "1.234"
    assert format_number(0.2, NumberKind.PERCENT, en) == "20%"
    assert format_number(0.125, NumberKind.PERCENT, nl) == "12,5%"


def _text(title: str = "Referred") -> ChartText:
    return ChartText(title=title, description="Two months.", hidden_label="< 5", empty_label="–")


def test_a_bar_chart_is_accessible_svg_with_every_value_written() -> None:
    svg = bar_chart(
        chart_id="c1",
        categories=["jan 2026", "feb 2026"],
        series=[
            Series("Noord", (Point(2), Point(None, hidden=True))),
            Series(EVIL, (Point(1234), Point(None))),
        ],
        kind=NumberKind.COUNT,
        locale=Locale.parse("nl"),
        text=_text("<Referred>"),
    )
    root = _parse(svg)  # well-formed XML: nothing unescaped got in
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title"
    assert root.get("aria-describedby") == "c1-desc"
    assert root.find(f"{SVG}title").text == "<Referred>"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Two months."  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    # Values as text, in Dutch number format; the hidden one says "< 5", the empty one "–".
    assert {"2", "1.234", "< 5", "–", "jan 2026", "feb 2026", "Noord", EVIL} <= set(texts)
    # Bars only for shown values: 2 and 1234.
    assert len(list(root.iter(f"{SVG}rect"))) == 2 + 2  # two bars + two legend keys
    assert "<b>" not in str(svg)


def test_a_line_breaks_where_a_value_is_hidden() -> None:
    svg = line_chart(
        chart_id="c2",
        categories=["a", "b", "c", "d", "e"],
        series=[
            Series(
                "Noord",
                (Point(1.5), Point(2.5), Point(None, hidden=True), Point(3.0), Point(3.5)),
            )
        ],
        kind=NumberKind.DECIMAL,
        locale=Locale.parse("en"),
        text=_text(),
    )
    root = _parse(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2  # a-b and d-e, nothing across c
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    assert {"1.5", "2.5", "< 5", "3", "3.5"} <= {t.text for t in root.iter(f"{SVG}text")}


def test_a_series_must_fit_the_categories() -> None:
    with pytest.raises(ValueError, match="one point per category"):
        bar_chart(
            chart_id="c3",
            categories=["a", "b"],
            series=[Series("x", (Point(1),))],
            kind=NumberKind.COUNT,
            locale=Locale.parse("en"),
            text=_text(),
        )


def test_the_school_view_is_one_table_per_month_plus_the_questionnaire() -> None:
    main, questionnaire = build_tables(SCHOOL, EN)
    assert main.key == "indicators"
    assert main.columns[0].header == "Month"
    assert [c.header for c in main.columns[1:4]] == [
        "Students enrolled",
        "Students referred",
        "Share of enrolled students referred (%)",
    ]
    assert len(main.columns) == 1 + len(Indicator)
    assert [row[0].value for row in main.rows] == [JAN, FEB]
    assert main.rows[0][2].value == 2
    assert questionnaire.columns[1].header == "Teachers: Student takes part better (T1)"
    assert questionnaire.columns[3].header == "Response rate, Teachers (%)"
    assert questionnaire.rows[0][2].hidden


def test_the_partnership_view_has_a_table_per_indicator_with_all_schools() -> None:
    tables = build_tables(PARTNERSHIP, EN)
    assert [t.key for t in tables] == [*(i.value for i in Indicator), "questionnaire"]
    referred = tables[1]
    assert [c.header for c in referred.columns] == ["Month", "Noord College", EVIL, "All schools"]
    assert [[c.hidden for c in row[1:]] for row in referred.rows] == [
        [True, False, True],
        [False, True, True],
    ]
    questionnaire = tables[-1]
    # A row per month and school, the pooled one included.
    assert [(r[0].value, r[1].value) for r in questionnaire.rows] == [
        (JAN, "Noord College"),
        (JAN, EVIL),
        (JAN, "All schools"),
        (FEB, "Noord College"),
        (FEB, EVIL),
        (FEB, "All schools"),
    ]


def test_charts_cover_the_charted_indicators_and_the_response_rate() -> None:
    charts = build_charts(PARTNERSHIP, NL)
    assert [c.key for c in charts] == [
        *(i.value for i in CHARTED),
        "response_rate",
    ]
    for chart in charts:
        _parse(chart.svg)
    referred = _parse(charts[0].svg)
    assert {"jan 2026", "feb 2026", "7", "6", "< 5"} <= {
        t.text for t in referred.iter(f"{SVG}text")
    }


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_follows_the_readers_spreadsheet_conventions() -> None:
    nl = _rows(to_csv(build_tables(SCHOOL, NL)[0], NL), ";")
    en = _rows(to_csv(build_tables(SCHOOL, EN)[0], EN), ",")
    assert en[0][:3] == ["Month", "Students enrolled", "Students referred"]
    share = 1 + list(Indicator).index(Indicator.REFERRED_SHARE)
    mean = 1 + list(Indicator).index(Indicator.LENGTH_MEAN_DAYS)
    assert (en[1][0], en[1][share], en[2][mean]) == ("2026-01", "20", "26.75")
    assert (nl[1][0], nl[1][share], nl[2][mean]) == ("2026-01", "20", "26,75")
    # No data in January for the mean: an empty field.
    assert en[1][mean] == ""


def test_csv_writes_hidden_figures_as_text_and_defuses_formulas() -> None:
    rows = _rows(to_csv(build_tables(PARTNERSHIP, EN)[1], EN), ",")
    assert rows[0] == ["Month", "Noord College", "'" + EVIL, "All schools"]
    assert rows[1] == ["2026-01", "< 5", "6", "< 5"]
    assert rows[2] == ["2026-02", "7", "< 5", "< 5"]


def test_xlsx_has_a_sheet_per_table_with_numbers_as_numbers() -> None:
    tables = (*build_tables(PARTNERSHIP, EN), definitions_table(PARTNERSHIP, EN))
    data = to_xlsx(tables, EN, title="Indicators")
    workbook = load_workbook(io.BytesIO(data))
    assert len(workbook.sheetnames) == len(tables)
    assert workbook.sheetnames[1] == "Students referred"
    assert workbook.sheetnames[2] == "Share of enrolled students refe"  # 31 characters
    assert workbook.sheetnames[-1] == "Definitions"
    sheet = workbook["Students referred"]
    assert [c.value for c in sheet[1]] == ["Month", "Noord College", EVIL, "All schools"]
    assert sheet["C1"].data_type == "s"  # the formula-like school name stays text
    assert [c.value for c in sheet[2]] == ["2026-01", "< 5", 6, "< 5"]
    assert [c.value for c in sheet[3]] == ["2026-02", 7, "< 5", "< 5"]
    questionnaire = workbook["Exit questionnaire"]
    assert questionnaire["C2"].value == pytest.approx(4.2)
    assert questionnaire["E2"].value == 0.5
    assert questionnaire["E2"].number_format == "0.0%"
    rule = workbook["Definitions"]["B" + str(workbook["Definitions"].max_row)].value
    assert "< 5" in rule


def test_the_tables_write_numbers_as_the_charts_do_with_formatters_built_once() -> None:
    from babel import Locale

    from web.charts import NumberKind, format_number
    from web.indicator_tables import number_formatter

    for language in ("nl", "en", "ar", "tr", "pl", "uk"):
        for kind in NumberKind:
            for value in (0, 0.5, 2 / 11, 1234.56, 0.1):
                assert number_formatter(kind, language)(value) == format_number(
                    value, kind, Locale.parse(language)
                ), (language, kind, value)
        assert number_formatter(NumberKind.PERCENT, language) is number_formatter(
            NumberKind.PERCENT, language
        )


def _with_years_and_period(report: IndicatorReport, *, survey: bool = True) -> IndicatorReport:
    """``report`` with a school year (2025) and figures over the period for every school."""
    year = YearFigures(
        school_year=2025, figures=MappingProxyType(dict.fromkeys(Indicator, Figure(3)))
    )

    def extended(school: SchoolIndicators, referred: Figure) -> SchoolIndicators:
        period = dict.fromkeys(Indicator, Figure(12))
        period[Indicator.REFERRED] = referred
        return replace(school, years=(year,), period=MappingProxyType(period))

    referred = iter([Figure(9), HIDDEN, HIDDEN])
    return replace(
        report,
        schools=tuple(extended(school, next(referred)) for school in report.schools),
        total=extended(report.total, HIDDEN) if report.total is not None else None,
        question_keys=report.question_keys if survey else (),
        respondent_types=report.respondent_types if survey else (),
    )


@pytest.mark.parametrize("survey", [True, False])
@pytest.mark.parametrize("years", [True, False])
@pytest.mark.parametrize("base", [SCHOOL, PARTNERSHIP], ids=["school", "partnership"])
def test_the_download_links_name_every_table_of_the_exports(
    base: IndicatorReport, years: bool, survey: bool
) -> None:
    report = _with_years_and_period(base, survey=survey) if years else base
    if not survey and not years:
        report = replace(base, question_keys=(), respondent_types=())
    assert export_titles(report, EN) == tuple(
        (table.key, table.title) for table in build_tables(report, EN)
    )


def test_the_summary_is_a_row_per_school_linking_its_page_and_all_schools_together() -> None:
    report = _with_years_and_period(PARTNERSHIP)
    schools, total, questionnaire, year, questionnaire_year = build_summary(
        report, EN, lambda school_id: f"/school/{school_id}"
    )
    assert schools.key == "schools"
    assert [c.header for c in schools.columns[:3]] == [
        "School",
        "Students enrolled",
        "Students referred",
    ]
    assert len(schools.columns) == 1 + len(SUMMARY)
    assert [(row[0].value, row[0].link) for row in schools.rows] == [
        ("Noord College", "/school/1"),
        (EVIL, "/school/2"),
        ("All schools", None),
    ]
    # The period's figures, hidden ones hidden (the total's too).
    assert [(row[2].value, row[2].hidden) for row in schools.rows] == [
        (9, False),
        (None, True),
        (None, True),
    ]
    # All schools together: a row per month with every figure, nothing per school.
    assert total.key == "total"
    assert [row[0].value for row in total.rows] == [JAN, FEB]
    assert len(total.columns) == 1 + len(Indicator)
    assert [row[2].hidden for row in total.rows] == [True, True]
    assert [row[0].value for row in questionnaire.rows] == [JAN, FEB]
    assert [row[0].value for row in year.rows][:2] == ["Students enrolled", "Students referred"]
    assert [c.header for c in year.columns] == ["Figure", "2025-2026"]
    assert [row[0].value for row in questionnaire_year.rows] == ["2025-2026"]
    with pytest.raises(ValueError, match="total"):
        build_summary(SCHOOL, EN, str)


def test_the_summary_charts_draw_all_schools_together() -> None:
    charts = build_charts(PARTNERSHIP, EN, total_only=True)
    assert [c.key for c in charts] == [*(i.value for i in CHARTED), "response_rate"]
    desc = _parse(charts[0].svg).find(f"{SVG}desc")
    assert desc is not None
    # One series, all schools together (both months hidden); no school's own.
    assert desc.text == "All schools, per month: Jan 2026 < 5 and Feb 2026 < 5."


@pytest.mark.parametrize("language", ["nl", "en", "ar", "tr", "pl", "uk"])
def test_a_pages_cell_text_writes_each_cell_as_display_does(language: str) -> None:
    catalog = CATALOGS.get(language)
    text = CellText(catalog)
    for table in build_tables(_with_years_and_period(PARTNERSHIP), catalog):
        for row in table.rows:
            for cell, column in zip(row, table.columns, strict=True):
                assert text(cell, column) == display(cell, column, catalog)
    assert text.hidden == display(HIDDEN_CELL, PLAIN, catalog)
