"""Server-rendered SVG charts: bars and lines, no JavaScript, readable without the picture.

Pure functions from numbers to markup. Every chart carries a ``<title>`` (its accessible
name, ``aria-labelledby``) and a ``<desc>`` listing every value (``aria-describedby``), and
writes each value as text next to its bar or point, so a screen reader, a printout and a
colour-blind reader get the same figures. Numbers are formatted by Babel in the reader's
locale; a value hidden by the small-group rule is written as the caller's ``hidden_label``
("< 5") and gets no bar. Text is escaped; no value of the caller ends up in markup unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from babel import Locale
from babel.numbers import format_decimal, format_percent
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
    """``value`` as the reader's locale writes it (one decimal at most; percent from 0-1)."""
    if kind is NumberKind.PERCENT:
        return format_percent(value, format="#,##0.#%", locale=locale)
    if kind is NumberKind.COUNT:
        return format_decimal(round(value), format="#,##0", locale=locale)
    return format_decimal(value, format="#,##0.#", locale=locale)


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
    return format_number(point.value, kind, locale)


def _open(chart_id: str, text: ChartText, series: Sequence[Series]) -> list[str]:
    # A legend (a row per series) only when there is more than one series.
    height = _HEIGHT + (len(series) if len(series) > 1 else 0) * _LEGEND_ROW
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}"'
        f' viewBox="0 0 {_WIDTH} {height}" role="img"'
        f' aria-labelledby="{escape(chart_id)}-title"'
        f' aria-describedby="{escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(text.title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(text.description)}</desc>',
    ]


def _axes(top_value: float, kind: NumberKind, locale: Locale) -> list[str]:
    parts = ['<g class="axis" font-size="14" fill="#333">']
    bottom = _HEIGHT - _BOTTOM
    for i in range(_TICKS + 1):
        tick = top_value * i / _TICKS
        y = bottom - (bottom - _TOP) * i / _TICKS
        label = format_number(tick, kind, locale)
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}"'
            f' stroke="{"#555" if i == 0 else "#ddd"}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    parts.append("</g>")
    return parts


def _band(categories: Sequence[str]) -> float:
    """The width each category gets along the x axis."""
    return (_WIDTH - _LEFT - _RIGHT) / max(len(categories), 1)


def _category_labels(categories: Sequence[str]) -> list[str]:
    band = _band(categories)
    parts = ['<g class="categories" font-size="14" fill="#333" text-anchor="middle">']
    for index, category in enumerate(categories):
        x = _LEFT + band * (index + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 20}">{escape(category)}</text>')
    parts.append("</g>")
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    if len(series) < 2:
        return []
    parts = ['<g class="legend" font-size="14" fill="#222">']
    for index, item in enumerate(series):
        y = _HEIGHT - _BOTTOM + 42 + index * _LEGEND_ROW
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{_LEFT}" y="{y - 11}" width="13" height="13" fill="{colour}"/>')
        parts.append(f'<text x="{_LEFT + 18}" y="{y}">{escape(item.name)}</text>')
    parts.append("</g>")
    return parts


def _scale(categories: Sequence[str], series: Sequence[Series], kind: NumberKind) -> float:
    """The top of the scale, once every series is checked to have a point per category."""
    for item in series:
        if len(item.points) != len(categories):
            raise ValueError("every series needs one point per category")
    return _scale_max(series, kind)


def _finish(parts: list[str], categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """The category labels, the legend and the end of the chart, as one piece of markup."""
    parts += _category_labels(categories)
    parts += _legend(series)
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
    parts = _open(chart_id, text, series) + _axes(top_value, kind, locale)
    bottom = _HEIGHT - _BOTTOM
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
                    f'<rect x="{x:.1f}" y="{bottom - height:.1f}" width="{bar * 0.9:.1f}"'
                    f' height="{height:.1f}"><title>{escape(item.name)}, '
                    f"{escape(categories[c_index])}: {escape(label)}</title></rect>"
                )
            parts.append(
                f'<text x="{x + bar * 0.45:.1f}" y="{bottom - height - 4:.1f}"'
                f' font-size="14" fill="#111" text-anchor="middle">{escape(label)}</text>'
            )
        parts.append("</g>")
    return _finish(parts, categories, series)


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
    parts = _open(chart_id, text, series) + _axes(top_value, kind, locale)
    bottom = _HEIGHT - _BOTTOM
    band = _band(categories)
    for s_index, item in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        parts.append(f'<g class="series" stroke="{colour}" fill="{colour}">')
        run: list[str] = []
        for c_index, point in enumerate(item.points):
            x = _LEFT + band * (c_index + 0.5)
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
    return _finish(parts, categories, series)


def _polyline(points: list[str]) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke-width="2"/>']
