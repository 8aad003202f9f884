"""Writes on the video side: planning series, requesting videos, retrying, cancelling."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from library.models import Assessment, Certification, Difficulty
from presgen.models import User
from videos.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    ErrorKind,
    JobStatus,
    VideoJob,
    VideoType,
)
from videos.planning import series_items_plan
from videos.providers.base import ProviderError
from videos.providers.registry import provider_get
from videos.queueing import job_enqueue
from videos.scriptwriting.types import CvProfile

log = logging.getLogger(__name__)


class VideoRequestError(ValueError):
    """A video request that cannot be made; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class SeriesPlan:
    assessment: Assessment
    created: list[VideoJob] = field(default_factory=list)
    kept: list[VideoJob] = field(default_factory=list)

    @property
    def jobs(self) -> list[VideoJob]:
        return sorted(self.created + self.kept, key=lambda job: (job.priority, job.pk))


def _deadline() -> Any:
    return timezone.now() + timedelta(hours=settings.JOB_DEADLINE_HOURS)


def series_plan(*, assessment: Assessment, enqueue: bool = True) -> SeriesPlan:
    """Plan (the seed's plan_series) the assessment's videos; safe to call again.

    A planned video that already exists for this learner and certification
    with the same inputs is kept, not made twice, even when two requests plan
    at the same moment (the database refuses the duplicate). With
    enqueue=False (Redis not running yet) the reconciler queues the jobs later.
    """
    plan = SeriesPlan(assessment=assessment)
    with transaction.atomic():
        for item in series_items_plan(assessment=assessment):
            identity = {
                "learner": assessment.learner,
                "certification": assessment.certification,
                "plan_key": item.plan_key,
                "plan_fingerprint": item.fingerprint,
            }
            try:
                with transaction.atomic():
                    job = VideoJob.objects.create(
                        **identity,
                        assessment=assessment,
                        video_type=item.video_type,
                        priority=item.priority,
                        parameters=item.parameters,
                        deadline_at=_deadline(),
                    )
            except IntegrityError:
                plan.kept.append(VideoJob.objects.get(**identity))
                continue
            if enqueue:
                job_enqueue(job=job, quality=settings.VIDEO_QUALITY)
            plan.created.append(job)
    log.info(
        "planned assessment %s: %d new, %d kept",
        assessment.pk,
        len(plan.created),
        len(plan.kept),
    )
    return plan


def video_request(
    *,
    learner: User,
    video_type: str,
    certification: Certification | None = None,
    parameters: dict[str, Any] | None = None,
    cv: CvProfile | None = None,
) -> VideoJob:
    """One video on request: a practice session, a celebration or an introduction."""
    parameters = dict(parameters or {})
    assessment = None
    if video_type not in VideoType.values:
        raise VideoRequestError(f"unknown video type {video_type!r}", field="video_type")
    if video_type != VideoType.INTRODUCTION and certification is None:
        raise VideoRequestError("choose a certification", field="certification")
    if certification is not None:
        assessment = (
            Assessment.objects.filter(learner=learner, certification=certification)
            .order_by("-taken_at")
            .first()
        )
    if video_type == VideoType.PRACTICE_SESSION:
        _practice_parameters_check(parameters=parameters, certification=certification)
    elif video_type == VideoType.CELEBRATION:
        assert certification is not None
        if assessment is None or assessment.overall_score < certification.passing_score:
            raise VideoRequestError(
                f"a celebration needs a passing score ({certification.passing_score}%) "
                f"in {certification.name}",
                field="video_type",
            )
    elif video_type == VideoType.INTRODUCTION and cv is not None:
        parameters["cv"] = cv.as_dict()
    job = VideoJob(
        learner=learner,
        certification=certification,
        assessment=assessment,
        video_type=video_type,
        priority=2 if video_type == VideoType.PRACTICE_SESSION else 3,
        parameters=parameters,
        deadline_at=_deadline(),
    )
    with transaction.atomic():
        job.save()
        job_enqueue(job=job, quality=parameters.get("quality", settings.VIDEO_QUALITY))
    return job


def _practice_parameters_check(
    *, parameters: dict[str, Any], certification: Certification | None
) -> None:
    assert certification is not None
    domain = parameters.get("domain")
    if domain and not certification.domains.filter(slug=domain).exists():
        raise VideoRequestError(f"{certification.name} has no domain {domain!r}", field="domain")
    difficulty = parameters.get("difficulty")
    if difficulty and difficulty not in Difficulty.values:
        raise VideoRequestError(
            f"difficulty must be one of {', '.join(Difficulty.values)}", field="difficulty"
        )
    questions = parameters.get("questions", 3)
    if not isinstance(questions, int) or not 1 <= questions <= 10:
        raise VideoRequestError("questions must be a whole number from 1 to 10", field="questions")


