"""The provider protocol every video provider implements.

A provider takes a render request and, eventually, produces an MP4 with
captions and a thumbnail. Local providers (the studio) render inside the
worker and return the files from `submit`; remote providers return an
external id at once and are asked for their status later (or a webhook
tells us), so no worker waits while a remote service renders.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from videos.studio.types import AvatarConfig, Script, VideoConfig, VoiceConfig


class FailureKind(enum.StrEnum):
    RETRYABLE = "retryable"  # 5xx, timeouts, 429: try again later or elsewhere
    PERMANENT = "permanent"  # the request itself is wrong: retrying cannot help
    PROVIDER_DOWN = "provider_down"  # unhealthy or circuit open: use another provider


class ProviderError(Exception):
    """A provider call failed; `kind` says what to do about it."""

    def __init__(
        self, message: str, *, kind: FailureKind, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class Capabilities:
    max_duration_seconds: int
    resolutions: frozenset[str]
    captions: bool
    custom_avatars: bool
    local: bool  # renders inside the worker process
    voices: tuple[str, ...] = ()
    # A talking presenter reading the script. Runway makes short silent clips
    # instead, so it is never chosen for a narrated video.
    narrated_presenter: bool = True


@dataclass(frozen=True)
class RenderRequest:
    idempotency_key: str
    script: Script
    avatar: AvatarConfig
    voice: VoiceConfig
    video: VideoConfig
    quality: str
    target_seconds: int
    custom_avatar: bool = False
    webhook_url: str = ""


@dataclass(frozen=True)
class RenderOutput:
    video_path: Path
    captions_path: Path | None
    thumbnail_path: Path | None
    duration: float  # seconds, as the provider measured it
    expected_duration: float | None  # what QA should hold the file to, when known
    cost: Decimal = Decimal(0)


class RemoteState(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Submission:
    external_id: str
    output: RenderOutput | None = None  # local providers: the finished files


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    progress: int | None = None
    error: str = ""


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""
    latency_ms: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


ProgressCallback = Callable[[int], None]


def account_credentials(account: object | None) -> dict[str, Any]:
    """A provider account's decrypted credentials as a dict (empty when none)."""
    stored = getattr(account, "credentials", None)
    return dict(stored) if isinstance(stored, Mapping) else {}


def webhook_secrets_read(credentials: Mapping[str, Any]) -> list[str]:
    """The webhook secrets to accept: `webhook_secrets` (list, newest first) and `webhook_secret`.

    Several at once let a secret be rotated without refusing deliveries.
    """
    listed = credentials.get("webhook_secrets") or []
    if isinstance(listed, str):
        listed = [listed]
    return [str(s) for s in [*listed, credentials.get("webhook_secret")] if s]


class WebhookError(Exception):
    """A webhook that must be refused (bad signature, stale timestamp, unreadable)."""


@dataclass(frozen=True)
class WebhookNotice:
    """What a verified webhook says: which render, and the event's own id for dedup.

    The state is only a hint: the pipeline asks the provider's API before a
    job changes state, so a forged or out-of-order event cannot finish a job.
    """

    event_id: str
    external_id: str
    state: RemoteState | None = None


class WebhookReceiver(Protocol):
    """Implemented by providers that call us back (in addition to Provider)."""

    def webhook_verify(
        self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> None:
        """Raise WebhookError unless the raw body (or, for D-ID, the URL token) checks out."""

    def webhook_parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        """Read a verified body; raise WebhookError if it is not an event we know."""


class Provider(Protocol):
    name: str
    kind: str
    capabilities: Capabilities
    cost_per_minute: Decimal
    max_concurrency: int

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission: ...

    def status(self, external_id: str) -> RemoteStatus: ...

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput: ...

    def cancel(self, external_id: str) -> None: ...

    def health(self) -> Health: ...
