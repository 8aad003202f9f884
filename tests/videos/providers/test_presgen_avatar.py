"""The PresGen-Avatar client against PresGen's own server, over real HTTP (live_server)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import av
import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw
from rest_framework.authtoken.models import Token

from tests.builders import user_build
from videos.models import JobStatus, ProviderAccount, Video, VideoJob
from videos.providers.base import FailureKind, ProviderError, RemoteState, RenderRequest
from videos.providers.presgen_avatar import (
    PresGenAvatarProvider,
    avatar_models_list,
    custom_avatar_upload,
    script_markdown,
    video_metrics_get,
    voices_list,
)
from videos.providers.registry import provider_build
from videos.quality import video_check
from videos.studio.script_text import script_parse
from videos.studio.types import (
    AvatarConfig,
    Script,
    Section,
    VideoConfig,
    VideoType,
    VoiceConfig,
)

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Script(
    video_type=VideoType.OVERVIEW,
    title="API check",
    sections=(Section("Hello", "Hello. This video was made through the avatar API."),),
)


def _request(key: str, *, avatar: AvatarConfig | None = None, voice_id: str = "joe"):
    return RenderRequest(
        idempotency_key=key,
        script=SCRIPT,
        avatar=avatar or AvatarConfig(),
        voice=VoiceConfig(voice_id=voice_id),
        video=VideoConfig(),
        quality="480p",
        target_seconds=5,
    )


def _account(url: str, key: str, **fields) -> ProviderAccount:
    return ProviderAccount(
        kind="presgen_avatar",
        name="peer",
        base_url=url,
        credentials={"api_key": key},
        cost_per_minute=Decimal("0.60"),
        **fields,
    )


@pytest.fixture
def peer(settings, live_server, media_root) -> tuple[PresGenAvatarProvider, Token]:
    """A client of the live server (a second PresGen), through the provider registry."""
    settings.VIDEO_PROVIDER_CLASSES = {
        **settings.VIDEO_PROVIDER_CLASSES,
        "presgen_avatar": "videos.providers.presgen_avatar.PresGenAvatarProvider",
    }
    token = Token.objects.create(user=user_build())
    provider = provider_build(account=_account(live_server.url, token.key))
    assert isinstance(provider, PresGenAvatarProvider)
    return provider, token


def _portrait(path: Path) -> Path:
    image = Image.new("RGB", (512, 512), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((146, 96, 366, 356), fill=(236, 196, 160))  # a face
    draw.ellipse((200, 190, 230, 220), fill=(40, 40, 40))
    draw.ellipse((282, 190, 312, 220), fill=(40, 40, 40))
    draw.rectangle((220, 290, 292, 304), fill=(150, 60, 60))
    image.save(path, format="PNG")
    return path


def test_a_video_is_made_on_the_peer_polled_downloaded_and_measured(peer, pipeline, tmp_path):
    provider, token = peer
    assert provider.health().ok

    # A custom portrait, uploaded and then used for the render.
    avatar = custom_avatar_upload(
        provider=provider,
        image_path=_portrait(tmp_path / "me.png"),
        name="Me",
        metadata={"source": "test"},
    )
    assert avatar.avatar_id.startswith("custom:") and (avatar.width, avatar.height) == (512, 512)
    assert avatar.avatar_id in [m.avatar_id for m in avatar_models_list(provider=provider)]

    submission = provider.submit(
        _request("key-1", avatar=AvatarConfig(avatar_id=avatar.avatar_id)),
        workdir=tmp_path,
        on_progress=lambda percent: None,
    )
    assert submission.output is None  # remote: nothing rendered in the caller
    video_id = submission.external_id
    job = VideoJob.objects.get(pk=video_id)
    assert job.learner == token.user and job.parameters["quality"] == "480p"
    assert Path(job.parameters["avatar_image"]).is_file()
    assert default_storage.exists(job.parameters["avatar_image_name"])
    assert provider.status(video_id).state == RemoteState.QUEUED
    # A retried submit with the same key is the same video.
    again = provider.submit(
        _request("key-1", avatar=AvatarConfig(avatar_id=avatar.avatar_id)),
        workdir=tmp_path,
        on_progress=lambda percent: None,
    )
    assert again.external_id == video_id

    # A second video, with the portrait given as a file (the client uploads it), cancelled.
    second = provider.submit(
        _request("key-2", avatar=AvatarConfig(image_path=str(tmp_path / "me.png"))),
        workdir=tmp_path,
        on_progress=lambda percent: None,
    ).external_id
    assert VideoJob.objects.get(pk=second).parameters["avatar_id"].startswith("custom:")
    provider.cancel(second)
    assert provider.status(second).state == RemoteState.CANCELLED

    # The peer's worker renders with its studio; the client polls until it is done.
    states = []
    for _ in range(5):
        pipeline.drain()
        status = provider.status(video_id)
        states.append(status.state)
        if status.state not in (RemoteState.QUEUED, RemoteState.PROCESSING):
            break
    job.refresh_from_db()
    assert states[-1] == RemoteState.COMPLETED, (job.status, job.error, states)
    assert provider.status(video_id).progress == 100

    output = provider.fetch(video_id, workdir=tmp_path)
    assert output.captions_path is None and output.thumbnail_path is None
    assert output.video_path.parent == tmp_path and output.video_path.read_bytes()[4:8] == b"ftyp"
    stored = Video.objects.get(job_id=video_id)
    assert output.video_path.stat().st_size == stored.size_bytes
    assert output.expected_duration == pytest.approx(stored.duration_seconds, abs=0.01)
    assert output.cost == (Decimal("0.60") * Decimal(str(output.duration)) / 60).quantize(
        Decimal("0.0001")
    )
    with av.open(str(output.video_path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        assert container.streams.audio
    report = video_check(
        video_path=output.video_path,
        expected_duration=output.expected_duration,
        expected_size=(854, 480),
        script_text=SCRIPT.sections[0].text,
    )
    assert report.passed, report.reasons

    metrics = video_metrics_get(provider=provider, video_id=video_id)
    assert (metrics.status, metrics.provider, metrics.attempts) == ("completed", "studio", 1)
    assert metrics.quality_passed is True and metrics.quality_reasons == ()
    assert metrics.render_seconds and metrics.render_seconds > 0
    assert metrics.qa_score == 100 and metrics.quality_checks["duration"] is True

    # The cancelled one stayed cancelled and made nothing; cancelling a finished one is refused.
    assert VideoJob.objects.get(pk=second).status == JobStatus.CANCELLED
    assert not Video.objects.filter(job_id=second).exists()
    with pytest.raises(ProviderError) as refused:
        provider.cancel(video_id)
    assert refused.value.kind == FailureKind.PERMANENT and "409" in str(refused.value)


def test_lists_and_errors_come_back_typed(peer, live_server, tmp_path, rq_queues):
    provider, _ = peer
    voices = voices_list(provider=provider)
    assert "joe" in [v.voice_id for v in voices] and all(v.sample_rate for v in voices)
    models = avatar_models_list(provider=provider)
    assert "professional_instructor" in [m.avatar_id for m in models]
    assert not any(m.custom for m in models)

    # The server's 400 is a permanent error that names the field.
    with pytest.raises(ProviderError) as bad_voice:
        provider.submit(_request("k", voice_id="hal9000"), workdir=tmp_path, on_progress=print)
    assert bad_voice.value.kind == FailureKind.PERMANENT
    assert "400" in str(bad_voice.value) and "unknown voice" in str(bad_voice.value)

    video_id = provider.submit(_request("k2"), workdir=tmp_path, on_progress=print).external_id
    with pytest.raises(ProviderError) as early:
        provider.fetch(video_id, workdir=tmp_path)
    assert early.value.kind == FailureKind.RETRYABLE and "queued" in str(early.value)
    assert not list(tmp_path.glob("*.mp4"))

    # Another token's client cannot see the video at all.
    stranger = PresGenAvatarProvider(
        name="stranger",
        account=_account(live_server.url, Token.objects.create(user=user_build()).key),
    )
    with pytest.raises(ProviderError) as hidden:
        stranger.status(video_id)
    assert hidden.value.kind == FailureKind.PERMANENT and "404" in str(hidden.value)


def test_bad_credentials_or_set_up_make_the_provider_unusable(live_server):
    wrong = PresGenAvatarProvider(name="peer", account=_account(live_server.url, "nope"))
    health = wrong.health()
    assert not health.ok and "credentials refused (401)" in health.detail
    with pytest.raises(ProviderError) as refused:
        wrong.status("1")
    assert refused.value.kind == FailureKind.PROVIDER_DOWN
    assert "nope" not in repr(wrong) and "nope" not in health.detail

    unset = PresGenAvatarProvider(name="peer", account=_account("", ""))
    assert not unset.health().ok
    with pytest.raises(ProviderError) as missing:
        unset.status("1")
    assert missing.value.kind == FailureKind.PROVIDER_DOWN


def test_capabilities():
    provider = PresGenAvatarProvider(name="peer", account=_account("http://peer", "k"))
    caps = provider.capabilities
    assert caps.resolutions == frozenset({"480p", "720p", "1080p"})
    assert (caps.captions, caps.custom_avatars, caps.local) == (False, True, False)
    assert provider.kind == "presgen_avatar" and provider.url("models") == (
        "http://peer/api/v1/avatar/models"
    )


def test_a_script_survives_the_trip_through_markdown():
    script = Script(
        video_type=VideoType.PRACTICE_SESSION,
        title="Practice",
        sections=(
            Section("Question one", "Which port does HTTPS use? [Pause for thinking] It is 443."),
            Section("Wrap up", "Well done. Keep practising."),
        ),
    )
    parsed = script_parse(
        text=script_markdown(script=script), video_type=script.video_type, title=script.title
    )
    assert parsed.title == "Practice"
    assert [(s.heading, s.text) for s in parsed.sections] == [
        (s.heading, s.text) for s in script.sections
    ]
