"""The desk's SVG bar charts (api.pages.charts): lengths in percent of the width, the longest
bar (or the given top) full, nothing drawn for an empty or unknown value."""

from __future__ import annotations

from api.pages.charts import ROW_HEIGHT, bars


def test_stacked_bars_scale_to_the_longest_and_skip_empty_parts():
    """Three rules: 3 met + 1 missed is the longest (100 %); 0 and None draw no segment."""
    chart = bars([("A22.1", [("met", 3), ("missed", 1), ("open", 0)], "3/1/0"),
                  ("A31.1", [("met", 0), ("missed", 1), ("open", None)], "0/1/0"),
                  ("A32.1", [("met", 0), ("missed", 0), ("open", 0)], "0/0/0")])
    first, second, third = chart.rows
    assert [(s.series, s.x, s.width) for s in first.segments] == [("met", 0.0, 75.0),
                                                                   ("missed", 75.0, 25.0)]
    assert [(s.series, s.x, s.width) for s in second.segments] == [("missed", 0.0, 25.0)]
    assert third.segments == () and third.note == "0/0/0"
    assert [r.y for r in chart.rows] == [0, ROW_HEIGHT, 2 * ROW_HEIGHT]
    assert chart.height == 2 * ROW_HEIGHT + chart.bar_y + chart.bar_height


def test_a_ratio_against_a_fixed_top_and_an_empty_chart():
    """AV coverage 0.5 of 1 is half the width; no rows is one empty row's height, no error."""
    [row] = bars([("AV", [("met", 0.5)], "1/2")], top=1).rows
    assert [(s.x, s.width) for s in row.segments] == [(0.0, 50.0)]
    assert bars([("AV", [("met", None)], "—")], top=1).rows[0].segments == ()
    assert bars([]).rows == () and bars([]).height > 0
