"""Finding work that fell between the cracks and putting it back on the queue.

Runs every minute (RQ cron, see videos/cron.py) and on demand
(`manage.py reconcile_jobs`). The database says what should be happening;
Redis may have lost it (flushed, unreachable at enqueue time, a worker killed
with its job). Enqueueing again is always safe: workers claim jobs in the
database, so a job enqueued twice still runs once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RqStatus

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
RQ_ALIVE = {RqStatus.QUEUED, RqStatus.SCHEDULED, RqStatus.DEFERRED, RqStatus.STARTED}


@dataclass
class ReconcileReport:
    requeued: int = 0
    expired: int = 0
    checks: int = 0

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
            attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=0)
        report.checks += 1
    if report.requeued or report.expired or report.checks:
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
