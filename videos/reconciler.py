"""Finding work that fell between the cracks and putting it back on the queue.

Runs every minute (RQ cron, see videos/cron.py) and on demand
(`manage.py reconcile_jobs`). The database says what should be happening;
Redis may have lost it (flushed, unreachable at enqueue time, a worker killed
with its job). Enqueueing again is always safe: workers claim jobs in the
database, so a job enqueued twice still runs once.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal as signals
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RqStatus

from presgen.embedded_redis import pid_alive
from videos import notifications
from videos.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    ErrorKind,
    GenerationAttempt,
    JobStatus,
    VideoJob,
)
from videos.queueing import attempt_check_enqueue, job_enqueue

log = logging.getLogger(__name__)

# Leave fresh rows alone: their enqueue may be a moment behind the commit.
GRACE = timedelta(seconds=30)
# A re-queued status check that has not run by then is queued again.
CHECK_REQUEUE_AFTER = timedelta(minutes=2)
RQ_ALIVE = {RqStatus.QUEUED, RqStatus.SCHEDULED, RqStatus.DEFERRED, RqStatus.STARTED}
# A job whose work horse dies this many times fails instead of running again:
# a video that crashes the renderer (or runs it out of memory) every time
# must not loop forever.
HORSE_DEATHS_MAX = 3
# Each PresGen work horse renders under RENDER_WORK_DIR/horse-<host>-<pid>/
# (videos/worker.py), so whoever outlives it can tell its leftovers apart.
HORSE_DIR_PREFIX = "horse-"


@dataclass
class ReconcileReport:
    requeued: int = 0
    expired: int = 0
    checks: int = 0
    swept: int = 0  # work folders of dead work horses removed

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def jobs_reconcile(*, now: datetime | None = None, grace: timedelta = GRACE) -> ReconcileReport:
    """Re-enqueue what Redis lost; `grace` = 0 when no enqueue can be in flight (start-up)."""
    now = now or timezone.now()
    report = ReconcileReport()
    report.expired = _jobs_expire(now=now)
    connection = django_rq.get_connection("default")
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    due = Q(next_run_at__isnull=True) | Q(next_run_at__lt=now - grace)
    waiting_remote = GenerationAttempt.objects.filter(
        status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING]
    ).values("job_id")
    candidates = (
        VideoJob.objects.filter(status__in=ACTIVE_STATUSES, updated_at__lte=now - grace)
        .filter(free, due)
        .exclude(pk__in=waiting_remote)
        .order_by("priority", "pk")  # the series' first video first
    )
    for job in candidates.iterator():
        if _rq_alive(connection=connection, rq_job_id=job.rq_job_id, job=job, now=now):
            continue
        with transaction.atomic():
            job_enqueue(job=job, quality=job.parameters.get("quality", settings.VIDEO_QUALITY))
        report.requeued += 1

    overdue = GenerationAttempt.objects.filter(
        status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING],
        job__status__in=ACTIVE_STATUSES,
    ).filter(Q(next_check_at__isnull=True) | Q(next_check_at__lt=now - grace))
    for attempt in overdue.only("pk"):
        with transaction.atomic():
            # Pushed forward so that workers running behind do not get a
            # second copy of this check on every pass; the check itself sets
            # the next one when it runs.
            GenerationAttempt.objects.filter(pk=attempt.pk).update(
                next_check_at=now + CHECK_REQUEUE_AFTER
            )
            attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=0)
        report.checks += 1
    report.swept = workdirs_sweep()
    if report.requeued or report.expired or report.checks or report.swept:
        log.warning("reconciler: %s", report)
    return report


def _rq_alive(*, connection: object, rq_job_id: str, job: VideoJob, now: datetime) -> bool:
    """Does Redis still hold a live entry that will run this job?"""
    if not rq_job_id:
        return False
    try:
        rq_job = Job.fetch(rq_job_id, connection=connection)  # type: ignore[arg-type]
        status = rq_job.get_status(refresh=False)
    except NoSuchJobError:
        return False
    except RedisError as error:
        log.warning("reconciler cannot read Redis (%s); trying to enqueue anyway", error)
        return False
    if status == RqStatus.STARTED:
        # RQ says a worker has it; our lease says whether that worker is alive.
        return job.lease_expires_at is not None and job.lease_expires_at >= now
    return status in RQ_ALIVE


def _jobs_expire(*, now: datetime) -> int:
    expired = 0
    stale = VideoJob.objects.filter(status__in=ACTIVE_STATUSES, deadline_at__lt=now).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    )
    for job in stale.select_related("learner"):
        hours = settings.JOB_DEADLINE_HOURS
        with transaction.atomic():
            changed = VideoJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
                status=JobStatus.FAILED,
                step="Failed",
                error=f"it was not finished within {hours} hours; please try again",
                error_kind=ErrorKind.RETRYABLE,
                lease_token=None,
                lease_expires_at=None,
                finished_at=now,
                updated_at=now,
            )
            if changed:
                GenerationAttempt.objects.filter(
                    job=job,
                    status__in=[
                        AttemptStatus.PENDING,
                        AttemptStatus.SUBMITTED,
                        AttemptStatus.PROCESSING,
                    ],
                ).update(status=AttemptStatus.FAILED, error="job expired", finished_at=now)
                job.refresh_from_db()
                notifications.job_outcome_notify(job=job)
                expired += 1
    return expired


# --- a work horse that died under its job ---------------------------------------------


def job_horse_died(
    *,
    job_id: int,
    rq_job_id: str,
    signal: int | None,
    exit_code: int | None = None,
    held_before: uuid.UUID | None = None,
) -> str:
    """A work horse running `job_run_task` died without finishing: run the job again now.

    Its worker calls this (videos/worker.py) the moment the horse is gone
    (SIGKILL, the kernel's OOM killer, a segfault in FFmpeg or Piper), so the
    job need not wait for its lease to run out and the reconciler to notice.
    Only a lease the dead horse held is released: the job's RQ entry must
    still be the one the horse ran, and the lease must have been taken after
    it started (`held_before`, the lease when the horse was forked, belongs
    to someone else, e.g. a remote render being downloaded). The conditional
    update makes a concurrent claim or release win over us.
    """
    job = (
        VideoJob.objects.filter(
            pk=job_id,
            rq_job_id=rq_job_id,
            status__in=ACTIVE_STATUSES,
            lease_token__isnull=False,
        )
        .exclude(lease_token=held_before)
        .first()
    )
    if job is None:
        return "the horse held no lease on it: left to the lease and the reconciler"
    how = _death_cause(signal=signal, exit_code=exit_code)
    deaths = int(job.parameters.get("horse_deaths", 0)) + 1
    parameters = {**job.parameters, "horse_deaths": deaths}
    held = VideoJob.objects.filter(
        pk=job.pk, rq_job_id=rq_job_id, lease_token=job.lease_token, status__in=ACTIVE_STATUSES
    )
    now = timezone.now()
    with transaction.atomic():
        if deaths >= HORSE_DEATHS_MAX:
            reason = f"the renderer crashed {deaths} times ({how}); please try again"
            changed = held.update(
                status=JobStatus.FAILED,
                step="Failed",
                error=reason,
                error_kind=ErrorKind.RETRYABLE,
                parameters=parameters,
                lease_token=None,
                lease_expires_at=None,
                next_run_at=None,
                finished_at=now,
                updated_at=now,
            )
            if not changed:
                return "taken over before the death was handled"
            GenerationAttempt.objects.filter(
                job_id=job.pk,
                status__in=[
                    AttemptStatus.PENDING,
                    AttemptStatus.SUBMITTED,
                    AttemptStatus.PROCESSING,
                ],
            ).update(status=AttemptStatus.FAILED, error=f"the worker {how}", finished_at=now)
            job.refresh_from_db()
            notifications.job_outcome_notify(job=job)
            log.warning("job #%s failed: %s", job.pk, reason)
            return f"failed: {reason}"
        changed = held.update(
            parameters=parameters,
            step=f"Starting again: the renderer {how}",
            lease_token=None,
            lease_expires_at=None,
            updated_at=now,
        )
        if not changed:
            return "taken over before the death was handled"
        job.refresh_from_db()
        # Its open attempt is closed by the next run (`_attempt_resume`).
        new_id = job_enqueue(job=job, quality=job.parameters.get("quality", settings.VIDEO_QUALITY))
    log.warning("job #%s: its work horse %s; enqueued again as %s", job.pk, how, new_id)
    return f"enqueued again as {new_id} (horse death {deaths} of {HORSE_DEATHS_MAX})"


def _death_cause(*, signal: int | None, exit_code: int | None) -> str:
    if signal:
        try:
            name = signals.Signals(signal).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {signal} ({name})"
    return f"exited with code {exit_code}"


# --- work folders left by dead work horses ----------------------------------------------


def horse_workdir(*, root: Path, pid: int) -> Path:
    """The folder a work horse renders under: its host and pid say whether it still runs."""
    return root / f"{HORSE_DIR_PREFIX}{socket.gethostname()}-{pid}"


def render_root() -> Path:
    """RENDER_WORK_DIR as configured (inside a work horse, settings name the horse's folder)."""
    path = Path(settings.RENDER_WORK_DIR)
    return path.parent if _horse_pid(path) is not None else path


def workdirs_sweep(*, root: Path | None = None) -> int:
    """Remove the work folders of this machine's work horses that no longer run.

    A horse killed outright (SIGKILL, OOM) cannot delete its own temp files,
    and a half-written render can be hundreds of MB. Folders of other hosts
    (a shared RENDER_WORK_DIR) and of live processes are left alone.
    """
    root = root or render_root()
    removed = 0
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    for path in entries:
        pid = _horse_pid(path)
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def _horse_pid(path: Path) -> int | None:
    prefix = f"{HORSE_DIR_PREFIX}{socket.gethostname()}-"
    if not path.name.startswith(prefix):
        return None
    pid = path.name[len(prefix) :]
    return int(pid) if pid.isdigit() else None
