"""The counters page's growth chart: daily series in, an inline SVG out, built as text with every value
escaped. No script and no style attribute (the console's Content-Security-Policy allows neither): the
colours come from classes console.css styles with its light and dark variables, and the labels use
``currentColor``.

The y axis starts at 0 (these are counts) and ends at a round number above the largest value, at least 1,
so an empty chart, a single day and a flat line all have a height to divide by.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from engagement.counters.numbers import compact

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 12, 32
Y_TICKS = 4  # about this many gridlines above 0
X_TICKS = 5  # at most this many dated ticks


@dataclass(frozen=True)
class Line:
    """One series: ``key`` names its CSS class (``line-<key>``), ``label`` is what people read."""

    key: str
    label: str
    points: Sequence[tuple[date, int]]  # oldest first, one per day


def growth_chart(lines: Sequence[Line], *, title: str, description: str, id_prefix: str = "chart") -> Markup:
    """An ``<svg role="img">`` of ``lines`` over their common days, titled by ``title`` and described by
    ``description`` (both escaped), with dated ticks below and value ticks on the left."""
    days = sorted({day for line in lines for day, _ in line.points})
    top, step = y_scale(max((value for line in lines for _, value in line.points), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        span = (days[-1] - days[0]).days
        if span == 0:
            return LEFT + plot_width / 2  # a single day sits in the middle
        return LEFT + (day - days[0]).days / span * plot_width

    def y(value: int) -> float:
        return TOP + plot_height - value / top * plot_height

    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for value in range(0, top + 1, step):
        level = _n(y(value))
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level}" y2="{level}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{level}" text-anchor="end" dominant-baseline="middle" '
            f'fill="currentColor">{escape(compact(value))}</text>'
        )
    base = TOP + plot_height
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>')
    ticks = x_ticks(days)
    # The end ticks are aligned inwards, so a long label ("May 2026") is not cut by the edge.
    anchors = {ticks[0]: "start", ticks[-1]: "end"} if len(ticks) > 1 else {}
    for day in ticks:
        parts.append(
            f'<text class="tick" x="{_n(x(day))}" y="{HEIGHT - 10}" '
            f'text-anchor="{anchors.get(day, "middle")}" fill="currentColor">'
            f"{escape(day_label(day, days))}</text>"
        )
    for line in lines:
        css = f"line line-{escape(line.key)}"
        if len(line.points) == 1:
            day, value = line.points[0]
            parts.append(f'<circle class="{css}" cx="{_n(x(day))}" cy="{_n(y(value))}" r="4"/>')
        elif line.points:
            points = " ".join(f"{_n(x(day))},{_n(y(value))}" for day, value in line.points)
            parts.append(f'<polyline class="{css}" fill="none" points="{points}"/>')
    if not days:
        parts.append(
            f'<text class="tick" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" '
            'fill="currentColor">No history yet</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above went through escape())


def y_scale(largest: int) -> tuple[int, int]:
    """The top of the y axis and the step between its ticks: a round step (1, 2 or 5 times a power of
    ten) giving about ``Y_TICKS`` ticks, and the first multiple of it at or above ``largest``; at least 1."""
    step = nice_step(largest / Y_TICKS)
    return max(1, math.ceil(largest / step)) * step, step


def nice_step(rough: float) -> int:
    """A round step (1, 2, 5 times a power of ten, at least 1) at or above ``rough``."""
    power = 10 ** max(0, math.floor(math.log10(max(rough, 1))))
    return next(factor * power for factor in (1, 2, 5, 10) if factor * power >= rough)


def x_ticks(days: Sequence[date]) -> list[date]:
    """Up to ``X_TICKS`` days spread evenly from the first to the last, both included."""
    if len(days) <= X_TICKS:
        return list(days)
    last = len(days) - 1
    return [days[round(i * last / (X_TICKS - 1))] for i in range(X_TICKS)]


def day_label(day: date, days: Sequence[date]) -> str:
    """``7 May``, or ``May 2026`` when the chart spans more than a few months."""
    if days and (days[-1] - days[0]).days > 120:
        return f"{day:%b %Y}"
    return f"{day.day} {day:%b}"


def _n(value: float) -> str:
    """A coordinate, short: at most one decimal."""
    return f"{value:.1f}".removesuffix(".0")


def lines_of(series: Mapping[str, Sequence[tuple[date, int]]], labels: Mapping[str, str]) -> list[Line]:
    """``Line``s in ``labels``' order from series by key."""
    return [Line(key, label, series.get(key, [])) for key, label in labels.items()]
