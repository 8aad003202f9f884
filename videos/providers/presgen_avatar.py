"""Client for a PresGen-Avatar API server (another PresGen, or any compatible server).

The account's base_url is the server's root (`http://host:port`); its
credentials hold {"api_key": <token>}, sent as `Authorization: Bearer`.
Renders are remote: `submit` returns the server's video id at once and the
pipeline asks `status` later. Every call goes through videos.providers.http
(timeouts, Retry-After, backoff; a submit is never blindly re-sent, and it
carries the attempt's idempotency key so the server makes one video per key).

The API serves the MP4 only: no captions or thumbnail come back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from videos.models import ProviderAccount
from videos.providers.base import (
    Capabilities,
    FailureKind,
    Health,
    ProgressCallback,
    ProviderError,
    RemoteState,
    RemoteStatus,
    RenderOutput,
    RenderRequest,
    Submission,
    WebhookError,
    WebhookNotice,
    account_credentials,
    webhook_secrets_read,
)
from videos.providers.http import DEFAULT_POLICY, RetryPolicy, http_download, http_request
from videos.quality import media_duration
from videos.signing import webhook_check
from videos.studio.types import Script

API_PREFIX = "/api/v1/avatar"
MAX_DURATION_SECONDS = 30 * 60
HEALTH_POLICY = RetryPolicy(attempts=2, base_seconds=0.2, cap_seconds=1.0)
STATE_BY_STATUS: dict[str, RemoteState] = {
    "queued": RemoteState.QUEUED,
    "processing": RemoteState.PROCESSING,
    "rendering": RemoteState.PROCESSING,
    "completed": RemoteState.COMPLETED,
    "failed": RemoteState.FAILED,
    "cancelled": RemoteState.CANCELLED,
}


@dataclass(frozen=True)
class AvatarModel:
    avatar_id: str
    name: str
    description: str
    custom: bool


@dataclass(frozen=True)
class VoiceModel:
    voice_id: str
    name: str
    language: str
    sample_rate: int


@dataclass(frozen=True)
class CustomAvatar:
    avatar_id: str  # "custom:<id>": use it as the avatar of a render
    name: str
    width: int
    height: int
    metadata: dict[str, Any]


@dataclass(frozen=True)
class VideoMetrics:
    video_id: str
    status: str
    render_seconds: float | None
    qa_score: float | None
    quality_passed: bool | None
    quality_reasons: tuple[str, ...]
    quality_checks: dict[str, bool]
    provider: str | None
    attempts: int


@dataclass(frozen=True)
class VideoStatus:
    video_id: str
    status: str  # the server's word: queued, processing, rendering, completed, ...
    progress: int | None
    error: str
    duration_seconds: float | None
    download_url: str | None


def script_markdown(*, script: Script) -> str:
    """A studio Script as the Markdown the API reads back (`# title`, `## section`)."""
    parts = [f"# {script.title}"] if script.title else []
    for section in script.sections:
        parts.append(f"## {section.heading or script.title or 'Introduction'}")
        parts.append(section.text)
    return "\n\n".join(parts) + "\n"


class PresGenAvatarProvider:
    kind = "presgen_avatar"

    def __init__(self, *, name: str = "presgen_avatar", account: ProviderAccount) -> None:
        self.name = name
        self.base_url = (account.base_url or "").rstrip("/")
        credentials = account_credentials(account)
        self._api_key = str(credentials.get("api_key") or "")
        # Our /webhooks/<name>/ URL, given to the other PresGen with each video,
        # and the secrets its callbacks are signed with (first = current).
        self.webhook_url = str(credentials.get("webhook_url") or "")
        self._webhook_secrets = webhook_secrets_read(credentials)
        self.cost_per_minute = account.cost_per_minute
        self.max_concurrency = account.max_concurrency
        self.capabilities = Capabilities(
            max_duration_seconds=MAX_DURATION_SECONDS,
            resolutions=frozenset({"480p", "720p", "1080p"}),
            captions=False,  # the API downloads the MP4 only
            custom_avatars=True,
            local=False,
        )

    def __repr__(self) -> str:  # never show the key
        return f"PresGenAvatarProvider(name={self.name!r}, base_url={self.base_url!r})"

    # --- plumbing -------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}/{path.lstrip('/')}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}

    def call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        policy: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A JSON API call through the shared HTTP policy; returns the decoded body."""
        if not self.base_url or not self._api_key:
            raise ProviderError(
                f"{self.name}: set the account's base URL and api_key",
                kind=FailureKind.PROVIDER_DOWN,
            )
        response = http_request(
            method,
            self.url(path),
            provider=self.name,
            idempotent=idempotent,
            headers={**self.headers, **(headers or {})},
            policy=policy or DEFAULT_POLICY,
            **kwargs,
        )
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.name}: malformed JSON in the response", kind=FailureKind.RETRYABLE
            ) from None

    # --- the provider protocol --------------------------------------------------------

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        avatar_id = request.avatar.avatar_id
        if request.avatar.image_path:
            # The server cannot see our files: send the portrait first.
            avatar_id = custom_avatar_upload(
                provider=self,
                image_path=Path(request.avatar.image_path),
                name=f"portrait for {request.idempotency_key}",
                metadata={"idempotency_key": request.idempotency_key},
            ).avatar_id
        payload = {
            "script_content": script_markdown(script=request.script),
            "title": request.script.title,
            "video_type": str(request.script.video_type),
            "quality": request.quality,
            "avatar_config": {
                "avatar_id": avatar_id,
                "expression": request.avatar.expression,
                "gesture_level": request.avatar.gesture_level,
            },
            "voice_config": {
                "voice_id": request.voice.voice_id,
                "speed": request.voice.speed,
                "pitch": request.voice.pitch,
            },
            "video_config": {
                "background": request.video.background,
                "slides": request.video.slides,
                "captions": request.video.captions,
            },
            "target_duration_minutes": round(max(request.target_seconds, 6) / 60, 3),
        }
        if self.webhook_url:
            payload["webhook_url"] = self.webhook_url
        data = _object(
            self.call(
                "POST",
                "videos",
                idempotent=False,
                json=payload,
                headers={"Idempotency-Key": request.idempotency_key},
            ),
            provider=self.name,
        )
        video_id = str(data.get("video_id") or "")
        if not video_id:
            raise ProviderError(
                f"{self.name}: no video_id in the reply", kind=FailureKind.RETRYABLE
            )
        return Submission(external_id=video_id)

    def video_status(self, external_id: str) -> VideoStatus:
        data = _object(self.call("GET", f"videos/{external_id}"), provider=self.name)
        progress = data.get("progress")
        duration = data.get("duration_seconds")
        return VideoStatus(
            video_id=str(data.get("video_id") or external_id),
            status=str(data.get("status") or ""),
            progress=int(progress) if isinstance(progress, int | float) else None,
            error=str(data.get("error") or ""),
            duration_seconds=float(duration) if isinstance(duration, int | float) else None,
            download_url=str(data["download_url"]) if data.get("download_url") else None,
        )

    def webhook_verify(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> None:
        webhook_check(secrets=self._webhook_secrets, headers=headers, body=body)

    def webhook_parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        try:
            data = json.loads(body)["data"]
            video_id = str(data["video_id"])
        except (ValueError, KeyError, TypeError):
            raise WebhookError("not a PresGen-Avatar video event") from None
        return WebhookNotice(
            event_id=headers["webhook-id"],
            external_id=video_id,
            state=STATE_BY_STATUS.get(str(data.get("status", ""))),
        )

    def status(self, external_id: str) -> RemoteStatus:
        found = self.video_status(external_id)
        state = STATE_BY_STATUS.get(found.status)
        if state is None:
            raise ProviderError(
                f"{self.name}: unknown status {found.status!r}", kind=FailureKind.RETRYABLE
            )
        return RemoteStatus(state=state, progress=found.progress, error=found.error)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        found = self.video_status(external_id)
        if found.status != "completed":
            raise ProviderError(
                f"{self.name}: video {external_id} is {found.status or 'unknown'}, not completed",
                kind=FailureKind.RETRYABLE,
            )
        dest = workdir / f"{self.kind}-{external_id}.mp4"
        http_download(
            found.download_url or self.url(f"videos/{external_id}/download"),
            dest=dest,
            provider=self.name,
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        duration = found.duration_seconds or _media_duration(dest)
        minutes = Decimal(str(duration)) / 60
        return RenderOutput(
            video_path=dest,
            captions_path=None,
            thumbnail_path=None,
            duration=duration,
            expected_duration=found.duration_seconds,
            cost=(self.cost_per_minute * minutes).quantize(Decimal("0.0001")),
        )

    def cancel(self, external_id: str) -> None:
        # 409 (already completed or failed) surfaces as a permanent ProviderError.
        self.call("POST", f"videos/{external_id}/cancel", idempotent=True)

    def health(self) -> Health:
        started = time.monotonic()
        try:
            models = avatar_models_list(provider=self, policy=HEALTH_POLICY)
        except ProviderError as error:
            return Health(ok=False, detail=str(error))
        latency = round((time.monotonic() - started) * 1000, 1)
        return Health(
            ok=bool(models),
            detail=f"{len(models)} avatar(s)" if models else "the server offers no avatars",
            latency_ms=latency,
            extra={"avatars": [m.avatar_id for m in models]},
        )


# --- typed helpers for the rest of the API --------------------------------------------


def avatar_models_list(
    *, provider: PresGenAvatarProvider, policy: RetryPolicy | None = None
) -> list[AvatarModel]:
    rows = provider.call("GET", "models", policy=policy)
    return [
        AvatarModel(
            avatar_id=str(row.get("avatar_id") or ""),
            name=str(row.get("name") or ""),
            description=str(row.get("description") or ""),
            custom=bool(row.get("custom")),
        )
        for row in _list(rows, provider=provider.name)
    ]


def voices_list(*, provider: PresGenAvatarProvider) -> list[VoiceModel]:
    rows = provider.call("GET", "voices")
    return [
        VoiceModel(
            voice_id=str(row.get("voice_id") or ""),
            name=str(row.get("name") or ""),
            language=str(row.get("language") or ""),
            sample_rate=int(row.get("sample_rate") or 0),
        )
        for row in _list(rows, provider=provider.name)
    ]


def custom_avatar_upload(
    *,
    provider: PresGenAvatarProvider,
    image_path: Path,
    name: str,
    metadata: dict[str, Any] | None = None,
) -> CustomAvatar:
    """Send a portrait (PNG or JPEG); returns the avatar to use as `custom:<id>`."""
    content_type = "image/png" if image_path.suffix.lower() == ".png" else "image/jpeg"
    data = _object(
        provider.call(
            "POST",
            "custom",
            idempotent=False,
            # In memory (at most 5 MB): a retried send must send the whole file again.
            files={"image": (image_path.name, image_path.read_bytes(), content_type)},
            data={"name": name[:100], "metadata": json.dumps(metadata or {})},
        ),
        provider=provider.name,
    )
    meta = data.get("metadata")
    return CustomAvatar(
        avatar_id=str(data.get("avatar_id") or ""),
        name=str(data.get("name") or ""),
        width=int(data.get("width") or 0),
        height=int(data.get("height") or 0),
        metadata=meta if isinstance(meta, dict) else {},
    )


def video_metrics_get(*, provider: PresGenAvatarProvider, video_id: str) -> VideoMetrics:
    data = _object(provider.call("GET", f"videos/{video_id}/metrics"), provider=provider.name)
    report = data.get("quality_report") if isinstance(data.get("quality_report"), dict) else {}
    assert isinstance(report, dict)
    checks = report.get("checks") if isinstance(report.get("checks"), dict) else {}
    assert isinstance(checks, dict)
    seconds, score = data.get("render_seconds"), data.get("qa_score")
    passed = report.get("passed")
    return VideoMetrics(
        video_id=str(data.get("video_id") or video_id),
        status=str(data.get("status") or ""),
        render_seconds=float(seconds) if isinstance(seconds, int | float) else None,
        qa_score=float(score) if isinstance(score, int | float) else None,
        quality_passed=passed if isinstance(passed, bool) else None,
        quality_reasons=tuple(str(r) for r in report.get("reasons") or ()),
        quality_checks={str(k): bool(v) for k, v in checks.items()},
        provider=str(data["provider"]) if data.get("provider") else None,
        attempts=int(data.get("attempts") or 0),
    )


def _object(data: Any, *, provider: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderError(f"{provider}: expected a JSON object", kind=FailureKind.RETRYABLE)
    return data


def _list(data: Any, *, provider: str) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ProviderError(f"{provider}: expected a JSON list", kind=FailureKind.RETRYABLE)
    return [row for row in data if isinstance(row, dict)]


def _media_duration(path: Path) -> float:
    duration = media_duration(path=path)
    if duration is None:
        raise ProviderError(
            "the downloaded video's duration cannot be read", kind=FailureKind.RETRYABLE
        )
    return duration
