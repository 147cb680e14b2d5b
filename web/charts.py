"""Server-rendered SVG charts: bars and lines, no JavaScript, readable without the picture.

Pure functions from numbers to markup. Every chart carries a ``<title>`` (its accessible
name, ``aria-labelledby``) and a ``<desc>`` listing every value (``aria-describedby``), and
writes each value as text next to its bar or point, so a screen reader, a printout and a
colour-blind reader get the same figures. Numbers are formatted by Babel in the reader's
locale; a value hidden by the small-group rule is written as the caller's ``hidden_label``
("< 5") and gets no bar. Text is escaped; no value of the caller ends up in markup unescaped.

Category labels (months) never overlap: their width is estimated per character
(`text_width`); when they do not fit side by side they are turned 45° and, when even turned
labels would touch, only every n-th is written (the first always; the ``<desc>`` and the
tooltips still name every category). Right-to-left locales (Arabic) get a mirrored chart:
time runs from right to left, the value axis stands on the right, and the SVG's
``direction`` is set, so text anchors mean the same whatever page the chart is on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from babel import Locale
from babel.numbers import format_decimal, format_percent, parse_pattern
from markupsafe import Markup, escape

#: Colours with a contrast of at least 3:1 against white, told apart by the legend's order
#: and by the value labels as well (never by colour alone).
PALETTE = ("#1f5f8b", "#b3541e", "#2e7d32", "#6a3d9a", "#8c6d1f", "#c2185b", "#00695c")


class NumberKind(StrEnum):
    """How a number is written."""

    COUNT = "count"  # 12
    DECIMAL = "decimal"  # 26,8
    PERCENT = "percent"  # 20 %


def format_number(value: float, kind: NumberKind, locale: Locale) -> str:
    """``value`` as the reader's locale writes it (one decimal at most; percent from 0-1).

    Babel's own functions, pattern parsed on each call: the reference `number_formatter`
    (what pages and charts use) is tested against."""
    if kind is NumberKind.PERCENT:
        return format_percent(value, format="#,##0.#%", locale=locale)
    if kind is NumberKind.COUNT:
        return format_decimal(round(value), format="#,##0", locale=locale)
    return format_decimal(value, format="#,##0.#", locale=locale)


#: The patterns of `format_number`, parsed once per kind by `number_formatter`.
_PATTERNS: dict[NumberKind, str] = {
    NumberKind.PERCENT: "#,##0.#%",
    NumberKind.COUNT: "#,##0",
    NumberKind.DECIMAL: "#,##0.#",
}


@cache
def number_formatter(kind: NumberKind, locale: str) -> Callable[[float], str]:
    """How a number of ``kind`` is written in ``locale`` (as `format_number` writes it), built
    once per kind and locale for the whole process: a page of a few hundred cells or chart
    labels parses no pattern and looks up no locale again."""
    pattern = parse_pattern(_PATTERNS[kind])
    babel_locale = Locale.parse(locale)
    if kind is NumberKind.COUNT:
        return lambda value: pattern.apply(round(value), babel_locale)
    return lambda value: pattern.apply(value, babel_locale)


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a series; ``None`` with ``hidden`` for a suppressed figure."""

    value: float | None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Series:
    """A named row of values, one per category."""

    name: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class ChartText:
    """The words a chart needs, already translated by the caller."""

    title: str
    description: str
    hidden_label: str
    empty_label: str


# Geometry of the drawing (the SVG scales to its container through viewBox).
_WIDTH = 520
_HEIGHT = 260
_LEFT = 60
_RIGHT = 16
_TOP = 26
_BOTTOM = 56
_LEGEND_ROW = 20


_TICKS = 4

# Category labels: font size, the gap kept between two labels, the line height of a label.
_LABEL_SIZE = 14
_LABEL_GAP = 6
_LABEL_LINE = 18
_SIN45 = math.sqrt(0.5)
#: Estimated advance of a character, in em: narrow ones (spaces, dots, apostrophes) and others.
_NARROW = frozenset(" .,'’:\u202f\u00a0\u2009-")
_NARROW_EM = 0.32
_WIDE_EM = 0.62


def text_width(text: str, size: float = _LABEL_SIZE) -> float:
    """A generous estimate of the width of ``text`` in a sans-serif font of ``size`` units."""
    return size * sum(_NARROW_EM if char in _NARROW else _WIDE_EM for char in text)


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """How the category labels are written: turned 45° or not, every ``step``-th one."""

    rotated: bool
    step: int
    depth: float  # the height the labels take below the axis
    spill: float = 0.0  # how far the first turned label reaches beyond the drawing's side


