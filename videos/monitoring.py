"""Alerts for staff: slow generation, low quality, a falling success rate.

`attempt_monitor` runs after every finished provider attempt. It records an
Alert row (what the admin lists) and, once the transaction commits, tells the
admins by email and, when configured, on Slack. While an alert of a kind is
open nobody is told again; a success-rate alert closes itself when the rate
recovers.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from videos.models import Alert, AlertKind, GenerationAttempt, JobStatus, VideoJob
from videos.slack import SlackError, slack_message_send

logger = logging.getLogger(__name__)

SUBJECT_TAG = "[PresGen]"
# A rate judged on a handful of jobs is noise: one early failure out of three
# must not page anyone.
SUCCESS_RATE_MIN_JOBS = 20
_SUBJECT_MAX = 180  # mail subjects are one header line


@transaction.atomic
def attempt_monitor(*, attempt: GenerationAttempt) -> list[Alert]:
    """Raise the alerts this finished attempt calls for; return the ones newly created."""
    created: list[Alert] = []
    limit_seconds = settings.ALERT_GENERATION_SECONDS
    if attempt.seconds is not None and attempt.seconds > limit_seconds:
        alert = _alert_open_once(
            kind=AlertKind.SLOW_GENERATION,
            provider=attempt.provider,
            job=attempt.job,
            message=(
                f"Slow generation on {attempt.provider}: job #{attempt.job_id} took "
                f"{attempt.seconds:.0f} s (limit {limit_seconds} s)"
            ),
            details={
                "attempt": attempt.pk,
                "seconds": attempt.seconds,
                "limit_seconds": limit_seconds,
            },
        )
        if alert:
            created.append(alert)

    min_score = settings.ALERT_MIN_QA_SCORE
    if attempt.qa_score is not None and attempt.qa_score < min_score:
        alert = _alert_open_once(
            kind=AlertKind.LOW_QUALITY,
            provider=attempt.provider,
            job=attempt.job,
            message=(
                f"Low quality from {attempt.provider}: job #{attempt.job_id} scored "
                f"{attempt.qa_score:.0f}/100 (minimum {min_score})"
            ),
            details={"attempt": attempt.pk, "qa_score": attempt.qa_score, "minimum": min_score},
        )
        if alert:
            created.append(alert)

    alert = _success_rate_check(job=attempt.job)
    if alert:
        created.append(alert)
    return created


def _success_rate_check(*, job: VideoJob) -> Alert | None:
    """Open a success-rate alert when the recent rate is too low; resolve it when it recovers."""
    window = settings.ALERT_SUCCESS_RATE_WINDOW
    threshold = settings.ALERT_MIN_SUCCESS_RATE
    # Cancelled jobs say nothing about the providers, so only ready/failed count.
    recent = VideoJob.objects.filter(
        status__in=[JobStatus.READY, JobStatus.FAILED], finished_at__isnull=False
    ).order_by("-finished_at", "-pk")[:window]
    figures = recent.aggregate(
        finished=Count("pk"), ready=Count("pk", filter=Q(status=JobStatus.READY))
    )
    finished, ready = figures["finished"], figures["ready"]
    if finished < min(window, SUCCESS_RATE_MIN_JOBS):
        return None
    rate = ready / finished
    if rate >= threshold:
        for alert in Alert.objects.select_for_update().filter(
            kind=AlertKind.LOW_SUCCESS_RATE, resolved_at__isnull=True
        ):
            alert.resolved_at = timezone.now()
            alert.details = {**alert.details, "resolved_rate": rate, "resolved_over": finished}
            alert.save(update_fields=["resolved_at", "details"])
            message = f"Resolved: success rate back to {rate:.1%} over the last {finished} jobs"
            transaction.on_commit(partial(_alert_deliver, message=message))
        return None
    return _alert_open_once(
        kind=AlertKind.LOW_SUCCESS_RATE,
        provider="",
        job=job,
        message=(
            f"Success rate {rate:.1%} over the last {finished} jobs "
            f"({finished - ready} failed; minimum {threshold:.1%})"
        ),
        details={"rate": rate, "finished": finished, "ready": ready, "minimum": threshold},
    )


def _alert_open_once(
    *, kind: str, provider: str, job: VideoJob | None, message: str, details: dict[str, Any]
) -> Alert | None:
    """Create the alert unless one of the same kind and provider is still open."""
    if Alert.objects.filter(kind=kind, provider=provider, resolved_at__isnull=True).exists():
        return None
    try:
        # The database allows one open alert per kind and provider: when two
        # workers race past the check above, the second insert is refused.
        with transaction.atomic():
            alert = Alert.objects.create(
                kind=kind, provider=provider, job=job, message=message, details=details
            )
    except IntegrityError:
        return None
    logger.warning("Alert %s: %s", kind, message)
    transaction.on_commit(partial(_alert_deliver, message=message))
    return alert


def _alert_deliver(*, message: str) -> None:
    """Tell the admins by email and Slack; a delivery failure is logged, never raised."""
    line = " ".join(message.split())  # header-safe: no newlines in a subject
    # mail_admins puts EMAIL_SUBJECT_PREFIX (Django's default: "[Django] ") in
    # front; add our tag only when the prefix does not already carry it.
    prefix = "" if SUBJECT_TAG in settings.EMAIL_SUBJECT_PREFIX else f"{SUBJECT_TAG} "
    subject = f"{prefix}{line}"[:_SUBJECT_MAX]
    try:
        mail_admins(subject, f"{message}\n\nSee the alerts in the admin.")
    except Exception:
        logger.exception("Could not email the admins about an alert")

    webhook_url = settings.ALERT_SLACK_WEBHOOK_URL
    if webhook_url:
        try:
            slack_message_send(webhook_url=webhook_url, text=f"{SUBJECT_TAG} {message}")
        except SlackError as exc:
            # The error text never contains the webhook URL (see videos.slack).
            logger.warning("Could not post an alert to Slack: %s", exc)
