"""Providers that behave in set ways, for pipeline tests (named in VIDEO_PROVIDER_CLASSES).

They are real providers as far as the pipeline can tell: they are built from
ProviderAccount rows, hand back real files (a clip the studio rendered once
per test session), and fail with the errors real providers raise. Whatever
must persist between calls (how many times a provider was used) is read from
the database, so they behave the same in a forked worker.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from videos.models import GenerationAttempt, ProviderAccount
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
)

# Set by the `studio_clip` fixture: (mp4, vtt, jpg, duration) of a real render.
CLIP: dict[str, object] = {}


def clip_copy(*, workdir: Path, duration: float | None = None) -> RenderOutput:
    mp4, vtt, jpg = (Path(str(CLIP[k])) for k in ("mp4", "vtt", "jpg"))
    for source in (mp4, vtt, jpg):
        shutil.copy(source, workdir / source.name)
    actual = float(str(CLIP["duration"]))
    return RenderOutput(
        video_path=workdir / mp4.name,
        captions_path=workdir / vtt.name,
        thumbnail_path=workdir / jpg.name,
        duration=actual,
        expected_duration=duration if duration is not None else actual,
        cost=Decimal("0.1000"),
    )


class _Fake:
    kind = "fake"
    local = True

    def __init__(self, *, name: str, account: ProviderAccount | None = None) -> None:
        self.name = name
        self.cost_per_minute = account.cost_per_minute if account else Decimal(0)
        self.max_concurrency = account.max_concurrency if account else 10
        self.capabilities = Capabilities(
            max_duration_seconds=3600,
            resolutions=frozenset({"480p", "720p", "1080p"}),
            captions=True,
            custom_avatars=False,
            local=self.local,
        )

    def uses(self) -> int:
        """How many attempts this provider has had before the current one."""
        return GenerationAttempt.objects.filter(provider=self.name).count() - 1

    def status(self, external_id: str) -> RemoteStatus:
        return RemoteStatus(state=RemoteState.COMPLETED, progress=100)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        return clip_copy(workdir=workdir)

    def cancel(self, external_id: str) -> None:
        return None

    def health(self) -> Health:
        return Health(ok=True)


class GoodProvider(_Fake):
    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        on_progress(50)
        return Submission(external_id=request.idempotency_key, output=clip_copy(workdir=workdir))


class DownProvider(_Fake):
    """Always answers 503, as a provider in an outage does."""

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        raise ProviderError("503 Service Unavailable", kind=FailureKind.RETRYABLE)


class FlakyProvider(_Fake):
    """Times out on its first use, then works."""

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        if self.uses() < 1:
            raise ProviderError("timed out after 30 s", kind=FailureKind.RETRYABLE, retry_after=0)
        return Submission(external_id=request.idempotency_key, output=clip_copy(workdir=workdir))


class BackoffProvider(_Fake):
    """Answers 503 (no Retry-After) to each job's first try, so the job backs off; then works."""

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        job_id = GenerationAttempt.objects.get(idempotency_key=request.idempotency_key).job_id
        if GenerationAttempt.objects.filter(job_id=job_id, provider=self.name).count() < 2:
            raise ProviderError("503 Service Unavailable", kind=FailureKind.RETRYABLE)
        return Submission(external_id=request.idempotency_key, output=clip_copy(workdir=workdir))


class RejectingProvider(_Fake):
    """Refuses the request itself (a 4xx): retrying cannot help."""

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        raise ProviderError(
            "422 Unprocessable Entity: script too long for this plan", kind=FailureKind.PERMANENT
        )


class WrongLengthProvider(_Fake):
    """Hands back a video much shorter than it promised: the quality check must catch it."""

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        actual = float(str(CLIP["duration"]))
        return Submission(
            external_id=request.idempotency_key,
            output=clip_copy(workdir=workdir, duration=actual * 3),
        )


REMOTE_RENDERS: dict[str, RemoteState] = {}


class RemoteProvider(_Fake):
    """A remote provider: submit returns at once; the render finishes when the test says so."""

    local = False

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        external_id = f"remote-{request.idempotency_key}"
        REMOTE_RENDERS.setdefault(external_id, RemoteState.PROCESSING)
        return Submission(external_id=external_id)

    def status(self, external_id: str) -> RemoteStatus:
        state = REMOTE_RENDERS[external_id]
        return RemoteStatus(state=state, progress=50 if state == RemoteState.PROCESSING else 100)


FAKE_PROVIDERS = {
    "good": "tests.videos.fake_providers.GoodProvider",
    "down": "tests.videos.fake_providers.DownProvider",
    "flaky": "tests.videos.fake_providers.FlakyProvider",
    "backoff": "tests.videos.fake_providers.BackoffProvider",
    "rejecting": "tests.videos.fake_providers.RejectingProvider",
    "wrong_length": "tests.videos.fake_providers.WrongLengthProvider",
    "remote": "tests.videos.fake_providers.RemoteProvider",
}
