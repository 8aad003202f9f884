"""Runway (the developer API) as a remote provider: the one module that talks to Runway.

Runway makes short, silent, generated clips (5 or 10 seconds with
`gen4_turbo`), not a presenter reading a script, so it declares
`narrated_presenter=False` and selection never picks it for a narrated
lesson; it is there for short visual clips.

Calls used, as Runway documents them (every request carries
`Authorization: Bearer <key>` and `X-Runway-Version: 2024-11-06`):

- `POST /v1/image_to_video` with `model`, `promptImage` (an HTTPS URL),
  `promptText`, `ratio` and `duration`, when the account has a prompt image;
  otherwise `POST /v1/text_to_video` (`veo3.1_fast` by default, 4/6/8 s).
  Both answer `{"id"}`. Runway has no idempotency key, so a submit is never
  retried once it may have reached Runway.
- `GET /v1/tasks/{id}` reports `PENDING | THROTTLED | RUNNING | SUCCEEDED |
  FAILED | CANCELLED` with `progress` (0..1) while running, `output` (URLs
  valid for 24-48 hours) on success and `failure` / `failureCode` on failure.
- `DELETE /v1/tasks/{id}` cancels a running task (or deletes a finished one).
- `GET /v1/organization` (credit balance) is the call behind `health()`.
- Errors come as `{"error": ...}`, with `issues` on a validation failure.

Runway sends no webhooks.

Credentials (`ProviderAccount.credentials`, encrypted at rest): `api_key`;
optional `prompt_image` (HTTPS URL), `model`, `prompt_text`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    account_credentials,
)
from videos.providers.http import (
    DEFAULT_POLICY,
    JsonApiClient,
    RetryPolicy,
    http_download,
)
from videos.quality import media_duration

DEFAULT_BASE_URL = "https://api.dev.runwayml.com"
API_VERSION = "2024-11-06"
IMAGE_MODEL = "gen4_turbo"
TEXT_MODEL = "veo3.1_fast"
PROMPT_TEXT_MAX = 1000
# Per model: the durations Runway accepts and the ratio for each PresGen quality.
DURATIONS: dict[str, tuple[int, ...]] = {
    "gen4_turbo": (5, 10),
    "veo3.1": (4, 6, 8),
    "veo3.1_fast": (4, 6, 8),
    "veo3": (8,),
}
RATIOS: dict[str, dict[str, str]] = {
    "gen4_turbo": {"720p": "1280:720"},
    "veo3.1": {"720p": "1280:720", "1080p": "1920:1080"},
    "veo3.1_fast": {"720p": "1280:720", "1080p": "1920:1080"},
    "veo3": {"720p": "1280:720", "1080p": "1920:1080"},
}
STATES = {
    "PENDING": RemoteState.QUEUED,
    "THROTTLED": RemoteState.QUEUED,
    "RUNNING": RemoteState.PROCESSING,
    "SUCCEEDED": RemoteState.COMPLETED,
    "FAILED": RemoteState.FAILED,
    "CANCELLED": RemoteState.CANCELLED,
    "CANCELED": RemoteState.CANCELLED,  # the spelling in some of Runway's pages
}
HEALTH_POLICY = RetryPolicy(attempts=2, base_seconds=0.2, cap_seconds=1.0)


def duration_pick(target: int, allowed: tuple[int, ...]) -> int:
    """The shortest duration the model allows that covers the target (else the longest)."""
    return next((d for d in sorted(allowed) if d >= target), max(allowed))


class RunwayProvider(JsonApiClient):
    kind = "runway"

    def __init__(self, *, name: str = "runway", account: ProviderAccount | None = None) -> None:
        self.name = name
        credentials = account_credentials(account)
        self.base_url = ((account.base_url if account else "") or DEFAULT_BASE_URL).rstrip("/")
        self._api_key = str(credentials.get("api_key", ""))
        self.prompt_image = str(credentials.get("prompt_image") or "")
        self.prompt_text = str(credentials.get("prompt_text") or "")
        default_model = IMAGE_MODEL if self.prompt_image else TEXT_MODEL
        self.model = str(credentials.get("model") or default_model)
        durations = DURATIONS.get(self.model, DURATIONS[IMAGE_MODEL])
        self.cost_per_minute = account.cost_per_minute if account else Decimal(0)
        self.max_concurrency = account.max_concurrency if account else 1
        self.capabilities = Capabilities(
            max_duration_seconds=max(durations),
            resolutions=frozenset(RATIOS.get(self.model, RATIOS[IMAGE_MODEL])),
            captions=False,
            custom_avatars=False,
            local=False,
            narrated_presenter=False,  # short silent clips, no presenter reading a script
        )
        self.policy: RetryPolicy = DEFAULT_POLICY
        self.sleep: Callable[[float], None] = time.sleep  # tests make retries instant

    def __repr__(self) -> str:  # never show the key
        return f"RunwayProvider(name={self.name!r}, model={self.model!r})"

    def _headers(self) -> dict[str, str]:
        if not self._api_key:
            raise ProviderError(
                f"{self.name}: no api_key configured", kind=FailureKind.PROVIDER_DOWN
            )
        return {
            "Authorization": f"Bearer {self._api_key}",
            "X-Runway-Version": API_VERSION,
            "Accept": "application/json",
        }

    def _task(self, external_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/tasks/{quote(external_id, safe='')}", idempotent=True)

    def _prompt(self, request: RenderRequest) -> str:
        script = request.script
        first = script.sections[0].text if script.sections else ""
        parts = [self.prompt_text, script.title, first]
        text = " ".join(" ".join(p for p in parts if p).split())
        return text[:PROMPT_TEXT_MAX]

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        ratio = RATIOS.get(self.model, {}).get(request.quality)
        if ratio is None:
            raise ProviderError(
                f"{self.name}: {self.model} cannot make a {request.quality} video",
                kind=FailureKind.PERMANENT,
            )
        prompt = self._prompt(request)
        if not prompt:
            raise ProviderError(f"{self.name}: nothing to prompt with", kind=FailureKind.PERMANENT)
        body: dict[str, Any] = {
            "model": self.model,
            "promptText": prompt,
            "ratio": ratio,
            "duration": duration_pick(request.target_seconds, DURATIONS.get(self.model, (5, 10))),
        }
        path = "/v1/text_to_video"
        if self.prompt_image:
            body["promptImage"] = self.prompt_image
            path = "/v1/image_to_video"
        # Not idempotent: Runway would run (and bill) a retried POST twice.
        task = self._call("POST", path, idempotent=False, json=body)
        task_id = task.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderError(
                f"{self.name}: {path} answered without an id", kind=FailureKind.RETRYABLE
            )
        on_progress(0)
        return Submission(external_id=task_id)

    def status(self, external_id: str) -> RemoteStatus:
        task = self._task(external_id)
        raw = str(task.get("status", ""))
        state = STATES.get(raw)
        if state is None:
            raise ProviderError(
                f"{self.name}: unknown task status {raw!r}", kind=FailureKind.RETRYABLE
            )
        if state == RemoteState.FAILED:
            reason = str(task.get("failure") or "no reason given")
            code = task.get("failureCode")
            return RemoteStatus(
                state=state, error=f"Runway failed: {reason}" + (f" ({code})" if code else "")
            )
        if state == RemoteState.COMPLETED:
            return RemoteStatus(state=state, progress=100)
        if state == RemoteState.PROCESSING:
            progress = task.get("progress")
            if isinstance(progress, int | float) and not isinstance(progress, bool):
                return RemoteStatus(state=state, progress=round(max(0.0, min(1.0, progress)) * 100))
            return RemoteStatus(state=state)
        if state == RemoteState.CANCELLED:
            return RemoteStatus(state=state, error="Runway task was cancelled")
        return RemoteStatus(state=state, progress=0)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        task = self._task(external_id)
        if task.get("status") != "SUCCEEDED":
            raise ProviderError(
                f"{self.name}: task {external_id} is {task.get('status')!r}, not SUCCEEDED",
                kind=FailureKind.RETRYABLE,
            )
        output = task.get("output")
        url = output[0] if isinstance(output, list) and output else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderError(
                f"{self.name}: task {external_id} has no output URL", kind=FailureKind.RETRYABLE
            )
        dest = workdir / "runway.mp4"
        # Output URLs are pre-signed: our Authorization header must not go with them.
        http_download(url, dest=dest, provider=self.name, policy=self.policy, sleep=self.sleep)
        duration = media_duration(path=dest) or 0.0
        minutes = Decimal(str(duration)) / 60
        return RenderOutput(
            video_path=dest,
            captions_path=None,
            thumbnail_path=None,
            duration=duration,
            expected_duration=None,  # the task does not report it; QA uses the target
            cost=(self.cost_per_minute * minutes).quantize(Decimal("0.0001")),
        )

    def cancel(self, external_id: str) -> None:
        self._call("DELETE", f"/v1/tasks/{quote(external_id, safe='')}", idempotent=True)

    def health(self) -> Health:
        started = time.monotonic()
        try:
            org = self._call("GET", "/v1/organization", idempotent=True, policy=HEALTH_POLICY)
        except ProviderError as error:
            return Health(ok=False, detail=str(error))
        latency = round((time.monotonic() - started) * 1000, 1)
        balance = org.get("creditBalance")
        if isinstance(balance, int | float) and not isinstance(balance, bool):
            if balance <= 0:
                return Health(ok=False, detail="no Runway credits left", latency_ms=latency)
            return Health(
                ok=True,
                detail=f"{balance:g} credits left",
                latency_ms=latency,
                extra={"credit_balance": balance},
            )
        return Health(ok=True, detail="reachable", latency_ms=latency)
