"""The staff dashboard (/admin/dashboard/): figures worked out by hand, who may see it, bad input.

The small data set is three days of March 2025 (UTC): what each figure must be
is written next to the rows that make it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import django_rq
import lxml.html
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from presgen.models import User
from tests.builders import user_build, video_job_build
from videos.dashboard import dashboard_build, period_custom, period_recent
from videos.metrics import jobs_per_day, jobs_slowest
from videos.models import Alert, AlertKind, GenerationAttempt, JobStatus, VideoJob

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"
MARCH = {"period": "custom", "since": "2025-03-01", "until": "2025-03-03"}
DAY1 = timezone.make_aware(datetime(2025, 3, 1, 9, 0))
DAY2 = timezone.make_aware(datetime(2025, 3, 2, 15, 30))


def _job(learner: User, status: str, *, created: datetime, **fields: object) -> VideoJob:
    job = video_job_build(learner=learner, status=status, **fields)
    VideoJob.objects.filter(pk=job.pk).update(created_at=created)
    job.refresh_from_db()
    return job


def _attempt(
    job: VideoJob,
    provider: str,
    status: str,
    *,
    seconds: float | None,
    started: datetime,
    qa: float | None = None,
    cost: str = "0",
) -> GenerationAttempt:
    attempt = GenerationAttempt.objects.create(
        job=job, provider=provider, status=status, seconds=seconds, qa_score=qa, cost=Decimal(cost)
    )
    GenerationAttempt.objects.filter(pk=attempt.pk).update(started_at=started)
    return attempt


class March:
    """The data set: jobs and attempts of 1-3 March 2025, and rows that must be left out."""

    def __init__(self) -> None:
        self.learner = user_build(username="grace", display_name="Grace")
        # 1 March: two ready jobs, one failed.
        self.fast = _job(self.learner, JobStatus.READY, created=DAY1, provider="studio")
        self.middle = _job(self.learner, JobStatus.READY, created=DAY1, provider="studio")
        self.broken = _job(
            self.learner,
            JobStatus.FAILED,
            created=DAY1 + timedelta(hours=2),
            provider="heygen",
            error="HeyGen refused the avatar",
            error_kind="permanent",
        )
        # 2 March: one ready, one cancelled, one still rendering. 3 March: nothing.
        self.slowest_ready = _job(self.learner, JobStatus.READY, created=DAY2, provider="studio")
        _job(self.learner, JobStatus.CANCELLED, created=DAY2)
        _job(self.learner, JobStatus.RENDERING, created=DAY2)
        # studio: 10 s, 30 s, 50 s, all succeeded, QA 90, 80, 70, free.
        # -> median 30 s; p95 at rank (3 - 1) x 0.95 = 1.9: 30 + 0.9 x 20 = 48 s; mean QA 80.
        _attempt(self.fast, "studio", "succeeded", seconds=10, qa=90, started=DAY1)
        _attempt(self.middle, "studio", "succeeded", seconds=30, qa=80, started=DAY1)
        _attempt(self.slowest_ready, "studio", "succeeded", seconds=50, qa=70, started=DAY2)
        # heygen: the failed job's two attempts, 120 s and 200 s, cost 0.40 + 0.60.
        _attempt(self.broken, "heygen", "failed", seconds=120, cost="0.40", started=DAY1)
        _attempt(self.broken, "heygen", "failed", seconds=200, cost="0.60", started=DAY1)
        # Outside the period: a job of 28 February (with a 999 s attempt) and one of 4 March.
        before = timezone.make_aware(datetime(2025, 2, 28, 23, 59))
        self.old = _job(self.learner, JobStatus.READY, created=before)
        _attempt(self.old, "heygen", "succeeded", seconds=999, qa=10, cost="9", started=before)
        self.later = _job(
            self.learner, JobStatus.FAILED, created=timezone.make_aware(datetime(2025, 3, 4))
        )
        # Alerts: one open, one resolved.
        self.alert = Alert.objects.create(
            kind=AlertKind.SLOW_GENERATION,
            provider="heygen",
            job=self.broken,
            message="Slow generation on heygen: job took 200 s (limit 90 s)",
        )
        Alert.objects.create(
            kind=AlertKind.LOW_QUALITY,
            provider="studio",
            message="An old quality alert, resolved",
            resolved_at=timezone.now(),
        )


@pytest.fixture
def march() -> March:
    return March()


@pytest.fixture
def staff(rq_queues) -> Client:
    """A logged-in superuser; the queues are the tests' own (empty) Redis queues."""
    client = Client()
    client.force_login(user_build(username="ops", is_staff=True, is_superuser=True))
    return client


