"""Runway adapter against a local fake of Runway's developer API, over real HTTP."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.videos.fakes.runway_server import FakeRunway, runway_server
from videos.models import ProviderAccount
from videos.providers.base import FailureKind, ProviderError, RemoteState, RenderRequest
from videos.providers.runway import RunwayProvider, duration_pick
from videos.providers.selection import Needs, providers_rank
from videos.studio.types import AvatarConfig, Script, Section, VideoConfig, VideoType, VoiceConfig

IMAGE = "https://assets.example.com/presgen/cloud.jpg"
ADAPTERS = {
    "did": "videos.providers.did.DidProvider",
    "runway": "videos.providers.runway.RunwayProvider",
}


@pytest.fixture
def runway(studio_clip) -> FakeRunway:
    with runway_server(video=Path(str(studio_clip["mp4"]))) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _account(server: FakeRunway, **credentials: object) -> ProviderAccount:
    return ProviderAccount(
        kind="runway",
        name="runway",
        base_url=server.url,
        credentials={"api_key": server.api_key, **credentials},
        cost_per_minute=Decimal("3.00"),
    )


def _provider(server: FakeRunway, sleeps: list[float], **credentials: object) -> RunwayProvider:
    provider = RunwayProvider(name="runway", account=_account(server, **credentials))
    provider.sleep = sleeps.append  # retries are instant and recorded
    return provider


def _request(*, target: int = 8, quality: str = "720p") -> RenderRequest:
    script = Script(
        video_type=VideoType.MOTIVATIONAL,
        title="Clouds over a city",
        sections=(Section("Open", "A slow pan across a skyline at dawn."),),
    )
    return RenderRequest(
        idempotency_key="key-1",
        script=script,
        avatar=AvatarConfig(),
        voice=VoiceConfig(),
        video=VideoConfig(),
        quality=quality,
        target_seconds=target,
    )


def _submit(provider: RunwayProvider, tmp_path: Path, request: RenderRequest | None = None) -> str:
    submission = provider.submit(
        request or _request(), workdir=tmp_path, on_progress=lambda _: None
    )
    assert submission.output is None
    return submission.external_id


# --- the happy path -------------------------------------------------------------------


def test_image_to_video_submit_poll_and_fetch_over_http(runway, sleeps, tmp_path, studio_clip):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    task_id = _submit(provider, tmp_path)

    path, body = runway.bodies[0]
    assert path == "/v1/image_to_video"
    assert body == {
        "model": "gen4_turbo",
        "promptImage": IMAGE,
        "promptText": "Clouds over a city A slow pan across a skyline at dawn.",
        "ratio": "1280:720",
        "duration": 10,  # the shortest allowed duration covering 8 s
    }
    sent = runway.requests("POST", "/v1/image_to_video")[0]
    assert sent.headers["authorization"] == f"Bearer {runway.api_key}"
    assert sent.headers["x-runway-version"] == "2024-11-06"

    states = [provider.status(task_id) for _ in range(3)]
    assert [(s.state, s.progress) for s in states] == [
        (RemoteState.QUEUED, 0),
        (RemoteState.PROCESSING, 42),
        (RemoteState.COMPLETED, 100),
    ]
    output = provider.fetch(task_id, workdir=tmp_path)
    assert output.video_path.read_bytes() == Path(str(studio_clip["mp4"])).read_bytes()
    assert output.duration == pytest.approx(float(str(studio_clip["duration"])), abs=0.2)
    assert output.expected_duration is None and output.captions_path is None
    assert output.cost > 0
    assert [d.headers.get("authorization") for d in runway.downloads] == [None]
    assert runway.submissions == 1 and sleeps == []


def test_without_a_prompt_image_it_uses_text_to_video(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps)
    assert provider.capabilities.max_duration_seconds == 8
    assert provider.capabilities.resolutions == frozenset({"720p", "1080p"})
    _submit(provider, tmp_path, _request(target=5, quality="1080p"))
    path, body = runway.bodies[0]
    assert path == "/v1/text_to_video"
    assert body["model"] == "veo3.1_fast" and body["ratio"] == "1920:1080"
    assert body["duration"] == 6 and "promptImage" not in body


def test_durations_are_the_ones_the_model_accepts():
    assert duration_pick(3, (5, 10)) == 5
    assert duration_pick(5, (5, 10)) == 5
    assert duration_pick(6, (5, 10)) == 10
    assert duration_pick(30, (5, 10)) == 10


def test_capabilities_keep_runway_to_short_silent_clips(runway, sleeps):
    caps = _provider(runway, sleeps, prompt_image=IMAGE).capabilities
    assert caps.max_duration_seconds == 10 and caps.resolutions == frozenset({"720p"})
    assert not (caps.narrated_presenter or caps.captions or caps.custom_avatars or caps.local)
    assert not hasattr(RunwayProvider, "webhook_verify")  # Runway sends no webhooks


@pytest.mark.django_db
def test_selection_never_picks_runway_for_a_narrated_video(runway, settings):
    settings.VIDEO_PROVIDER_CLASSES = {**settings.VIDEO_PROVIDER_CLASSES, **ADAPTERS}
    _account(runway, prompt_image=IMAGE).save()

    narrated = [c.provider.name for c in providers_rank(needs=Needs(8, "720p"))]
    assert "runway" not in narrated and "studio" in narrated
    clip = Needs(duration_seconds=8, quality="720p", captions=False, narrated_presenter=False)
    assert "runway" in [c.provider.name for c in providers_rank(needs=clip)]
    too_long = Needs(duration_seconds=30, quality="720p", captions=False, narrated_presenter=False)
    assert "runway" not in [c.provider.name for c in providers_rank(needs=too_long)]


# --- status mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "progress", "state", "expected_progress", "error"),
    [
        ("PENDING", None, RemoteState.QUEUED, 0, ""),
        ("THROTTLED", None, RemoteState.QUEUED, 0, ""),
        ("RUNNING", 0.0, RemoteState.PROCESSING, 0, ""),
        ("RUNNING", 0.5, RemoteState.PROCESSING, 50, ""),
        ("RUNNING", None, RemoteState.PROCESSING, None, ""),
        ("SUCCEEDED", None, RemoteState.COMPLETED, 100, ""),
        ("FAILED", None, RemoteState.FAILED, None, "flagged by moderation (SAFETY.INPUT.TEXT)"),
        ("CANCELLED", None, RemoteState.CANCELLED, None, "cancelled"),
        ("CANCELED", None, RemoteState.CANCELLED, None, "cancelled"),
    ],
)
def test_every_task_status_maps_to_a_remote_state(
    runway, sleeps, tmp_path, vendor, progress, state, expected_progress, error
):
    runway.lifecycle = [(vendor, progress)]
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    status = provider.status(_submit(provider, tmp_path))
    assert (status.state, status.progress) == (state, expected_progress)
    assert (error in status.error) if error else status.error == ""


def test_cancel_cancels_the_task(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    task_id = _submit(provider, tmp_path)
    provider.cancel(task_id)
    assert runway.requests("DELETE", "/v1/tasks/")
    assert provider.status(task_id).state == RemoteState.CANCELLED


# --- faults ---------------------------------------------------------------------------


def test_429_waits_for_retry_after(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    runway.faults.rate_limits, runway.faults.retry_after = 2, "3"
    _submit(provider, tmp_path)
    assert sleeps == [3.0, 3.0] and runway.submissions == 3 and len(runway.tasks) == 1


def test_a_5xx_on_a_task_read_is_retried(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    task_id = _submit(provider, tmp_path)
    runway.faults.errors, runway.faults.error_status = 1, 502
    assert provider.status(task_id).state == RemoteState.QUEUED
    assert len(sleeps) == 1 and len(runway.requests("GET", "/v1/tasks/")) == 2


def test_a_5xx_on_submit_is_not_blindly_retried(runway, sleeps, tmp_path):
    runway.faults.errors, runway.faults.error_methods = 3, ("POST",)
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.RETRYABLE
    assert runway.submissions == 1 and sleeps == []


def test_a_refused_body_is_permanent(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image="http://insecure.example.com/a.jpg")
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.PERMANENT and "promptImage" in str(caught.value)
    assert runway.submissions == 1 and not runway.tasks


def test_a_quality_the_model_cannot_make_is_refused_before_sending(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path, _request(quality="480p"))
    assert caught.value.kind == FailureKind.PERMANENT and runway.submissions == 0


def test_refused_credentials_mean_the_provider_is_down(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE, api_key="key_wrong_secret")
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.PROVIDER_DOWN
    assert "key_wrong_secret" not in str(caught.value) + repr(provider)
    assert not provider.health().ok


def test_malformed_json_is_retryable(runway, sleeps, tmp_path):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    task_id = _submit(provider, tmp_path)
    runway.faults.malformed = 1
    with pytest.raises(ProviderError) as caught:
        provider.status(task_id)
    assert caught.value.kind == FailureKind.RETRYABLE


@pytest.mark.parametrize("fault", ["truncated_downloads", "wrong_type_downloads"])
def test_a_bad_download_is_retryable_and_leaves_no_file(runway, sleeps, tmp_path, fault):
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    task_id = _submit(provider, tmp_path)
    runway.steps[task_id] = [("SUCCEEDED", None)]
    setattr(runway.faults, fault, 100)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(ProviderError) as caught:
        provider.fetch(task_id, workdir=workdir)
    assert caught.value.kind == FailureKind.RETRYABLE
    assert list(workdir.iterdir()) == []


def test_a_failed_task_cannot_be_fetched(runway, sleeps, tmp_path):
    runway.lifecycle = [("FAILED", None)]
    provider = _provider(runway, sleeps, prompt_image=IMAGE)
    with pytest.raises(ProviderError):
        provider.fetch(_submit(provider, tmp_path), workdir=tmp_path)
    assert not runway.downloads


def test_health_reads_the_organization(runway, sleeps):
    provider = _provider(runway, sleeps)
    health = provider.health()
    assert health.ok and health.extra == {"credit_balance": 500}
    runway.credit_balance = 0
    assert not provider.health().ok
