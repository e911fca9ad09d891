"""Bar charts as geometry: what an inline SVG draws, worked out here, drawn by a template.

A chart is readable without JavaScript: each bar segment carries a `<title>` (the
browser's tooltip, and what a screen reader says), the legend names every series,
and the pages print the same numbers in a table beside it. Colours come from the
Okabe-Ito palette, which people with the common colour-vision deficiencies can tell
apart; series past its end reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["PALETTE", "BarChart", "Segment", "nice_step", "stacked_bars"]

PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
)
_LEFT, _RIGHT, _TOP, _BOTTOM = 56.0, 8.0, 10.0, 28.0
_MAX_LABELS = 10
"""At most this many day labels under the bars, so they never overlap."""
_TICKS = 4


@dataclass(frozen=True)
class Segment:
    """One coloured piece of a bar."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str
    """The tooltip: column, series and value, e.g. `2026-03-01 · bug: 3`."""


@dataclass(frozen=True)
class Tick:
    """A horizontal grid line with its value."""

    y: float
    label: str


@dataclass(frozen=True)
class ColumnLabel:
    """A label under a bar."""

    x: float
    text: str


@dataclass(frozen=True)
class LegendItem:
    """A series' name and colour."""

    name: str
    color: str


@dataclass(frozen=True)
class BarChart:
    """Everything the chart template draws, in SVG user units."""

    title: str
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    segments: tuple[Segment, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[ColumnLabel, ...]
    legend: tuple[LegendItem, ...]

    @property
    def empty(self) -> bool:
        """Nothing to draw (every value zero)."""
        return not self.segments


def nice_step(largest: float, ticks: int = _TICKS, *, whole: bool = False) -> float:
    """A grid step of 1, 2 or 5 times a power of ten that puts about `ticks` lines
    under `largest` (at least 1 when the values are `whole` counts)."""
    if largest <= 0:
        return 1.0
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return max(step, 1.0) if whole else step


def _count(value: float) -> str:
    return f"{value:.0f}"


def stacked_bars(
    title: str,
    columns: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    value_label: Callable[[float], str] = _count,
    column_label: Callable[[str], str] = lambda column: column[5:],
    whole: bool = True,
    width: float = 720.0,
    height: float = 240.0,
) -> BarChart:
    """Bars for `columns` (days), each stacked from `series` (name -> one value a column).

    Args:
        title: what the chart shows, for its accessible name.
        columns: the bars, left to right (ISO days: labelled `MM-DD` by default).
        series: each series' values, in `columns` order; listed in the legend in order.
        value_label: how a value reads on the axis and in tooltips.
        column_label: how a column reads under its bar.
        whole: the values are counts (grid steps of at least 1).
    """
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    step = nice_step(max(totals, default=0.0), whole=whole)
    top = step * max(1, math.ceil(max(totals, default=0.0) / step))
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    slot = plot_w / max(len(columns), 1)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    segments: list[Segment] = []
    for i, column in enumerate(columns):
        base = _TOP + plot_h
        for name, values in series.items():
            if values[i] <= 0:
                continue
            tall = plot_h * values[i] / top
            base -= tall
            segments.append(
                Segment(
                    x=round(_LEFT + i * slot + slot * 0.1, 2),
                    y=round(base, 2),
                    width=round(slot * 0.8, 2),
                    height=round(tall, 2),
                    color=colors[name],
                    title=f"{column} · {name}: {value_label(values[i])}",
                )
            )
    every = max(1, math.ceil(len(columns) / _MAX_LABELS))
    labels = tuple(
        ColumnLabel(x=round(_LEFT + (i + 0.5) * slot, 2), text=column_label(column))
        for i, column in enumerate(columns)
        if i % every == 0
    )
    ticks = tuple(
        Tick(y=round(_TOP + plot_h - plot_h * (n * step) / top, 2), label=value_label(n * step))
        for n in range(round(top / step) + 1)
    )
    legend = tuple(LegendItem(name, colors[name]) for name in series)
    return BarChart(
        title=title,
        width=width,
        height=height,
        left=_LEFT,
        right=width - _RIGHT,
        top=_TOP,
        bottom=_TOP + plot_h,
        segments=tuple(segments),
        ticks=ticks,
        labels=labels,
        legend=legend,
    )
