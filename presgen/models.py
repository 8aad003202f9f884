"""The learner account: Django's user with the profile the scripts personalise from."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class ExperienceLevel(models.TextChoices):
    UNDER_1 = "0-1", "Less than a year"
    Y1_3 = "1-3", "1–3 years"
    Y3_5 = "3-5", "3–5 years"
    Y5_10 = "5-10", "5–10 years"
    OVER_10 = "10+", "More than 10 years"


class LearningStyle(models.TextChoices):
    VISUAL = "visual", "Visual"
    AUDITORY = "auditory", "Auditory"
    READING = "reading", "Reading/writing"
    HANDS_ON = "hands_on", "Hands-on"


class Pace(models.TextChoices):
    SLOW = "slow", "Slow"
    NORMAL = "normal", "Normal"
    FAST = "fast", "Fast"


def validate_learning_styles(value: object) -> None:
    allowed = set(LearningStyle.values)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Learning styles must be a list of names.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValidationError(
            "Unknown learning style(s): %(unknown)s. Choose from %(allowed)s.",
            params={"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
        )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("%(value)s is not a known time zone.", params={"value": value})


# What a learner sets about themselves (the portal's profile form, the API's `me`,
# the data export and the admin's "Learner profile" all show these).
LEARNER_PROFILE_FIELDS = (
    "display_name",
    "experience_level",
    "learning_styles",
    "preferred_pace",
    "preferred_avatar",
    "preferred_voice",
    "time_zone",
    "email_notifications",
    "series_digest",
)


class User(AbstractUser):
    display_name = models.CharField(max_length=120, blank=True)
    experience_level = models.CharField(
        max_length=8, choices=ExperienceLevel.choices, default=ExperienceLevel.Y1_3
    )
    # Several styles may apply; a JSON list keeps this portable across SQLite and PostgreSQL.
    learning_styles = models.JSONField(
        default=list, blank=True, validators=[validate_learning_styles]
    )
    preferred_pace = models.CharField(max_length=8, choices=Pace.choices, default=Pace.NORMAL)
    preferred_avatar = models.CharField(max_length=64, default="professional_instructor")
    preferred_voice = models.CharField(max_length=64, default="joe")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    email_notifications = models.BooleanField(
        default=True, help_text="email me when a video is ready or failed"
    )
    series_digest = models.BooleanField(
        default=False, help_text="one message when a whole series is finished, not one per video"
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def greeting_name(self) -> str:
        return self.display_name or self.first_name or self.username


# --- the REST API ------------------------------------------------------------------


class ApiTokenScope(models.TextChoices):
    LEARNER = "learner", "Learner (acts only for its own user)"
    STAFF = "staff", "Staff service (may act for any learner)"


class ApiToken(models.Model):
    """A key another system sends as `Authorization: Token <key>` (or `Bearer <key>`).

    Only a SHA-256 digest of the key is stored: the plain key is shown once, when
    the token is made (admin or `manage.py create_api_token`), and cannot be
    recovered. `key_prefix` (the key's first characters) lets people tell tokens apart.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what uses this token, e.g. 'PresGen-Assess'")
    scope = models.CharField(
        max_length=8, choices=ApiTokenScope.choices, default=ApiTokenScope.LEARNER
    )
    key_prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=ApiTokenScope.values), name="apitoken_scope_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` for a POST that creates, and the response it got.

    The row is claimed (inserted) before the request runs; the database refuses a
    second claim of the same key by the same user, so two concurrent requests never
    both run. `status_code` stays empty while the first request is in flight.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user")
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