def label_layout(categories: Sequence[str]) -> LabelLayout:
    """Side by side when every label fits its band; else turned 45° and thinned out until
    neighbouring turned labels (``_LABEL_LINE`` apart across their direction) cannot touch."""
    band = (_WIDTH - _LEFT - _RIGHT) / max(len(categories), 1)
    widest = max((text_width(c) for c in categories), default=0.0)
    if widest + _LABEL_GAP <= band:
        return LabelLayout(rotated=False, step=1, depth=_LABEL_LINE + 8)
    # Two labels turned 45° and ``step`` bands apart are ``step * band * sin 45°`` apart.
    step = max(1, math.ceil(_LABEL_LINE / (band * _SIN45)))
    reach = (widest + _LABEL_SIZE) * _SIN45 + 14
    spill = max(0.0, reach - (_LEFT + band / 2) + 4)
    return LabelLayout(rotated=True, step=step, depth=reach, spill=math.ceil(spill))


def _nice_step(raw: float, *, whole: bool) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above ``raw``; whole numbers skip 2.5."""
    if raw <= 0:
        return 1.0
    exponent = math.floor(math.log10(raw))
    steps = (1.0, 2.0, 5.0, 10.0) if whole else (1.0, 2.0, 2.5, 5.0, 10.0)
    for step in steps:
        candidate = step * 10.0**exponent
        if candidate >= raw * (1 - 1e-9):
            return max(candidate, 1.0) if whole else candidate
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _scale_max(series: Sequence[Series], kind: NumberKind) -> float:
    """The top of the axis: four equal, round steps above the largest visible value."""
    visible = [p.value for s in series for p in s.points if p.value is not None and not p.hidden]
    top = max(visible, default=0.0)
    step = _nice_step(top / _TICKS, whole=kind is NumberKind.COUNT)
    if kind is NumberKind.PERCENT:
        step = min(step, 0.25)
    return step * _TICKS


def _point_text(point: Point, kind: NumberKind, locale: Locale, text: ChartText) -> str:
    if point.hidden:
        return text.hidden_label
    if point.value is None:
        return text.empty_label
    return number_formatter(kind, str(locale))(point.value)


@dataclass(frozen=True, slots=True)
class _Frame:
    """The chart's orientation: right to left mirrors every x coordinate."""

    rtl: bool
    labels: LabelLayout

    def x(self, x: float) -> float:
        return _WIDTH - x if self.rtl else x

    def left(self, x: float, width: float) -> float:
        """The left edge of a box drawn from ``x`` to ``x + width`` before mirroring."""
        return _WIDTH - x - width if self.rtl else x


def _frame(categories: Sequence[str], locale: Locale) -> _Frame:
    return _Frame(rtl=locale.text_direction == "rtl", labels=label_layout(categories))


def _plot_bottom() -> int:
    return _HEIGHT - _BOTTOM


def _open(chart_id: str, text: ChartText, series: Sequence[Series], frame: _Frame) -> list[str]:
    # A legend (a row per series) only when there is more than one series.
    legend = (len(series) if len(series) > 1 else 0) * _LEGEND_ROW
    height = math.ceil(_plot_bottom() + frame.labels.depth + legend + 8)
    direction = "rtl" if frame.rtl else "ltr"
    # The first month's turned label may reach past the value axis's side: widen that side.
    spill = frame.labels.spill
    left = 0 if frame.rtl else -spill
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}"'
        f' viewBox="{left:g} 0 {_WIDTH + spill:g} {height}" direction="{direction}" role="img"'
        f' aria-labelledby="{escape(chart_id)}-title"'
        f' aria-describedby="{escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(text.title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(text.description)}</desc>',
    ]


def _axes(top_value: float, kind: NumberKind, locale: Locale, frame: _Frame) -> list[str]:
    # "end" is the side of the text towards the plot in either direction (the SVG's own).
    parts = ['<g class="axis" font-size="14" fill="#333">']
    bottom = _plot_bottom()
    for i in range(_TICKS + 1):
        tick = top_value * i / _TICKS
        y = bottom - (bottom - _TOP) * i / _TICKS
        label = number_formatter(kind, str(locale))(tick)
        parts.append(
            f'<line x1="{frame.x(_LEFT):.1f}" y1="{y:.1f}" x2="{frame.x(_WIDTH - _RIGHT):.1f}"'
            f' y2="{y:.1f}" stroke="{"#555" if i == 0 else "#ddd"}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{frame.x(_LEFT - 6):.1f}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    parts.append("</g>")
    return parts


def _band(categories: Sequence[str]) -> float:
    """The width each category gets along the x axis."""
    return (_WIDTH - _LEFT - _RIGHT) / max(len(categories), 1)


def _category_labels(categories: Sequence[str], frame: _Frame) -> list[str]:
    band = _band(categories)
    layout = frame.labels
    parts = [f'<g class="categories" font-size="{_LABEL_SIZE}" fill="#333">']
    for index, category in enumerate(categories):
        if index % layout.step:
            continue  # thinned out: the description and the tooltips still name it
        x = frame.x(_LEFT + band * (index + 0.5))
        if not layout.rotated:
            y = _plot_bottom() + 20
            parts.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(category)}</text>'
            )
            continue
        # The label's end at its tick, turned down and away from the axis: to the lower
        # left in a left-to-right chart, to the lower right in a right-to-left one.
        y = _plot_bottom() + 14
        angle = 45 if frame.rtl else -45
        parts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="end"'
            f' transform="rotate({angle} {x:.1f} {y})">{escape(category)}</text>'
        )
    parts.append("</g>")
    return parts


