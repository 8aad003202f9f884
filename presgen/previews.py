"""Previews of the studio's presenters and voices for the profile page.

A presenter still is drawn once per avatar and kept in memory; a voice sample is
synthesized once per voice model and kept under MEDIA_ROOT.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import threading
import uuid
from pathlib import Path

from django.conf import settings
from PIL import Image

from videos.studio import theme
from videos.studio.narration import narration_synthesize, voice_info_get
from videos.studio.presenter import Presenter, avatars_available
from videos.studio.types import AvatarConfig, Script, Section, VideoType, VoiceConfig

PREVIEW_SENTENCE = "Hi, I'm your PresGen presenter."
AVATAR_PREVIEW_SIZE = (240, 300)  # width, height: the presenter's bust, as in a video
_VOICE_PREVIEW_LOCK = threading.Lock()


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
