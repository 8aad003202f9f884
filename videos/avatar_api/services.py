"""The PresGen-Avatar API's logic: videos owned by API tokens, and custom avatars.

No models of its own:

- a video is a VideoJob of the token's user, with the client's script
  already written (`job.script`), the render settings in `job.parameters`
  (the keys in PARAMETER_KEYS) and the owning token in
  `parameters["api_token_id"]` (a digest of the token, never the token);
- a custom avatar is a PNG in default storage at
  `avatars/<user id>/<id>.png` with a JSON sidecar `<id>.json` beside it.

A token sees only what it created; anything else is "not found".
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from presgen.models import User
from videos.models import AttemptStatus, JobStatus, Video, VideoJob
from videos.queueing import job_enqueue
from videos.scriptwriting.context import ScriptContext
from videos.scriptwriting.scoring import script_score, script_seconds_estimate
from videos.scriptwriting.types import ScriptQuality, WrittenScript
from videos.studio.script_text import script_parse
from videos.studio.types import Script

# --- what a job made through the API carries in job.parameters ----------------------

SOURCE = "avatar_api"
# Everything the pipeline reads to render an API video the way the client asked.
PARAMETER_KEYS = (
    "quality",  # "480p" | "720p" | "1080p"
    "avatar_id",  # a studio avatar id, or "custom:<id>"
    "avatar_image",  # custom avatars only: the portrait's absolute path, for the studio
    "expression",  # friendly | encouraging | focused
    "gesture_level",  # 0..1
    "voice_id",
    "voice_speed",  # 0.5..2.0
    "voice_pitch",  # semitones, -6..6
    "background",  # "#rrggbb"
    "slides",  # bool
    "captions",  # bool
)
CUSTOM_PREFIX = "custom:"

# API statuses, from the job's.
STATUS_BY_JOB: dict[str, str] = {
    JobStatus.QUEUED: "queued",
    JobStatus.SCRIPTING: "processing",
    JobStatus.RENDERING: "rendering",
    JobStatus.CHECKING: "rendering",
    JobStatus.STORING: "rendering",
    JobStatus.READY: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}

# --- custom avatar limits ------------------------------------------------------------

AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_MIN_SIDE = 256
AVATAR_MAX_SIDE = 4096
# "MPO" is how Pillow names a JPEG with a second picture in it (a depth map, a preview),
# which many phone cameras write: the first picture is an ordinary JPEG.
AVATAR_FORMATS = frozenset({"PNG", "JPEG", "MPO"})
AVATAR_METADATA_MAX_CHARS = 10_000
AVATARS_ROOT = "avatars"


def token_id_for(*, key: str) -> str:
    """A stable, non-secret id for an API token (its key is a password: never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def api_status_for(*, job_status: str) -> str:
    return STATUS_BY_JOB.get(job_status, "processing")


# --- videos --------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoSpec:
    """A validated video request (see serializers.VideoCreateSerializer)."""

    script_content: str
    title: str = ""
    video_type: str = "overview"
    quality: str = "720p"
    avatar_id: str = "professional_instructor"
    expression: str = "friendly"
    gesture_level: float = 0.5
    voice_id: str = "joe"
    voice_speed: float = 1.0
    voice_pitch: float = 0.0
    background: str = "#0f172a"
    slides: bool = True
    captions: bool = True
    target_duration_minutes: float | None = None
    webhook_url: str = ""
    ignored: tuple[str, ...] = field(default=())


def api_videos_of(*, user: User, token_id: str) -> QuerySet[VideoJob]:
    return VideoJob.objects.filter(learner=user, parameters__api_token_id=token_id)


def api_video_get(*, user: User, token_id: str, video_id: int) -> VideoJob | None:
    return (
        api_videos_of(user=user, token_id=token_id)
        .select_related("video")
        .filter(pk=video_id)
        .first()
    )


def written_script_build(*, spec: VideoSpec) -> WrittenScript:
    """The client's text as the pipeline's WrittenScript; raises ScriptError if unusable."""
    script = script_parse(text=spec.script_content, video_type=spec.video_type, title=spec.title)
    seconds = script_seconds_estimate(script=script, voice_speed=spec.voice_speed, think_seconds=0)
    return WrittenScript(
        script=script,
        target_seconds=seconds,
        voice_speed=spec.voice_speed,
        gesture_level=spec.gesture_level,
        slides=spec.slides,
        writer="client",
        quality=client_script_score(
            script=script, seconds=seconds, target_minutes=spec.target_duration_minutes
        ),
    )


def client_script_score(
    *, script: Script, seconds: int, target_minutes: float | None
) -> ScriptQuality:
    """Score what can be judged in a client's own script: length, readability, structure.

    Coverage and personalisation need a learner's assessment, which an API
    script has none of, so they are left out rather than scored as failures.
    """
    context = ScriptContext(
        video_type=script.video_type,
        learner_name="",
        learner_full_name="",
        experience_level="1-3",
        learning_styles=(),
        pace="normal",
    )
    parts = dict(script_score(script=script, context=context, target_seconds=seconds).parts)
    if target_minutes:
        target = target_minutes * 60
        off = abs(seconds - target) / target
        parts["length"] = {
            "score": round(max(0.0, 100 * (1 - max(0.0, off - 0.2))), 1),
            "note": f"{seconds} s against the {round(target)} s asked for",
        }
    kept = {name: parts[name] for name in ("length", "readability", "structure")}
    total = sum(float(part["score"]) for part in kept.values()) / len(kept)
    return ScriptQuality(total=round(total, 1), parts=kept)


def api_video_create(
    *, user: User, token_id: str, spec: VideoSpec, idempotency_key: str = ""
) -> tuple[VideoJob, bool]:
    """Make (or, for a repeated Idempotency-Key, find) the token's video; True if new.

    The job is queued after the transaction commits. Raises ScriptError for a
    script with nothing to narrate.
    """
    written = written_script_build(spec=spec)
    parameters: dict[str, Any] = {
        "source": SOURCE,
        "api_token_id": token_id,
        "quality": spec.quality,
        "avatar_id": spec.avatar_id,
        "expression": spec.expression,
        "gesture_level": spec.gesture_level,
        "voice_id": spec.voice_id,
        "voice_speed": spec.voice_speed,
        "voice_pitch": spec.voice_pitch,
        "background": spec.background,
        "slides": spec.slides,
        "captions": spec.captions,
    }
    if spec.avatar_id.startswith(CUSTOM_PREFIX):
        avatar = custom_avatar_get(
            user=user, token_id=token_id, avatar_id=spec.avatar_id.removeprefix(CUSTOM_PREFIX)
        )
        if avatar is None:
            raise LookupError(f"unknown avatar {spec.avatar_id!r}")
        parameters["avatar_image"] = avatar_image_path(name=avatar.image_name)
        parameters["avatar_image_name"] = avatar.image_name
    if spec.webhook_url:
        parameters["webhook_url"] = spec.webhook_url
    if spec.target_duration_minutes is not None:
        parameters["target_duration_minutes"] = spec.target_duration_minutes
    if idempotency_key:
        parameters["idempotency_key"] = idempotency_key[:200]
    with transaction.atomic():
        if idempotency_key:
            # One submit per key even when two arrive at once: lock the user's row.
            User.objects.select_for_update().filter(pk=user.pk).first()
            existing = (
                api_videos_of(user=user, token_id=token_id)
                .filter(parameters__idempotency_key=idempotency_key[:200])
                .first()
            )
            if existing is not None:
                return existing, False
        job = VideoJob.objects.create(
            learner=user,
            video_type=spec.video_type,
            priority=2,
            parameters=parameters,
            script=written.as_dict(),
            script_quality=written.quality.as_dict(),
            target_duration_seconds=written.target_seconds,
            deadline_at=timezone.now() + timedelta(hours=settings.JOB_DEADLINE_HOURS),
        )
        job_enqueue(job=job, quality=spec.quality)
    return job, True


def video_of(job: VideoJob) -> Video | None:
    try:
        return job.video
    except Video.DoesNotExist:
        return None


def api_video_describe(*, job: VideoJob, download_url: str) -> dict[str, Any]:
    """The status document of GET videos/{id}; `download_url` is used once completed."""
    status = api_status_for(job_status=job.status)
    video = video_of(job) if status == "completed" else None
    return {
        "video_id": str(job.pk),
        "status": status,
        "progress": job.progress,
        "step": job.step,
        "error": job.error or None,
        "duration_seconds": round(video.duration_seconds, 3) if video else None,
        "created_at": job.created_at.isoformat(),
        "download_url": download_url if video else None,
    }


def api_video_metrics(*, job: VideoJob) -> dict[str, Any]:
    """How the render went: time, QA score and report summary, provider, attempts."""
    attempts = list(job.attempts.order_by("started_at"))
    done = next((a for a in reversed(attempts) if a.status == AttemptStatus.SUCCEEDED), None)
    judged = done or next((a for a in reversed(attempts) if a.quality_report), None)
    report = judged.quality_report if judged else {}
    checks = report.get("checks") or []
    return {
        "video_id": str(job.pk),
        "status": api_status_for(job_status=job.status),
        "render_seconds": done.seconds if done else None,
        "qa_score": judged.qa_score if judged else None,
        "quality_report": {
            "passed": report.get("passed"),
            "reasons": list(report.get("reasons") or []),
            "checks": {
                str(c.get("name")): bool(c.get("passed"))
                for c in checks
                if isinstance(c, dict) and not c.get("skipped")
            },
        }
        if report
        else None,
        "provider": (done.provider if done else job.provider) or None,
        "attempts": len(attempts),
        "script_quality": job.script_quality.get("total") if job.script_quality else None,
    }


# --- custom avatars ------------------------------------------------------------------


class CustomAvatarError(ValueError):
    """An upload that cannot be a custom avatar; the message says why."""


@dataclass(frozen=True)
class CustomAvatar:
    id: str
    name: str
    width: int
    height: int
    image_name: str  # in default storage
    metadata: dict[str, Any]
    created_at: str

    @property
    def avatar_id(self) -> str:
        return f"{CUSTOM_PREFIX}{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "avatar_id": self.avatar_id,
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "metadata": self.metadata,
            "created_at": self.created_at,
        }


