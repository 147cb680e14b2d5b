"""Month labels of the indicator charts never overlap (issue 14): 6, 12 and 24 months, in every
language, bar and line charts; Arabic runs right to left.

Each label's box is computed from the SVG as a browser would place it: its width estimated per
character (0.6 em, spaces and dots 0.3 em: an estimate independent of the one in
`web.charts`), its anchor read with the chart's ``direction``, its ``rotate()`` applied; two
boxes overlap unless an axis separates them (separating axis test on the rotated rectangles).
`tests/web/test_indicators_browser.py` measures the labels Chromium actually draws.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from babel import Locale

from dialogs.i18n import Catalogs
from services.indicators.periods import Month
from web.charts import ChartText, NumberKind, Point, Series, bar_chart, line_chart
from web.indicator_tables import month_label

SVG = "{http://www.w3.org/2000/svg}"
CATALOGS = Catalogs()
SIZE = 14.0
Corner = tuple[float, float]


def _months(count: int) -> list[Month]:
    """``count`` months from September 2025 (a school year and on)."""
    return [Month(2025 + (8 + i) // 12, (8 + i) % 12 + 1) for i in range(count)]


def _width(text: str) -> float:
    return SIZE * sum(0.3 if char in " .’\u202f\u00a0" else 0.6 for char in text)


def _chart(language: str, count: int, *, bars: bool) -> ET.Element:
    catalog = CATALOGS.get(language)
    categories = [month_label(month, catalog, short=True) for month in _months(count)]
    points = tuple(Point(float(i % 7)) for i in range(count))
    draw = bar_chart if bars else line_chart
    svg = draw(
        chart_id="c",
        categories=categories,
        series=[Series("a", points), Series("b", points)],
        kind=NumberKind.COUNT,
        locale=Locale.parse(language),
        text=ChartText("t", "d", "< 5", "-"),
    )
    return ET.fromstring(str(svg))  # noqa: S314 - the product's output, not outside data


def _box(text: ET.Element, rtl: bool) -> list[Corner]:
    """The four corners of the label as drawn (anchor, direction and rotation applied)."""
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    width = _width(text.text or "")
    anchor = text.get("text-anchor") or "start"
    if anchor == "middle":
        left = x - width / 2
    elif (anchor == "end") != rtl:  # the end of left-to-right text is its right side
        left = x - width
    else:
        left = x
    top, bottom = y - 0.8 * SIZE, y + 0.25 * SIZE
    corners = [(left, top), (left + width, top), (left + width, bottom), (left, bottom)]
    turn = re.fullmatch(r"rotate\(([-\d.]+) ([-\d.]+) ([-\d.]+)\)", text.get("transform", ""))
    if turn is None:
        assert "transform" not in text.attrib
        return corners
    angle, cx, cy = (float(v) for v in turn.groups())
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [
        (cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos)
        for px, py in corners
    ]


def _overlap(a: list[Corner], b: list[Corner]) -> bool:
    """Whether two convex quadrilaterals overlap (no edge normal separates them)."""
    for shape in (a, b):
        for i in range(4):
            (x1, y1), (x2, y2) = shape[i], shape[(i + 1) % 4]
            nx, ny = y2 - y1, x1 - x2
            pa = [nx * px + ny * py for px, py in a]
            pb = [nx * px + ny * py for px, py in b]
            if max(pa) <= min(pb) or max(pb) <= min(pa):
                return False
    return True


@pytest.mark.parametrize("bars", [True, False], ids=["bars", "lines"])
@pytest.mark.parametrize("count", [6, 12, 24])
@pytest.mark.parametrize("language", ["nl", "ar", "en", "tr", "pl", "uk"])
def test_month_labels_never_overlap_and_stay_in_the_picture(
    language: str, count: int, bars: bool
) -> None:
    svg = _chart(language, count, bars=bars)
    rtl = language == "ar"
    assert svg.get("direction") == ("rtl" if rtl else "ltr")
    left, _y, width, height = (float(v) for v in (svg.get("viewBox") or "").split())
    labels = list(svg.iter(f"{SVG}text"))
    months = _category_texts(svg)
    boxes = [_box(text, rtl) for text in months]
    assert len(boxes) >= min(count, 6), "too few months are named"
    for i, a in enumerate(boxes):
        for px, py in a:
            assert left <= px <= left + width, f"label {i} leaves the picture"
            assert 0 <= py <= height, f"label {i} leaves the picture"
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), f"labels overlap: {a} {b}"
    # Nothing else is written over a month label either (values, legend, value axis).
    others = [_box(t, rtl) for t in labels if t not in months]
    for a in boxes:
        for b in others:
            assert not _overlap(a, b), f"a month label overlaps other text: {a} {b}"


def _category_texts(svg: ET.Element) -> list[ET.Element]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "categories")
    return list(group.iter(f"{SVG}text"))


@pytest.mark.parametrize("count", [6, 12, 24])
def test_time_runs_right_to_left_in_arabic_and_left_to_right_in_dutch(count: int) -> None:
    for language, rtl in (("nl", False), ("ar", True)):
        catalog = CATALOGS.get(language)
        first = month_label(_months(count)[0], catalog, short=True)
        texts = _category_texts(_chart(language, count, bars=False))
        assert texts[0].text == first, "the first month is always named"
        xs = [float(t.get("x", "0")) for t in texts]
        assert xs == sorted(xs, reverse=rtl), f"{language}: months out of order along the axis"
        axis = next(g for g in _chart(language, count, bars=True).iter(f"{SVG}g"))
        tick_x = float(next(axis.iter(f"{SVG}text")).get("x", "0"))
        assert (tick_x > 260) is rtl, "the value axis stands where the time axis starts"