def _legend(series: Sequence[Series], frame: _Frame) -> list[str]:
    if len(series) < 2:
        return []
    parts = ['<g class="legend" font-size="14" fill="#222">']
    for index, item in enumerate(series):
        y = _plot_bottom() + frame.labels.depth + 14 + index * _LEGEND_ROW
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{frame.left(_LEFT, 13):.1f}" y="{y - 11:.1f}" width="13" height="13"'
            f' fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{frame.x(_LEFT + 18):.1f}" y="{y:.1f}" text-anchor="start">'
            f"{escape(item.name)}</text>"
        )
    parts.append("</g>")
    return parts


def _scale(categories: Sequence[str], series: Sequence[Series], kind: NumberKind) -> float:
    """The top of the scale, once every series is checked to have a point per category."""
    for item in series:
        if len(item.points) != len(categories):
            raise ValueError("every series needs one point per category")
    return _scale_max(series, kind)


def _finish(
    parts: list[str], categories: Sequence[str], series: Sequence[Series], frame: _Frame
) -> Markup:
    """The category labels, the legend and the end of the chart, as one piece of markup."""
    parts += _category_labels(categories, frame)
    parts += _legend(series, frame)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every caller value above went through escape()


def bar_chart(
    *,
    chart_id: str,
    categories: Sequence[str],
    series: Sequence[Series],
    kind: NumberKind,
    locale: Locale,
    text: ChartText,
) -> Markup:
    """Grouped bars: one group per category, one bar per series, each bar labelled."""
    top_value = _scale(categories, series, kind)
    frame = _frame(categories, locale)
    parts = _open(chart_id, text, series, frame) + _axes(top_value, kind, locale, frame)
    bottom = _plot_bottom()
    band = _band(categories)
    bar = band * 0.8 / max(len(series), 1)
    for s_index, item in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        parts.append(f'<g class="series" fill="{colour}">')
        for c_index, point in enumerate(item.points):
            x = _LEFT + band * c_index + band * 0.1 + bar * s_index
            label = _point_text(point, kind, locale, text)
            height = 0.0
            if point.value is not None and not point.hidden:
                height = (bottom - _TOP) * min(point.value, top_value) / top_value
                parts.append(
                    f'<rect x="{frame.left(x, bar * 0.9):.1f}" y="{bottom - height:.1f}"'
                    f' width="{bar * 0.9:.1f}"'
                    f' height="{height:.1f}"><title>{escape(item.name)}, '
                    f"{escape(categories[c_index])}: {escape(label)}</title></rect>"
                )
            parts.append(
                f'<text x="{frame.x(x + bar * 0.45):.1f}" y="{bottom - height - 4:.1f}"'
                f' font-size="14" fill="#111" text-anchor="middle">{escape(label)}</text>'
            )
        parts.append("</g>")
    return _finish(parts, categories, series, frame)


def line_chart(
    *,
    chart_id: str,
    categories: Sequence[str],
    series: Sequence[Series],
    kind: NumberKind,
    locale: Locale,
    text: ChartText,
) -> Markup:
    """Lines over the categories; a hidden or empty value breaks the line and is labelled."""
    top_value = _scale(categories, series, kind)
    frame = _frame(categories, locale)
    parts = _open(chart_id, text, series, frame) + _axes(top_value, kind, locale, frame)
    bottom = _plot_bottom()
    band = _band(categories)
    for s_index, item in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        parts.append(f'<g class="series" stroke="{colour}" fill="{colour}">')
        run: list[str] = []
        for c_index, point in enumerate(item.points):
            x = frame.x(_LEFT + band * (c_index + 0.5))
            label = _point_text(point, kind, locale, text)
            if point.value is None or point.hidden:
                parts += _polyline(run)
                run = []
                parts.append(
                    f'<text x="{x:.1f}" y="{bottom - 4}" font-size="14" stroke="none"'
                    f' fill="#111" text-anchor="middle">{escape(label)}</text>'
                )
                continue
            y = bottom - (bottom - _TOP) * min(point.value, top_value) / top_value
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{escape(item.name)}, '
                f"{escape(categories[c_index])}: {escape(label)}</title></circle>"
            )
            parts.append(
                f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="14" stroke="none" fill="#111"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
        parts += _polyline(run)
        parts.append("</g>")
    return _finish(parts, categories, series, frame)


def _polyline(points: list[str]) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke-width="2"/>']
