"""The staff dashboard's figures for a period, read in a fixed number of queries.

`dashboard_build` assembles everything the admin dashboard shows for a period:
the generation figures of `videos.metrics.generation_metrics` (jobs by status,
success rate, median and p95 generation time, mean QA score and cost, overall
and by provider), jobs per day (per hour for short periods) by status, the
slowest jobs and the latest failed ones, the open alerts and the depth of each
RQ queue. Every figure is aggregated in the database: the number of queries
does not grow with the number of jobs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from videos.metrics import (
    GenerationMetrics,
    JobsBucket,
    SlowJob,
    generation_metrics,
    jobs_failed_recent,
    jobs_per_day,
    jobs_slowest,
)
from videos.models import Alert, VideoJob

log = logging.getLogger(__name__)

# The period chooser: key -> (label, length). "custom" takes two dates.
PERIODS: dict[str, tuple[str, timedelta]] = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "90d": ("Last 90 days", timedelta(days=90)),
}
DEFAULT_PERIOD = "7d"
CUSTOM = "custom"
CUSTOM_MAX_DAYS = 366  # a year of daily bars is the most a chart shows legibly
HOURLY_UP_TO = timedelta(days=2)  # periods this short are charted per hour
LIST_LIMIT = 10  # slowest and failed jobs shown


@dataclass(frozen=True)
class Period:
    key: str  # a PERIODS key or CUSTOM
    label: str
    since: datetime  # aware; the period is [since, until)
    until: datetime
    since_day: date | None = None  # the dates a custom period was chosen by
    until_day: date | None = None

    @property
    def hourly(self) -> bool:
        """Short periods are charted per hour, longer ones per day."""
        return self.until - self.since <= HOURLY_UP_TO


def period_recent(*, key: str, now: datetime | None = None) -> Period:
    """The last 24 hours / 7 / 30 / 90 days up to now (an unknown key gives the default)."""
    now = now or timezone.now()
    if key not in PERIODS:
        key = DEFAULT_PERIOD
    label, length = PERIODS[key]
    return Period(key=key, label=label, since=now - length, until=now)


def period_custom(*, since_day: date, until_day: date) -> Period:
    """Whole local days from `since_day` through `until_day` (both included).

    The caller checks the dates (in order, at most CUSTOM_MAX_DAYS); see the view's form.
    """
    zone = timezone.get_current_timezone()
    since = datetime.combine(since_day, time(), tzinfo=zone)
    until = datetime.combine(until_day + timedelta(days=1), time(), tzinfo=zone)
    label = f"{_day_text(since_day)} to {_day_text(until_day)}"
    return Period(
        key=CUSTOM,
        label=label,
        since=since,
        until=until,
        since_day=since_day,
        until_day=until_day,
    )


def _day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class QueueDepth:
    name: str
    queued: int  # waiting for a worker
    running: int
    scheduled: int  # retries and status checks due later
    failed: int  # RQ's failed registry (tasks that raised)


def queues_depth() -> tuple[list[QueueDepth], str]:
    """Each RQ queue's depth, and an error message ("" when Redis answered)."""
    depths = []
    try:
        for name in settings.RQ_QUEUE_NAMES:
            queue = django_rq.get_queue(name)
            depths.append(
                QueueDepth(
                    name=name,
                    queued=queue.count,
                    running=queue.started_job_registry.count,
                    scheduled=queue.scheduled_job_registry.count,
                    failed=queue.failed_job_registry.count,
                )
            )
    except (RedisError, OSError) as error:
        log.warning("queue depth unavailable: %s", error)
        return [], f"Redis did not answer ({error.__class__.__name__}): queue depth unknown."
    return depths, ""


@dataclass(frozen=True)
class Dashboard:
    period: Period
    metrics: GenerationMetrics
    buckets: list[JobsBucket]  # per hour when period.hourly, else per local day
    slowest: list[SlowJob]
    failed: list[VideoJob]  # the newest failed jobs of the period
    alerts: list[Alert]  # every open alert, newest first (whatever the period)
    queues: list[QueueDepth]
    queues_error: str  # why the queues are unknown, "" when they are known


def dashboard_build(*, period: Period, limit: int = LIST_LIMIT) -> Dashboard:
    """Everything the staff dashboard shows for `period` (eight queries, plus Redis)."""
    since, until = period.since, period.until
    queues, queues_error = queues_depth()
    return Dashboard(
        period=period,
        metrics=generation_metrics(since=since, until=until),
        buckets=jobs_per_day(since=since, until=until, hourly=period.hourly),
        slowest=jobs_slowest(since=since, until=until, limit=limit),
        failed=jobs_failed_recent(since=since, until=until, limit=limit),
        alerts=list(Alert.objects.filter(resolved_at__isnull=True).order_by("-created_at", "-pk")),
        queues=queues,
        queues_error=queues_error,
    )
