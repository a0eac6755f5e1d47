"""Horizontal bar charts as inline SVG for the desk's Metrics pane: geometry only, no figures.

Every length is a percentage of the chart's width, so one chart reads the same at 360 px and
at desk width with its text at the page's size (no viewBox scaling the letters down). A row is
its label and its values on one line, the bar under them; the template (desk/metrics.html)
draws it with a <title>, a <desc> and a data table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW_HEIGHT = 64  # px: the label line, the values line, a 14 px bar, the gap
LABEL_Y, NOTE_Y, BAR_Y, BAR_HEIGHT = 16, 35, 42, 14  # within a row
# Drawn as fill attributes, not only by the stylesheet, so the chart reads without CSS; the
# legend's swatches in site.css use the same colours.
FILLS = {"track": "#eef1f5", "met": "#2f6f4a", "missed": "#a61b1b", "open": "#8d99ab",
         "median": "#1d3a5f", "gap": "#b7791f"}


@dataclass(frozen=True)
class Segment:
    """One series' part of a bar: where it starts and how wide it is, in percent."""

    series: str
    value: float
    x: float
    width: float


@dataclass(frozen=True)
class Row:
    """One bar: its label, the values said in words, its top in px and its segments."""

    label: str
    note: str
    y: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    """The rows of one chart and its height in px (positions within a row: the constants)."""

    rows: tuple[Row, ...]
    height: int
    label_y: int = LABEL_Y
    note_y: int = NOTE_Y
    bar_y: int = BAR_Y
    bar_height: int = BAR_HEIGHT


def bars(rows: Sequence[tuple[str, Sequence[tuple[str, float | None]], str]], *,
         top: float | None = None) -> Chart:
    """Stacked bars, one per (label, [(series, value)], note); the longest bar (or ``top``)
    fills the width. A value of None or 0 draws nothing."""
    totals = [sum(v or 0 for _s, v in parts) for _label, parts, _note in rows]
    scale = top if top else max(totals, default=0)
    out = []
    for i, (label, parts, note) in enumerate(rows):
        x, segments = 0.0, []
        for series, value in parts:
            if not value or not scale:
                continue
            width = 100.0 * value / scale
            segments.append(Segment(series, value, round(x, 2), round(width, 2)))
            x += width
        out.append(Row(label, note, i * ROW_HEIGHT, tuple(segments)))
    return Chart(tuple(out), max(len(out), 1) * ROW_HEIGHT - (ROW_HEIGHT - BAR_Y - BAR_HEIGHT))
