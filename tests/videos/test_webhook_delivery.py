"""Webhook delivery faults with a remote provider (the local HeyGen over real HTTP).

A webhook that never comes, the same webhook delivered ten times at once,
ten status checks of one render at once, and a failure reported after the
success: each still ends with one download and one Video, and a finished
job stays finished.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from library.models import Notification
from tests.builders import overview_job_build
from tests.videos.fakes.heygen_server import FakeHeyGen
from videos import pipeline as pipeline_module
from videos.models import (
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    Video,
    VideoJob,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db(transaction=True)

API_KEY = "hg-key-delivery"
SECRET = "whsec-delivery"
URL = "/webhooks/heygen/"
CONCURRENCY = 10


@pytest.fixture
def fake(studio_clip) -> Iterator[FakeHeyGen]:
    server = FakeHeyGen(
        video=Path(str(studio_clip["mp4"])),
        captions=Path(str(studio_clip["vtt"])),
        thumbnail=Path(str(studio_clip["jpg"])),
        duration=float(str(studio_clip["duration"])),
        api_key=API_KEY,
        webhook_secret=SECRET,
        polls_to_complete=None,  # only the test finishes a render
    )
    with server:
        yield server


@pytest.fixture
def heygen(pipeline, settings, fake: FakeHeyGen):
    """The pipeline with HeyGen as its only provider."""
    settings.VIDEO_PROVIDER_CLASSES = {
        **settings.VIDEO_PROVIDER_CLASSES,
        "heygen": "videos.providers.heygen.HeyGenProvider",
    }
    ProviderAccount.objects.create(kind="studio", name="studio", enabled=False)
    ProviderAccount.objects.create(
        kind="heygen",
        name="heygen",
        base_url=fake.url,
        credentials={
            "api_key": API_KEY,
            "webhook_secrets": [SECRET],
            "default_avatar_id": "Daisy-inskirt-20220818",
            "default_voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
        },
        cost_per_minute=Decimal("1.2000"),
    )
    return pipeline


def _submitted(heygen) -> GenerationAttempt:
    """One overview job planned, run by a worker and submitted to HeyGen."""
    overview_job_build()
    heygen.drain()
    attempt = GenerationAttempt.objects.get(provider="heygen")
    assert attempt.status == AttemptStatus.SUBMITTED
    return attempt


def _scheduled_now(rq_queues, *, ahead: timedelta) -> int:
    """What RQ's scheduler does once `ahead` has passed: due scheduled jobs go on their queue."""
    moved = 0
    when = int((timezone.now() + ahead).timestamp())
    for queue in rq_queues.values():
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(timestamp=when):
            job = queue.fetch_job(job_id)
            registry.remove(job_id)
            if job is not None:
                queue.enqueue_job(job)
                moved += 1
    return moved


def _drain_with_time_passing(heygen, rq_queues, *, rounds: int = 12) -> int:
    """Drain, let the clock pass the next scheduled check, drain again; returns the rounds."""
    for done in range(1, rounds + 1):
        heygen.drain()
        if not _scheduled_now(rq_queues, ahead=timedelta(minutes=10)):
            return done
    return rounds


def _all_at_once(count: int, call: Callable[[], Any]) -> list[Any]:
    """`call` in `count` threads released together; each thread has its own DB connection.

    On PostgreSQL they really run at once. SQLite's test database (in memory,
    shared cache) answers a second writer "table is locked" at once instead of
    waiting for the lock as the file database does (BEGIN IMMEDIATE with a
    20 s timeout, see settings): there the threads take turns, as SQLite's
    writers do anyway.
    """
    start = threading.Barrier(count)
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            start.wait()
            with turns:
                results[index] = call()
        except Exception as error:  # reported by the test, not lost in a thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _video_path(attempt: GenerationAttempt) -> str:
    return f"/files/{attempt.external_id}/video.mp4"


# --- a webhook that never arrives -------------------------------------------------------


def test_a_webhook_that_never_arrives_is_covered_by_the_scheduled_checks(heygen, fake, rq_queues):
    fake.webhook_mode = "never"
    fake.callback_url = "http://127.0.0.1:9/never-called/"
    fake.polls_to_complete = 3  # HeyGen finishes on its own; nobody tells PresGen
    attempt = _submitted(heygen)
    scheduled = rq_queues["default"].scheduled_job_registry.get_job_ids()
    assert any(i.startswith(f"attempt-{attempt.pk}-") for i in scheduled)

    _drain_with_time_passing(heygen, rq_queues)

    assert fake.deliveries == [] and WebhookEvent.objects.count() == 0
    job = VideoJob.objects.get(pk=attempt.job_id)
    assert job.status == JobStatus.READY, job.error
    assert Video.objects.filter(job=job, provider="heygen").count() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.checks >= 1
    assert fake.generate_requests == 1
    assert fake.downloads[_video_path(attempt)] == 1


