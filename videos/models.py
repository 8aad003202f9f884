"""Making videos: jobs, provider attempts, finished videos, providers, webhooks."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q

from presgen.fields import EncryptedJSONField


class VideoType(models.TextChoices):
    OVERVIEW = "overview", "Overview"
    REMEDIATION = "remediation", "Remediation"
    PRACTICE_SESSION = "practice_session", "Practice session"
    EXAM_PREP = "exam_prep", "Exam prep"
    MOTIVATIONAL = "motivational", "Motivational"
    CELEBRATION = "celebration", "Celebration"
    INTRODUCTION = "introduction", "Professional introduction"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCRIPTING = "scripting", "Writing the script"
    RENDERING = "rendering", "Rendering"
    CHECKING = "checking", "Checking quality"
    STORING = "storing", "Storing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = frozenset(
    {
        JobStatus.QUEUED,
        JobStatus.SCRIPTING,
        JobStatus.RENDERING,
        JobStatus.CHECKING,
        JobStatus.STORING,
    }
)
FINAL_STATUSES = frozenset({JobStatus.READY, JobStatus.FAILED, JobStatus.CANCELLED})

# The pipeline moves forward one step at a time (a new provider attempt goes
# back to rendering); any active step may fail or be cancelled, or go back to
# the queue (a retry after backoff, or a worker that died); a failed or
# cancelled job may be queued again (retry). A ready job is final:
# re-rendering makes a new job, so a Video is never replaced in place.
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.SCRIPTING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.SCRIPTING: frozenset(
        {JobStatus.RENDERING, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.RENDERING: frozenset(
        {
            JobStatus.CHECKING,
            JobStatus.RENDERING,
            JobStatus.QUEUED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
        }
    ),
    JobStatus.CHECKING: frozenset(
        {
            JobStatus.STORING,
            JobStatus.RENDERING,
            JobStatus.QUEUED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
        }
    ),
    JobStatus.STORING: frozenset(
        {JobStatus.READY, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.READY: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}


class ErrorKind(models.TextChoices):
    NONE = "", "—"
    RETRYABLE = "retryable", "Retryable"
    PERMANENT = "permanent", "Permanent"
    PROVIDER_DOWN = "provider_down", "Provider down"


class VideoJob(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_jobs"
    )
    certification = models.ForeignKey(
        "library.Certification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessment = models.ForeignKey(
        "library.Assessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="video_jobs",
    )
    video_type = models.CharField(max_length=24, choices=VideoType.choices)
    priority = models.PositiveSmallIntegerField(default=2, help_text="1 (first) to 4 (last)")
    # What the video is about: domain slug, topic, difficulty... by video type.
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=32, blank=True, help_text="provider chosen or forced")
    script = models.JSONField(default=dict, blank=True)
    script_quality = models.JSONField(default=dict, blank=True)
    target_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=16, choices=ErrorKind.choices, blank=True, default="")
    retries = models.PositiveSmallIntegerField(default=0)
    # Planning identity: what the video is for ("remediation:networking") and a
    # digest of the inputs that shape it. The same plan with the same inputs
    # is never created twice for a learner and certification.
    plan_key = models.CharField(max_length=120, blank=True)
    plan_fingerprint = models.CharField(max_length=64, blank=True)
    # The worker holding the job: a lease renewed while it works. A job whose
    # lease ran out (its worker died or hung) may be claimed by another worker;
    # the old holder's writes then match no row and it stops.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    rq_job_id = models.CharField(max_length=80, blank=True, editable=False)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="scheduled retry")
    deadline_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=4), name="videojob_priority_1_4"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="videojob_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="videojob_status_valid"
            ),
            models.UniqueConstraint(
                fields=["learner", "certification", "plan_key", "plan_fingerprint"],
                condition=~Q(plan_key=""),
                name="videojob_one_per_plan",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "status"]),
            models.Index(fields=["assessment", "status"]),
            models.Index(fields=["status", "priority", "created_at"]),
            models.Index(fields=["created_at"]),
            # The staff dashboard: jobs per hour by status (covering), failures of a period.
            models.Index(fields=["created_at", "status"], name="videojob_created_status"),
            models.Index(fields=["status", "created_at"], name="videojob_status_created"),
            # Monitoring's success rate over the last N finished jobs, read after
            # every attempt: without it, every finished job is sorted each time.
            models.Index(fields=["finished_at", "id"], name="videojob_finished"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_video_type_display()} for {self.learner}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AttemptStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # idempotency key stored, not yet submitted
    SUBMITTED = "submitted", "Submitted"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class GenerationAttempt(models.Model):
    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="attempts")
    provider = models.CharField(max_length=32)
    provider_account = models.ForeignKey(
        "videos.ProviderAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=200, blank=True)
    # Stored before the provider is called, sent with the submit: a retry of
    # the same attempt can never create a second remote render.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=16, choices=ErrorKind.choices, blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal(0))
    qa_score = models.FloatField(null=True, blank=True)
    quality_report = models.JSONField(default=dict, blank=True)
    # Remote renders: when the next status check is due, and how many ran.
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["job", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=~Q(external_id=""),
                name="attempt_unique_external_id",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="attempt_cost_non_negative"),
        ]
        indexes = [
            models.Index(fields=["provider", "status", "started_at"]),
            models.Index(fields=["status", "next_check_at"]),
            # The staff dashboard (videos/metrics.py): a period's attempts read from the
            # index alone (figures by provider, slowest jobs), and percentiles read by
            # rank in seconds order, by provider and overall, without sorting the period.
            models.Index(
                fields=["started_at", "status", "provider", "seconds", "qa_score", "cost", "job"],
                name="attempt_period_figures",
            ),
            models.Index(
                fields=["status", "provider", "seconds", "started_at"],
                name="attempt_provider_seconds",
            ),
            models.Index(fields=["status", "seconds", "started_at"], name="attempt_seconds"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} attempt for job #{self.job_id}"


def _videos_storage() -> Storage:
    # Chosen by VIDEO_STORAGE (local media or Google Drive), read at call time
    # so the migration does not freeze a backend.
    return storages["videos"]


def _video_upload_to(instance: Video, filename: str) -> str:
    # Random names: a learner's file URL must not be guessable from another's.
    return f"videos/{instance.learner_id}/{uuid.uuid4().hex}/{filename}"


class Video(models.Model):
    # One Video per job, enforced by the database: a job rendered twice by two
    # workers still yields one Video.
    job = models.OneToOneField(VideoJob, on_delete=models.CASCADE, related_name="video")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos"
    )
    video_type = models.CharField(max_length=24, choices=VideoType.choices)
    title = models.CharField(max_length=200)
    focus_area = models.CharField(max_length=200, blank=True)
    domain = models.ForeignKey(
        "library.Domain", null=True, blank=True, on_delete=models.SET_NULL, related_name="videos"
    )
    file = models.FileField(upload_to=_video_upload_to, storage=_videos_storage, max_length=300)
    thumbnail = models.FileField(
        upload_to=_video_upload_to, storage=_videos_storage, max_length=300, blank=True
    )
    captions = models.FileField(
        upload_to=_video_upload_to, storage=_videos_storage, max_length=300, blank=True
    )
    duration_seconds = models.FloatField()
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    provider = models.CharField(max_length=32, blank=True)
    quality_report = models.JSONField(default=dict, blank=True)
    hidden = models.BooleanField(default=False, help_text="hide from the learner")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_seconds__gt=0), name="video_duration_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "video_type"]),
            models.Index(fields=["learner", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class ProviderKind(models.TextChoices):
    STUDIO = "studio", "PresGen studio (built in)"
    PRESGEN_AVATAR = "presgen_avatar", "PresGen-Avatar API"
    HEYGEN = "heygen", "HeyGen"
    DID = "did", "D-ID"
    RUNWAY = "runway", "Runway"


class ProviderAccount(models.Model):
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)
    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=10, help_text="lower is tried first")
    base_url = models.URLField(blank=True)
    # API keys and webhook secrets: encrypted at rest, never shown back.
    credentials = EncryptedJSONField(default=dict, blank=True)
    cost_per_minute = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal(0))
    max_concurrency = models.PositiveSmallIntegerField(default=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_per_minute__gte=0), name="provider_cost_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_concurrency__gte=1), name="provider_concurrency_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    provider = models.CharField(max_length=32, choices=ProviderKind.choices)
    # The provider's own event id: a redelivered webhook hits this constraint
    # and changes nothing.
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_unique_event")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"


class CircuitState(models.TextChoices):
    CLOSED = "closed", "Closed (healthy)"
    OPEN = "open", "Open (not used)"
    HALF_OPEN = "half_open", "Half-open (one trial)"


class ProviderCircuit(models.Model):
    """A provider's circuit breaker: opened by repeated failures, tried again after a cool-down."""

    provider = models.CharField(max_length=100, unique=True)
    state = models.CharField(
        max_length=16, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    failures = models.PositiveIntegerField(default=0, help_text="failures in the current window")
    window_started_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]

    def __str__(self) -> str:
        return f"{self.provider}: {self.state}"


class AlertKind(models.TextChoices):
    SLOW_GENERATION = "slow_generation", "Generation too slow"
    LOW_QUALITY = "low_quality", "Quality too low"
    LOW_SUCCESS_RATE = "low_success_rate", "Success rate too low"


class Alert(models.Model):
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    provider = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(
        VideoJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "resolved_at"])]
        constraints = [
            # One open alert per kind and provider: racing workers page staff once.
            models.UniqueConstraint(
                fields=["kind", "provider"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.message