def _page(response) -> lxml.html.HtmlElement:  # type: ignore[no-untyped-def]
    return lxml.html.fromstring(response.content.decode())


def _rows(page: lxml.html.HtmlElement, table_xpath: str) -> list[list[str]]:
    table = page.xpath(table_xpath)
    assert len(table) == 1, f"expected one table at {table_xpath}"
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("th|td")]
        for row in table[0].xpath(".//tbody/tr")
    ]


def _chart_rows(page: lxml.html.HtmlElement, title: str) -> list[list[str]]:
    return _rows(page, f'//figure[.//h3[normalize-space()="{title}"]]//table')


def _figures(page: lxml.html.HtmlElement) -> dict[str, str]:
    return {
        div.xpath("dt")[0].text_content().strip(): div.xpath("dd")[0].text_content().strip()
        for div in page.xpath('//dl[@id="dashboard-figures"]/div')
    }


# --- the figures -----------------------------------------------------------------------


def test_the_dashboards_figures_match_the_hand_computed_ones(march: March) -> None:
    board = dashboard_build(
        period=period_custom(since_day=date(2025, 3, 1), until_day=date(2025, 3, 3))
    )

    metrics = board.metrics
    assert metrics.jobs_total == 6
    assert metrics.success_rate == pytest.approx(3 / 4)
    assert metrics.median_seconds == pytest.approx(30)
    assert metrics.p95_seconds == pytest.approx(48)
    assert metrics.mean_qa_score == pytest.approx(80)
    assert metrics.cost == Decimal("1.00")
    assert metrics.cost_by_provider == {"heygen": Decimal("1.00"), "studio": Decimal("0")}

    assert [bucket.start.date() for bucket in board.buckets] == [
        date(2025, 3, 1),
        date(2025, 3, 2),
        date(2025, 3, 3),
    ]
    day1, day2, day3 = (bucket.by_status for bucket in board.buckets)
    assert (day1["ready"], day1["failed"], sum(day1.values())) == (2, 1, 3)
    assert (day2["ready"], day2["cancelled"], day2["rendering"], sum(day2.values())) == (1, 1, 1, 3)
    assert sum(day3.values()) == 0
    assert [bucket.success_rate for bucket in board.buckets] == [
        pytest.approx(2 / 3),
        1.0,
        None,
    ]

    # The failed job's longest attempt (200 s) first; the February job's 999 s is outside.
    assert [(slow.job, slow.seconds, slow.attempts) for slow in board.slowest] == [
        (march.broken, 200.0, 2),
        (march.slowest_ready, 50.0, 1),
        (march.middle, 30.0, 1),
        (march.fast, 10.0, 1),
    ]
    assert board.failed == [march.broken]  # the 4 March failure is after the period
    assert board.alerts == [march.alert]


