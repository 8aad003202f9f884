"""Reads for staff: how generation went over a period, overall and by provider.

`generation_metrics` answers, for jobs created and provider attempts started in
[since, until):

- jobs by status, and the jobs' success rate: ready / (ready + failed)
  (cancelled and unfinished jobs say nothing about the providers);
- generation seconds (median and 95th percentile) of succeeded attempts: the
  time from submit to a checked video that the pipeline records in
  `GenerationAttempt.seconds`;
- the mean QA score of every attempt that was scored (a video that failed its
  checks counts too: it is what the provider produced);
- cost, overall and by provider; per provider also attempts, successes,
  failures and the attempts' success rate.

Everything is aggregated in the database in three queries whatever the number
of rows. Percentiles are computed portably (SQLite has no PERCENTILE_CONT): the
succeeded attempts are counted by provider, the values at the two ranks closest
to each wanted position are read by rank through an index (no sort of the
period), and the value is interpolated between them, as PostgreSQL's
PERCENTILE_CONT (and numpy's default) does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from videos.models import AttemptStatus, GenerationAttempt, JobStatus, VideoJob

MEDIAN = Fraction(1, 2)
P95 = Fraction(95, 100)
_PERCENTILES = (MEDIAN, P95)


@dataclass(frozen=True)
class ProviderMetrics:
    provider: str
    attempts: int
    succeeded: int
    failed: int
    success_rate: float | None  # succeeded / (succeeded + failed); None when none finished
    median_seconds: float | None
    p95_seconds: float | None
    mean_qa_score: float | None
    cost: Decimal


@dataclass(frozen=True)
class GenerationMetrics:
    since: datetime
    until: datetime
    provider: str | None
    jobs_by_status: dict[str, int]  # every JobStatus value, zeros included
    jobs_total: int
    success_rate: float | None  # jobs: ready / (ready + failed); None when none finished
    attempts: int
    median_seconds: float | None
    p95_seconds: float | None
    mean_qa_score: float | None
    cost: Decimal
    providers: list[ProviderMetrics] = field(default_factory=list)  # by provider name

    @property
    def cost_by_provider(self) -> dict[str, Decimal]:
        return {row.provider: row.cost for row in self.providers}


def percentile_interpolate(values_by_rank: dict[int, float], *, count: int, p: Fraction) -> float:
    """The p-th percentile of `count` sorted values, from the values at 1-based ranks.

    Linear interpolation between the closest ranks (PERCENTILE_CONT): the 0-based
    position is (count - 1) * p. `values_by_rank` must hold the ranks either side.
    """
    position = (count - 1) * p
    lower = math.floor(position)
    upper = math.ceil(position)
    low_value = values_by_rank[lower + 1]
    high_value = values_by_rank[upper + 1]
    return float(low_value + (high_value - low_value) * float(position - lower))


def _value_at(rows: QuerySet[GenerationAttempt], *, index: int, count: int) -> QuerySet[Any]:
    """The seconds at 0-based `index` of `count` rows sorted by seconds, as a one-row query.

    Read from the nearer end (a p95 counts back from the top), so with the index
    on (status, provider, seconds, started_at) or (status, seconds, started_at)
    the database walks part of an index and sorts nothing.
    """
    if index < count / 2:
        return rows.order_by("seconds").values_list("seconds")[index : index + 1]
    back = count - 1 - index
    return rows.order_by("-seconds").values_list("seconds")[back : back + 1]


def _seconds_percentiles(
    attempts: QuerySet[GenerationAttempt], *, provider_counts: dict[str, int]
) -> tuple[dict[Fraction, float], dict[str, dict[Fraction, float]]]:
    """Median and p95 of succeeded attempts' seconds: overall, and by provider. One query.

    `provider_counts`: how many succeeded attempts with a time each provider has.
    The values at the ranks either side of each wanted position are read by
    rank, every one a scalar subquery (ORDER BY seconds LIMIT 1 OFFSET rank) of
    a single SELECT. (Numbering a whole period with window functions sorted it
    four times: seconds on 100,000 attempts.)
    """
    timed = attempts.filter(status=AttemptStatus.SUCCEEDED, seconds__isnull=False).order_by()
    provider_counts = {provider: n for provider, n in provider_counts.items() if n}
    groups: list[tuple[str | None, QuerySet[GenerationAttempt], int]] = [
        (None, timed, sum(provider_counts.values()))
    ]
    groups += [
        (provider, timed.filter(provider=provider), count)
        for provider, count in sorted(provider_counts.items())
    ]
    wanted: list[tuple[str | None, int]] = []  # (provider or None for all, 0-based index)
    subqueries: list[QuerySet[Any]] = []
    for provider, rows, count in groups:
        indexes: set[int] = set()
        for p in _PERCENTILES if count else ():
            position = (count - 1) * p
            indexes |= {math.floor(position), math.ceil(position)}
        for index in sorted(indexes):
            wanted.append((provider, index))
            subqueries.append(_value_at(rows, index=index, count=count))

    values: dict[str | None, dict[int, float]] = defaultdict(dict)
    if subqueries:
        parts, params = [], []
        for subquery in subqueries:
            sql, sub_params = subquery.query.get_compiler(using=subquery.db).as_sql()
            parts.append(f"({sql})")
            params.extend(sub_params)
        with connections[timed.db].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts)}", params)
            row = cursor.fetchone()
        for (provider, index), value in zip(wanted, row, strict=True):
            if value is not None:  # rows deleted since they were counted
                values[provider][index + 1] = float(value)  # 1-based ranks

    def pick(provider: str | None, count: int) -> dict[Fraction, float]:
        try:
            return {
                p: percentile_interpolate(values[provider], count=count, p=p) for p in _PERCENTILES
            }
        except KeyError:  # nothing timed, or a rank read after rows were deleted
            return {}

    overall_count = groups[0][2]
    return pick(None, overall_count), {
        provider: pick(provider, count) for provider, count in provider_counts.items()
    }


def _rate(good: int, bad: int) -> float | None:
    return good / (good + bad) if good + bad else None


def generation_metrics(
    *, since: datetime, until: datetime, provider: str | None = None
) -> GenerationMetrics:
    """Generation figures for [since, until), optionally for one provider (see the module doc)."""
    attempts = GenerationAttempt.objects.filter(started_at__gte=since, started_at__lt=until)
    jobs = VideoJob.objects.filter(created_at__gte=since, created_at__lt=until)
    if provider:
        attempts = attempts.filter(provider=provider)
        jobs = jobs.filter(
            Exists(GenerationAttempt.objects.filter(job=OuterRef("pk"), provider=provider))
        )

    counts = dict(
        jobs.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    jobs_by_status = {status: int(counts.get(status, 0)) for status in JobStatus.values}

    provider_rows = list(
        attempts.order_by()
        .values("provider")
        .annotate(
            attempts=Count("pk"),
            succeeded=Count("pk", filter=Q(status=AttemptStatus.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=AttemptStatus.FAILED)),
            qa_sum=Sum("qa_score"),
            qa_count=Count("qa_score"),
            timed=Count("seconds", filter=Q(status=AttemptStatus.SUCCEEDED)),
            cost=Sum("cost"),
        )
        .order_by("provider")
    )
    overall_percentiles, provider_percentiles = _seconds_percentiles(
        attempts, provider_counts={row["provider"]: row["timed"] for row in provider_rows}
    )

    providers = []
    qa_sum, qa_count, cost_total = 0.0, 0, Decimal(0)
    for row in provider_rows:
        figures = provider_percentiles.get(row["provider"], {})
        cost = row["cost"] or Decimal(0)
        providers.append(
            ProviderMetrics(
                provider=row["provider"],
                attempts=row["attempts"],
                succeeded=row["succeeded"],
                failed=row["failed"],
                success_rate=_rate(row["succeeded"], row["failed"]),
                median_seconds=figures.get(MEDIAN),
                p95_seconds=figures.get(P95),
                mean_qa_score=row["qa_sum"] / row["qa_count"] if row["qa_count"] else None,
                cost=cost,
            )
        )
        qa_sum += float(row["qa_sum"] or 0.0)
        qa_count += row["qa_count"]
        cost_total += cost

    return GenerationMetrics(
        since=since,
        until=until,
        provider=provider or None,
        jobs_by_status=jobs_by_status,
        jobs_total=sum(jobs_by_status.values()),
        success_rate=_rate(jobs_by_status[JobStatus.READY], jobs_by_status[JobStatus.FAILED]),
        attempts=sum(row.attempts for row in providers),
        median_seconds=overall_percentiles.get(MEDIAN),
        p95_seconds=overall_percentiles.get(P95),
        mean_qa_score=qa_sum / qa_count if qa_count else None,
        cost=cost_total,
        providers=providers,
    )


# --- the staff dashboard's other reads -----------------------------------------------
#
# Jobs per day (or hour) by status, the slowest jobs and the latest failures of a
# period: one or two queries each, whatever the number of rows.


@dataclass(frozen=True)
class JobsBucket:
    """Jobs created in one local day (or one hour) of a period, by status."""

    start: datetime  # the day's local midnight or the hour's start, in the current time zone
    by_status: dict[str, int]  # every JobStatus value, zeros included

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def success_rate(self) -> float | None:
        """ready / (ready + failed), as `generation_metrics` counts it; None when none finished."""
        return _rate(self.by_status[JobStatus.READY], self.by_status[JobStatus.FAILED])


class _HoursSince(Func):
    """Whole hours from `origin` (a UTC hour) to a datetime column, computed in the database.

    Portable truncation (TruncDate, TruncHour) runs a Python function per row on
    SQLite, far too slow over 100,000 jobs. SQLite keeps datetimes as UTC text, so
    strftime('%s') gives the epoch in C; PostgreSQL extracts the epoch.
    """

    output_field = IntegerField()

    def __init__(self, expression: Any, *, origin: datetime) -> None:
        super().__init__(expression)
        self.origin_epoch = int(origin.timestamp())

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:
        raise NotSupportedError(f"hour buckets are not written for {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"((CAST(strftime('%%s', {column}) AS INTEGER) - %s) / 3600)"
        return sql, (*params, self.origin_epoch)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"CAST(FLOOR((EXTRACT(EPOCH FROM {column}) - %s) / 3600) AS INTEGER)"
        return sql, (*params, self.origin_epoch)


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def jobs_per_day(*, since: datetime, until: datetime, hourly: bool = False) -> list[JobsBucket]:
    """Jobs created in [since, until) by status, per local day (or per hour), oldest first.

    Every day (hour) of the period has its bucket, empty ones too. One query: the
    database counts jobs per whole hour since the period's first hour and status
    (at most 24 x 8 rows a day); Python adds the hours up into the current time
    zone's days, so days follow local midnight across daylight-saving changes (in
    the rare zones whose offset is not whole hours, a day's edge is the nearest
    hour). The first and last day may be partly outside the period.
    """
    origin = _hour_floor(since)
    rows = (
        VideoJob.objects.filter(created_at__gte=since, created_at__lt=until)
        .order_by()
        .annotate(hour=_HoursSince(F("created_at"), origin=origin))
        .values("hour", "status")
        .annotate(n=Count("pk"))
        .values_list("hour", "status", "n")
    )
    zone = timezone.get_current_timezone()
    hours = math.ceil((until - origin).total_seconds() / 3600)

    def start_of(hour: int) -> datetime:
        moment = (origin + timedelta(hours=hour)).astimezone(zone)
        return moment if hourly else datetime.combine(moment.date(), time(), tzinfo=zone)

    statuses = JobStatus.values  # (computed on every access)
    bucket_of = [start_of(hour) for hour in range(hours)]
    buckets: dict[datetime, dict[str, int]] = {}
    for start in bucket_of:
        if start not in buckets:
            buckets[start] = dict.fromkeys(statuses, 0)
    for hour, status, n in rows:
        start = bucket_of[hour] if 0 <= hour < hours else start_of(int(hour))
        counts = buckets.setdefault(start, dict.fromkeys(statuses, 0))
        counts[status] = counts.get(status, 0) + int(n)
    return [JobsBucket(start=start, by_status=counts) for start, counts in sorted(buckets.items())]


@dataclass(frozen=True)
class SlowJob:
    job: VideoJob  # with its learner
    seconds: float  # its longest provider attempt started in the period
    attempts: int  # its attempts started in the period that recorded a time


def jobs_slowest(*, since: datetime, until: datetime, limit: int = 10) -> list[SlowJob]:
    """The jobs whose longest provider attempt started in [since, until) took longest.

    Any attempt with a recorded time counts (a failed one too: a provider that
    takes ten minutes to fail is slow). Two queries: the slowest attempts (a
    top-N read, no grouping of the whole period), then their jobs with the
    number of their timed attempts. Only when a few jobs hold all of the
    `limit` x 10 slowest attempts does a third query group attempts by job.
    """
    timed = GenerationAttempt.objects.filter(
        started_at__gte=since, started_at__lt=until, seconds__isnull=False
    ).order_by()
    window = limit * 10
    candidates = list(timed.order_by("-seconds", "pk").values_list("job", "seconds")[:window])
    longest: dict[int, float] = {}
    for job_id, seconds in candidates:
        if len(longest) == limit:
            break
        if job_id not in longest and seconds is not None:
            longest[job_id] = float(seconds)
    if len(longest) < limit and len(candidates) == window:
        rows = (timed.values("job").annotate(longest=Max("seconds")).order_by("-longest", "job"))[
            :limit
        ]
        longest = {row["job"]: float(row["longest"]) for row in rows}
    in_period = Q(
        attempts__started_at__gte=since,
        attempts__started_at__lt=until,
        attempts__seconds__isnull=False,
    )
    jobs = (
        VideoJob.objects.select_related("learner")
        .annotate(timed_attempts=Count("attempts", filter=in_period))
        .in_bulk(list(longest))
    )
    return [
        SlowJob(job=jobs[job_id], seconds=seconds, attempts=jobs[job_id].timed_attempts)
        for job_id, seconds in longest.items()
        if job_id in jobs
    ]


def jobs_failed_recent(*, since: datetime, until: datetime, limit: int = 10) -> list[VideoJob]:
    """Failed jobs created in [since, until), the newest first, with their learner. One query."""
    return list(
        VideoJob.objects.filter(
            status=JobStatus.FAILED, created_at__gte=since, created_at__lt=until
        )
        .select_related("learner")
        .order_by("-created_at", "-pk")[:limit]
    )
