"""Redis faults: unreachable when work is enqueued, flushed with work queued and scheduled.

The database is the source of truth: whatever Redis missed or lost, the
reconciler puts back, and every job still ends ready, with one Video and
never a second submission of a remote attempt.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from library.services import demo_load
from presgen.api.tokens import api_token_create
from tests.videos import fake_providers
from videos.models import (
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    Video,
    VideoJob,
)
from videos.providers.base import RemoteState
from videos.reconciler import jobs_reconcile
from videos.services import series_plan, video_request

pytestmark = pytest.mark.django_db(transaction=True)

LATER = timedelta(minutes=5)  # past the reconciler's grace period and every backoff here


def _rq_ids(rq_queues) -> tuple[list[str], list[str]]:
    """(queued, scheduled) RQ job ids over every queue."""
    queued = [i for q in rq_queues.values() for i in q.job_ids]
    scheduled = [i for q in rq_queues.values() for i in q.scheduled_job_registry.get_job_ids()]
    return queued, scheduled


def _all_ready() -> None:
    jobs = VideoJob.objects.all()
    assert {job.status for job in jobs} == {JobStatus.READY}, [
        (j.pk, j.status, j.step, j.error) for j in jobs
    ]
    assert Video.objects.count() == jobs.count()


def test_requests_made_while_redis_is_unreachable_succeed_and_are_queued_once_it_is_back(
    pipeline, settings, rq_queues, tmp_path: Path, client
):
    pipeline.providers("good")
    demo = demo_load()
    working = settings.RQ_QUEUES
    # Nothing listens on this socket: every connection is refused.
    settings.RQ_QUEUES = {
        name: {"URL": f"unix://{tmp_path}/no-redis.sock", "DEFAULT_TIMEOUT": 60}
        for name in settings.RQ_QUEUE_NAMES
    }

    # The assessment service posts results: the series is planned.
    _, key = api_token_create(user=demo.learner, name="lms", scope="learner")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    scores = {"cloud-concepts": 90, "security-identity": 30, "compute-storage": 85}
    assessment = {
        "certification": demo.certification.slug,
        "overall_score": 55,
        "domain_scores": [{"domain": d, "score": s} for d, s in scores.items()],
    }
    posted = api.post("/api/v1/assessments", assessment, format="json")
    assert posted.status_code == 201, posted.content
    series = [job["id"] for job in posted.json()["jobs"]]
    # A client asks for one video through the API, the learner for another in the portal.
    asked = api.post(
        "/api/v1/jobs",
        {
            "video_type": "practice_session",
            "certification": demo.certification.slug,
            "parameters": {"domain": "compute-storage"},
        },
        format="json",
    )
    assert asked.status_code == 201, asked.content
    client.force_login(demo.learner)
    domain = demo.certification.domains.get(slug="security-identity")
    practice = {
        "kind": "practice",
        "practice-certification": demo.certification.pk,
        "practice-domain": domain.pk,
        "practice-topic": "",
        "practice-difficulty": "medium",
        "practice-questions": 4,
    }
    portal = client.post(reverse("requests:new"), practice)
    assert portal.status_code == 302 and portal.url == reverse("library_portal:library")

    made = VideoJob.objects.filter(learner=demo.learner)
    assert made.count() == len(series) + 2 and set(series) <= set(made.values_list("pk", flat=True))
    assert {job.status for job in made} == {JobStatus.QUEUED}
    assert demo.certification.assessments.filter(source="api").count() == 1

    # Redis is back, empty of all of it; the reconciler's next round queues every job.
    settings.RQ_QUEUES = working
    assert _rq_ids(rq_queues) == ([], [])
    report = jobs_reconcile(now=timezone.now() + LATER)
    assert report.requeued == made.count()
    assert jobs_reconcile(now=timezone.now() + LATER).requeued == 0  # queued now, not twice
    pipeline.drain()
    _all_ready()


def test_a_flush_loses_queued_jobs_retry_backoffs_and_remote_checks_and_all_complete(
    pipeline, settings, rq_queues
):
    settings.JOB_RETRY_BASE_SECONDS = 60  # a failed try waits in Redis's scheduled registry
    pipeline.providers("remote", "backoff", "good")
    ProviderAccount.objects.filter(name="remote").update(max_concurrency=10)  # room for all
    jobs = series_plan(assessment=demo_load().assessment).created
    backing_off = jobs[-2:]
    for job in backing_off:  # staff sent these two to another provider, which is down at first
        VideoJob.objects.filter(pk=job.pk).update(
            parameters={**job.parameters, "provider": "backoff"}
        )
    remote = jobs[:-2]
    pipeline.drain()
    # Not yet run: a practice session asked for just now.
    waiting = video_request(
        learner=jobs[0].learner,
        video_type="practice_session",
        certification=jobs[0].certification,
        parameters={"domain": "security-identity", "provider": "good"},
    )

    attempts = GenerationAttempt.objects.filter(job__in=remote)
    assert {a.status for a in attempts} == {AttemptStatus.SUBMITTED}
    assert len(attempts) == len(remote)
    for job in backing_off:
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED and job.next_run_at > timezone.now()
    queued, scheduled = _rq_ids(rq_queues)
    assert len(queued) == 1 and queued[0].startswith(f"videojob-{waiting.pk}-")
    assert sum(i.startswith("attempt-") for i in scheduled) == len(remote)
    assert sum(i.startswith("videojob-") for i in scheduled) == len(backing_off)

    rq_queues["default"].connection.flushdb()
    for attempt in attempts:  # meanwhile the provider finished every render
        fake_providers.REMOTE_RENDERS[attempt.external_id] = RemoteState.COMPLETED

    # Minutes pass before the reconciler's next round: the backoffs are over.
    VideoJob.objects.filter(pk__in=[j.pk for j in backing_off]).update(next_run_at=timezone.now())
    report = jobs_reconcile(now=timezone.now() + LATER)
    assert (report.requeued, report.checks) == (len(backing_off) + 1, len(remote))
    pipeline.drain()

    _all_ready()
    for job in remote:  # finished by the status check, never submitted again
        assert list(job.attempts.values_list("provider", "status")) == [
            ("remote", AttemptStatus.SUCCEEDED)
        ]
    for job in backing_off:
        assert list(job.attempts.order_by("started_at").values_list("status", flat=True)) == [
            AttemptStatus.FAILED,
            AttemptStatus.SUCCEEDED,
        ]
    assert _rq_ids(rq_queues)[0] == []
