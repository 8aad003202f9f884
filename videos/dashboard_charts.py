"""The staff dashboard's charts: server-rendered SVG, no JavaScript.

Three shapes on top of the portal's chart helpers (`library.charts`): stacked
columns (jobs per day by status), a line over the same days (success rate) and
horizontal bars, grouped when there are several series (figures by provider,
queue depth). Like the portal's charts, each is an `<svg role="img">` with a
`<title>` and a `<desc>` that says the numbers, and comes with the same numbers
as table rows for the page's text alternative. Colours are never the only
carrier: every bar has a tooltip and the legend and table name the series.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from django.conf import settings
from django.utils.safestring import mark_safe

from library.charts import (
    GRID_COLOUR,
    MUTED_COLOUR,
    TEXT_COLOUR,
    TRACK_COLOUR,
    Chart,
    label_short,
    num,
    svg_attrs,
    svg_id,
    svg_open,
    svg_text,
)
from videos.dashboard import Dashboard
from videos.metrics import JobsBucket
from videos.models import JobStatus


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str
    short: str = ""  # before a value on a bar, when a chart has several series

    @property
    def tag(self) -> str:
        return self.short or self.label.lower()


@dataclass(frozen=True)
class DashChart:
    chart: Chart
    legend: tuple[Series, ...] = ()  # shown when a chart has several series
    note: str = ""  # one line under the chart's heading


# Jobs by status, grouped for the chart (the table keeps the same groups).
# Colours keep 3:1 against white; each is also named in the legend and tooltips.
STATUS_SERIES: tuple[tuple[Series, frozenset[str]], ...] = (
    (Series("ready", "Ready", "#047857"), frozenset({JobStatus.READY})),
    (Series("failed", "Failed", "#b91c1c"), frozenset({JobStatus.FAILED})),
    (Series("cancelled", "Cancelled", "#64748b"), frozenset({JobStatus.CANCELLED})),
    (
        Series("running", "In progress", "#2563eb"),
        frozenset(
            {JobStatus.SCRIPTING, JobStatus.RENDERING, JobStatus.CHECKING, JobStatus.STORING}
        ),
    ),
    (Series("queued", "Queued", "#b45309"), frozenset({JobStatus.QUEUED})),
)
LINE_COLOUR = "#2563eb"
MEDIAN_SERIES = Series("median", "Median", "#2563eb")
P95_SERIES = Series("p95", "95th percentile", "#7c3aed", short="p95")
QUEUE_SERIES = (
    Series("queued", "Waiting", "#2563eb"),
    Series("running", "Running", "#047857"),
    Series("scheduled", "Scheduled", "#b45309"),
    Series("failed", "Failed", "#b91c1c"),
)


# --- text ----------------------------------------------------------------------------


def number_text(value: float | int) -> str:
    """12, 1,234, 12.5: thousands grouped, at most one decimal."""
    rounded = round(float(value), 1)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.1f}"


def percent_text(rate: float | None) -> str:
    """A rate in 0..1 as "97.5%"; "—" when unknown."""
    if rate is None:
        return "—"
    return f"{number_text(rate * 100)}%"


def seconds_text(seconds: float | None) -> str:
    """A generation time: "42 s", "3 min 5 s"; "—" when unknown."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{number_text(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def score_text(score: float | None) -> str:
    return "—" if score is None else f"{number_text(score)}/100"


def cost_text(cost: Decimal | float | None) -> str:
    return "—" if cost is None else f"{Decimal(cost):,.2f}"


def bucket_label(start: datetime, *, hourly: bool) -> str:
    """Under a column: "3 Mar" for a day, "14:00" for an hour."""
    return f"{start:%H:%M}" if hourly else f"{start.day} {start:%b}"


def bucket_title(start: datetime, *, hourly: bool) -> str:
    """In a tooltip and the table: "3 Mar 2025", "3 Mar 2025 14:00"."""
    day = f"{start.day} {start:%b %Y}"
    return f"{day} {start:%H:%M}" if hourly else day


