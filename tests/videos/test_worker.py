"""PresGenWorker: what it does when a work horse dies under a job."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from rq.job import Job
from rq.job import JobStatus as RqStatus

from library.services import demo_load
from videos.models import AttemptStatus, GenerationAttempt, JobStatus, VideoJob
from videos.pipeline import job_claim
from videos.services import series_plan
from videos.worker import PresGenWorker

pytestmark = pytest.mark.django_db(transaction=True)


def horse_killing_itself() -> None:
    """An RQ job that leaves a file in its work folder and dies as an OOM kill would."""
    workdir = Path(settings.RENDER_WORK_DIR) / "job-half-rendered"
    workdir.mkdir(parents=True)
    (workdir / "video.mp4").write_bytes(b"half a video")
    os.kill(os.getpid(), signal.SIGKILL)


def _sigkill_status() -> int:
    """The wait status of a process really killed with SIGKILL."""
    process = subprocess.Popen(["sleep", "30"])
    process.kill()
    _, status, _ = os.wait4(process.pid, 0)
    return status


def test_a_killed_horse_hands_its_video_job_back_to_the_queue(pipeline, rq_queues):
    pipeline.providers("good")
    job = series_plan(assessment=demo_load().assessment).created[0]
    for queue in rq_queues.values():
        queue.empty()
    job.refresh_from_db()
    worker = PresGenWorker(list(rq_queues.values()), connection=rq_queues["default"].connection)
    # What the worker sees: the horse it forked for the job (the lease was
    # free then) claimed it, started rendering and was killed.
    rq_job = rq_queues["default"].enqueue("videos.tasks.job_run_task", job.pk, job_id=job.rq_job_id)
    rq_queues["default"].empty()
    assert job_claim(job_id=job.pk) is not None
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.RENDERING)
    GenerationAttempt.objects.create(job=job, provider="good", status=AttemptStatus.PENDING)

    worker.handle_work_horse_killed(rq_job, 12345, _sigkill_status(), None)

    job.refresh_from_db()
    assert job.lease_token is None and job.parameters["horse_deaths"] == 1
    assert "killed by signal 9" in job.step
    # On the queue at once (the reconciler's tests run such a job to the end).
    assert [i for q in rq_queues.values() for i in q.job_ids] == [job.rq_job_id]
    assert Job.fetch(job.rq_job_id, connection=worker.connection).args == (job.pk,)


def test_a_killed_horse_leaves_nothing_in_the_work_folder(rq_queues, settings, tmp_path):
    settings.RENDER_WORK_DIR = tmp_path / "work"
    queue = rq_queues["default"]
    rq_job = queue.enqueue(horse_killing_itself)
    worker = PresGenWorker([queue], connection=queue.connection)

    worker.work(burst=True)

    assert Job.fetch(rq_job.id, connection=queue.connection).get_status() == RqStatus.FAILED
    assert list((tmp_path / "work").iterdir()) == []
