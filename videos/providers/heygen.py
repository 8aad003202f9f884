"""HeyGen (API v2) as a remote provider: the one module that talks to HeyGen.

Calls used, as HeyGen documents them:

- `POST /v2/video/generate` starts a render and answers `{"error": null,
  "data": {"video_id": ...}}`; `callback_id` carries our idempotency key so
  a webhook (and HeyGen's dashboard) can be traced back to the attempt.
- `GET /v1/video_status.get?video_id=` reports `waiting | pending |
  processing | completed | failed` and, once completed, `video_url`,
  `caption_url`, `thumbnail_url` and `duration`.
- `GET /v2/avatars` is the authenticated call behind `health()`.
- Webhooks (`avatar_video.success` / `avatar_video.fail`) go to an endpoint
  registered once in HeyGen's dashboard or API (not per request), pointing
  at `/webhooks/<account name>/`; they are signed with an HMAC-SHA256 of the
  raw body in a header (`Signature` by default, configurable because the
  header name could not be confirmed from HeyGen's public docs).

HeyGen has no documented way to stop a v2 render once submitted, so
`cancel()` is a no-op: the render finishes at HeyGen and is never fetched.

Credentials (`ProviderAccount.credentials`, encrypted at rest):
`api_key`; `webhook_secret` or `webhook_secrets` (a list, for rotation);
`avatar_map` / `voice_map` from PresGen ids to HeyGen ids with
`default_avatar_id` / `default_voice_id` as fall-backs; optionally
`webhook_signature_header`. Nothing here logs or raises with a credential in it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
from videos.providers.http import (
    DEFAULT_POLICY,
    JsonApiClient,
    RetryPolicy,
    http_download,
)
from videos.studio.types import PAUSE_MARKER, Quality

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.heygen.com"
# HeyGen's API plans cap a generated video at 30 minutes.
MAX_DURATION_SECONDS = 30 * 60
# HeyGen's voice speed range; our scripts may ask for more.
MIN_SPEED, MAX_SPEED = 0.5, 1.5
# A spoken pause: HeyGen's TTS reads an ellipsis as a short silence.
PAUSE_TEXT = " ... "
DEFAULT_SIGNATURE_HEADER = "signature"

STATES = {
    "waiting": RemoteState.QUEUED,
    "pending": RemoteState.QUEUED,
    "processing": RemoteState.PROCESSING,
    "completed": RemoteState.COMPLETED,
    "failed": RemoteState.FAILED,
}
WEBHOOK_STATES = {
    "avatar_video.success": RemoteState.COMPLETED,
    "avatar_video.fail": RemoteState.FAILED,
}
CAPTION_TYPES = ("text/vtt", "application/x-subrip", "text/srt", "text/plain")
_SRT_TIME = re.compile(r"(\d{1,2}:\d{2}:\d{2}),(\d{3})")


def srt_to_vtt(text: str) -> str:
    """SubRip captions as WebVTT: a header, and '.' instead of ',' in cue times."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "-->" in line:
            line = _SRT_TIME.sub(r"\1.\2", line)
        lines.append(line)
    return "WEBVTT\n\n" + "\n".join(lines).strip("\n\ufeff") + "\n"


