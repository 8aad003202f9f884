"""Learner account forms: sign up and the profile the video scripts personalise from."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

from presgen.models import ExperienceLevel, LearningStyle, User


@cache
def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()


EMAIL_TAKEN = "An account with this email address already exists."


def _learning_styles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="How do you like to learn?",
        choices=LearningStyle.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Choose any that apply.",
    )


class SignupForm(UserCreationForm):
    """A new learner: username, email (unique, any case), display name, password twice."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="For password resets and notices about your videos.",
    )
    display_name = forms.CharField(
        label="Display name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text="What PresGen calls you, in the portal and in your videos.",
    )
    experience_level = forms.ChoiceField(
        label="Experience level (optional)",
        choices=[("", "Prefer not to say"), *ExperienceLevel.choices],
        required=False,
    )
    learning_styles = _learning_styles_field()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "display_name", "experience_level", "learning_styles")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["learning_styles"].help_text = "Optional. Choose any that apply."

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"])
        if _email_taken(email):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email

    def clean_experience_level(self) -> str:
        # Optional here, but the profile always has a level: the model's default.
        value: str = self.cleaned_data.get("experience_level") or ""
        return value or str(User._meta.get_field("experience_level").get_default())


class ProfileForm(forms.ModelForm):
    """The learner's own settings."""

    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    learning_styles = _learning_styles_field()
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=_time_zone_choices,
        help_text="Dates and times in the portal and in emails use this zone.",
    )

    class Meta:
        model = User
        fields = (
            "display_name",
            "email",
            "experience_level",
            "learning_styles",
            "preferred_pace",
            "time_zone",
            "email_notifications",
            "series_digest",
        )
        labels = {
            "display_name": "Display name",
            "experience_level": "Experience level",
            "preferred_pace": "Preferred pace",
            "email_notifications": "Email me when a video is ready or has failed",
            "series_digest": "Send one message per finished series, not one per video",
        }
        help_texts = {
            "display_name": "What PresGen calls you, in the portal and in your videos.",
            "email_notifications": "",
            "series_digest": "Applies when email notifications are on.",
        }
        widgets = {"display_name": forms.TextInput(attrs={"autocomplete": "name"})}

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"])
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email
