"""The built-in studio as a provider: renders inside the worker, no account needed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.conf import settings

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
)
from videos.studio.narration import voices_available
from videos.studio.renderer import RenderError, video_render

# Renders are bounded by the worker's job timeout, not by the studio.
MAX_DURATION_SECONDS = 30 * 60


class StudioProvider:
    kind = "studio"

    def __init__(self, *, name: str = "studio", account: ProviderAccount | None = None) -> None:
        self.name = name
        self.cost_per_minute = account.cost_per_minute if account else Decimal(0)
        # Each studio render holds one worker; the worker count is the real limit.
        self.max_concurrency = account.max_concurrency if account else 1000
        self.capabilities = Capabilities(
            max_duration_seconds=MAX_DURATION_SECONDS,
            resolutions=frozenset({"480p", "720p", "1080p"}),
            captions=True,
            custom_avatars=True,
            local=True,
        )

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        dest = workdir / "studio.mp4"
        try:
            result = video_render(
                script=request.script,
                dest=dest,
                avatar=request.avatar,
                voice=request.voice,
                video=request.video,
                quality=request.quality,
                voices_dir=settings.STUDIO_VOICES_DIR,
                on_progress=on_progress,
            )
        except RenderError as error:
            raise ProviderError(str(error), kind=FailureKind.PERMANENT) from error
        except OSError as error:  # a full disk or a vanished folder may pass
            raise ProviderError(
                f"studio could not write the video: {error}", kind=FailureKind.RETRYABLE
            ) from error
        minutes = Decimal(str(result.report.duration)) / 60
        return Submission(
            external_id=request.idempotency_key,
            output=RenderOutput(
                video_path=result.video_path,
                captions_path=result.captions_path,
                thumbnail_path=result.thumbnail_path,
                duration=result.report.duration,
                # The studio times the video from its own narration: hold it to that.
                expected_duration=result.report.duration,
                cost=(self.cost_per_minute * minutes).quantize(Decimal("0.0001")),
            ),
        )

    def status(self, external_id: str) -> RemoteStatus:
        # Studio renders finish inside submit(); there is nothing left to ask.
        return RemoteStatus(state=RemoteState.COMPLETED, progress=100)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        raise ProviderError("the studio returns its files from submit", kind=FailureKind.PERMANENT)

    def cancel(self, external_id: str) -> None:
        return None

    def health(self) -> Health:
        voices = voices_available(voices_dir=settings.STUDIO_VOICES_DIR)
        if not voices:
            return Health(ok=False, detail="no Piper voice installed")
        return Health(ok=True, detail=f"{len(voices)} voice(s)", extra={"voices": sorted(voices)})
