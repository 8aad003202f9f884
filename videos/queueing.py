"""Putting video work on RQ: only ids travel, only after the database committed.

Every enqueue gets a fresh RQ job id, stored on the VideoJob, so the
reconciler can tell whether the job's RQ entry still exists.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import django_rq
from django.db import transaction
from redis.exceptions import RedisError

from videos.models import VideoJob

log = logging.getLogger(__name__)

QUEUE_BY_PRIORITY = {1: "high", 2: "default", 3: "default", 4: "low"}
# Seconds of worker time per second of video, by quality, with room for a
# slow or busy machine (the studio measures 5-8x real time at 720p on 2 cores).
_RENDER_FACTOR = {"480p": 0.6, "720p": 1.0, "1080p": 2.0}
_RENDER_OVERHEAD_SECONDS = 180


def job_timeout_for(*, target_seconds: int | None, quality: str) -> int:
    """RQ's job_timeout sized to the render, so a long video is not killed halfway."""
    seconds = target_seconds or 180
    return int(_RENDER_OVERHEAD_SECONDS + seconds * _RENDER_FACTOR.get(quality, 2.0))


def queue_for(*, priority: int) -> str:
    return QUEUE_BY_PRIORITY.get(priority, "default")


def job_enqueue(*, job: VideoJob, delay_seconds: float = 0, quality: str = "720p") -> str:
    """Schedule `job_run_task(job.pk)` once the current transaction commits."""
    rq_job_id = f"videojob-{job.pk}-{uuid.uuid4().hex[:12]}"
    VideoJob.objects.filter(pk=job.pk).update(rq_job_id=rq_job_id)
    job.rq_job_id = rq_job_id
    queue_name = queue_for(priority=job.priority)
    timeout = job_timeout_for(target_seconds=job.target_duration_seconds, quality=quality)
    transaction.on_commit(
        lambda: _rq_enqueue(
            func="videos.tasks.job_run_task",
            args=(job.pk,),
            rq_job_id=rq_job_id,
            queue_name=queue_name,
            timeout=timeout,
            delay_seconds=delay_seconds,
        )
    )
    return rq_job_id


def attempt_check_enqueue(*, attempt_id: int, delay_seconds: float) -> None:
    """Schedule a status check of a remote attempt (no worker waits for it)."""
    transaction.on_commit(
        lambda: _rq_enqueue(
            func="videos.tasks.attempt_check_task",
            args=(attempt_id,),
            rq_job_id=f"attempt-{attempt_id}-{uuid.uuid4().hex[:12]}",
            queue_name="default",
            timeout=600,
            delay_seconds=delay_seconds,
        )
    )


def _rq_enqueue(
    *,
    func: str,
    args: tuple[object, ...],
    rq_job_id: str,
    queue_name: str,
    timeout: int,
    delay_seconds: float,
) -> None:
    # Redis being down must not undo the committed work: the reconciler
    # finds jobs without a live RQ entry and enqueues them again.
    try:
        # commit_mode "auto": we already wait for the commit ourselves.
        queue = django_rq.get_queue(queue_name, commit_mode="auto")
        options = {"job_id": rq_job_id, "job_timeout": timeout, "result_ttl": 3600}
        if delay_seconds > 0:
            queue.enqueue_in(timedelta(seconds=delay_seconds), func, *args, **options)
        else:
            queue.enqueue(func, *args, **options)
    except RedisError as error:
        log.warning("could not enqueue %s (%s); the reconciler will retry", rq_job_id, error)


def avatar_callback_enqueue(*, job_id: int, attempt: int, delay_seconds: float) -> None:
    """Schedule a signed callback to the API client that asked for this video."""
    transaction.on_commit(
        lambda: _rq_enqueue(
            func="videos.tasks.avatar_callback_task",
            args=(job_id, attempt),
            rq_job_id=f"callback-{job_id}-{uuid.uuid4().hex[:12]}",
            queue_name="default",
            timeout=120,
            delay_seconds=delay_seconds,
        )
    )
