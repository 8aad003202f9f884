"""Server time and query count of the staff dashboard with 100,000 jobs.

Fills a throwaway database (fresh SQLite, embedded Redis) with jobs spread over
the last 90 days: a realistic mix of statuses, video types and providers, with
provider attempts carrying their seconds, cost and QA score (failed jobs tried
two or three times), a few open alerts and some queued RQ work. Then asks for
/admin/dashboard/ as staff through Django's test client, several times per
period, and prints the median server time and the number of queries; the same
for the selector alone (`dashboard_build`) to show where the time goes.

    python bench/dashboard.py [--jobs 100000] [--runs 7]

Prints figures only: no time is asserted anywhere.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

from _sandbox import bench_sandbox

BATCH = 5_000
PROVIDERS = {  # name: (share of jobs, median seconds, cost per minute, failure rate)
    "studio": (0.55, 45.0, Decimal("0"), 0.01),
    "heygen": (0.20, 140.0, Decimal("0.80"), 0.04),
    "did": (0.12, 110.0, Decimal("0.50"), 0.06),
    "runway": (0.08, 210.0, Decimal("1.20"), 0.08),
    "presgen_avatar": (0.05, 90.0, Decimal("0.30"), 0.03),
}
VIDEO_TYPES = {  # type: (share, seconds of video)
    "overview": (0.25, 180),
    "remediation": (0.40, 240),
    "motivational": (0.15, 60),
    "exam_prep": (0.12, 300),
    "practice_session": (0.06, 200),
    "celebration": (0.02, 45),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--queries", action="store_true", help="also print each query's time for 90 days"
    )
    args = parser.parse_args()
    with bench_sandbox(prefix="presgen-bench-dashboard-", LOG_LEVEL="WARNING"):
        return _run(jobs_wanted=args.jobs, runs=args.runs, show_queries=args.queries)


@contextmanager
def _auto_now_off(*fields: tuple[type, str]) -> Iterator[None]:
    """Let bulk_create keep the times we give (created_at, started_at are auto_now_add)."""
    saved = []
    for model, name in fields:
        field = model._meta.get_field(name)  # type: ignore[attr-defined]
        saved.append((field, field.auto_now_add))
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in saved:
            field.auto_now_add = value


def _pick(rng: random.Random, shares: dict[str, tuple]) -> str:  # type: ignore[type-arg]
    return rng.choices(list(shares), weights=[value[0] for value in shares.values()])[0]


def _fill(*, jobs_wanted: int, now: datetime) -> tuple[int, int]:
    from django.contrib.auth.hashers import make_password

    from presgen.models import User
    from videos.models import (
        Alert,
        AlertKind,
        AttemptStatus,
        GenerationAttempt,
        JobStatus,
        VideoJob,
    )

    rng = random.Random(8)
    unusable = make_password(None)  # learners who never log in here
    learners = User.objects.bulk_create(
        User(username=f"learner{n}", email=f"learner{n}@example.com", password=unusable)
        for n in range(1_000)
    )
    jobs_made = attempts_made = 0
    with _auto_now_off((VideoJob, "created_at"), (GenerationAttempt, "started_at")):
        while jobs_made < jobs_wanted:
            size = min(BATCH, jobs_wanted - jobs_made)
            jobs = []
            plans = []
            for _ in range(size):
                # More work lately (growth), and everything younger than an hour still moving.
                age = timedelta(days=90 * rng.random() ** 1.3)
                created = now - age
                provider = _pick(rng, PROVIDERS)
                video_type = _pick(rng, VIDEO_TYPES)
                _, median, per_minute, failure_rate = PROVIDERS[provider]
                if age < timedelta(hours=1):
                    status = rng.choice(
                        [
                            JobStatus.QUEUED,
                            JobStatus.SCRIPTING,
                            JobStatus.RENDERING,
                            JobStatus.CHECKING,
                            JobStatus.STORING,
                            JobStatus.READY,
                        ]
                    )
                else:
                    roll = rng.random()
                    status = (
                        JobStatus.FAILED
                        if roll < failure_rate
                        else JobStatus.CANCELLED
                        if roll < failure_rate + 0.02
                        else JobStatus.READY
                    )
                jobs.append(
                    VideoJob(
                        learner=rng.choice(learners),
                        video_type=video_type,
                        priority=rng.choice([1, 2, 2, 3, 4]),
                        status=status,
                        progress=100 if status == JobStatus.READY else 0,
                        provider=provider,
                        error="Provider returned 500 three times" if status == "failed" else "",
                        error_kind="retryable" if status == JobStatus.FAILED else "",
                        created_at=created,
                        started_at=created + timedelta(seconds=5),
                        finished_at=created + timedelta(seconds=median * 1.5)
                        if status in (JobStatus.READY, JobStatus.FAILED)
                        else None,
                    )
                )
                plans.append((status, provider, video_type, created))
            jobs = VideoJob.objects.bulk_create(jobs)
            attempts = []
            for job, (status, provider, video_type, created) in zip(jobs, plans, strict=True):
                if status in (JobStatus.QUEUED, JobStatus.SCRIPTING, JobStatus.CANCELLED):
                    continue
                _, median, per_minute, _ = PROVIDERS[provider]
                minutes = Decimal(VIDEO_TYPES[video_type][1]) / 60
                tries = rng.choice([2, 3]) if status == JobStatus.FAILED else 1
                for attempt_number in range(tries):
                    last = attempt_number == tries - 1
                    if status == JobStatus.READY and last:
                        outcome = AttemptStatus.SUCCEEDED
                    elif status == JobStatus.FAILED:
                        outcome = AttemptStatus.FAILED
                    elif last:
                        outcome = AttemptStatus.PROCESSING
                    else:
                        outcome = AttemptStatus.FAILED
                    finished = outcome in (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED)
                    seconds = rng.lognormvariate(0, 0.45) * median if finished else None
                    attempts.append(
                        GenerationAttempt(
                            job=job,
                            provider=provider,
                            status=outcome,
                            started_at=created + timedelta(seconds=10 + 300 * attempt_number),
                            finished_at=created + timedelta(seconds=10 + (seconds or 0))
                            if finished
                            else None,
                            seconds=seconds,
                            cost=(per_minute * minutes).quantize(Decimal("0.0001"))
                            if outcome == AttemptStatus.SUCCEEDED
                            else Decimal(0),
                            qa_score=min(100.0, rng.gauss(88, 6))
                            if outcome == AttemptStatus.SUCCEEDED
                            else None,
                        )
                    )
            GenerationAttempt.objects.bulk_create(attempts, batch_size=BATCH)
            jobs_made += size
            attempts_made += len(attempts)
    Alert.objects.create(
        kind=AlertKind.SLOW_GENERATION,
        provider="runway",
        message="Slow generation on runway: a job took 512 s (limit 90 s)",
    )
    Alert.objects.create(
        kind=AlertKind.LOW_SUCCESS_RATE, message="Success rate 97.0% over the last 200 jobs"
    )
    return jobs_made, attempts_made


def _measure(action: Callable[[], object], *, runs: int) -> tuple[float, int]:
    """(median milliseconds, queries of one run) of `action`, after one warm-up run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    action()
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            action()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(times), queries