# --- scales ----------------------------------------------------------------------------


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at least `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def nice_scale(top: float, *, ticks: int = 4, whole: bool = True) -> tuple[float, float]:
    """(scale maximum, tick step) for values up to `top`: about `ticks` round steps."""
    step = nice_step(top / ticks) if top > 0 else 1.0
    if whole:
        step = max(step, 1.0)
    return step * max(math.ceil(top / step), 1), step


# --- stacked columns -----------------------------------------------------------------

COL_WIDTH = 560
COL_HEIGHT = 220
COL_LEFT = 48  # y tick labels
COL_RIGHT = 8
COL_TOP = 10
COL_BOTTOM = 26  # x labels
AXIS_LABELS = 8  # at most this many x labels
FONT = 12


@dataclass(frozen=True)
class Column:
    label: str  # under the axis (may be skipped when crowded)
    title: str  # full name, for the tooltip and the table
    values: tuple[float, ...]  # one per series


def _plot_x(index: int, count: int) -> tuple[float, float]:
    """(left edge, width) of column `index` of `count` across the plot."""
    slot = (COL_WIDTH - COL_LEFT - COL_RIGHT) / max(count, 1)
    width = max(slot * 0.72, 1.0)
    return COL_LEFT + slot * index + (slot - width) / 2, width


def _axis_y(*, scale: float, step: float, text: Callable[[float], str]) -> list[str]:
    plot_h = COL_HEIGHT - COL_TOP - COL_BOTTOM
    out = []
    tick = 0.0
    while tick <= scale + 1e-9:
        y = COL_TOP + plot_h * (1 - tick / scale)
        out.append(
            f'<line x1="{COL_LEFT}" y1="{num(y)}" x2="{COL_WIDTH - COL_RIGHT}" y2="{num(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        out.append(
            svg_text(
                text(tick),
                x=COL_LEFT - 6,
                y=num(y + 4),
                font_size=11,
                fill=MUTED_COLOUR,
                text_anchor="end",
            )
        )
        tick += step
    return out


def _axis_x(labels: Sequence[str]) -> list[str]:
    count = len(labels)
    every = max(math.ceil(count / AXIS_LABELS), 1)
    out = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        left, width = _plot_x(index, count)
        out.append(
            svg_text(
                label,
                x=num(left + width / 2),
                y=COL_HEIGHT - 8,
                font_size=11,
                fill=MUTED_COLOUR,
                text_anchor="middle",
            )
        )
    return out


def stacked_column_chart(
    *,
    columns: Sequence[Column],
    series: Sequence[Series],
    chart_id: str,
    title: str,
    first_column: str,
) -> Chart:
    """Columns of stacked counts, one per day (or hour), the series bottom-up in order."""
    chart_id = svg_id(chart_id)
    totals = [sum(column.values) for column in columns]
    grand_total = sum(totals)
    series_totals = [sum(column.values[i] for column in columns) for i in range(len(series))]
    described = ", ".join(
        f"{number_text(total)} {entry.label.lower()}"
        for entry, total in zip(series, series_totals, strict=True)
        if total
    )
    busiest = max(range(len(columns)), key=lambda i: totals[i]) if columns else None
    description = f"{number_text(grand_total)} in {len(columns)} columns"
    if described:
        description += f": {described}"
    if busiest is not None and totals[busiest]:
        description += f". Busiest: {columns[busiest].title} with {number_text(totals[busiest])}"
    description += "."
    scale, step = nice_scale(max(totals, default=0))
    plot_h = COL_HEIGHT - COL_TOP - COL_BOTTOM
    out = [
        svg_open(
            chart_id=chart_id,
            width=COL_WIDTH,
            height=COL_HEIGHT,
            title=title,
            description=description,
        )
    ]
    out += _axis_y(scale=scale, step=step, text=number_text)
    for index, (column, total) in enumerate(zip(columns, totals, strict=True)):
        if not total:
            continue
        left, width = _plot_x(index, len(columns))
        parts = ", ".join(
            f"{number_text(value)} {entry.label.lower()}"
            for entry, value in zip(series, column.values, strict=True)
            if value
        )
        out.append('<g class="chart-column">')
        out.append(f"<title>{escape(f'{column.title}: {number_text(total)} ({parts})')}</title>")
        bottom = float(COL_TOP + plot_h)
        for entry, value in zip(series, column.values, strict=True):
            if not value:
                continue
            height = plot_h * value / scale
            bottom -= height
            out.append(
                f'<rect x="{num(left)}" y="{num(bottom)}" width="{num(width)}" '
                f'height="{num(height)}" fill="{entry.colour}"/>'
            )
        out.append("</g>")
    out += _axis_x([column.label for column in columns])
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text and attribute above is escaped
        title=title,
        description=description,
        columns=(first_column, *(entry.label for entry in series), "Total"),
        rows=tuple(
            (
                column.title,
                *(number_text(value) for value in column.values),
                number_text(total),
            )
            for column, total in zip(columns, totals, strict=True)
        ),
    )


# --- a rate over the same columns ----------------------------------------------------


@dataclass(frozen=True)
class RatePoint:
    label: str
    title: str
    rate: float | None  # 0..1; None: nothing to measure that day
    out_of: int  # what the rate was measured on


def rate_line_chart(
    *,
    points: Sequence[RatePoint],
    chart_id: str,
    title: str,
    first_column: str,
    threshold: float | None = None,
    threshold_text: str = "",
) -> Chart:
    """A 0-100% line over the columns of `stacked_column_chart`, broken where unknown."""
    chart_id = svg_id(chart_id)
    known = [p for p in points if p.rate is not None]
    if known:
        low = min(known, key=lambda p: p.rate or 0.0)
        description = (
            f"Measured on {len(known)} of {len(points)} columns; lowest "
            f"{percent_text(low.rate)} on {low.title}"
        )
    else:
        description = "No finished jobs in this period"
    if threshold is not None:
        description += f". {threshold_text}"
    description += "."
    plot_h = COL_HEIGHT - COL_TOP - COL_BOTTOM

    def y(rate: float) -> float:
        return COL_TOP + plot_h * (1 - min(max(rate, 0.0), 1.0))

    def x(index: int) -> float:
        left, width = _plot_x(index, len(points))
        return left + width / 2

    out = [
        svg_open(
            chart_id=chart_id,
            width=COL_WIDTH,
            height=COL_HEIGHT,
            title=title,
            description=description,
        )
    ]
    out += _axis_y(scale=1.0, step=0.25, text=lambda tick: percent_text(tick))
    if threshold is not None:
        ty = y(threshold)
        out.append(
            f'<line class="chart-threshold" x1="{COL_LEFT}" y1="{num(ty)}" '
            f'x2="{COL_WIDTH - COL_RIGHT}" y2="{num(ty)}" stroke="{TEXT_COLOUR}" '
            f'stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        out.append(
            svg_text(
                threshold_text,
                x=COL_WIDTH - COL_RIGHT - 4,
                y=num(ty + 14),
                font_size=11,
                font_weight=700,
                fill=TEXT_COLOUR,
                text_anchor="end",
            )
        )
    path: list[str] = []
    previous_known = False
    for index, point in enumerate(points):
        if point.rate is None:
            previous_known = False
            continue
        path.append(f"{'L' if previous_known else 'M'}{num(x(index))},{num(y(point.rate))}")
        previous_known = True
    if path:
        out.append(
            f'<path class="chart-rate-line" d="{" ".join(path)}" fill="none" '
            f'stroke="{LINE_COLOUR}" stroke-width="2" stroke-linejoin="round"/>'
        )
    radius = 3.5 if len(points) <= 40 else 2
    for index, point in enumerate(points):
        if point.rate is None:
            continue
        tip = f"{point.title}: {percent_text(point.rate)} of {number_text(point.out_of)}"
        out.append(
            f'<circle cx="{num(x(index))}" cy="{num(y(point.rate))}" r="{radius}" '
            f'fill="{LINE_COLOUR}"><title>{escape(tip)}</title></circle>'
        )
    out += _axis_x([point.label for point in points])
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text and attribute above is escaped
        title=title,
        description=description,
        columns=(first_column, "Success rate", "Finished jobs"),
        rows=tuple(
            (point.title, percent_text(point.rate), number_text(point.out_of)) for point in points
        ),
    )


# --- horizontal bars, grouped ----------------------------------------------------------

BAR_WIDTH = 480
BAR_LEFT = 4
BAR_PLOT = 290  # the rest of the width holds the values
BAR_LABEL = 16  # the group's name line
BAR_HEIGHT = 14
BAR_GAP = 4
GROUP_GAP = 12


@dataclass(frozen=True)
class BarGroup:
    label: str
    values: tuple[float | None, ...]  # one per series; None: unknown (no bar)
    texts: tuple[str, ...]  # how each value reads: "42 s", "97.5%", "—"


def bar_chart(
    *,
    groups: Sequence[BarGroup],
    series: Sequence[Series],
    chart_id: str,
    title: str,
    first_column: str,
    scale_max: float | None = None,
) -> Chart:
    """One line per group (a provider, a queue) with a bar per series, value at the end.

    Bars share one scale: `scale_max`, or the largest value.
    """
    chart_id = svg_id(chart_id)
    several = len(series) > 1

    def reads(entry: Series, text: str) -> str:
        return f"{entry.tag} {text}" if several else text

    description = (
        "; ".join(
            f"{group.label}: "
            + ", ".join(reads(entry, text) for entry, text in zip(series, group.texts, strict=True))
            for group in groups
        )
        or "Nothing in this period"
    ) + "."
    top = max((v for group in groups for v in group.values if v is not None), default=0.0)
    scale = scale_max if scale_max is not None else top
    group_height = BAR_LABEL + len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = max(group_height * len(groups), BAR_LABEL + BAR_HEIGHT + GROUP_GAP)
    out = [
        svg_open(
            chart_id=chart_id, width=BAR_WIDTH, height=height, title=title, description=description
        )
    ]
    if not groups:
        out.append(
            svg_text(
                "Nothing in this period", x=BAR_LEFT, y=BAR_LABEL, font_size=FONT, fill=MUTED_COLOUR
            )
        )
    for index, group in enumerate(groups):
        top_y = group_height * index
        out.append(
            svg_text(
                label_short(group.label),
                x=BAR_LEFT,
                y=top_y + BAR_LABEL - 4,
                font_size=FONT + 1,
                font_weight=600,
                fill=TEXT_COLOUR,
            )
        )
        for position, (entry, value, text) in enumerate(
            zip(series, group.values, group.texts, strict=True)
        ):
            bar_y = top_y + BAR_LABEL + position * (BAR_HEIGHT + BAR_GAP)
            out.append(f"<g {svg_attrs(class_=f'chart-bar chart-bar-{entry.key}')}>")
            out.append(f"<title>{escape(f'{group.label}, {reads(entry, text)}')}</title>")
            out.append(
                f'<rect x="{BAR_LEFT}" y="{bar_y}" width="{BAR_PLOT}" height="{BAR_HEIGHT}" '
                f'rx="2" fill="{TRACK_COLOUR}"/>'
            )
            if value and scale > 0:
                width = BAR_PLOT * min(max(value / scale, 0.0), 1.0)
                out.append(
                    f'<rect x="{BAR_LEFT}" y="{bar_y}" width="{num(max(width, 1.0))}" '
                    f'height="{BAR_HEIGHT}" rx="2" fill="{entry.colour}"/>'
                )
            out.append(
                svg_text(
                    reads(entry, text),
                    x=BAR_WIDTH - 2,
                    y=bar_y + BAR_HEIGHT - 3,
                    font_size=FONT,
                    font_weight=700 if position == 0 else 400,
                    fill=TEXT_COLOUR,
                    text_anchor="end",
                )
            )
            out.append("</g>")
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text and attribute above is escaped
        title=title,
        description=description,
        columns=(first_column, *(entry.label for entry in series)),
        rows=tuple((group.label, *group.texts) for group in groups),
    )


# --- the dashboard's charts ----------------------------------------------------------


@dataclass(frozen=True)
class DashboardCharts:
    activity: list[DashChart]  # jobs per day by status, success rate per day
    providers: list[DashChart]  # success rate, times, QA score, cost
    queues: list[DashChart]


def _status_columns(buckets: Sequence[JobsBucket], *, hourly: bool) -> list[Column]:
    return [
        Column(
            label=bucket_label(bucket.start, hourly=hourly),
            title=bucket_title(bucket.start, hourly=hourly),
            values=tuple(
                float(sum(bucket.by_status[status] for status in statuses))
                for _, statuses in STATUS_SERIES
            ),
        )
        for bucket in buckets
    ]


def dashboard_charts_build(*, dashboard: Dashboard) -> DashboardCharts:
    """Every chart of the dashboard page, from its figures (no queries)."""
    hourly = dashboard.period.hourly
    unit = "Hour" if hourly else "Day"
    per = "hour" if hourly else "day"
    series = [entry for entry, _ in STATUS_SERIES]
    threshold = float(settings.ALERT_MIN_SUCCESS_RATE)
    jobs = DashChart(
        chart=stacked_column_chart(
            columns=_status_columns(dashboard.buckets, hourly=hourly),
            series=series,
            chart_id="chart-jobs",
            title=f"Jobs per {per} by status",
            first_column=unit,
        ),
        legend=tuple(series),
        note="By the time each job was created; in-progress jobs are still being made.",
    )
    success = DashChart(
        chart=rate_line_chart(
            points=[
                RatePoint(
                    label=bucket_label(bucket.start, hourly=hourly),
                    title=bucket_title(bucket.start, hourly=hourly),
                    rate=bucket.success_rate,
                    out_of=bucket.by_status[JobStatus.READY] + bucket.by_status[JobStatus.FAILED],
                )
                for bucket in dashboard.buckets
            ],
            chart_id="chart-success",
            title=f"Success rate per {per}",
            first_column=unit,
            threshold=threshold,
            threshold_text=f"Alert below {percent_text(threshold)}",
        ),
        note="Ready jobs out of ready and failed ones (cancelled and unfinished jobs left out).",
    )

    providers = dashboard.metrics.providers
    provider_charts = [
        DashChart(
            chart=bar_chart(
                groups=[
                    BarGroup(
                        label=row.provider,
                        values=(row.success_rate,),
                        texts=(
                            f"{percent_text(row.success_rate)} of "
                            f"{number_text(row.succeeded + row.failed)}",
                        ),
                    )
                    for row in providers
                ],
                series=(Series("rate", "Success rate", "#047857"),),
                chart_id="chart-provider-success",
                title="Success rate by provider",
                first_column="Provider",
                scale_max=1.0,
            ),
            note="Succeeded attempts out of finished ones.",
        ),
        DashChart(
            chart=bar_chart(
                groups=[
                    BarGroup(
                        label=row.provider,
                        values=(row.median_seconds, row.p95_seconds),
                        texts=(seconds_text(row.median_seconds), seconds_text(row.p95_seconds)),
                    )
                    for row in providers
                ],
                series=(MEDIAN_SERIES, P95_SERIES),
                chart_id="chart-provider-seconds",
                title="Generation time by provider",
                first_column="Provider",
            ),
            legend=(MEDIAN_SERIES, P95_SERIES),
            note="Submit to checked video, succeeded attempts.",
        ),
        DashChart(
            chart=bar_chart(
                groups=[
                    BarGroup(
                        label=row.provider,
                        values=(row.mean_qa_score,),
                        texts=(score_text(row.mean_qa_score),),
                    )
                    for row in providers
                ],
                series=(Series("qa", "Mean QA score", "#7c3aed"),),
                chart_id="chart-provider-qa",
                title="Mean QA score by provider",
                first_column="Provider",
                scale_max=100.0,
            ),
            note="Every scored attempt, out of 100.",
        ),
        DashChart(
            chart=bar_chart(
                groups=[
                    BarGroup(
                        label=row.provider, values=(float(row.cost),), texts=(cost_text(row.cost),)
                    )
                    for row in providers
                ],
                series=(Series("cost", "Cost", "#b45309"),),
                chart_id="chart-provider-cost",
                title="Cost by provider",
                first_column="Provider",
            ),
            note="Sum of the attempts' cost, in the providers' billing currency.",
        ),
    ]
    queues = [
        DashChart(
            chart=bar_chart(
                groups=[
                    BarGroup(
                        label=queue.name,
                        values=(queue.queued, queue.running, queue.scheduled, queue.failed),
                        texts=tuple(
                            number_text(v)
                            for v in (queue.queued, queue.running, queue.scheduled, queue.failed)
                        ),
                    )
                    for queue in dashboard.queues
                ],
                series=QUEUE_SERIES,
                chart_id="chart-queues",
                title="Queue depth by queue",
                first_column="Queue",
            ),
            legend=QUEUE_SERIES,
            note="Right now, whatever the period.",
        )
    ]
    return DashboardCharts(activity=[jobs, success], providers=provider_charts, queues=queues)
