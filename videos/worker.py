"""The RQ worker PresGen runs: `manage.py rqworker --worker-class videos.worker.PresGenWorker`.

RQ forks a work horse per job. Loading the Piper voice in the parent before
it forks means every render shares the loaded model (copy-on-write) instead
of paying ~2 s and ~150 MB to load it again per job.

When a horse dies under a video job (SIGKILL, the OOM killer, a crash in
FFmpeg), the worker hands the job straight back to the queue
(`reconciler.job_horse_died`) instead of leaving it to wait for its lease to
run out, and removes whatever the horse left in its work folder.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import uuid
from typing import Any

from django.conf import settings
from django.db import connections
from django.urls import get_resolver
from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker

from presgen.embedded_redis import die_with_parent
from videos import reconciler
from videos.providers import http
from videos.studio.narration import voice_load

log = logging.getLogger(__name__)

# RQ notices a dead worker's job during maintenance (default every 600 s); the
# reconciler does too, from the job's lease. Both run often enough that a job
# whose worker was killed is running again within two minutes.
MAINTENANCE_INTERVAL_SECONDS = 30
JOB_TASK = "videos.tasks.job_run_task"


class PresGenWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL_SECONDS)
        super().__init__(*args, **kwargs)
        self._render_root = reconciler.render_root()
        self._held_before: uuid.UUID | None = None
        try:
            voice_load(voice_id="joe")
        except Exception as error:  # rendering reports the real problem per job
            log.warning("could not preload the studio voice: %s", error)
        _code_preload()
        try:
            swept = reconciler.workdirs_sweep(root=self._render_root)
        except OSError as error:
            log.warning("could not clean %s: %s", self._render_root, error)
        else:
            if swept:
                log.warning("removed the work folders of %s dead work horse(s)", swept)

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        # Who held the job's lease before the horse started: a lease taken
        # after that is the horse's own (see reconciler.job_horse_died).
        self._held_before = None
        job_id = _video_job_id(job)
        if job_id is not None:
            try:
                from videos.models import VideoJob

                self._held_before = (
                    VideoJob.objects.filter(pk=job_id).values_list("lease_token", flat=True).first()
                )
            except Exception as error:  # the horse reports database trouble itself
                log.warning("could not read job #%s before running it: %s", job_id, error)
            finally:
                # A connection must never be shared with the forked horse.
                connections.close_all()
        super().fork_work_horse(job, queue)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # RQ puts the work horse in its own process group, out of reach of a
        # signal to the worker's group: if the worker is killed, the horse
        # would render on as an orphan. Die with the worker instead; the
        # job's lease runs out and the reconciler runs it again.
        die_with_parent()
        # Render under a folder named after this process, so that whoever
        # outlives it (this worker, another one starting, the reconciler) can
        # remove what it leaves if it is killed.
        settings.RENDER_WORK_DIR = reconciler.horse_workdir(root=self._render_root, pid=os.getpid())
        super().main_work_horse(job, queue)

    def monitor_work_horse(self, job: Job, queue: Queue, execution: Any) -> None:
        pid = self.horse_pid
        try:
            super().monitor_work_horse(job, queue, execution)
        finally:
            if pid:
                shutil.rmtree(
                    reconciler.horse_workdir(root=self._render_root, pid=pid), ignore_errors=True
                )

    def handle_work_horse_killed(self, job: Job, retpid: Any, ret_val: Any, rusage: Any) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        job_id = _video_job_id(job)
        if job_id is None:
            return
        status = int(ret_val or 0)
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        try:
            outcome = reconciler.job_horse_died(
                job_id=job_id,
                rq_job_id=job.id,
                signal=signal,
                exit_code=exit_code,
                held_before=self._held_before,
            )
            log.warning("job #%s after its work horse died: %s", job_id, outcome)
        except Exception:  # the worker must survive; the lease and reconciler still recover it
            log.exception("could not hand job #%s back after its work horse died", job_id)
        finally:
            connections.close_all()


def _code_preload() -> None:
    """Import what every task needs once, in the parent, so each forked horse inherits it.

    Without this each horse imports it again per task: bench/load.py measured
    ~0.7 s of a status check spent importing the URL configuration (DRF,
    drf-spectacular) for the first reverse() and ~0.2 s making the first
    HTTPS client; preloaded, the workers drained 1.7x as many jobs a second.
    """
    for module in ("videos.tasks", "videos.pipeline", "videos.quality", "av", "httpx"):
        importlib.import_module(module)
    get_resolver().reverse_dict  # builds the URL patterns' reverse lookup table  # noqa: B018
    http.tls_context()


def _video_job_id(job: Job) -> int | None:
    """The VideoJob id of an RQ job running `job_run_task`, else None."""
    try:
        if job.func_name != JOB_TASK or not job.args:
            return None
        return int(job.args[0])
    except Exception:  # an unreadable payload is RQ's to report, not ours
        return None
