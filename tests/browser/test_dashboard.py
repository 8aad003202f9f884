"""The staff dashboard in a real browser: a staff member logs in to the admin and reads it.

Saves the screenshot the docs show (to var/artifacts/screenshots/; a copy is in docs/screenshots/).
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import django_rq
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from presgen.models import User
from tests.browser.conftest import PASSWORD, PHONE, SCREENSHOTS, PageFactory, png_size
from tests.builders import user_build
from videos.models import Alert, AlertKind, GenerationAttempt, JobStatus, VideoJob

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Saved with the other artifacts; docs/screenshots/ holds a copy for the README.
DOCS_SCREENSHOT = SCREENSHOTS / "admin-dashboard.png"
PROVIDERS = {"studio": 45.0, "heygen": 140.0, "did": 110.0}  # provider: typical seconds


@pytest.fixture
def operations(transactional_db, rq_queues) -> User:
    """A staff member, and a week of generation: ~150 jobs on three providers, one open alert."""
    staff = user_build(username="ops", display_name="Ops", password=PASSWORD, is_staff=True)
    staff.is_superuser = True
    staff.save()
    learners = [user_build() for _ in range(5)]
    rng = random.Random(4)
    now = timezone.now()
    for n in range(150):
        provider = rng.choice(list(PROVIDERS))
        roll = rng.random()
        status = (
            JobStatus.FAILED
            if roll < 0.06
            else JobStatus.CANCELLED
            if roll < 0.08
            else JobStatus.RENDERING
            if n < 3
            else JobStatus.READY
        )
        job = VideoJob.objects.create(
            learner=rng.choice(learners),
            video_type=rng.choice(["overview", "remediation", "exam_prep", "motivational"]),
            status=status,
            provider=provider,
            error="HeyGen answered 500 three times" if status == JobStatus.FAILED else "",
            error_kind="retryable" if status == JobStatus.FAILED else "",
        )
        created = now - timedelta(hours=n if n < 3 else rng.uniform(1, 7 * 24 - 1))
        VideoJob.objects.filter(pk=job.pk).update(created_at=created)
        if status in (JobStatus.READY, JobStatus.FAILED):
            succeeded = status == JobStatus.READY
            attempt = GenerationAttempt.objects.create(
                job=job,
                provider=provider,
                status="succeeded" if succeeded else "failed",
                seconds=rng.lognormvariate(0, 0.4) * PROVIDERS[provider],
                qa_score=min(100.0, rng.gauss(88, 5)) if succeeded else None,
                cost=Decimal("0") if provider == "studio" else Decimal("1.20"),
            )
            GenerationAttempt.objects.filter(pk=attempt.pk).update(
                started_at=created + timedelta(seconds=10)
            )
    # Work waiting on the queues (straight onto Redis: no worker runs here).
    for name, waiting in (("high", 2), ("default", 7), ("low", 3)):
        queue = django_rq.get_queue(name, commit_mode="auto")
        for n in range(waiting):
            queue.enqueue("videos.tasks.job_run_task", n)
    Alert.objects.create(
        kind=AlertKind.SLOW_GENERATION,
        provider="heygen",
        message="Slow generation on heygen: a job took 312 s (limit 90 s)",
    )
    return staff


def _admin_login(page: Page, user: User) -> None:
    """Open the dashboard; the admin asks who we are first, then shows it."""
    page.goto("/admin/dashboard/")
    page.wait_for_url(re.compile(r"/admin/login/\?next=/admin/dashboard/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/dashboard/")


def test_staff_read_the_dashboard_and_its_charts(new_page: PageFactory, operations: User):
    page = new_page()
    _admin_login(page, operations)

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("#summary-heading")).to_contain_text("Last 7 days")
    figures = page.locator("#dashboard-figures")
    expect(figures).to_contain_text("Jobs")
    expect(figures.locator("dd").first).to_have_text("150")

    jobs_chart = page.get_by_role("img", name="Jobs per day by status")
    expect(jobs_chart).to_be_visible()
    box = jobs_chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    assert jobs_chart.locator("rect").count() > 7  # stacked columns were drawn
    expect(page.get_by_role("img", name="Generation time by provider")).to_be_visible()

    # The numbers behind a chart: a table, opened from its summary with the keyboard.
    summary = page.get_by_text("Jobs per day by status as a table")
    summary.focus()
    page.keyboard.press("Enter")
    table = page.get_by_role("table", name="Jobs per day by status")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="Ready")).to_be_visible()
    assert table.locator("tbody tr").count() in (7, 8)

    providers = page.locator("#provider-table")
    expect(providers.get_by_role("rowheader", name="heygen")).to_be_visible()
    expect(page.locator("#open-alerts")).to_contain_text("Slow generation on heygen")

    expect(page.get_by_role("table", name="Queue depth by queue")).to_be_hidden()
    queues = page.get_by_role("img", name="Queue depth by queue")
    expect(queues).to_contain_text("waiting 7")

    # The picture: the table closed again, no focus ring, the admin's side menu folded away.
    summary.click()
    page.get_by_role("button", name="Toggle navigation").click()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True, animations="disabled", caret="hide")
    width, height = png_size(DOCS_SCREENSHOT)
    assert width == 1280 and height > 800


def test_the_period_chooser_switches_to_a_day_charted_per_hour(
    new_page: PageFactory, operations: User
):
    page = new_page()
    _admin_login(page, operations)

    page.get_by_label("Period", exact=True).select_option(label="Last 24 hours")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"period=24h"))
    expect(page.locator("#summary-heading")).to_contain_text("Last 24 hours")
    expect(page.get_by_role("img", name="Jobs per hour by status")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option(label="Custom dates")
    page.get_by_label("From").fill("2025-03-05")
    page.get_by_label("To", exact=True).fill("2025-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be before the first day")
    expect(page.locator("#summary-heading")).to_contain_text("Last 7 days")


def test_the_dashboard_fits_a_phone(new_page: PageFactory, operations: User, tmp_path: Path):
    page = new_page(viewport=PHONE, phone=True)
    _admin_login(page, operations)

    expect(page.get_by_role("img", name="Jobs per day by status")).to_be_visible()
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.pg-dash-chart')]"
        ".filter(el => el.getBoundingClientRect().right > window.innerWidth + 1).length"
    )
    assert overflow == 0  # every chart card fits the screen's width
