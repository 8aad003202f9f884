"""Server-rendered SVG charts: well-formed, escaped, labelled, and drawn to scale."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from library.charts import (
    Bar,
    TrendPoint,
    change_text,
    domain_bar_chart,
    percent_text,
    score_trend_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own markup, parsed to check it is well formed


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "chart-bar" in g.get("class", "")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(72), "72%"),
        (Decimal("72.50"), "72.5%"),
        (Decimal("72.25"), "72.3%"),
        (Decimal("0.00"), "0%"),
        (100, "100%"),
    ],
)
def test_percent_text_shows_at_most_one_decimal(value, text):
    assert percent_text(value) == text


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (Decimal(5), "+5 points"),
        (Decimal("-2.5"), "−2.5 points"),
        (Decimal(1), "+1 point"),
        (Decimal("0.00"), "no change"),
        (None, ""),
    ],
)
def test_change_text_says_points_up_or_down(change, text):
    assert change_text(change) == text


def test_domain_bars_are_drawn_to_scale_with_the_pass_line():
    chart = domain_bar_chart(
        bars=[
            Bar("Networking", Decimal(50)),
            Bar("Security", Decimal(75)),
            Bar("Storage", Decimal(95)),
        ],
        pass_line=Decimal(70),
        strong_from=Decimal(80),
        chart_id="domains-7",
        title="Cloud: score by domain",
    )
    root = parse(chart.svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "domains-7-title domains-7-desc"
    assert root.find(f"{SVG}title").text == "Cloud: score by domain"
    assert root.find(f"{SVG}title").get("id") == "domains-7-title"
    desc = root.find(f"{SVG}desc").text
    assert "Pass line 70%" in desc
    assert "Networking 50% (below the pass line)" in desc
    assert "Storage 95% (strong)" in desc

    groups = bars_of(root)
    assert [g.get("class") for g in groups] == [
        "chart-bar chart-bar-weak",
        "chart-bar chart-bar-passing",
        "chart-bar chart-bar-strong",
    ]
    # the coloured bar is the second rect of each row (the first is the 0-100 track)
    tracks = [float(g.findall(f"{SVG}rect")[0].get("width")) for g in groups]
    fills = [float(g.findall(f"{SVG}rect")[1].get("width")) for g in groups]
    assert fills == pytest.approx([tracks[0] * 0.5, tracks[1] * 0.75, tracks[2] * 0.95])
    labels = [[t.text for t in g.findall(f"{SVG}text")] for g in groups]
    assert labels == [["Networking", "50%"], ["Security", "75%"], ["Storage", "95%"]]

    # the dashed pass line crosses each bar at 70% of its track
    pass_line = next(e for e in root.iter(f"{SVG}path") if e.get("class") == "chart-pass-line")
    track_x = float(groups[0].findall(f"{SVG}rect")[0].get("x"))
    crossings = [float(m) for m in re.findall(r"M([\d.]+),", pass_line.get("d"))]
    assert crossings == pytest.approx([track_x + tracks[0] * 0.7] * 3)
    assert pass_line.get("stroke-dasharray")
    assert any(t.text == "Pass 70%" for t in root.iter(f"{SVG}text"))

    assert chart.columns == ("Domain", "Score", "Against the pass line")
    assert chart.rows == (
        ("Networking", "50%", "below the pass line"),
        ("Security", "75%", "at or above the pass line"),
        ("Storage", "95%", "strong"),
    )


def test_a_zero_score_draws_only_the_track_and_out_of_range_values_stay_on_the_scale():
    chart = domain_bar_chart(
        bars=[Bar("Empty", Decimal(0)), Bar("Over", Decimal(140))],
        pass_line=Decimal(70),
        chart_id="d",
        title="t",
    )
    empty, over = bars_of(parse(chart.svg))
    assert len(empty.findall(f"{SVG}rect")) == 1
    track, fill = over.findall(f"{SVG}rect")
    assert fill.get("width") == track.get("width")


def test_chart_text_is_escaped_and_ids_are_safe():
    nasty = '<script>alert("x")</script> & Co'
    chart = domain_bar_chart(
        bars=[Bar(nasty, Decimal(40))],
        pass_line=Decimal(70),
        chart_id='x" onload="alert(1)',
        title=nasty,
    )
    assert "<script>" not in chart.svg
    assert 'onload="' not in chart.svg
    root = parse(chart.svg)  # still well formed
    assert root.find(f"{SVG}title").text == nasty
    assert bars_of(root)[0].find(f"{SVG}text").text == nasty
    assert " " not in root.get("id") and '"' not in root.get("id")

    trend = score_trend_chart(
        points=[TrendPoint(date(2025, 1, 2), Decimal(50))],
        pass_line=Decimal(70),
        chart_id="t",
        title=nasty,
    )
    assert "<script>" not in trend.svg
    assert parse(trend.svg).find(f"{SVG}title").text == nasty


def test_long_domain_names_are_shortened_in_the_picture_but_not_in_the_data():
    name = "Designing and implementing a very long named domain " * 3
    chart = domain_bar_chart(
        bars=[Bar(name, Decimal(80))], pass_line=Decimal(70), chart_id="d", title="t"
    )
    label = bars_of(parse(chart.svg))[0].find(f"{SVG}text").text
    assert label.endswith("…") and len(label) < len(name.strip())
    assert chart.rows[0][0] == name


def test_trend_joins_the_overall_scores_oldest_first_and_marks_each_point():
    chart = score_trend_chart(
        points=[
            TrendPoint(date(2025, 3, 12), Decimal(55)),
            TrendPoint(date(2025, 4, 3), Decimal("64.5")),
            TrendPoint(date(2025, 5, 1), Decimal(78)),
        ],
        pass_line=Decimal(70),
        chart_id="trend-3",
        title="Cloud: overall score over time",
    )
    root = parse(chart.svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Cloud: overall score over time"
    assert root.find(f"{SVG}desc").text == (
        "Overall score over 3 assessments, oldest first: "
        "12 Mar 2025 55%, 3 Apr 2025 64.5%, 1 May 2025 78%. Pass line 70%."
    )
    points = list(root.iter(f"{SVG}circle"))
    assert [p.find(f"{SVG}title").text for p in points] == [
        "12 Mar 2025: 55%",
        "3 Apr 2025: 64.5%",
        "1 May 2025: 78%",
    ]
    assert [p.get("class") for p in points] == [
        "chart-point chart-point-weak",
        "chart-point chart-point-weak",
        "chart-point chart-point-passing",
    ]
    xs = [float(p.get("cx")) for p in points]
    ys = [float(p.get("cy")) for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 3  # left to right in the order taken
    assert ys[0] > ys[1] > ys[2]  # higher scores are drawn higher up
    line = next(e for e in root.iter(f"{SVG}path") if e.get("class") == "chart-trend-line")
    assert line.get("d").count("L") == 2
    pass_line = next(e for e in root.iter(f"{SVG}line") if e.get("class") == "chart-pass-line")
    assert ys[1] > float(pass_line.get("y1")) > ys[2]  # 64.5 below the pass line, 78 above
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "12 Mar 2025" in texts and "1 May 2025" in texts and "Pass 70%" in texts
    assert chart.rows == (
        ("12 Mar 2025", "55%", "below the pass line"),
        ("3 Apr 2025", "64.5%", "below the pass line"),
        ("1 May 2025", "78%", "at or above the pass line"),
    )


def test_a_single_point_trend_has_no_line():
    chart = score_trend_chart(
        points=[TrendPoint(date(2025, 1, 2), Decimal(80))],
        pass_line=Decimal(70),
        chart_id="t",
        title="t",
    )
    root = parse(chart.svg)
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert not [e for e in root.iter(f"{SVG}path") if e.get("class") == "chart-trend-line"]
    assert "over 1 assessment," in chart.description
