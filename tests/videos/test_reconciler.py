from __future__ import annotations

import signal
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rq.job import Job

from library.models import Notification
from library.services import demo_load
from videos.models import AttemptStatus, GenerationAttempt, JobStatus, Video, VideoJob
from videos.pipeline import job_claim
from videos.reconciler import (
    HORSE_DEATHS_MAX,
    horse_workdir,
    job_horse_died,
    jobs_reconcile,
    workdirs_sweep,
)
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


# --- a work horse that died under its job -----------------------------------------


def _held_by_a_horse(job: VideoJob) -> VideoJob:
    """The job as a horse leaves it when killed mid-render: claimed, rendering, attempt open."""
    lease = job_claim(job_id=job.pk)
    assert lease is not None
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.RENDERING, progress=40)
    GenerationAttempt.objects.create(job=job, provider="good", status=AttemptStatus.PENDING)
    job.refresh_from_db()
    return job


def test_a_job_whose_horse_was_killed_runs_again_at_once(pipeline, rq_queues):
    pipeline.providers("good")
    job = _series()[0]
    job.refresh_from_db()
    for queue in rq_queues.values():
        queue.empty()
    job = _held_by_a_horse(job)
    dead_rq_id = job.rq_job_id

    outcome = job_horse_died(job_id=job.pk, rq_job_id=dead_rq_id, signal=signal.SIGKILL)

    job.refresh_from_db()
    assert outcome.startswith("enqueued again")
    assert job.lease_token is None and job.rq_job_id != dead_rq_id
    assert job.parameters["horse_deaths"] == 1
    queued = [rq_id for queue in rq_queues.values() for rq_id in queue.job_ids]
    assert queued == [job.rq_job_id]  # on the queue now, not after the lease runs out
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    dead, done = job.attempts.order_by("started_at")
    assert dead.status == AttemptStatus.FAILED and "worker stopped" in dead.error
    assert done.status == AttemptStatus.SUCCEEDED
    assert Video.objects.filter(job=job).count() == 1


def test_a_horse_death_leaves_alone_a_job_the_horse_did_not_hold(pipeline, rq_queues):
    pipeline.providers("good")
    jobs = _series()
    for queue in rq_queues.values():
        queue.empty()
    # Held before the horse started (e.g. a remote render being downloaded).
    held_before = _held_by_a_horse(jobs[0])
    # Enqueued again since: the dead horse ran an RQ entry that is no longer the job's.
    moved_on = _held_by_a_horse(jobs[1])
    # Never claimed by anyone.
    free = VideoJob.objects.get(pk=jobs[2].pk)

    assert "no lease" in job_horse_died(
        job_id=held_before.pk,
        rq_job_id=held_before.rq_job_id,
        signal=signal.SIGKILL,
        held_before=held_before.lease_token,
    )
    assert "no lease" in job_horse_died(
        job_id=moved_on.pk, rq_job_id="videojob-older-entry", signal=signal.SIGKILL
    )
    assert "no lease" in job_horse_died(job_id=free.pk, rq_job_id=free.rq_job_id, signal=9)

    for job in (held_before, moved_on, free):
        after = VideoJob.objects.get(pk=job.pk)
        assert (after.lease_token, after.rq_job_id) == (job.lease_token, job.rq_job_id)
        assert "horse_deaths" not in after.parameters
    assert not [rq_id for queue in rq_queues.values() for rq_id in queue.job_ids]


def test_a_job_that_kills_its_horse_three_times_fails_with_a_clear_reason(pipeline, rq_queues):
    pipeline.providers("good")
    job = _series()[0]
    for death in range(1, HORSE_DEATHS_MAX + 1):
        job = _held_by_a_horse(VideoJob.objects.get(pk=job.pk))
        outcome = job_horse_died(job_id=job.pk, rq_job_id=job.rq_job_id, signal=signal.SIGKILL)
        assert outcome.startswith("failed" if death == HORSE_DEATHS_MAX else "enqueued again")

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == (
        f"the renderer crashed {HORSE_DEATHS_MAX} times "
        "(was killed by signal 9 (SIGKILL)); please try again"
    )
    assert job.lease_token is None
    assert not job.attempts.exclude(status=AttemptStatus.FAILED).exists()
    assert Notification.objects.filter(kind="video_failed").count() == 1
    assert Video.objects.filter(job=job).count() == 0


def test_the_work_folders_of_dead_horses_are_swept(tmp_path):
    dead = subprocess.Popen(["sleep", "30"])
    dead.kill()
    dead.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        for pid in (dead.pid, alive.pid):
            (horse_workdir(root=tmp_path, pid=pid) / "job-x").mkdir(parents=True)
            (horse_workdir(root=tmp_path, pid=pid) / "job-x" / "video.mp4").write_bytes(b"x")
        (tmp_path / "job-not-a-horse").mkdir()
        (tmp_path / f"horse-another-host-{dead.pid}").mkdir()

        assert workdirs_sweep(root=tmp_path) == 1
        assert workdirs_sweep(root=tmp_path) == 0
    finally:
        alive.kill()
        alive.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            horse_workdir(root=tmp_path, pid=alive.pid).name,
            "job-not-a-horse",
            f"horse-another-host-{dead.pid}",
        ]
    )


def test_an_overdue_remote_check_is_queued_once_per_pass_not_piled_up(pipeline, rq_queues):
    pipeline.providers("remote")
    job = _series()[0]
    pipeline.drain()  # every job submitted; their status checks wait in Redis
    attempt = GenerationAttempt.objects.get(job=job)
    assert attempt.status == AttemptStatus.SUBMITTED
    rq_queues["default"].connection.flushdb()  # the scheduled checks are lost

    later = timezone.now() + LATER
    first = jobs_reconcile(now=later).checks
    assert first == GenerationAttempt.objects.filter(status=AttemptStatus.SUBMITTED).count()
    # Workers are behind: the checks have not run by the next passes.
    assert jobs_reconcile(now=later + timedelta(seconds=15)).checks == 0
    assert jobs_reconcile(now=later + timedelta(seconds=30)).checks == 0
    # Still not run long after: queued again (it may have been lost too).
    assert jobs_reconcile(now=later + LATER).checks == first
