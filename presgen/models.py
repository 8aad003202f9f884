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
