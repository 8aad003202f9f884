"""Small server-rendered SVG charts for the portal: pure functions, no JavaScript.

Each chart is an inline `<svg role="img">` labelled by its own `<title>` and a
`<desc>` that says the numbers in words, and comes with the same numbers as
table rows, which templates render as a visually hidden table: screen-reader
users get every figure, sighted users get the picture. Every piece of text is
escaped here before the markup is marked safe for templates.

Scores are percentages: values are drawn on a fixed 0-100 scale (clamped), so
charts of different assessments compare at a glance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Fill colours (WCAG 3:1 or better against white for graphics; the text is --fg).
WEAK_COLOUR = "#b45309"
PASSING_COLOUR = "#2563eb"
STRONG_COLOUR = "#047857"
TRACK_COLOUR = "#e2e8f0"
GRID_COLOUR = "#cbd5e1"
TEXT_COLOUR = "#0f172a"
MUTED_COLOUR = "#475569"
LABEL_MAX_CHARS = 48

WEAK, PASSING, STRONG = "weak", "passing", "strong"
STANDING_TEXT = {
    WEAK: "below the pass line",
    PASSING: "at or above the pass line",
    STRONG: "strong",
}


@dataclass(frozen=True)
class Chart:
    """One chart: the SVG markup and the same data as a table (header row + body rows)."""

    svg: SafeString
    title: str
    description: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal


@dataclass(frozen=True)
class TrendPoint:
    day: date
    value: Decimal


# --- text ----------------------------------------------------------------------------


def percent_text(value: Decimal | int | float) -> str:
    """A score as people write it: "72%", "72.5%" (at most one decimal)."""
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    return f"{text.removesuffix('.0')}%"


def change_text(change: Decimal | int | float | None) -> str:
    """A change in points: "+5 points", "-2.5 points" (a minus sign), "no change"; "" if unknown."""
    if change is None:
        return ""
    rounded = Decimal(str(change)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "no change"
    number = f"{abs(rounded):f}".removesuffix(".0")
    sign = "+" if rounded > 0 else "−"
    unit = "point" if abs(rounded) == 1 else "points"
    return f"{sign}{number} {unit}"


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def standing(value: Decimal, *, pass_line: Decimal, strong_from: Decimal | None = None) -> str:
    """WEAK below the pass line, STRONG from `strong_from` (if given), else PASSING."""
    if value < pass_line:
        return WEAK
    if strong_from is not None and value >= strong_from:
        return STRONG
    return PASSING


def _colour(kind: str) -> str:
    return {WEAK: WEAK_COLOUR, STRONG: STRONG_COLOUR}.get(kind, PASSING_COLOUR)


def label_short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_MAX_CHARS else label[: LABEL_MAX_CHARS - 1] + "…"


def svg_id(raw: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", raw).strip("-")
    return cleaned if cleaned and cleaned[0].isalpha() else f"chart-{cleaned or 'x'}"


def _clamp(value: Decimal) -> float:
    return min(max(float(value), 0.0), 100.0)


def num(number: float) -> str:
    """A coordinate, short: 12, 12.5."""
    return f"{number:.1f}".removesuffix(".0")


def svg_attrs(**attrs: object) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attrs.items()
    )


def svg_text(content: str, **attrs: object) -> str:
    return f"<text {svg_attrs(**attrs)}>{escape(content)}</text>"


def svg_open(*, chart_id: str, width: int, height: int, title: str, description: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" {svg_attrs(id=chart_id)} class="chart-svg" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


# --- per-domain bars -----------------------------------------------------------------

BAR_WIDTH = 360  # viewBox width: small, so the text stays readable on a phone
BAR_LEFT = 4
BAR_PLOT = 290  # 0-100 maps onto BAR_LEFT .. BAR_LEFT + BAR_PLOT; values sit to the right
BAR_TOP = 24  # room for the pass line's label
BAR_ROW = 42  # label line + bar + gap
BAR_LABEL = 14  # label baseline below the row's top
BAR_OFFSET = 19  # bar top below the row's top
BAR_HEIGHT = 16
BAR_AXIS = 18  # tick labels under the plot
FONT = 13


def domain_bar_chart(
    *,
    bars: Sequence[Bar],
    pass_line: Decimal,
    chart_id: str,
    title: str,
    strong_from: Decimal | None = None,
) -> Chart:
    """Horizontal bars, one per domain on a 0-100 scale, with the pass line drawn across.

    A bar is coloured by its standing (below the pass line, passing, strong from
    `strong_from`); the dashed pass line and the printed value carry the same
    information without colour. Gridlines and the pass line cross the bars only,
    never the domain names above them.
    """
    chart_id = svg_id(chart_id)
    kinds = [standing(b.value, pass_line=pass_line, strong_from=strong_from) for b in bars]
    pass_text = percent_text(pass_line)
    if bars:
        parts = [
            f"{bar.label} {percent_text(bar.value)} ({STANDING_TEXT[kind]})"
            for bar, kind in zip(bars, kinds, strict=True)
        ]
        description = f"Pass line {pass_text}. " + "; ".join(parts) + "."
    else:
        description = f"Pass line {pass_text}. No domain scores."
    plot_bottom = BAR_TOP + BAR_ROW * len(bars)
    height = plot_bottom + BAR_AXIS

    def x(value: Decimal | int) -> float:
        return BAR_LEFT + BAR_PLOT * _clamp(Decimal(value)) / 100

    def across_bars(x_at: float, **attrs: object) -> str:
        """A vertical line drawn through every bar (and not through the names)."""
        path = " ".join(
            f"M{num(x_at)},{BAR_TOP + BAR_ROW * i + BAR_OFFSET - 3}v{BAR_HEIGHT + 6}"
            for i in range(len(bars))
        )
        return f'<path d="{path}" {svg_attrs(**attrs)}/>' if path else ""

    ticks = (0, 25, 50, 75, 100)
    out = [
        svg_open(
            chart_id=chart_id, width=BAR_WIDTH, height=height, title=title, description=description
        )
    ]
    for index, (bar, kind) in enumerate(zip(bars, kinds, strict=True)):
        top = BAR_TOP + BAR_ROW * index
        bar_top = top + BAR_OFFSET
        out.append(f'<g class="chart-bar chart-bar-{kind}">')
        out.append(f"<title>{escape(f'{bar.label}: {percent_text(bar.value)}')}</title>")
        out.append(
            svg_text(
                label_short(bar.label),
                x=BAR_LEFT,
                y=top + BAR_LABEL,
                font_size=FONT,
                fill=TEXT_COLOUR,
            )
        )
        out.append(
            f'<rect x="{BAR_LEFT}" y="{bar_top}" width="{BAR_PLOT}" height="{BAR_HEIGHT}" '
            f'rx="3" fill="{TRACK_COLOUR}"/>'
        )
        width = x(bar.value) - BAR_LEFT
        if width > 0:
            out.append(
                f'<rect x="{BAR_LEFT}" y="{bar_top}" width="{num(width)}" height="{BAR_HEIGHT}" '
                f'rx="3" fill="{_colour(kind)}"/>'
            )
        out.append(
            svg_text(
                percent_text(bar.value),
                x=BAR_WIDTH - 2,
                y=bar_top + BAR_HEIGHT - 3,
                font_size=FONT,
                font_weight=700,
                fill=TEXT_COLOUR,
                text_anchor="end",
            )
        )
        out.append("</g>")
    # the scale: light gridlines through the bars, tick labels underneath
    for tick in ticks:
        if 0 < tick < 100:
            out.append(across_bars(x(tick), stroke="#ffffff", stroke_width=1, opacity=0.6))
        anchor = "start" if tick == 0 else "end" if tick == 100 else "middle"
        out.append(
            svg_text(
                f"{tick}",
                x=num(x(tick)),
                y=plot_bottom + 12,
                font_size=11,
                fill=MUTED_COLOUR,
                text_anchor=anchor,
            )
        )
    # the pass line, over the bars
    px = x(pass_line)
    out.append(
        across_bars(
            px,
            class_="chart-pass-line",
            stroke=TEXT_COLOUR,
            stroke_width=2,
            stroke_dasharray="4 2",
            fill="none",
        )
    )
    anchor = "start" if px < 40 else "end" if px > BAR_PLOT - 30 else "middle"
    out.append(
        svg_text(
            f"Pass {pass_text}",
            x=num(px),
            y=BAR_TOP - 10,
            font_size=12,
            font_weight=700,
            fill=TEXT_COLOUR,
            text_anchor=anchor,
        )
    )
    out.append(
        f'<line x1="{num(px)}" y1="{BAR_TOP - 7}" x2="{num(px)}" y2="{BAR_TOP - 1}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="2"/>'
    )
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text and attribute above is escaped
        title=title,
        description=description,
        columns=("Domain", "Score", "Against the pass line"),
        rows=tuple(
            (bar.label, percent_text(bar.value), STANDING_TEXT[kind])
            for bar, kind in zip(bars, kinds, strict=True)
        ),
    )


# --- overall score over time ---------------------------------------------------------

TREND_WIDTH = 320
TREND_HEIGHT = 150
TREND_LEFT = 34  # y tick labels
TREND_RIGHT = 14
TREND_TOP = 14
TREND_BOTTOM = 26  # date labels


def score_trend_chart(
    *, points: Sequence[TrendPoint], pass_line: Decimal, chart_id: str, title: str
) -> Chart:
    """A small line of overall scores, oldest first, on a 0-100 scale with the pass line.

    Points are spaced evenly in the order taken (each is one assessment); the
    first and last dates label the axis, and every point carries its own date.
    """
    chart_id = svg_id(chart_id)
    kinds = [standing(p.value, pass_line=pass_line) for p in points]
    pass_text = percent_text(pass_line)
    count = len(points)
    listed = ", ".join(f"{day_text(p.day)} {percent_text(p.value)}" for p in points)
    description = (
        f"Overall score over {count} assessment{'s' if count != 1 else ''}, oldest first: "
        f"{listed or 'none'}. Pass line {pass_text}."
    )
    plot_w = TREND_WIDTH - TREND_LEFT - TREND_RIGHT
    plot_h = TREND_HEIGHT - TREND_TOP - TREND_BOTTOM

    def y(value: Decimal | int) -> float:
        return TREND_TOP + plot_h * (100 - _clamp(Decimal(value))) / 100

    def x(index: int) -> float:
        if count < 2:
            return TREND_LEFT + plot_w / 2
        return TREND_LEFT + plot_w * index / (count - 1)

    out = [
        svg_open(
            chart_id=chart_id,
            width=TREND_WIDTH,
            height=TREND_HEIGHT,
            title=title,
            description=description,
        )
    ]
    for tick in (0, 50, 100):
        out.append(
            f'<line x1="{TREND_LEFT}" y1="{num(y(tick))}" x2="{TREND_LEFT + plot_w}" '
            f'y2="{num(y(tick))}" stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        out.append(
            svg_text(
                f"{tick}",
                x=TREND_LEFT - 6,
                y=num(y(tick) + 4),
                font_size=11,
                fill=MUTED_COLOUR,
                text_anchor="end",
            )
        )
    py = y(pass_line)
    out.append(
        f'<line class="chart-pass-line" x1="{TREND_LEFT}" y1="{num(py)}" '
        f'x2="{TREND_LEFT + plot_w}" y2="{num(py)}" stroke="{TEXT_COLOUR}" '
        f'stroke-width="1.5" stroke-dasharray="5 3"/>'
    )
    label_y = py - 5 if py - 5 > TREND_TOP + 6 else py + 14
    out.append(
        svg_text(
            f"Pass {pass_text}",
            x=TREND_LEFT + 4,
            y=num(label_y),
            font_size=11,
            font_weight=700,
            fill=TEXT_COLOUR,
        )
    )
    if count >= 2:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{num(x(i))},{num(y(p.value))}" for i, p in enumerate(points)
        )
        out.append(
            f'<path class="chart-trend-line" d="{path}" fill="none" stroke="{PASSING_COLOUR}" '
            f'stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>'
        )
    for i, (point, kind) in enumerate(zip(points, kinds, strict=True)):
        out.append(
            f'<circle class="chart-point chart-point-{kind}" cx="{num(x(i))}" '
            f'cy="{num(y(point.value))}" r="4.5" fill="{_colour(kind)}" stroke="#ffffff" '
            f'stroke-width="1.5"><title>'
            f"{escape(f'{day_text(point.day)}: {percent_text(point.value)}')}</title></circle>"
        )
    if points:
        first, last = day_text(points[0].day), day_text(points[-1].day)
        out.append(
            svg_text(
                first,
                x=TREND_LEFT,
                y=TREND_HEIGHT - 6,
                font_size=11,
                fill=MUTED_COLOUR,
                text_anchor="start",
            )
        )
        if count >= 2:
            out.append(
                svg_text(
                    last,
                    x=TREND_LEFT + plot_w,
                    y=TREND_HEIGHT - 6,
                    font_size=11,
                    fill=MUTED_COLOUR,
                    text_anchor="end",
                )
            )
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text and attribute above is escaped
        title=title,
        description=description,
        columns=("Date", "Overall score", "Against the pass line"),
        rows=tuple(
            (day_text(p.day), percent_text(p.value), STANDING_TEXT[kind])
            for p, kind in zip(points, kinds, strict=True)
        ),
    )