def test_a_job_with_many_slow_attempts_is_listed_once() -> None:
    """Its attempts fill the slowest-attempts window: the jobs are then grouped exactly."""
    learner = user_build()
    stubborn = _job(learner, JobStatus.FAILED, created=DAY1)
    quick = _job(learner, JobStatus.READY, created=DAY1)
    quicker = _job(learner, JobStatus.READY, created=DAY1)
    for n in range(25):
        _attempt(stubborn, "heygen", "failed", seconds=100 + n, started=DAY1)
    _attempt(quick, "studio", "succeeded", seconds=50, started=DAY1)
    _attempt(quicker, "studio", "succeeded", seconds=20, started=DAY1)

    slowest = jobs_slowest(since=DAY1 - timedelta(hours=1), until=DAY2, limit=2)

    assert [(slow.job, slow.seconds, slow.attempts) for slow in slowest] == [
        (stubborn, 124.0, 25),
        (quick, 50.0, 1),
    ]


def test_the_page_shows_the_figures_charts_and_links(staff: Client, march: March) -> None:
    response = staff.get(URL, MARCH)

    assert response.status_code == 200
    page = _page(response)
    assert page.xpath("//h1")[0].text_content() == "Dashboard"
    assert _figures(page) == {
        "Jobs": "6",
        "Success rate": "75%",
        "Median generation time": "30 s",
        "95th percentile": "48 s",
        "Mean QA score": "80/100",
        "Cost": "1.00",
        "Provider attempts": "5",
    }
    assert _rows(page, '//table[@id="provider-table"]') == [
        ["heygen", "2", "0", "2", "0%", "—", "—", "—", "1.00"],
        ["studio", "3", "3", "0", "100%", "30 s", "48 s", "80/100", "0.00"],
    ]
    # Every chart is an SVG image with a title, and the same numbers in a table.
    for title in (
        "Jobs per day by status",
        "Success rate per day",
        "Success rate by provider",
        "Generation time by provider",
        "Mean QA score by provider",
        "Cost by provider",
        "Queue depth by queue",
    ):
        svg = page.xpath(f'//figure[.//h3[normalize-space()="{title}"]]//svg[@role="img"]')
        assert len(svg) == 1, title
        assert svg[0].xpath("title")[0].text == title
    assert _chart_rows(page, "Jobs per day by status") == [
        # Day, ready, failed, cancelled, in progress, queued, total
        ["1 Mar 2025", "2", "1", "0", "0", "0", "3"],
        ["2 Mar 2025", "1", "0", "1", "1", "0", "3"],
        ["3 Mar 2025", "0", "0", "0", "0", "0", "0"],
    ]
    assert _chart_rows(page, "Success rate per day") == [
        ["1 Mar 2025", "66.7%", "3"],
        ["2 Mar 2025", "100%", "1"],
        ["3 Mar 2025", "—", "0"],
    ]
    assert _chart_rows(page, "Generation time by provider") == [
        ["heygen", "—", "—"],
        ["studio", "30 s", "48 s"],
    ]

    slowest = _rows(page, '//table[@id="slowest-jobs"]')
    assert [row[:3] for row in slowest] == [
        [f"#{march.broken.pk}", "3 min 20 s", "2"],
        [f"#{march.slowest_ready.pk}", "50 s", "1"],
        [f"#{march.middle.pk}", "30 s", "1"],
        [f"#{march.fast.pk}", "10 s", "1"],
    ]
    job_links = page.xpath('//table[@id="slowest-jobs"]//tbody//a/@href')
    assert job_links[0] == f"/admin/videos/videojob/{march.broken.pk}/change/"

    failed = _rows(page, '//table[@id="failed-jobs"]')
    assert len(failed) == 1
    assert failed[0][0] == f"#{march.broken.pk}"
    assert "HeyGen refused the avatar" in failed[0][-1]
    all_failed = page.xpath('//a[normalize-space()="All failed jobs of the period"]/@href')[0]
    listed = staff.get(all_failed)
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == [march.broken]

    alerts = page.xpath('//ul[@id="open-alerts"]/li')
    assert len(alerts) == 1
    assert "Slow generation on heygen" in alerts[0].text_content()
    assert "An old quality alert" not in response.content.decode()
    assert page.xpath('//ul[@id="open-alerts"]//a/@href')[:2] == [
        f"/admin/videos/alert/{march.alert.pk}/change/",
        f"/admin/videos/videojob/{march.broken.pk}/change/",
    ]


