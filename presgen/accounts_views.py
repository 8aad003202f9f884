"""Learner accounts: sign up, profile (with presenter and voice previews), download or
delete one's data, and password reset with PresGen's templates."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
import uuid
from pathlib import Path
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
from PIL import Image

from presgen.accounts_forms import AccountDeleteForm, ProfileForm, SignupForm, voice_choices
from presgen.models import User
from presgen.privacy import account_delete, account_export_write
from videos.studio import theme
from videos.studio.narration import UnknownVoiceError, narration_synthesize, voice_info_get
from videos.studio.presenter import Presenter, avatars_available
from videos.studio.types import AvatarConfig, Script, Section, VideoType, VoiceConfig

PREVIEW_SENTENCE = "Hi, I'm your PresGen presenter."
AVATAR_PREVIEW_SIZE = (240, 300)  # width, height: the presenter's bust, as in a video
_PREVIEW_CACHE_CONTROL = "private, max-age=86400"
_EXPORT_SPOOL_BYTES = 16 * 1024 * 1024  # the zip moves from memory to a temp file past this
_VOICE_PREVIEW_LOCK = threading.Lock()


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


@functools.cache
def _avatar_preview_cached(avatar_id: str) -> bytes:
    presenter = Presenter(
        avatar=AvatarConfig(avatar_id=avatar_id),
        panel_size=AVATAR_PREVIEW_SIZE,
        panel_color=theme.color_parse(theme.PANEL),
    )
    buffer = io.BytesIO()
    Image.fromarray(presenter.panel(frame_index=0, mouth=0.0)).save(buffer, format="PNG")
    return buffer.getvalue()


def avatar_preview_png(*, avatar_id: str) -> bytes:
    """A still of the drawn presenter, as a PNG: drawn once per avatar, then kept in memory.

    Raises LookupError for an id the studio does not offer.
    """
    if avatar_id not in avatars_available():
        raise LookupError(avatar_id)
    return _avatar_preview_cached(avatar_id)


def voice_preview_path(*, voice_id: str) -> Path:
    """A WAV of PREVIEW_SENTENCE in the voice, synthesized once and kept under MEDIA_ROOT.

    The file name carries a digest of the sentence and the voice model, so a replaced
    model is heard anew. Raises UnknownVoiceError for a voice that is not installed.
    """
    voices_dir = settings.STUDIO_VOICES_DIR
    info = voice_info_get(voice_id=voice_id, voices_dir=voices_dir)
    model = info.model_path.stat()
    digest = hashlib.sha256(
        f"{PREVIEW_SENTENCE}\0{info.model_path}\0{model.st_size}\0{model.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    folder = Path(settings.MEDIA_ROOT) / "previews" / "voices"
    path = folder / f"{voice_id}-{digest}.wav"
    if path.is_file():
        return path
    with _VOICE_PREVIEW_LOCK:  # one synthesis per voice, however many ask at once
        if path.is_file():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{uuid.uuid4().hex}.wav"
        script = Script(
            video_type=VideoType.INTRODUCTION,
            title="Voice preview",
            sections=(Section(heading="Preview", text=PREVIEW_SENTENCE),),
        )
        try:
            narration_synthesize(
                script=script,
                voice=VoiceConfig(voice_id=voice_id),
                dest=partial,
                voices_dir=voices_dir,
            )
            os.replace(partial, path)  # another process finds it whole or not at all
        finally:
            partial.unlink(missing_ok=True)
    return path


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
