"""Telling the learner that a video is ready, that one failed, or that a series is done.

`job_outcome_notify` runs inside the transaction that made a job final. It
writes the in-app Notification (the database refuses a second one with the
same dedupe key, so two workers finishing one job tell the learner once) and,
after the commit, emails it when the learner wants email.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from library.models import Assessment, Notification, NotificationKind
from presgen.models import User
from videos.avatar_api.callbacks import avatar_callback_schedule
from videos.models import FINAL_STATUSES, ErrorKind, JobStatus, Video, VideoJob

logger = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://localhost:8000"
# A provider's error can be a long stack of detail; the learner gets its gist.
_REASON_MAX = 300

# What went wrong, in words a learner understands, by kind of failure.
_FAILURE_CAUSES: dict[str, str] = {
    ErrorKind.RETRYABLE: "The video service had a temporary problem.",
    ErrorKind.PROVIDER_DOWN: "The video services were unavailable.",
    ErrorKind.PERMANENT: "The video could not be made from this request.",
}


@transaction.atomic
def job_outcome_notify(*, job: VideoJob) -> list[Notification]:
    """Notify the learner about a job that became ready or failed; return the notifications.

    Per-video learners get one notification per finished job; digest learners
    (series_digest, job from an assessment) get one when the whole series is
    final, and nothing before. Calling this again for the same outcome returns
    the existing notification and sends no second email.
    """
    learner = job.learner
    if job.parameters.get("source") == "avatar_api":
        # Made for another system through the API: it polls or gets a callback.
        avatar_callback_schedule(job=job)
        return []
    if learner.series_digest and job.assessment_id is not None:
        return _series_notify(learner=learner, assessment_id=job.assessment_id)
    if job.status == JobStatus.READY:
        return [_video_ready_notify(job=job)]
    if job.status == JobStatus.FAILED:
        return [_video_failed_notify(job=job)]
    # Cancelled (by staff or the learner) or not final after all: nothing to tell.
    return []


def _video_ready_notify(*, job: VideoJob) -> Notification:
    try:
        video = job.video
    except Video.DoesNotExist:
        raise ValueError(f"job #{job.pk} is ready but has no video") from None
    return _notification_create_once(
        learner=job.learner,
        dedupe_key=f"job:{job.pk}:ready",
        kind=NotificationKind.VIDEO_READY,
        title=f"Your video is ready: {video.title}"[:200],
        body=f"“{video.title}” has been made for you and is waiting in your library.",
        url=reverse("portal:video_player", args=[video.pk]),
        template="video_ready",
        context={"video": video},
    )


def _video_failed_notify(*, job: VideoJob) -> Notification:
    video_type = job.get_video_type_display().lower()
    reason = job_failure_reason(job=job)
    return _notification_create_once(
        learner=job.learner,
        # The retry count is part of the key: a retried job that fails again
        # is news, the same failure seen by two workers is not.
        dedupe_key=f"job:{job.pk}:failed:{job.retries}",
        kind=NotificationKind.VIDEO_FAILED,
        title=f"We could not make your {video_type} video",
        body=f"{reason} You can retry it from the job page.",
        url=reverse("library_portal:library"),  # failed jobs are retried there
        template="video_failed",
        context={"job": job, "video_type": video_type, "reason": reason},
    )


def job_failure_reason(*, job: VideoJob) -> str:
    """Why a job failed, as sentences for the learner: the kind of failure and its detail."""
    detail = " ".join(job.error.split())
    if len(detail) > _REASON_MAX:
        detail = detail[: _REASON_MAX - 1].rstrip() + "…"
    cause = _FAILURE_CAUSES.get(job.error_kind)
    parts = [cause] if cause else []
    if detail:
        parts.append(f"Reason: {detail.rstrip('.')}.")
    return " ".join(parts) or "Something went wrong while making it."


def _series_notify(*, learner: User, assessment_id: int) -> list[Notification]:
    # Lock the assessment: of two workers finishing the last two jobs at once,
    # the second waits here and then sees both jobs final. (SQLite serialises
    # writers anyway; on PostgreSQL this is a row lock.)
    assessment = (
        Assessment.objects.select_for_update().select_related("certification").get(pk=assessment_id)
    )
    jobs = list(
        VideoJob.objects.filter(assessment=assessment)
        .select_related("video")
        .order_by("priority", "pk")
    )
    if any(j.status not in FINAL_STATUSES for j in jobs):
        return []
    ready = [j for j in jobs if j.status == JobStatus.READY]
    failed = [j for j in jobs if j.status == JobStatus.FAILED]
    if not ready and not failed:
        return []  # the whole series was cancelled: nothing was made or went wrong
    summary = f"{_videos_count(len(ready))} ready"
    if failed:
        summary += f", {len(failed)} failed"
    title = f"Your video series is ready: {summary}"
    body = f"Your videos for {assessment.certification} are finished: {summary}."
    if failed:
        body += " Failed videos can be retried from their job pages."
    notification = _notification_create_once(
        learner=learner,
        dedupe_key=f"series:{assessment.pk}",
        kind=NotificationKind.SERIES_FINISHED,
        title=title,
        body=body,
        url=reverse("library_portal:library"),
        template="series_finished",
        context={
            "assessment": assessment,
            "ready": [
                {
                    "title": j.video.title,
                    "link": public_url_build(
                        path=reverse("portal:video_player", args=[j.video.pk])
                    ),
                }
                for j in ready
            ],
            "failed": [
                {
                    "video_type": j.get_video_type_display(),
                    "reason": job_failure_reason(job=j),
                    "link": public_url_build(path=reverse("library_portal:library")),
                }
                for j in failed
            ],
        },
    )
    return [notification]


def _videos_count(n: int) -> str:
    return f"{n} video" if n == 1 else f"{n} videos"


def _notification_create_once(
    *,
    learner: User,
    dedupe_key: str,
    template: str,
    context: dict[str, Any],
    **fields: Any,
) -> Notification:
    """Create the notification and queue its email, or return the one already there."""
    try:
        # Insert first, no look-up before: a look-up cannot see another
        # worker's uncommitted row, the unique constraint can. The savepoint
        # rolls back only this insert, not the caller's transaction.
        with transaction.atomic():
            notification = Notification.objects.create(
                learner=learner, dedupe_key=dedupe_key, **fields
            )
    except IntegrityError:
        return Notification.objects.get(learner=learner, dedupe_key=dedupe_key)
    if learner.email_notifications and learner.email:
        # After the commit: no email about a job whose transaction rolled back.
        transaction.on_commit(
            lambda: _notification_email(
                notification=notification, template=template, context=context
            )
        )
    return notification


def _notification_email(
    *, notification: Notification, template: str, context: dict[str, Any]
) -> None:
    """Send the notification by email (text + HTML); log a failure, never raise it."""
    learner = notification.learner
    context = {
        **context,
        "learner": learner,
        "greeting_name": learner.greeting_name,
        "notification": notification,
        "link": public_url_build(path=notification.url),
    }
    try:
        message = EmailMultiAlternatives(
            subject=" ".join(notification.title.split()),  # one header line
            body=render_to_string(f"emails/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[learner.email],
        )
        message.attach_alternative(
            render_to_string(f"emails/{template}.html", context), "text/html"
        )
        message.send()
    except Exception:
        # SMTP down, a refused address...: the video is still there and the
        # in-app notification still shows; emailed_at stays empty.
        logger.exception(
            "Could not email notification %s to learner %s", notification.pk, learner.pk
        )
        return
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(emailed_at=now)
    notification.emailed_at = now


def public_url_build(*, path: str) -> str:
    """An absolute link for emails: PUBLIC_URL (when the project sets it) plus the path."""
    base = getattr(settings, "PUBLIC_URL", "") or DEFAULT_PUBLIC_URL
    return f"{base.rstrip('/')}{path}"