def test_an_empty_period_says_so(staff: Client) -> None:
    response = staff.get(URL, {"period": "30d"})

    assert response.status_code == 200
    page = _page(response)
    assert _figures(page)["Jobs"] == "0"
    assert _figures(page)["Success rate"] == "—"
    text = " ".join(page.text_content().split())
    assert "No provider attempts started in this period." in text
    assert "No failed jobs in this period." in text
    assert "No open alerts." in text
    assert len(_chart_rows(page, "Jobs per day by status")) in (30, 31)


def test_days_follow_local_midnight_across_a_daylight_saving_change() -> None:
    """Paris moved its clocks forward on 30 March 2025 (UTC+1 to UTC+2)."""
    learner = user_build()
    for moment in (
        datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # 30 March 00:30 in Paris (UTC+1)
        datetime(2025, 3, 30, 21, 30, tzinfo=UTC),  # 30 March 23:30 in Paris (UTC+2)
        datetime(2025, 3, 30, 22, 30, tzinfo=UTC),  # 31 March 00:30 in Paris
    ):
        _job(learner, JobStatus.READY, created=moment)

    with timezone.override("Europe/Paris"):
        period = period_custom(since_day=date(2025, 3, 29), until_day=date(2025, 3, 31))
        buckets = jobs_per_day(since=period.since, until=period.until)

    assert [(bucket.start.date(), bucket.total) for bucket in buckets] == [
        (date(2025, 3, 29), 0),
        (date(2025, 3, 30), 2),
        (date(2025, 3, 31), 1),
    ]


def test_the_last_24_hours_are_charted_per_hour(staff: Client) -> None:
    learner = user_build()
    now = timezone.now()
    _job(learner, JobStatus.READY, created=now - timedelta(minutes=5))
    _job(learner, JobStatus.FAILED, created=now - timedelta(minutes=6))
    _job(learner, JobStatus.READY, created=now - timedelta(hours=30))  # outside

    period = period_recent(key="24h", now=now)
    board = dashboard_build(period=period)
    assert period.hourly
    assert len(board.buckets) in (24, 25)  # the first and last hours are partial
    assert board.buckets[-1].by_status["ready"] + board.buckets[-2].by_status["ready"] == 1
    assert sum(bucket.total for bucket in board.buckets) == 2

    response = staff.get(URL, {"period": "24h"})
    page = _page(response)
    assert page.xpath('//h3[normalize-space()="Jobs per hour by status"]')
    assert _figures(page)["Jobs"] == "2"
    assert _figures(page)["Success rate"] == "50%"


def test_queue_depth_comes_from_redis(staff: Client, rq_queues) -> None:
    # Straight onto Redis (the test's transaction never commits), no worker takes them.
    high = django_rq.get_queue("high", commit_mode="auto")
    high.enqueue("videos.tasks.job_run_task", 1)
    high.enqueue("videos.tasks.job_run_task", 2)
    django_rq.get_queue("low", commit_mode="auto").enqueue("videos.tasks.job_run_task", 3)

    page = _page(staff.get(URL))

    assert _chart_rows(page, "Queue depth by queue") == [
        # Queue, waiting, running, scheduled, failed
        ["high", "2", "0", "0", "0"],
        ["default", "0", "0", "0", "0"],
        ["low", "1", "0", "0", "0"],
    ]


def test_a_redis_that_does_not_answer_is_named_and_the_rest_still_shows(
    staff: Client, settings, tmp_path
) -> None:
    settings.RQ_QUEUES = {
        name: {"URL": f"unix://{tmp_path}/no-redis.sock", "DEFAULT_TIMEOUT": 60}
        for name in settings.RQ_QUEUE_NAMES
    }
    response = staff.get(URL)

    assert response.status_code == 200
    page = _page(response)
    assert "queue depth unknown" in page.xpath('//*[@id="queues-error"]')[0].text_content()
    assert _figures(page)["Jobs"] == "0"


