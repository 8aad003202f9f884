"""Telling a PresGen-Avatar API client that its video finished, by a signed callback.

Sent when a job made through the API completes or fails and the request gave
a `webhook_url`. The body carries only the video id and status; the client
re-reads the status by API. Signed in the Standard Webhooks style with
AVATAR_API_WEBHOOK_SECRET; retried with backoff when the client is down.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings

from videos.avatar_api.services import api_status_for
from videos.models import VideoJob
from videos.providers.base import ProviderError
from videos.providers.http import RetryPolicy, http_request
from videos.queueing import avatar_callback_enqueue
from videos.signing import webhook_headers

log = logging.getLogger(__name__)

MAX_TRIES = 6
ONE_TRY = RetryPolicy(attempts=1)


def avatar_callback_schedule(*, job: VideoJob) -> bool:
    if not job.parameters.get("webhook_url"):
        return False
    if not settings.AVATAR_API_WEBHOOK_SECRET:
        log.warning("job #%s asked for a callback but AVATAR_API_WEBHOOK_SECRET is unset", job.pk)
        return False
    avatar_callback_enqueue(job_id=job.pk, attempt=0, delay_seconds=0)
    return True


def avatar_callback_deliver(*, job_id: int, attempt: int) -> str:
    job = VideoJob.objects.get(pk=job_id)
    status = api_status_for(job_status=job.status)
    body = json.dumps(
        {
            "type": f"video.{status}",
            "timestamp": int(time.time()),
            "data": {"video_id": str(job.pk), "status": status, "error": job.error},
        }
    ).encode()
    headers = webhook_headers(
        secret=settings.AVATAR_API_WEBHOOK_SECRET, msg_id=f"msg_{job.pk}_{status}", body=body
    )
    try:
        http_request(
            "POST",
            job.parameters["webhook_url"],
            provider="callback",
            idempotent=True,  # the receiver deduplicates on webhook-id
            policy=ONE_TRY,
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
    except ProviderError as error:
        if attempt + 1 >= MAX_TRIES:
            return f"gave up calling back for job #{job_id}: {error}"
        delay = 30 * 2**attempt
        avatar_callback_enqueue(job_id=job_id, attempt=attempt + 1, delay_seconds=delay)
        return f"callback failed ({error}); again in {delay} s"
    return f"called back: job #{job_id} {status}"