# --- the same webhook, ten times at once ------------------------------------------------


def test_the_same_webhook_delivered_ten_times_at_once_changes_the_attempt_once(
    heygen, fake, rq_queues
):
    fake.webhook_mode = "never"  # the test delivers HeyGen's event itself, ten times
    attempt = _submitted(heygen)
    fake.complete(attempt.external_id)
    body = fake.event_body(attempt.external_id, "avatar_video.success")
    signature = fake.sign(body)

    def deliver() -> tuple[int, str]:
        response = Client().post(
            URL, data=body, content_type="application/json", headers={"Signature": signature}
        )
        return response.status_code, response.json()["status"]

    answers = _all_at_once(CONCURRENCY, deliver)

    assert Counter(answers) == {(202, "accepted"): 1, (200, "duplicate"): CONCURRENCY - 1}, answers
    assert WebhookEvent.objects.count() == 1
    checks = [i for q in rq_queues.values() for i in q.job_ids if i.startswith("attempt-")]
    assert len(checks) == 1  # one status check handed to the workers, not ten
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED  # the webhook alone moves nothing

    heygen.drain()

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    job = VideoJob.objects.get(pk=attempt.job_id)
    assert job.status == JobStatus.READY, job.error
    assert Video.objects.filter(job=job).count() == 1
    assert fake.downloads[_video_path(attempt)] == 1
    assert fake.generate_requests == 1
    outcomes = Notification.objects.filter(kind__in=["video_ready", "video_failed"])
    assert list(outcomes.values_list("kind", flat=True)) == ["video_ready"]


def test_ten_status_checks_of_one_finished_render_at_once_download_it_once(heygen, fake):
    fake.webhook_mode = "never"
    attempt = _submitted(heygen)
    fake.complete(attempt.external_id)

    outcomes = _all_at_once(
        CONCURRENCY, lambda: pipeline_module.attempt_check(attempt_id=attempt.pk)
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.startswith("ready") for o in outcomes) == 1, outcomes
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    job = VideoJob.objects.get(pk=attempt.job_id)
    assert job.status == JobStatus.READY, job.error
    assert Video.objects.filter(job=job).count() == 1
    assert fake.downloads[_video_path(attempt)] == 1
    # A late check finds nothing left to do.
    assert pipeline_module.attempt_check(attempt_id=attempt.pk) == "nothing to check"


def test_an_attempt_finished_by_another_worker_before_the_claim_is_not_downloaded_again(
    heygen, fake, monkeypatch
):
    """The race the ten checks can hit: another worker closes the attempt between our
    read of it and our claim of the job (here: it failed its quality check and the job
    went on to another provider, releasing its lease)."""
    fake.webhook_mode = "never"
    attempt = _submitted(heygen)
    fake.complete(attempt.external_id)
    claim = pipeline_module.job_claim

    def claim_after_the_other_worker(*, job_id: int):
        GenerationAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.FAILED, error="the video failed the quality check"
        )
        return claim(job_id=job_id)

    monkeypatch.setattr(pipeline_module, "job_claim", claim_after_the_other_worker)
    outcome = pipeline_module.attempt_complete(attempt_id=attempt.pk)

    assert outcome == "already handled"
    assert fake.downloads[_video_path(attempt)] == 0
    assert not Video.objects.exists()
    job = VideoJob.objects.get(pk=attempt.job_id)
    assert job.lease_token is None  # the claim was given back for the next worker


# --- a failure after the success ----------------------------------------------------------


def test_a_failure_webhook_after_the_success_leaves_the_job_ready(
    heygen, fake, rq_queues, mailoutbox
):
    fake.webhook_mode = "never"
    attempt = _submitted(heygen)
    fake.complete(attempt.external_id)
    assert pipeline_module.attempt_check(attempt_id=attempt.pk).startswith("ready")
    video = Video.objects.get(job_id=attempt.job_id)
    mailed = len(mailoutbox)

    # HeyGen then reports the render failed, by webhook and in its API.
    with fake.lock:
        fake.renders[attempt.external_id].status = "failed"
        fake.renders[attempt.external_id].fail_message = "render lost"
    failure = fake.event_body(attempt.external_id, "avatar_video.fail")
    response = Client().post(
        URL,
        data=failure,
        content_type="application/json",
        headers={"Signature": fake.sign(failure)},
    )
    assert response.status_code == 202  # recorded (it is genuine) but it moves nothing
    _drain_with_time_passing(heygen, rq_queues)

    job = VideoJob.objects.get(pk=attempt.job_id)
    assert (job.status, job.error) == (JobStatus.READY, "")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert Video.objects.get(job=job).pk == video.pk
    assert video.file.storage.exists(video.file.name)
    assert not Notification.objects.filter(kind="video_failed").exists()
    assert len(mailoutbox) == mailed
    assert fake.downloads[_video_path(attempt)] == 1
