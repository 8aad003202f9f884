"""Learner accounts: sign up, profile (with presenter and voice previews), download or
delete one's data, and password reset with PresGen's templates."""

from __future__ import annotations

import tempfile
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from presgen.accounts_forms import AccountDeleteForm, ProfileForm, SignupForm, voice_choices
from presgen.models import User
from presgen.previews import avatar_preview_png, voice_preview_path
from presgen.privacy import account_delete, account_export_write
from videos.studio.narration import UnknownVoiceError
from videos.studio.presenter import avatars_available

_PREVIEW_CACHE_CONTROL = "private, max-age=86400"
_EXPORT_SPOOL_BYTES = 16 * 1024 * 1024  # the zip moves from memory to a temp file past this


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to PresGen, {user.greeting_name}!")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=200)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    learner = cast(User, request.user)  # login_required: never anonymous here
    form = ProfileForm(request.POST or None, instance=learner)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "registration/profile.html", _profile_context(form))


def _profile_context(form: ProfileForm) -> dict[str, Any]:
    avatars = avatars_available()
    voice = str(form["preferred_voice"].value() or "")
    if voice not in {value for value, _ in voice_choices()}:
        voice = str(form.initial.get("preferred_voice") or "")
    placeholder = "__voice__"
    return {
        "form": form,
        "avatar_options": [
            {"radio": radio, "info": avatars[str(radio.data["value"])]}
            for radio in form["preferred_avatar"]
            if str(radio.data["value"]) in avatars
        ],
        "voice_preview_url": reverse("profile_voice_preview", args=[voice]) if voice else "",
        "voice_preview_template": reverse("profile_voice_preview", args=[placeholder]),
        "voice_preview_placeholder": placeholder,
    }


# --- previews ---------------------------------------------------------------------------


@require_GET
@login_required
def profile_avatar_preview(request: HttpRequest, avatar_id: str) -> HttpResponse:
    try:
        png = avatar_preview_png(avatar_id=avatar_id)
    except LookupError:
        raise Http404("No such presenter.") from None
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = _PREVIEW_CACHE_CONTROL
    return response


@require_GET
@login_required
def profile_voice_preview(request: HttpRequest, voice_id: str) -> HttpResponseBase:
    try:
        path = voice_preview_path(voice_id=voice_id)
    except UnknownVoiceError:
        raise Http404("No such voice.") from None
    response = FileResponse(path.open("rb"), content_type="audio/wav")
    response["Cache-Control"] = _PREVIEW_CACHE_CONTROL
    return response


# --- your data --------------------------------------------------------------------------


@require_GET
@never_cache
@login_required
def profile_export(request: HttpRequest) -> HttpResponseBase:
    """All of the learner's data as a zip, built in a temp file, then streamed."""
    learner = cast(User, request.user)
    spool = tempfile.SpooledTemporaryFile(max_size=_EXPORT_SPOOL_BYTES)  # noqa: SIM115
    try:
        account_export_write(user=learner, stream=spool)  # type: ignore[arg-type]
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    day = timezone.localdate().isoformat()
    return FileResponse(  # closes the spool when the response is done
        spool,
        as_attachment=True,
        filename=f"presgen-{learner.username}-{day}.zip",
        content_type="application/zip",
    )


@sensitive_post_parameters("confirmation")
@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def profile_delete(request: HttpRequest) -> HttpResponse:
    """A confirmation page; the account goes only when the learner confirms who they are."""
    learner = cast(User, request.user)
    form = AccountDeleteForm(request.POST or None, user=learner)
    if request.method == "POST" and form.is_valid():
        account_delete(user=learner)
        logout(request)
        messages.success(request, "Your account, your videos and all your data are deleted.")
        return redirect("home")
    return render(request, "registration/profile_delete.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with links in the email built from PUBLIC_URL, not the request's Host."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"public_url": settings.PUBLIC_URL}
        return super().form_valid(form)
