"""Generation metrics for staff, against figures worked out by hand on a small data set."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from presgen.models import User
from tests.builders import user_build, video_job_build
from videos.metrics import generation_metrics
from videos.models import GenerationAttempt, VideoJob

pytestmark = pytest.mark.django_db

SINCE = timezone.make_aware(datetime(2025, 3, 1))
UNTIL = timezone.make_aware(datetime(2025, 4, 1))
INSIDE = SINCE + timedelta(days=3)
BEFORE = SINCE - timedelta(days=1)


def _job(learner: User, status: str, *, created: datetime = INSIDE) -> VideoJob:
    job = video_job_build(learner=learner, status=status)
    VideoJob.objects.filter(pk=job.pk).update(created_at=created)
    return job


def _attempt(
    job: VideoJob,
    provider: str,
    status: str,
    *,
    seconds: float | None = None,
    qa: float | None = None,
    cost: str = "0",
    started: datetime = INSIDE,
) -> GenerationAttempt:
    attempt = GenerationAttempt.objects.create(
        job=job, provider=provider, status=status, seconds=seconds, qa_score=qa, cost=Decimal(cost)
    )
    GenerationAttempt.objects.filter(pk=attempt.pk).update(started_at=started)
    return attempt


@pytest.fixture
def history() -> None:
    """March 2025: five studio/heygen attempts worth counting, and rows outside the period.

    studio, succeeded: 10, 20, 30, 40 s; QA 80, 90, 70 and one unscored; free.
    heygen: one success in 100 s (QA 60, $1.50), one failure after 5 s (QA 40, $0.25).
    Jobs created in March: 3 ready, 1 failed, 1 cancelled, 1 queued.
    """
    learner = user_build()
    ready = [_job(learner, "ready") for _ in range(3)]
    failed = _job(learner, "failed")
    _job(learner, "cancelled")
    _job(learner, "queued")
    _attempt(ready[0], "studio", "succeeded", seconds=10, qa=80)
    _attempt(ready[1], "studio", "succeeded", seconds=20, qa=90)
    _attempt(ready[2], "studio", "succeeded", seconds=40, qa=70)
    _attempt(failed, "studio", "succeeded", seconds=30)
    _attempt(ready[2], "heygen", "succeeded", seconds=100, qa=60, cost="1.50")
    _attempt(failed, "heygen", "failed", seconds=5, qa=40, cost="0.25")
    # Outside the period: a February job and attempt, and an attempt started on April 1st.
    old = _job(learner, "failed", created=BEFORE)
    _attempt(old, "heygen", "succeeded", seconds=999, qa=0, cost="50", started=BEFORE)
    _attempt(ready[0], "studio", "succeeded", seconds=999, qa=0, started=UNTIL)


def test_figures_match_the_hand_computed_ones(history: None) -> None:
    metrics = generation_metrics(since=SINCE, until=UNTIL)

    assert metrics.jobs_by_status == {
        "queued": 1,
        "scripting": 0,
        "rendering": 0,
        "checking": 0,
        "storing": 0,
        "ready": 3,
        "failed": 1,
        "cancelled": 1,
    }
    assert metrics.jobs_total == 6
    assert metrics.success_rate == pytest.approx(0.75)  # 3 ready of 4 finished
    assert metrics.attempts == 6
    # succeeded seconds 10, 20, 30, 40, 100: median 30; p95 at position 3.8 -> 40 + 0.8 * 60
    assert metrics.median_seconds == pytest.approx(30)
    assert metrics.p95_seconds == pytest.approx(88)
    assert metrics.mean_qa_score == pytest.approx((80 + 90 + 70 + 60 + 40) / 5)
    assert metrics.cost == Decimal("1.75")
    assert metrics.cost_by_provider == {"heygen": Decimal("1.75"), "studio": Decimal("0")}

    heygen, studio = metrics.providers
    assert (heygen.provider, heygen.attempts, heygen.succeeded, heygen.failed) == (
        "heygen",
        2,
        1,
        1,
    )
    assert heygen.success_rate == pytest.approx(0.5)
    assert heygen.median_seconds == pytest.approx(100)  # the failure's 5 s do not count
    assert heygen.p95_seconds == pytest.approx(100)
    assert heygen.mean_qa_score == pytest.approx(50)
    assert (studio.provider, studio.attempts, studio.succeeded, studio.failed) == (
        "studio",
        4,
        4,
        0,
    )
    assert studio.success_rate == 1.0
    # 10, 20, 30, 40: median 25; p95 at position 2.85 -> 30 + 0.85 * 10
    assert studio.median_seconds == pytest.approx(25)
    assert studio.p95_seconds == pytest.approx(38.5)
    assert studio.mean_qa_score == pytest.approx(80)


def test_one_provider_only(history: None) -> None:
    metrics = generation_metrics(since=SINCE, until=UNTIL, provider="heygen")

    assert metrics.provider == "heygen"
    # the March jobs that had a heygen attempt: ready[2] and the failed one
    assert metrics.jobs_total == 2
    assert (metrics.jobs_by_status["ready"], metrics.jobs_by_status["failed"]) == (1, 1)
    assert metrics.success_rate == pytest.approx(0.5)
    assert [row.provider for row in metrics.providers] == ["heygen"]
    assert metrics.median_seconds == pytest.approx(100)
    assert metrics.mean_qa_score == pytest.approx(50)
    assert metrics.cost == Decimal("1.75")


def test_an_empty_period_has_no_rates_and_no_times(history: None) -> None:
    later = UNTIL + timedelta(days=60)
    metrics = generation_metrics(since=later, until=later + timedelta(days=1))

    assert metrics.jobs_total == 0
    assert metrics.success_rate is None
    assert metrics.attempts == 0
    assert metrics.median_seconds is None
    assert metrics.p95_seconds is None
    assert metrics.mean_qa_score is None
    assert metrics.cost == Decimal(0)
    assert metrics.providers == []


def test_an_unknown_provider_has_zero_figures(history: None) -> None:
    metrics = generation_metrics(since=SINCE, until=UNTIL, provider="nobody")

    assert metrics.jobs_total == 0
    assert metrics.providers == []


def test_a_single_attempt_is_its_own_median_and_p95() -> None:
    job = _job(user_build(), "ready")
    _attempt(job, "studio", "succeeded", seconds=42.5)

    metrics = generation_metrics(since=SINCE, until=UNTIL)

    assert metrics.median_seconds == pytest.approx(42.5)
    assert metrics.p95_seconds == pytest.approx(42.5)


def test_percentiles_of_many_attempts_match_a_plain_computation() -> None:
    job = _job(user_build(), "ready")
    seconds = [float((i * 37) % 101) for i in range(1, 61)]  # 60 values in a scrambled order
    for value in seconds:
        _attempt(job, "studio", "succeeded", seconds=value)
    ordered = sorted(seconds)

    def expected(p: float) -> float:
        position = (len(ordered) - 1) * p
        low = int(position)
        return ordered[low] + (ordered[min(low + 1, len(ordered) - 1)] - ordered[low]) * (
            position - low
        )

    metrics = generation_metrics(since=SINCE, until=UNTIL)

    assert metrics.median_seconds == pytest.approx(expected(0.5))
    assert metrics.p95_seconds == pytest.approx(expected(0.95))


def test_the_query_count_does_not_grow_with_the_rows(django_assert_num_queries) -> None:
    learner = user_build()
    for n in range(30):
        job = _job(learner, "ready")
        _attempt(job, "studio" if n % 2 else "heygen", "succeeded", seconds=n + 1, qa=50)

    with django_assert_num_queries(3):
        generation_metrics(since=SINCE, until=UNTIL)