class HeyGenProvider(JsonApiClient):
    kind = "heygen"

    def __init__(self, *, name: str = "heygen", account: ProviderAccount | None = None) -> None:
        self.name = name
        self.base_url = ((account.base_url if account else "") or DEFAULT_BASE_URL).rstrip("/")
        self.credentials: dict[str, Any] = account_credentials(account)
        self.cost_per_minute = account.cost_per_minute if account else Decimal(0)
        self.max_concurrency = account.max_concurrency if account else 2
        self.capabilities = Capabilities(
            max_duration_seconds=MAX_DURATION_SECONDS,
            resolutions=frozenset(q.value for q in Quality),
            captions=True,
            custom_avatars=False,
            local=False,
        )
        # Replaceable so tests (and callers with their own scheduler) need not wait.
        self.sleep: Callable[[float], None] = time.sleep
        self.policy: RetryPolicy = DEFAULT_POLICY

    # --- HTTP ------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": str(self.credentials.get("api_key", "")), "Accept": "application/json"}

    def _data(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The `data` object of a 2xx answer; HeyGen sometimes reports errors with a 200."""
        data = payload.get("data")
        if isinstance(data, dict):
            return data
        raise ProviderError(
            f"{self.name}: answer without data: {_error_text(payload.get('error'))}",
            kind=FailureKind.RETRYABLE,
        )

    # --- submit ----------------------------------------------------------------------

    def _avatar_id(self, request: RenderRequest) -> str:
        mapping = self.credentials.get("avatar_map") or {}
        avatar = mapping.get(request.avatar.avatar_id) or self.credentials.get("default_avatar_id")
        if not avatar:
            # Our configuration, not the request, is wrong: let another provider render.
            raise ProviderError(
                f"{self.name}: no HeyGen avatar configured for {request.avatar.avatar_id!r}",
                kind=FailureKind.PROVIDER_DOWN,
            )
        return str(avatar)

    def _voice_id(self, request: RenderRequest) -> str:
        mapping = self.credentials.get("voice_map") or {}
        voice = mapping.get(request.voice.voice_id) or self.credentials.get("default_voice_id")
        if not voice:
            raise ProviderError(
                f"{self.name}: no HeyGen voice configured for {request.voice.voice_id!r}",
                kind=FailureKind.PROVIDER_DOWN,
            )
        return str(voice)

    def generate_body(self, request: RenderRequest) -> dict[str, Any]:
        """The `/v2/video/generate` body: one scene per script section."""
        avatar_id, voice_id = self._avatar_id(request), self._voice_id(request)
        speed = round(max(MIN_SPEED, min(MAX_SPEED, request.voice.speed)), 2)
        scenes = []
        for section in request.script.sections:
            text = " ".join(section.text.replace(PAUSE_MARKER, PAUSE_TEXT).split())
            if not text:
                continue
            scenes.append(
                {
                    "character": {
                        "type": "avatar",
                        "avatar_id": avatar_id,
                        "avatar_style": "normal",
                    },
                    "voice": {
                        "type": "text",
                        "input_text": text,
                        "voice_id": voice_id,
                        "speed": speed,
                    },
                    "background": {"type": "color", "value": request.video.background},
                }
            )
        if not scenes:
            raise ProviderError(
                f"{self.name}: the script has no narration", kind=FailureKind.PERMANENT
            )
        width, height = Quality(request.quality).size
        return {
            "video_inputs": scenes,
            "dimension": {"width": width, "height": height},
            "caption": bool(request.video.captions),
            "title": request.script.title[:200],
            "callback_id": request.idempotency_key,
        }

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        body = self.generate_body(request)
        # Not idempotent: HeyGen has no idempotency key for generate, so a submit
        # that may have reached it is never resent here (the pipeline decides).
        payload = self._call("POST", "/v2/video/generate", idempotent=False, json=body)
        video_id = self._data(payload).get("video_id")
        if not isinstance(video_id, str) or not video_id:
            raise ProviderError(
                f"{self.name}: generate answered without a video_id", kind=FailureKind.RETRYABLE
            )
        return Submission(external_id=video_id)

    # --- status and fetch ----------------------------------------------------------

    def _status_data(self, external_id: str) -> dict[str, Any]:
        payload = self._call(
            "GET", "/v1/video_status.get", idempotent=True, params={"video_id": external_id}
        )
        return self._data(payload)

    def status(self, external_id: str) -> RemoteStatus:
        data = self._status_data(external_id)
        raw = str(data.get("status", "")).lower()
        state = STATES.get(raw)
        if state is None:
            # A state HeyGen added later: keep polling rather than give up a paid render.
            log.warning("%s: unknown status %r for %s", self.name, raw, external_id)
            state = RemoteState.PROCESSING
        if state == RemoteState.FAILED:
            return RemoteStatus(
                state=state, error=f"{self.name}: render failed: {_error_text(data.get('error'))}"
            )
        return RemoteStatus(state=state, progress=100 if state == RemoteState.COMPLETED else None)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        data = self._status_data(external_id)
        if str(data.get("status", "")).lower() != "completed":
            raise ProviderError(
                f"{self.name}: render {external_id} is {data.get('status')!r}, not completed",
                kind=FailureKind.RETRYABLE,
            )
        video_url = data.get("video_url")
        if not isinstance(video_url, str) or not video_url:
            raise ProviderError(
                f"{self.name}: completed render without a video_url", kind=FailureKind.RETRYABLE
            )
        video_path = workdir / "heygen.mp4"
        self._download(video_url, video_path, ("video/mp4",))
        captions_path = self._captions(data.get("caption_url"), workdir)
        thumbnail_path: Path | None = None
        thumbnail_url = data.get("thumbnail_url")
        if isinstance(thumbnail_url, str) and thumbnail_url:
            thumbnail_path = workdir / "heygen.jpg"
            self._download(thumbnail_url, thumbnail_path, ("image/jpeg",))
        duration = _number(data.get("duration"))
        minutes = Decimal(str(duration or 0)) / 60
        return RenderOutput(
            video_path=video_path,
            captions_path=captions_path,
            thumbnail_path=thumbnail_path,
            duration=duration or 0.0,
            # HeyGen times speech itself: hold the file to the length it reports.
            expected_duration=duration,
            cost=(self.cost_per_minute * minutes).quantize(Decimal("0.0001")),
        )

    def _download(self, url: str, dest: Path, content_types: tuple[str, ...]) -> None:
        # The files live on HeyGen's CDN behind signed URLs: never send the API
        # key to another host.
        same_host = urlsplit(url).netloc == urlsplit(self.base_url).netloc
        http_download(
            url,
            dest=dest,
            provider=self.name,
            headers=self._headers() if same_host else None,
            content_types=content_types,
            policy=self.policy,
            sleep=self.sleep,
        )

    def _captions(self, url: object, workdir: Path) -> Path | None:
        if not isinstance(url, str) or not url:
            return None
        raw = workdir / "heygen.captions"
        self._download(url, raw, CAPTION_TYPES)
        text = raw.read_text(encoding="utf-8-sig", errors="replace")
        raw.unlink()
        if not text.lstrip().startswith("WEBVTT"):
            if "-->" not in text:
                raise ProviderError(
                    f"{self.name}: captions are neither WebVTT nor SubRip",
                    kind=FailureKind.RETRYABLE,
                )
            text = srt_to_vtt(text)
        path = workdir / "heygen.vtt"
        path.write_text(text, encoding="utf-8")
        return path

    # --- the rest of the protocol --------------------------------------------------

    def cancel(self, external_id: str) -> None:
        # HeyGen documents no cancel for v2 renders; the result is simply never fetched.
        return None

    def health(self) -> Health:
        started = time.monotonic()
        try:
            # One try: a health probe reports the provider as it is now.
            self._call("GET", "/v2/avatars", idempotent=True, policy=RetryPolicy(attempts=1))
        except ProviderError as error:
            return Health(ok=False, detail=str(error))
        return Health(ok=True, latency_ms=round((time.monotonic() - started) * 1000, 1))

    # --- webhooks --------------------------------------------------------------------

    def _webhook_secrets(self) -> list[str]:
        return webhook_secrets_read(self.credentials)

    def webhook_verify(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> None:
        # HeyGen signs the body; the query string carries nothing for it.
        header = str(
            self.credentials.get("webhook_signature_header") or DEFAULT_SIGNATURE_HEADER
        ).lower()
        given = headers.get(header, "").strip().lower()
        if given.startswith("sha256="):
            given = given[len("sha256=") :]
        if not given:
            raise WebhookError("missing signature")
        secrets = self._webhook_secrets()
        if not secrets:
            raise WebhookError("no webhook secret configured: the signature cannot be checked")
        # Every secret is compared (no early exit), so timing says nothing about which matched.
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            matched |= hmac.compare_digest(expected, given)
        if not matched:
            raise WebhookError("bad signature")

    def webhook_parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        try:
            event = json.loads(body)
        except ValueError:
            raise WebhookError("the webhook body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("event_data"), dict):
            raise WebhookError("the webhook has no event_data")
        event_type = event.get("event_type")
        state = WEBHOOK_STATES.get(str(event_type))
        if state is None:
            raise WebhookError(f"unexpected event type {str(event_type)[:50]!r}")
        video_id = event["event_data"].get("video_id")
        if not isinstance(video_id, str) or not video_id:
            raise WebhookError("the webhook names no video_id")
        # HeyGen sends no event id; one render has one outcome, so its type and
        # video id identify the event across redeliveries.
        return WebhookNotice(event_id=f"{event_type}:{video_id}", external_id=video_id, state=state)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number > 0 else None


def _error_text(error: object) -> str:
    """HeyGen's error object ({code, message, detail}) or string, as one line."""
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("code", "message", "detail") if error.get(k)]
        return ": ".join(parts) or "unknown error"
    return str(error) if error else "unknown error"