def _avatar_folder(user: User) -> str:
    return f"{AVATARS_ROOT}/{user.pk}"


def avatar_image_read(*, upload: IO[bytes], size: int) -> Image.Image:
    """The upload as an upright RGB(A) image, checked by content; raises CustomAvatarError."""
    if size > AVATAR_MAX_BYTES:
        raise CustomAvatarError(
            f"the image is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{AVATAR_MAX_BYTES // 1024 // 1024} MB"
        )
    try:
        image = Image.open(upload)
    except Image.DecompressionBombError:
        raise CustomAvatarError(
            f"the image has far too many pixels; it must be at most "
            f"{AVATAR_MAX_SIDE}×{AVATAR_MAX_SIDE} pixels"
        ) from None
    except (UnidentifiedImageError, OSError):
        raise CustomAvatarError("the file is not a PNG or JPEG image") from None
    if image.format not in AVATAR_FORMATS:
        raise CustomAvatarError(f"the image is {image.format}; upload a PNG or JPEG")
    width, height = image.size  # read from the header: a huge image is refused before decoding
    if min(width, height) < AVATAR_MIN_SIDE:
        raise CustomAvatarError(
            f"the image is {width}×{height}; it must be at least "
            f"{AVATAR_MIN_SIDE}×{AVATAR_MIN_SIDE} pixels"
        )
    if max(width, height) > AVATAR_MAX_SIDE:
        raise CustomAvatarError(
            f"the image is {width}×{height}; it must be at most "
            f"{AVATAR_MAX_SIDE}×{AVATAR_MAX_SIDE} pixels"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise CustomAvatarError(f"the image cannot be read: {error}") from None
    upright = ImageOps.exif_transpose(image)
    # A palette PNG can be transparent too (its tRNS chunk): keep that, as for RGBA and LA.
    transparent = "A" in upright.getbands() or "transparency" in upright.info
    return upright.convert("RGBA" if transparent else "RGB")


def custom_avatar_save(
    *,
    user: User,
    token_id: str,
    upload: IO[bytes],
    size: int,
    name: str,
    metadata: dict[str, Any],
) -> CustomAvatar:
    """Check and store a portrait (re-encoded as PNG: no EXIF, nothing smuggled)."""
    image = avatar_image_read(upload=upload, size=size)
    avatar_id = uuid.uuid4().hex
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    image_name = default_storage.save(
        f"{_avatar_folder(user)}/{avatar_id}.png", ContentFile(buffer.getvalue())
    )
    avatar = CustomAvatar(
        id=avatar_id,
        name=name,
        width=image.width,
        height=image.height,
        image_name=image_name,
        metadata=metadata,
        created_at=timezone.now().isoformat(),
    )
    sidecar = {**avatar.as_dict(), "id": avatar_id, "image": image_name, "token_id": token_id}
    default_storage.save(
        f"{_avatar_folder(user)}/{avatar_id}.json", ContentFile(json.dumps(sidecar).encode())
    )
    return avatar


def _sidecar_read(*, name: str, token_id: str) -> CustomAvatar | None:
    try:
        with default_storage.open(name, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("token_id") != token_id:
        return None
    metadata = data.get("metadata")
    try:
        return CustomAvatar(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            width=int(data.get("width") or 0),
            height=int(data.get("height") or 0),
            image_name=str(data["image"]),
            metadata=metadata if isinstance(metadata, dict) else {},
            created_at=str(data.get("created_at") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def avatar_image_path(*, name: str) -> str:
    """Where the studio reads a stored portrait: its absolute path in default storage.

    `avatar_image_name` (the storage name) is stored beside it, so a deployment
    whose default storage has no local paths can fetch the file instead.
    """
    try:
        return str(default_storage.path(name))
    except NotImplementedError:
        return name


def custom_avatar_get(*, user: User, token_id: str, avatar_id: str) -> CustomAvatar | None:
    """The token's custom avatar by id (the part after "custom:"), if its image is still there."""
    if len(avatar_id) != 32 or any(ch not in "0123456789abcdef" for ch in avatar_id):
        return None
    avatar = _sidecar_read(name=f"{_avatar_folder(user)}/{avatar_id}.json", token_id=token_id)
    if avatar is None or not default_storage.exists(avatar.image_name):
        return None
    return avatar


def custom_avatars_list(*, user: User, token_id: str) -> list[CustomAvatar]:
    try:
        _, files = default_storage.listdir(_avatar_folder(user))
    except (FileNotFoundError, NotADirectoryError):
        return []
    avatars = []
    for filename in sorted(files):
        if filename.endswith(".json"):
            avatar = _sidecar_read(name=f"{_avatar_folder(user)}/{filename}", token_id=token_id)
            if avatar is not None:
                avatars.append(avatar)
    return sorted(avatars, key=lambda a: a.created_at)
