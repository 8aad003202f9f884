"""The HeyGen adapter against a local HeyGen over real HTTP: contract, faults, webhooks, pipeline.

The fake (tests.videos.fakes.heygen_server) is the only seam: the adapter,
the shared HTTP client and its retry policy, the webhook endpoint and the
pipeline all run for real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.builders import overview_job_build
from tests.videos.fakes.heygen_server import FakeHeyGen
from videos.models import (
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    Video,
    VideoJob,
    WebhookEvent,
)
from videos.providers.base import (
    FailureKind,
    ProviderError,
    RemoteState,
    RenderRequest,
    WebhookError,
)
from videos.providers.heygen import HeyGenProvider, srt_to_vtt
from videos.providers.registry import provider_build
from videos.studio.captions import vtt_parse
from videos.studio.types import (
    PAUSE_MARKER,
    AvatarConfig,
    Script,
    Section,
    VideoConfig,
    VideoType,
    VoiceConfig,
)
from videos.tasks import attempt_check_task

API_KEY = "hg-key-123"
SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"
HEYGEN_CLASS = "videos.providers.heygen.HeyGenProvider"


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
def fake(studio_clip) -> Iterator[FakeHeyGen]:
    server = FakeHeyGen(
        video=Path(str(studio_clip["mp4"])),
        captions=Path(str(studio_clip["vtt"])),
        thumbnail=Path(str(studio_clip["jpg"])),
        duration=float(str(studio_clip["duration"])),
        api_key=API_KEY,
        webhook_secret=SECRET,
        polls_to_complete=3,
    )
    with server:
        yield server


@pytest.fixture
def heygen_settings(settings):
    settings.VIDEO_PROVIDER_CLASSES = {**settings.VIDEO_PROVIDER_CLASSES, "heygen": HEYGEN_CLASS}
    return settings


def _credentials(**extra: object) -> dict[str, object]:
    return {
        "api_key": API_KEY,
        "webhook_secrets": [OLD_SECRET, SECRET],
        "avatar_map": {"professional_instructor": "Daisy-inskirt-20220818"},
        "voice_map": {"joe": "1bd001e7e50f421d891986aad5158bc8"},
        "default_avatar_id": "Daisy-inskirt-20220818",
        "default_voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
        **extra,
    }


def _account(fake: FakeHeyGen, *, priority: int = 1, **credentials: object) -> ProviderAccount:
    return ProviderAccount.objects.create(
        kind="heygen",
        name="heygen",
        priority=priority,
        base_url=fake.url,
        credentials=_credentials(**credentials),
        cost_per_minute=Decimal("1.2000"),
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def provider(db, heygen_settings, fake: FakeHeyGen, sleeps: list[float]) -> HeyGenProvider:
    adapter = provider_build(account=_account(fake))
    assert isinstance(adapter, HeyGenProvider)
    adapter.sleep = sleeps.append  # retries wait for nothing; the waits are recorded
    return adapter


def _request(*, quality: str = "480p", key: str = "attempt-key-1", text: str = "") -> RenderRequest:
    script = Script(
        video_type=VideoType.PRACTICE_SESSION,
        title="IAM practice",
        sections=(
            Section("Welcome", text or "Welcome back, Ada. Let us practise identity."),
            Section("Question", f"Which policy grants least privilege? {PAUSE_MARKER} Policy B."),
        ),
    )
    return RenderRequest(
        idempotency_key=key,
        script=script,
        avatar=AvatarConfig(avatar_id="professional_instructor"),
        voice=VoiceConfig(voice_id="joe", speed=1.1),
        video=VideoConfig(background="#0f172a", captions=True),
        quality=quality,
        target_seconds=60,
    )


def _submit(provider: HeyGenProvider, tmp_path: Path, **kwargs: str) -> str:
    progress: list[int] = []
    submission = provider.submit(_request(**kwargs), workdir=tmp_path, on_progress=progress.append)
    assert submission.output is None  # remote: nothing rendered yet
    return submission.external_id


# --- the contract --------------------------------------------------------------------


def test_submit_sends_heygens_documented_body_once(provider, fake, tmp_path):
    video_id = _submit(provider, tmp_path, quality="720p", key="key-abc")

    (render,) = fake.submissions()
    assert render.video_id == video_id and fake.generate_requests == 1
    body = render.body
    assert body["dimension"] == {"width": 1280, "height": 720}
    assert body["caption"] is True and body["title"] == "IAM practice"
    assert body["callback_id"] == "key-abc"  # the attempt's idempotency key
    first, second = body["video_inputs"]
    assert first["character"] == {
        "type": "avatar",
        "avatar_id": "Daisy-inskirt-20220818",
        "avatar_style": "normal",
    }
    assert first["voice"] == {
        "type": "text",
        "input_text": "Welcome back, Ada. Let us practise identity.",
        "voice_id": "1bd001e7e50f421d891986aad5158bc8",
        "speed": 1.1,
    }
    assert first["background"] == {"type": "color", "value": "#0f172a"}
    # The pause marker is never read aloud: it becomes a spoken pause.
    assert PAUSE_MARKER not in second["voice"]["input_text"]
    assert second["voice"]["input_text"] == "Which policy grants least privilege? ... Policy B."


@pytest.mark.parametrize(
    ("quality", "size"),
    [("480p", (854, 480)), ("720p", (1280, 720)), ("1080p", (1920, 1080))],
)
def test_each_quality_asks_for_its_dimension(provider, fake, tmp_path, quality, size):
    _submit(provider, tmp_path, quality=quality)
    (render,) = fake.submissions()
    assert (render.body["dimension"]["width"], render.body["dimension"]["height"]) == size


def test_unmapped_ids_use_the_configured_defaults_and_none_configured_is_provider_down(
    db, heygen_settings, fake, tmp_path
):
    account = _account(fake, avatar_map={}, voice_map={})
    _submit(provider_build(account=account), tmp_path)
    voice = fake.submissions()[0].body["video_inputs"][0]["voice"]
    assert voice["voice_id"] == "2d5b0e6cf36f460aa7fc47e3eee4ba54"

    account.credentials = {"api_key": API_KEY}
    with pytest.raises(ProviderError) as caught:
        _submit(provider_build(account=account), tmp_path)
    assert caught.value.kind == FailureKind.PROVIDER_DOWN and "avatar" in str(caught.value)
    assert fake.generate_requests == 1  # nothing was sent for the unconfigured account


def test_happy_path_submit_statuses_fetch_gives_byte_identical_files(
    provider, fake, tmp_path, studio_clip
):
    video_id = _submit(provider, tmp_path)
    states = [provider.status(video_id).state for _ in range(3)]
    assert states == [RemoteState.QUEUED, RemoteState.PROCESSING, RemoteState.COMPLETED]

    output = provider.fetch(video_id, workdir=tmp_path)
    assert output.video_path.read_bytes() == Path(str(studio_clip["mp4"])).read_bytes()
    assert output.captions_path is not None and output.thumbnail_path is not None
    assert output.captions_path.read_bytes() == Path(str(studio_clip["vtt"])).read_bytes()
    assert output.thumbnail_path.read_bytes() == Path(str(studio_clip["jpg"])).read_bytes()
    duration = float(str(studio_clip["duration"]))
    assert output.duration == output.expected_duration == duration
    expected_cost = (Decimal("1.2") * Decimal(str(duration)) / 60).quantize(Decimal("0.0001"))
    assert output.cost == expected_cost
    # Only the three files are left in the work folder: no partial or raw files.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heygen.jpg", "heygen.mp4", "heygen.vtt"]
    # The API key went to the API, never to the file host.
    assert fake.download_headers and all("x-api-key" not in h for h in fake.download_headers)


@pytest.mark.parametrize(
    ("heygen_status", "state"),
    [
        ("waiting", RemoteState.QUEUED),
        ("pending", RemoteState.QUEUED),
        ("processing", RemoteState.PROCESSING),
        ("completed", RemoteState.COMPLETED),
        ("failed", RemoteState.FAILED),
        ("some_new_state", RemoteState.PROCESSING),  # unknown: keep polling
    ],
)
def test_every_heygen_status_maps_to_a_remote_state(provider, fake, tmp_path, heygen_status, state):
    fake.polls_to_complete = None
    video_id = _submit(provider, tmp_path)
    fake.renders[video_id].status = heygen_status
    fake.renders[video_id].fail_message = "voice_id not found"
    status = provider.status(video_id)
    assert status.state == state
    if state == RemoteState.FAILED:
        assert "voice_id not found" in status.error
    else:
        assert status.error == ""


def test_a_render_that_fails_at_heygen_reports_its_reason(provider, fake, tmp_path):
    fake.fail_renders_with = "Avatar is no longer available"
    video_id = _submit(provider, tmp_path)
    statuses = [provider.status(video_id) for _ in range(3)]
    assert statuses[-1].state == RemoteState.FAILED
    assert "Avatar is no longer available" in statuses[-1].error
    with pytest.raises(ProviderError) as caught:
        provider.fetch(video_id, workdir=tmp_path)
    assert caught.value.kind == FailureKind.RETRYABLE


def test_srt_captions_are_converted_to_webvtt(provider, fake, tmp_path, studio_clip):
    fake.captions_format = "srt"  # served as application/x-subrip
    video_id = _completed(provider, fake, tmp_path)
    output = provider.fetch(video_id, workdir=tmp_path)
    assert output.captions_path is not None
    # Back to WebVTT, cue for cue: the studio's own file, exactly.
    assert output.captions_path.read_text() == Path(str(studio_clip["vtt"])).read_text()
    assert vtt_parse(output.captions_path.read_text())


def test_srt_to_vtt_keeps_cues_and_rewrites_times():
    srt = (
        "1\r\n00:00:01,500 --> 00:00:03,000\r\nHello, world.\r\n\r\n"
        "2\r\n00:00:03,000 --> 00:00:04,250\r\nBye.\r\n"
    )
    assert srt_to_vtt(srt) == (
        "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.000\nHello, world.\n\n"
        "2\n00:00:03.000 --> 00:00:04.250\nBye.\n"
    )


def test_cancel_is_a_documented_no_op(provider, fake, tmp_path):
    video_id = _submit(provider, tmp_path)
    requests_before = len(fake.requests)
    assert provider.cancel(video_id) is None
    assert len(fake.requests) == requests_before


def test_health_is_an_authenticated_call_with_its_latency(db, heygen_settings, fake):
    fake.latency = 0.2
    health = provider_build(account=_account(fake)).health()
    assert health.ok and health.latency_ms is not None and health.latency_ms >= 200
    assert fake.requests[-1] == ("GET", "/v2/avatars")

    fake.latency = 0
    ProviderAccount.objects.filter(name="heygen").update(credentials={"api_key": "revoked"})
    bad = provider_build(account=ProviderAccount.objects.get(name="heygen")).health()
    assert not bad.ok and "401" in bad.detail and "revoked" not in bad.detail


def test_capabilities(provider):
    caps = provider.capabilities
    assert caps.resolutions == {"480p", "720p", "1080p"} and caps.max_duration_seconds == 1800
    assert caps.captions and not caps.custom_avatars and not caps.local
    assert provider.kind == "heygen" and provider.name == "heygen"


# --- faults --------------------------------------------------------------------------


def test_a_429_is_honoured_with_its_retry_after_then_succeeds(provider, fake, tmp_path, sleeps):
    fake.inject("429", path="/v2/video/generate", retry_after="7")
    _submit(provider, tmp_path)  # a 429 means HeyGen did not act: safe to send again
    assert sleeps == [7.0]
    assert fake.generate_requests == 2 and len(fake.submissions()) == 1

    video_id = fake.submissions()[0].video_id
    fake.inject("429", path="/v1/video_status.get", retry_after="3")
    assert provider.status(video_id).state == RemoteState.QUEUED
    assert sleeps == [7.0, 3.0]


def test_5xx_on_status_is_retried(provider, fake, tmp_path, sleeps):
    video_id = _submit(provider, tmp_path)
    fake.inject("5xx", times=2, path="/v1/video_status.get", status=502)
    assert provider.status(video_id).state == RemoteState.QUEUED
    assert len(sleeps) == 2
    assert fake.requests.count(("GET", "/v1/video_status.get")) == 3


def test_5xx_that_never_ends_on_status_is_retryable(provider, fake, tmp_path, sleeps):
    video_id = _submit(provider, tmp_path)
    fake.inject("5xx", times=100, path="/v1/video_status.get")
    with pytest.raises(ProviderError) as caught:
        provider.status(video_id)
    assert caught.value.kind == FailureKind.RETRYABLE and "503" in str(caught.value)
    assert fake.requests.count(("GET", "/v1/video_status.get")) == provider.policy.attempts


def test_5xx_on_submit_is_not_retried_blindly(provider, fake, tmp_path, sleeps):
    fake.inject("5xx", path="/v2/video/generate", status=500)
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.RETRYABLE
    # HeyGen may have acted on it: sent once, and the pipeline decides what next.
    assert fake.generate_requests == 1 and sleeps == []


def test_a_400_is_permanent(provider, fake, tmp_path):
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path, text="word " * 1200)  # over HeyGen's 5000 characters
    assert caught.value.kind == FailureKind.PERMANENT
    assert "input_text" in str(caught.value) and "400" in str(caught.value)
    assert fake.generate_requests == 1 and fake.submissions() == []


def test_a_401_is_provider_down_and_the_key_is_not_in_the_error(
    db, heygen_settings, fake, tmp_path
):
    adapter = provider_build(account=_account(fake, api_key="wrong-key-999"))
    with pytest.raises(ProviderError) as caught:
        _submit(adapter, tmp_path)
    assert caught.value.kind == FailureKind.PROVIDER_DOWN
    assert "wrong-key-999" not in str(caught.value)
    assert fake.submissions() == []


@pytest.mark.parametrize("path", ["/v2/video/generate", "/v1/video_status.get"])
def test_malformed_json_is_retryable(provider, fake, tmp_path, path):
    video_id = "" if path.startswith("/v2") else _submit(provider, tmp_path)
    fake.inject("malformed", path=path)
    call = (
        (lambda: provider.status(video_id)) if video_id else (lambda: _submit(provider, tmp_path))
    )
    with pytest.raises(ProviderError) as caught:
        call()
    assert caught.value.kind == FailureKind.RETRYABLE and "malformed" in str(caught.value)


def _completed(provider: HeyGenProvider, fake: FakeHeyGen, tmp_path: Path) -> str:
    fake.polls_to_complete = 1
    video_id = _submit(provider, tmp_path)
    assert provider.status(video_id).state == RemoteState.COMPLETED
    return video_id


def test_a_truncated_download_is_retried(provider, fake, tmp_path, studio_clip, sleeps):
    video_id = _completed(provider, fake, tmp_path)
    fake.inject("truncate", path=f"/files/{video_id}/video.mp4")
    output = provider.fetch(video_id, workdir=tmp_path)
    assert output.video_path.read_bytes() == Path(str(studio_clip["mp4"])).read_bytes()
    assert len(sleeps) == 1


def test_a_download_that_stays_truncated_is_retryable_and_leaves_no_file(provider, fake, tmp_path):
    video_id = _completed(provider, fake, tmp_path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    fake.inject("truncate", times=100, path=f"/files/{video_id}/video.mp4")
    with pytest.raises(ProviderError) as caught:
        provider.fetch(video_id, workdir=workdir)
    assert caught.value.kind == FailureKind.RETRYABLE
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("name", ["video.mp4", "captions.vtt", "thumbnail.jpg"])
def test_a_download_of_the_wrong_type_is_retryable_and_leaves_no_partial_file(
    provider, fake, tmp_path, name
):
    video_id = _completed(provider, fake, tmp_path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    fake.inject("wrong_type", path=f"/files/{video_id}/{name}")
    with pytest.raises(ProviderError) as caught:
        provider.fetch(video_id, workdir=workdir)
    assert caught.value.kind == FailureKind.RETRYABLE and "text/html" in str(caught.value)
    dest = {"video.mp4": "heygen.mp4", "captions.vtt": "heygen.vtt", "thumbnail.jpg": "heygen.jpg"}
    assert not (workdir / dest[name]).exists()
    assert not [p for p in workdir.iterdir() if p.suffix in (".part", ".captions")]


# --- webhooks through the real endpoint ------------------------------------------------


def _heygen_only(fake: FakeHeyGen, *, fallback: bool = False) -> None:
    ProviderAccount.objects.create(kind="studio", name="studio", enabled=False)
    _account(fake, priority=1)
    if fallback:
        ProviderAccount.objects.create(kind="good", name="good", priority=2)


@pytest.fixture
def heygen_pipeline(transactional_db, pipeline, heygen_settings):
    return pipeline


def _submitted(heygen_pipeline, fake: FakeHeyGen, **kwargs: bool) -> GenerationAttempt:
    _heygen_only(fake, **kwargs)
    job = overview_job_build()
    heygen_pipeline.drain()
    attempt = GenerationAttempt.objects.get(job=job, provider="heygen")
    assert attempt.status == AttemptStatus.SUBMITTED
    return attempt


def _counts() -> tuple[int, ...]:
    return (
        WebhookEvent.objects.count(),
        GenerationAttempt.objects.count(),
        VideoJob.objects.count(),
        *GenerationAttempt.objects.order_by("pk").values_list("checks", flat=True),
    )


def _post(client, body: bytes, **headers: str):
    return client.post(
        "/webhooks/heygen/", data=body, content_type="application/json", headers=headers
    )


WEBHOOK_REFUSALS = {
    "tampered body": lambda fake, body: (body.replace(b"success", b"fail"), fake.sign(body)),
    "wrong secret": lambda fake, body: (body, fake.sign(body, "not-the-secret")),
    "missing header": lambda fake, body: (body, ""),
    "signature not hex": lambda fake, body: (body, "zz" * 32),
}


@pytest.mark.parametrize("case", list(WEBHOOK_REFUSALS))
def test_an_unverified_webhook_is_refused_and_changes_nothing(heygen_pipeline, fake, client, case):
    attempt = _submitted(heygen_pipeline, fake)
    body = fake.event_body(attempt.external_id, "avatar_video.success")
    sent, signature = WEBHOOK_REFUSALS[case](fake, body)
    before = _counts()
    response = _post(client, sent, **({"Signature": signature} if signature else {}))
    assert response.status_code == 401
    assert "signature" in response.json()["error"]
    assert _counts() == before
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED


def test_a_valid_webhook_is_recorded_once_and_a_duplicate_is_a_no_op(heygen_pipeline, fake, client):
    attempt = _submitted(heygen_pipeline, fake)
    body = fake.event_body(attempt.external_id, "avatar_video.success")
    first = _post(client, body, Signature=fake.sign(body))
    assert first.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.event_id == f"heygen:avatar_video.success:{attempt.external_id}"
    assert event.payload == {"external_id": attempt.external_id, "state": "completed"}

    again = _post(client, body, Signature=fake.sign(body))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1


def test_while_a_secret_is_rotated_old_and_new_are_both_accepted(heygen_pipeline, fake, client):
    attempt = _submitted(heygen_pipeline, fake)
    success = fake.event_body(attempt.external_id, "avatar_video.success")
    failure = fake.event_body(attempt.external_id, "avatar_video.fail")
    assert _post(client, success, Signature=fake.sign(success, OLD_SECRET)).status_code == 202
    assert _post(client, failure, Signature=fake.sign(failure, SECRET)).status_code == 202
    assert WebhookEvent.objects.count() == 2

    # Once the old secret is removed from the account, it no longer verifies.
    ProviderAccount.objects.filter(name="heygen").update(
        credentials=_credentials(webhook_secrets=[SECRET])
    )
    resent = json.dumps(json.loads(success) | {"note": "resent"}).encode()
    assert _post(client, resent, Signature=fake.sign(resent, OLD_SECRET)).status_code == 401


def test_a_signed_event_we_do_not_handle_is_a_400(heygen_pipeline, fake, client):
    attempt = _submitted(heygen_pipeline, fake)
    body = fake.event_body(attempt.external_id, "avatar_video_gif.success")
    response = _post(client, body, Signature=fake.sign(body))
    assert response.status_code == 400 and WebhookEvent.objects.count() == 0


def test_one_secret_a_configurable_header_and_no_secret_at_all(db, heygen_settings, fake):
    account = _account(
        fake, webhook_signature_header="X-HeyGen-Sig", webhook_secrets=[], webhook_secret=SECRET
    )
    adapter = provider_build(account=account)
    assert isinstance(adapter, HeyGenProvider)
    body = b'{"event_type": "avatar_video.success", "event_data": {"video_id": "v1"}}'
    adapter.webhook_verify(headers={"x-heygen-sig": "sha256=" + fake.sign(body)}, body=body)
    with pytest.raises(WebhookError, match="missing signature"):
        adapter.webhook_verify(headers={"signature": fake.sign(body)}, body=body)
    notice = adapter.webhook_parse(headers={}, body=body)
    assert (notice.external_id, notice.state) == ("v1", RemoteState.COMPLETED)

    # Without a configured secret nothing can be verified, so nothing is accepted.
    account.credentials = {"api_key": API_KEY}
    unconfigured = provider_build(account=account)
    assert isinstance(unconfigured, HeyGenProvider)
    with pytest.raises(WebhookError, match="signature"):
        unconfigured.webhook_verify(headers={"signature": fake.sign(body)}, body=body)


# --- the pipeline, end to end ----------------------------------------------------------


def test_a_job_with_only_heygen_completes_by_status_checks_with_one_submission(
    heygen_pipeline, fake, studio_clip
):
    attempt = _submitted(heygen_pipeline, fake)
    outcomes = [attempt_check_task(attempt.pk) for _ in range(3)]
    assert [o.split(" ")[0] for o in outcomes] == ["checking", "checking", "ready:"]
    assert attempt_check_task(attempt.pk) == "nothing to check"
    heygen_pipeline.drain()

    job = attempt.job
    job.refresh_from_db()
    assert job.status == JobStatus.READY, job.error
    video = Video.objects.get(job=job)
    assert video.provider == "heygen"
    assert video.file.read() == Path(str(studio_clip["mp4"])).read_bytes()
    assert video.captions.read().startswith(b"WEBVTT")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.cost > 0
    # Exactly one submission for the attempt, carrying its idempotency key.
    assert [r.callback_id for r in fake.submissions()] == [str(attempt.idempotency_key)]
    assert fake.generate_requests == 1


def test_heygens_webhook_makes_the_job_finish_without_waiting_for_a_poll(
    heygen_pipeline, fake, live_server
):
    fake.callback_url = f"{live_server.url}/webhooks/heygen/"
    fake.polls_to_complete = None  # only HeyGen's own completion (and webhook) finishes it
    fake.webhook_mode = "duplicate"
    attempt = _submitted(heygen_pipeline, fake)

    fake.complete(attempt.external_id)
    assert [d.status for d in fake.deliveries] == [202, 200]  # the redelivery is a no-op
    heygen_pipeline.drain()  # runs the status check the webhook enqueued

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert Video.objects.filter(job=attempt.job, provider="heygen").count() == 1
    assert WebhookEvent.objects.count() == 1 and fake.generate_requests == 1


def test_webhooks_out_of_order_or_early_cannot_move_a_job(heygen_pipeline, fake, live_server):
    fake.callback_url = f"{live_server.url}/webhooks/heygen/"
    fake.polls_to_complete = None
    fake.webhook_mode = "hold"
    attempt = _submitted(heygen_pipeline, fake)

    # A signed success arriving before HeyGen's API says completed: only a hint.
    early = fake.webhook_send(fake.event_body(attempt.external_id, "avatar_video.success"))
    assert early.status == 202
    heygen_pipeline.drain()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.PROCESSING
    assert not Video.objects.exists()

    # The render then completes; its events come late and in reverse order
    # (a stale failure after the success). The scheduled check finishes the job.
    fake.complete(attempt.external_id)
    assert "ready" in attempt_check_task(attempt.pk)
    late_fail = fake.event_body(attempt.external_id, "avatar_video.fail")
    fake.held.append(late_fail)
    statuses = [d.status for d in fake.webhooks_flush(reverse=True)]
    assert statuses == [202, 200]  # the stale failure is recorded, the success is a duplicate
    heygen_pipeline.drain()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert Video.objects.filter(job=attempt.job, provider="heygen").count() == 1


def test_a_webhook_that_never_comes_is_covered_by_the_scheduled_check(heygen_pipeline, fake):
    fake.webhook_mode = "never"
    fake.callback_url = "http://127.0.0.1:9/never-called/"
    attempt = _submitted(heygen_pipeline, fake)
    while "ready" not in (outcome := attempt_check_task(attempt.pk)):
        assert outcome.startswith("checking again")
    assert fake.deliveries == []
    assert Video.objects.filter(job=attempt.job, provider="heygen").exists()


def test_a_render_that_fails_at_heygen_falls_back_to_another_provider(heygen_pipeline, fake):
    fake.fail_renders_with = "Avatar is no longer available"
    attempt = _submitted(heygen_pipeline, fake, fallback=True)
    while "continues with the next provider" not in (outcome := attempt_check_task(attempt.pk)):
        assert outcome.startswith("checking again")
    heygen_pipeline.drain()

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED and attempt.error_kind == "retryable"
    assert "Avatar is no longer available" in attempt.error
    job = attempt.job
    job.refresh_from_db()
    assert job.status == JobStatus.READY, job.error
    assert Video.objects.get(job=job).provider == "good"
    assert len(fake.submissions()) == 1  # HeyGen was not asked again
