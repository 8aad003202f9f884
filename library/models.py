"""Learning: the knowledge base, assessments, playlists, watch progress, notifications."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def _percent_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}), name=name
    )


class Certification(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    passing_score = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(70), validators=PERCENT
    )
    exam_minutes = models.PositiveIntegerField(null=True, blank=True)
    exam_strategies = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [_percent_check("passing_score", "certification_passing_score_percent")]

    def __str__(self) -> str:
        return self.name


class Domain(models.Model):
    certification = models.ForeignKey(
        Certification, on_delete=models.CASCADE, related_name="domains"
    )
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    weight = models.DecimalField(
        "exam weight (%)", max_digits=5, decimal_places=2, validators=PERCENT
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["certification", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["certification", "slug"], name="domain_unique_slug"),
            _percent_check("weight", "domain_weight_percent"),
        ]

    def __str__(self) -> str:
        return self.name


class Concept(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="concepts")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    content = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    analogies = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["domain", "position", "title"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "slug"], name="concept_unique_slug")
        ]

    def __str__(self) -> str:
        return self.title


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


class PracticeQuestion(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="questions")
    question = models.TextField()
    choices = models.JSONField(default=list)
    answer_index = models.PositiveSmallIntegerField(help_text="0-based index into choices")
    explanation = models.TextField(blank=True)
    key_concepts = models.ManyToManyField(Concept, blank=True, related_name="questions")
    difficulty = models.CharField(
        max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["domain", "position", "id"]
        indexes = [models.Index(fields=["domain", "difficulty"])]

    def __str__(self) -> str:
        return self.question[:80]

    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]


class AssessmentSource(models.TextChoices):
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    GOOGLE_FORMS = "google_forms", "Google Forms"
    DEMO = "demo", "Demo data"


class Assessment(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessments"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="assessments"
    )
    overall_score = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)
    taken_at = models.DateTimeField()
    source = models.CharField(
        max_length=16, choices=AssessmentSource.choices, default=AssessmentSource.API
    )
    # The sender's id for this result (a form response id, an LMS attempt id):
    # importing the same result twice is refused by the database.
    external_id = models.CharField(max_length=200, blank=True)
    raw_payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at"]
        constraints = [
            _percent_check("overall_score", "assessment_overall_score_percent"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="assessment_unique_external_id",
            ),
        ]
        indexes = [models.Index(fields=["learner", "-taken_at"])]

    def __str__(self) -> str:
        return f"{self.learner} · {self.certification} · {self.overall_score}%"


class DomainScore(models.Model):
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="domain_scores"
    )
    # PROTECT: results must not vanish because a knowledge base was re-imported.
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="scores")
    score = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        ordering = ["score"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "domain"], name="domainscore_one_per_domain"
            ),
            _percent_check("score", "domainscore_score_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.score}%"


class PlaylistKind(models.TextChoices):
    CUSTOM = "custom", "My playlist"
    COMPLETE_PREPARATION = "complete_preparation", "Complete preparation"
    QUICK_REVIEW = "quick_review", "Quick review"


class Playlist(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=24, choices=PlaylistKind.choices, default=PlaylistKind.CUSTOM
    )
    certification = models.ForeignKey(
        Certification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["learner", "title"]
        constraints = [
            # A learner has one generated playlist of each kind per certification.
            models.UniqueConstraint(
                fields=["learner", "kind", "certification"],
                condition=~Q(kind="custom"),
                name="playlist_one_generated_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.title


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["playlist", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "video"], name="playlistitem_unique_video")
        ]

    def __str__(self) -> str:
        return f"{self.playlist} #{self.position}"


class WatchProgress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_progress"
    )
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="progress")
    position_seconds = models.FloatField(default=0)
    # Seconds actually played (not skipped over): completion is earned, not dragged to.
    seconds_watched = models.FloatField(default=0)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "watch progress"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "video"], name="watchprogress_one_per_video"
            ),
            models.CheckConstraint(
                condition=Q(position_seconds__gte=0) & Q(seconds_watched__gte=0),
                name="watchprogress_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["learner", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.learner} · {self.video_id} @ {self.position_seconds:.0f}s"


class NotificationKind(models.TextChoices):
    VIDEO_READY = "video_ready", "Video ready"
    VIDEO_FAILED = "video_failed", "Video failed"
    SERIES_FINISHED = "series_finished", "Series finished"
    SERIES_PLANNED = "series_planned", "Series planned"
    INFO = "info", "Information"


class Notification(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # What the message is about ("job:42:ready", "series:7"): the database
    # refuses a second one, so two workers finishing together tell the learner once.
    dedupe_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            )
        ]
        indexes = [models.Index(fields=["learner", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class FormMapping(models.Model):
    """How a Google Form's answers become an assessment's domain scores (kept by staff)."""

    form_id = models.CharField(max_length=200, unique=True)
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="form_mappings"
    )
    # {"<question id>": "<domain slug>"}: each graded question counts towards one domain.
    question_domains = models.JSONField(
        default=dict,
        help_text='question id → domain slug, e.g. {"4a1b2c3d": "cloud-concepts"}',
    )
    # The question holding the learner's email; empty: the form's collected respondent email.
    email_question_id = models.CharField(max_length=200, blank=True)
    create_learners = models.BooleanField(
        default=False,
        help_text="create an account (no password; they use password reset) for unknown emails",
    )
    plan_series = models.BooleanField(
        default=True, help_text="plan the learner's video series for each imported assessment"
    )
    last_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["form_id"]

    def __str__(self) -> str:
        return f"form {self.form_id} → {self.certification}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        mapping = self.question_domains
        if not isinstance(mapping, dict) or not mapping:
            raise ValidationError({"question_domains": "Map at least one question id to a domain."})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            raise ValidationError(
                {"question_domains": "Each question id must map to a domain slug (text)."}
            )
        if self.certification_id is None:
            return
        known = set(self.certification.domains.values_list("slug", flat=True))
        unknown = sorted(set(mapping.values()) - known)
        if unknown:
            raise ValidationError(
                {
                    "question_domains": f"Not domains of {self.certification}: "
                    f"{', '.join(unknown)}. Known: {', '.join(sorted(known))}."
                }
            )