def _run(*, jobs_wanted: int, runs: int, show_queries: bool) -> int:
    import django_rq
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from presgen.models import User
    from videos.dashboard import dashboard_build, period_recent
    from videos.models import GenerationAttempt, VideoJob

    now = timezone.now()
    started = time.perf_counter()
    jobs, attempts = _fill(jobs_wanted=jobs_wanted, now=now)
    print(
        f"filled {jobs:,} jobs and {attempts:,} attempts over 90 days "
        f"in {time.perf_counter() - started:.1f} s ({connection.vendor})"
    )
    assert VideoJob.objects.count() == jobs and GenerationAttempt.objects.count() == attempts
    queue = django_rq.get_queue("default")
    for n in range(40):
        queue.enqueue("videos.tasks.job_run_task", n)

    staff = User.objects.create_superuser("ops", "ops@example.com", "a-long-bench-password")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)

    print(f"\n{'period':<8} {'what':<30} {'median ms':>10} {'queries':>8}")
    for key in ("24h", "7d", "30d", "90d"):

        def page(key: str = key) -> None:
            response = client.get("/admin/dashboard/", {"period": key})
            if response.status_code != 200:
                raise SystemExit(f"the dashboard answered {response.status_code}")

        def selector(key: str = key) -> None:
            dashboard_build(period=period_recent(key=key))

        for what, action in (
            ("page (GET as staff)", page),
            ("selector (dashboard_build)", selector),
        ):
            ms, queries = _measure(action, runs=runs)
            print(f"{key:<8} {what:<30} {ms:>10.1f} {queries:>8}")
    if show_queries:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            dashboard_build(period=period_recent(key="90d"))
        print("\nthe selector's queries for 90 days (ms, SQL):")
        for query in captured.captured_queries:
            print(f"{float(query['time']) * 1000:8.1f}  {query['sql'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
