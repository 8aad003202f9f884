"""Learner account forms: sign up and the profile the video scripts personalise from."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from presgen.models import LEARNER_PROFILE_FIELDS, ExperienceLevel, LearningStyle, User
from videos.studio.narration import DEFAULT_VOICE_ID, voices_available
from videos.studio.presenter import avatars_available
from videos.studio.types import AvatarConfig


@cache
def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()


EMAIL_TAKEN = "An account with this email address already exists."
AVATAR_UNKNOWN = "Choose one of the presenters shown."
VOICE_UNKNOWN = "Choose one of the voices listed."
DELETE_NOT_CONFIRMED = (
    "That is neither your username nor your password, so nothing was deleted. "
    "Type one of them exactly to confirm."
)


def avatar_choices() -> list[tuple[str, str]]:
    """The presenters the studio draws: (avatar id, name)."""
    return [(info.id, info.name) for info in avatars_available().values()]


def voice_choices() -> list[tuple[str, str]]:
    """The voices installed for the studio (the bundled one, then STUDIO_VOICES_DIR's)."""
    voices = voices_available(voices_dir=settings.STUDIO_VOICES_DIR)
    return [(info.voice_id, f"{info.name} · {info.language}") for info in voices.values()]


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
    preferred_avatar = forms.ChoiceField(
        label="Presenter",
        choices=avatar_choices,
        widget=forms.RadioSelect,
        help_text="Who presents your videos.",
        error_messages={"invalid_choice": AVATAR_UNKNOWN, "required": AVATAR_UNKNOWN},
    )
    preferred_voice = forms.ChoiceField(
        label="Voice",
        choices=voice_choices,
        help_text="Who narrates your videos. Play the sample below to hear it.",
        error_messages={"invalid_choice": VOICE_UNKNOWN, "required": VOICE_UNKNOWN},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=_time_zone_choices,
        help_text="Dates and times in the portal and in emails use this zone.",
    )

    class Meta:
        model = User
        fields = ("email", *LEARNER_PROFILE_FIELDS)
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A choice that is no longer offered (a voice file removed, say) is shown as the
        # default one, so saving the other settings does not stop at a field left empty.
        for name, choices, default in (
            ("preferred_avatar", avatar_choices(), AvatarConfig().avatar_id),
            ("preferred_voice", voice_choices(), DEFAULT_VOICE_ID),
        ):
            offered = [value for value, _ in choices]
            if self.initial.get(name) not in offered:
                self.initial[name] = default if default in offered else (offered or [""])[0]

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"])
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email


class AccountDeleteForm(forms.Form):
    """Deleting the account: the learner types their username or password to confirm."""

    confirmation = forms.CharField(
        label="Type your username or your password to confirm",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": DELETE_NOT_CONFIRMED},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirmation(self) -> str:
        value: str = self.cleaned_data["confirmation"]
        if value.strip() == self.user.username or self.user.check_password(value):
            return value
        raise forms.ValidationError(DELETE_NOT_CONFIRMED, code="not_confirmed")
