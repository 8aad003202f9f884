from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rq.job import Job

from library.models import Notification
from library.services import demo_load
from videos.models import AttemptStatus, GenerationAttempt, JobStatus, Video, VideoJob
from videos.reconciler import jobs_reconcile
from videos.services import series_plan

pytestmark = pytest.mark.django_db(transaction=True)

LATER = timedelta(minutes=5)  # past the reconciler's grace period


def _series() -> list[VideoJob]:
    """The demo learner's series: six jobs on the demo knowledge base."""
    return series_plan(assessment=demo_load().assessment).created


def test_a_job_whose_rq_entry_was_deleted_is_enqueued_again_and_completes(pipeline, rq_queues):
    pipeline.providers("good")
    jobs = _series()
    lost = jobs[0]
    lost.refresh_from_db()
    Job.fetch(lost.rq_job_id, connection=rq_queues["default"].connection).delete()

    report = jobs_reconcile(now=timezone.now() + LATER)
    assert report.requeued == 1  # the others still have their RQ entries
    pipeline.drain()
    assert Video.objects.filter(job__in=jobs).count() == len(jobs)


def test_jobs_survive_a_flushed_redis(pipeline, rq_queues):
    pipeline.providers("good")
    jobs = _series()
    rq_queues["default"].connection.flushdb()
    assert jobs_reconcile(now=timezone.now() + LATER).requeued == len(jobs)
    assert jobs_reconcile(now=timezone.now() + LATER).requeued == 0  # now they are queued
    pipeline.drain()
    assert set(VideoJob.objects.values_list("status", flat=True)) == {JobStatus.READY}


def test_a_job_whose_worker_died_mid_render_is_run_again(pipeline, rq_queues):
    pipeline.providers("good")
    job = _series()[0]
    # A worker claimed the job, started a render and died: the lease runs out,
    # its local attempt is left open and RQ still lists the job as started.
    VideoJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RENDERING,
        lease_token="00000000-0000-0000-0000-000000000001",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        started_at=timezone.now() - timedelta(minutes=3),
    )
    GenerationAttempt.objects.create(job=job, provider="good", status=AttemptStatus.PENDING)
    for queue in rq_queues.values():
        queue.empty()
    assert jobs_reconcile(now=timezone.now() + LATER).requeued >= 1
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    dead, done = job.attempts.order_by("started_at")
    assert dead.status == AttemptStatus.FAILED and "worker stopped" in dead.error
    assert done.status == AttemptStatus.SUCCEEDED
    assert Video.objects.filter(job=job).count() == 1
    assert job.retries == 0  # a dead worker is not the provider's fault


def test_a_job_held_by_a_live_worker_is_left_alone(pipeline, rq_queues):
    pipeline.providers("good")
    jobs = _series()
    held = jobs[0]
    held.refresh_from_db()
    for queue in rq_queues.values():
        queue.empty()
    VideoJob.objects.filter(pk=held.pk).update(
        status=JobStatus.RENDERING,
        lease_token="00000000-0000-0000-0000-000000000002",
        lease_expires_at=timezone.now() + 2 * LATER,
    )
    report = jobs_reconcile(now=timezone.now() + LATER)
    assert report.requeued == len(jobs) - 1
    assert VideoJob.objects.get(pk=held.pk).rq_job_id == held.rq_job_id


def test_jobs_past_their_deadline_fail_with_a_clear_reason(pipeline, settings):
    pipeline.providers("good")
    jobs = _series()
    VideoJob.objects.update(deadline_at=timezone.now() - timedelta(minutes=1))
    report = jobs_reconcile()
    assert report.expired == len(jobs)
    job = VideoJob.objects.get(pk=jobs[0].pk)
    assert job.status == JobStatus.FAILED
    assert f"not finished within {settings.JOB_DEADLINE_HOURS} hours" in job.error
    assert Notification.objects.filter(kind="video_failed").count() == len(jobs)


def test_reconcile_jobs_command_reports_what_it_did(pipeline, rq_queues, capsys):
    pipeline.providers("good")
    jobs = _series()
    rq_queues["default"].connection.flushdb()
    VideoJob.objects.update(updated_at=timezone.now() - LATER)
    call_command("reconcile_jobs")
    assert f"{len(jobs)} job(s) re-enqueued" in capsys.readouterr().out