@dataclass(frozen=True)
class ActionResult:
    done: bool
    message: str


def job_retry(*, job: VideoJob) -> ActionResult:
    """Queue a failed or cancelled job again, from the start of its provider choice."""
    if refused := _learner_inactive(job=job):
        return refused
    with transaction.atomic():
        changed = VideoJob.objects.filter(
            pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]
        ).update(
            status=JobStatus.QUEUED,
            progress=0,
            step="Queued again",
            error="",
            error_kind=ErrorKind.NONE,
            retries=0,
            next_run_at=None,
            finished_at=None,
            lease_token=None,
            lease_expires_at=None,
            deadline_at=_deadline(),
            updated_at=timezone.now(),
        )
        if not changed:
            job.refresh_from_db()
            return ActionResult(False, f"job #{job.pk} is {job.get_status_display().lower()}")
        job.refresh_from_db()
        job_enqueue(job=job, quality=job.parameters.get("quality", settings.VIDEO_QUALITY))
    return ActionResult(True, f"job #{job.pk} queued again")


def _learner_inactive(*, job: VideoJob) -> ActionResult | None:
    """Nothing is rendered for a deactivated account, nor for the erased learners' one
    (it keeps their jobs, scrubbed of scripts and parameters, for the figures only)."""
    if User.objects.filter(pk=job.learner_id, is_active=True).exists():
        return None
    return ActionResult(False, f"job #{job.pk} belongs to an inactive or erased account")


def job_cancel(*, job: VideoJob) -> ActionResult:
    """Stop an active job. A worker busy with it notices at its next write and stops."""
    with transaction.atomic():
        changed = VideoJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
            status=JobStatus.CANCELLED,
            step="Cancelled",
            lease_token=None,
            lease_expires_at=None,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not changed:
            job.refresh_from_db()
            return ActionResult(False, f"job #{job.pk} is {job.get_status_display().lower()}")
        remote = list(
            job.attempts.filter(
                status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING]
            ).exclude(external_id="")
        )
        job.attempts.filter(
            status__in=[AttemptStatus.PENDING, AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING]
        ).update(status=AttemptStatus.CANCELLED, finished_at=timezone.now())
    for attempt in remote:
        _remote_cancel(provider_name=attempt.provider, external_id=attempt.external_id)
    job.refresh_from_db()
    return ActionResult(True, f"job #{job.pk} cancelled")


def _remote_cancel(*, provider_name: str, external_id: str) -> None:
    # Best effort: the job is cancelled here whatever the provider says.
    try:
        provider_get(name=provider_name).cancel(external_id)
    except (ProviderError, LookupError) as error:
        log.warning("could not cancel %s render %s: %s", provider_name, external_id, error)


def job_rerender(*, job: VideoJob, provider_name: str) -> ActionResult:
    """Render a job again on one provider, forced (`parameters["provider"]`).

    A failed or cancelled job is queued again with the provider forced. A
    ready job is final (its Video is never replaced in place), so it is copied
    into a new job with the provider forced. An active job is left alone.
    """
    from videos.providers.registry import providers_enabled

    if refused := _learner_inactive(job=job):
        return refused
    names = [provider.name for provider, _ in providers_enabled()]
    if provider_name not in names:
        return ActionResult(False, f"job #{job.pk}: no enabled provider is named {provider_name!r}")
    with transaction.atomic():
        locked = VideoJob.objects.select_for_update().get(pk=job.pk)
        if locked.status == JobStatus.READY:
            copy = VideoJob.objects.create(
                learner_id=locked.learner_id,
                certification_id=locked.certification_id,
                assessment_id=locked.assessment_id,
                video_type=locked.video_type,
                priority=locked.priority,
                parameters={**locked.parameters, "provider": provider_name},
                provider=provider_name,
                target_duration_seconds=locked.target_duration_seconds,
                deadline_at=_deadline(),
            )
            job_enqueue(job=copy, quality=copy.parameters.get("quality", settings.VIDEO_QUALITY))
            job.refresh_from_db()
            return ActionResult(
                True, f"job #{job.pk} re-rendered as job #{copy.pk} on {provider_name}"
            )
        if locked.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            job.refresh_from_db()
            return ActionResult(False, f"job #{job.pk} is {locked.get_status_display().lower()}")
        locked.parameters = {**locked.parameters, "provider": provider_name}
        locked.provider = provider_name
        locked.save(update_fields=["parameters", "provider", "updated_at"])
        result = job_retry(job=locked)
    job.refresh_from_db()
    if not result.done:
        return result
    return ActionResult(True, f"job #{job.pk} queued again on {provider_name}")