# --- who may see it ------------------------------------------------------------------


def test_anonymous_visitors_and_learners_are_sent_to_the_admin_login() -> None:
    anonymous = Client()
    response = anonymous.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/dashboard/"

    learner = Client()
    learner.force_login(user_build())
    response = learner.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_need_the_permission_to_view_jobs(rq_queues) -> None:
    member = user_build(is_staff=True)
    client = Client()
    client.force_login(member)
    assert client.get(URL).status_code == 403

    member.user_permissions.add(Permission.objects.get(codename="view_videojob"))
    client.force_login(User.objects.get(pk=member.pk))  # a fresh permission cache
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Jobs per day by status" in response.content


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "since": "2025-03-05", "until": "2025-03-01"}, "cannot be before"),
        ({"period": "custom", "since": "yesterday", "until": "2025-03-01"}, "Enter a valid date"),
        ({"since": "2025-03-01"}, "Choose the last day of the period"),
        ({"period": "custom"}, "Choose the first day of the period"),
        ({"period": "custom", "since": "2020-01-01", "until": "2025-03-01"}, "at most 366 days"),
        ({"period": "5y"}, "Select a valid choice"),
    ],
)
def test_bad_period_input_is_named_and_the_default_period_shown(
    staff: Client, march: March, query: dict[str, str], message: str
) -> None:
    response = staff.get(URL, query)

    assert response.status_code == 400
    page = _page(response)
    error = page.xpath('//*[@id="period-errors"]')[0].text_content()
    assert message in error
    assert "Showing the last 7 days instead" in error
    assert page.xpath('//h2[@id="summary-heading"]')[0].text_content().startswith("Last 7 days")


def test_a_last_day_after_today_is_refused(staff: Client) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = staff.get(
        URL, {"period": "custom", "since": "2025-03-01", "until": tomorrow.isoformat()}
    )

    assert response.status_code == 400
    assert (
        "cannot be after today"
        in _page(response).xpath('//*[@id="period-errors"]')[0].text_content()
    )


def test_a_preset_period_ignores_leftover_dates(staff: Client) -> None:
    response = staff.get(URL, {"period": "90d", "since": "", "until": "not used"})

    assert response.status_code == 200
    assert (
        _page(response)
        .xpath('//h2[@id="summary-heading"]')[0]
        .text_content()
        .startswith("Last 90 days")
    )


# --- cost ------------------------------------------------------------------------------


def _jobs_with_attempts(count: int) -> None:
    learner = user_build()
    now = timezone.now()
    statuses = [JobStatus.READY, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED]
    jobs = VideoJob.objects.bulk_create(
        VideoJob(learner=learner, video_type="overview", status=statuses[i % 4], provider="studio")
        for i in range(count)
    )
    for i, job in enumerate(jobs):
        VideoJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(hours=i % 150))
    GenerationAttempt.objects.bulk_create(
        GenerationAttempt(
            job=job,
            provider=("studio", "heygen", "did")[i % 3],
            status="succeeded" if i % 4 else "failed",
            seconds=10 + i,
            qa_score=80,
            cost=Decimal("0.10"),
        )
        for i, job in enumerate(jobs)
    )
    Alert.objects.create(kind=AlertKind.LOW_SUCCESS_RATE, message=f"{count} jobs")


def _queries_for_page(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"period": "7d"})
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_jobs(staff: Client) -> None:
    _jobs_with_attempts(5)
    few = _queries_for_page(staff)
    assert _figures(_page(staff.get(URL)))["Jobs"] == "5"

    VideoJob.objects.all().delete()
    Alert.objects.all().delete()
    _jobs_with_attempts(200)
    many = _queries_for_page(staff)
    assert _figures(_page(staff.get(URL)))["Jobs"] == "200"

    assert few == many
