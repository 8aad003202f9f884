"""D-ID adapter against a local fake of D-ID's Talks API, over real HTTP."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.builders import (
    overview_job_build,
    user_build,
    video_job_build,
)
from tests.videos.fakes.did_server import FakeDid, did_server
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
from videos.providers.did import DEFAULT_SOURCE_URL, PAUSE_TEXT, DidProvider
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

SECRET = "whsec-0123456789abcdef"
HOOK = "https://presgen.example/webhooks/did/"
ADAPTERS = {
    "did": "videos.providers.did.DidProvider",
    "runway": "videos.providers.runway.RunwayProvider",
}


@pytest.fixture
def did(studio_clip) -> FakeDid:
    with did_server(
        video=Path(str(studio_clip["mp4"])), duration=float(str(studio_clip["duration"]))
    ) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _account(server: FakeDid, **credentials: object) -> ProviderAccount:
    return ProviderAccount(
        kind="did",
        name="did",
        base_url=server.url,
        credentials={"api_key": server.api_key, **credentials},
        cost_per_minute=Decimal("6.00"),
    )


def _provider(server: FakeDid, sleeps: list[float], **credentials: object) -> DidProvider:
    provider = DidProvider(name="did", account=_account(server, **credentials))
    provider.sleep = sleeps.append  # retries are instant and recorded
    return provider


def _request(text: str = "", **fields: object) -> RenderRequest:
    text = text or f"Welcome to identity and access management. {PAUSE_MARKER} Now, the answer."
    script = Script(
        video_type=VideoType.OVERVIEW,
        title="IAM basics",
        sections=(Section("Intro", text), Section("Next", "Least privilege comes first.")),
    )
    values: dict[str, object] = {
        "idempotency_key": "3f1c0c8e-key",
        "script": script,
        "avatar": AvatarConfig(),
        "voice": VoiceConfig(),
        "video": VideoConfig(),
        "quality": "720p",
        "target_seconds": 30,
        **fields,
    }
    return RenderRequest(**values)  # type: ignore[arg-type]


def _submit(provider: DidProvider, tmp_path: Path, request: RenderRequest | None = None) -> str:
    progress: list[int] = []
    submission = provider.submit(
        request or _request(), workdir=tmp_path, on_progress=progress.append
    )
    assert submission.output is None  # remote: files come later, from fetch
    return submission.external_id


# --- the happy path -------------------------------------------------------------------


def test_submit_poll_and_fetch_over_http(did, sleeps, tmp_path, studio_clip):
    provider = _provider(did, sleeps, webhook_url=HOOK, webhook_secret=SECRET)
    talk_id = _submit(provider, tmp_path)

    body = did.bodies[0]
    assert body["source_url"] == DEFAULT_SOURCE_URL
    assert body["user_data"] == "3f1c0c8e-key"
    assert body["config"] == {"fluent": True, "stitch": True, "result_format": "mp4"}
    script = body["script"]
    assert script["type"] == "text" and script["provider"] == {
        "type": "microsoft",
        "voice_id": "en-US-JennyNeural",
    }
    assert PAUSE_MARKER not in script["input"] and PAUSE_TEXT.strip() in script["input"]
    assert "Least privilege comes first." in script["input"]
    assert script["subtitles"] is False  # this account does not burn subtitles in
    assert body["webhook"] == f"{HOOK}?token={SECRET}"
    sent = did.requests("POST", "/talks")[0]
    assert sent.headers["authorization"] == f"Basic {did.api_key}"

    states = [provider.status(talk_id) for _ in range(3)]
    assert [s.state for s in states] == [
        RemoteState.QUEUED,
        RemoteState.PROCESSING,
        RemoteState.COMPLETED,
    ]
    assert states[-1].progress == 100

    output = provider.fetch(talk_id, workdir=tmp_path)
    assert output.video_path.read_bytes() == Path(str(studio_clip["mp4"])).read_bytes()
    assert output.captions_path is None and output.thumbnail_path is None
    assert output.duration == output.expected_duration == pytest.approx(did.duration)
    assert output.cost == (Decimal("6.00") * Decimal(str(did.duration)) / 60).quantize(
        Decimal("0.0001")
    )
    # The pre-signed result URL is fetched without our credentials.
    assert [d.headers.get("authorization") for d in did.downloads] == [None]
    assert did.submissions == 1 and sleeps == []
    assert not list(tmp_path.glob("*.part"))


def test_a_request_with_slow_answers_still_completes(did, sleeps, tmp_path):
    did.faults.latency = 0.2
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.finish(talk_id)
    assert provider.status(talk_id).state == RemoteState.COMPLETED


def test_a_custom_portrait_is_uploaded_and_used_as_the_source(did, sleeps, tmp_path):
    portrait = tmp_path / "me.png"
    portrait.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    request = _request(custom_avatar=True, avatar=AvatarConfig(image_path=str(portrait)))
    _submit(_provider(did, sleeps), tmp_path, request)
    assert len(did.images) == 1
    assert did.bodies[0]["source_url"] == "s3://d-id-images-prod/u/img_1"


def test_subtitles_are_asked_for_only_when_the_account_burns_them_in(did, sleeps, tmp_path):
    plain = _provider(did, sleeps)
    assert plain.capabilities.captions is False
    subtitled = _provider(did, sleeps, subtitles=True, resolutions=["480p", "720p"])
    assert subtitled.capabilities.captions is True
    assert subtitled.capabilities.resolutions == frozenset({"480p", "720p"})
    assert subtitled.capabilities.narrated_presenter and subtitled.capabilities.custom_avatars
    _submit(subtitled, tmp_path)
    assert did.bodies[0]["script"]["subtitles"] is True


# --- status mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "state", "error"),
    [
        ("created", RemoteState.QUEUED, ""),
        ("started", RemoteState.PROCESSING, ""),
        ("done", RemoteState.COMPLETED, ""),
        ("error", RemoteState.FAILED, "Failed to detect a face in the source image"),
        ("rejected", RemoteState.FAILED, "The script failed content moderation"),
    ],
)
def test_every_talk_status_maps_to_a_remote_state(did, sleeps, tmp_path, vendor, state, error):
    did.lifecycle = [vendor]
    provider = _provider(did, sleeps)
    status = provider.status(_submit(provider, tmp_path))
    assert status.state == state
    assert (error in status.error) if error else status.error == ""
    if vendor in ("error", "rejected"):
        assert vendor in status.error


def test_an_unknown_talk_status_is_a_retryable_error(did, sleeps, tmp_path):
    did.lifecycle = ["archived"]
    provider = _provider(did, sleeps)
    with pytest.raises(ProviderError) as caught:
        provider.status(_submit(provider, tmp_path))
    assert caught.value.kind == FailureKind.RETRYABLE


def test_a_talk_not_done_cannot_be_fetched(did, sleeps, tmp_path):
    provider = _provider(did, sleeps)
    with pytest.raises(ProviderError) as caught:
        provider.fetch(_submit(provider, tmp_path), workdir=tmp_path)
    assert caught.value.kind == FailureKind.RETRYABLE and not did.downloads


# --- faults ---------------------------------------------------------------------------


def test_429_on_submit_waits_for_retry_after_then_sends_once_more(did, sleeps, tmp_path):
    did.faults.rate_limits, did.faults.retry_after = 1, "7"
    provider = _provider(did, sleeps)
    _submit(provider, tmp_path)
    assert sleeps == [7.0]  # Retry-After honoured
    assert did.submissions == 2 and len(did.talks) == 1  # the 429 created nothing


def test_a_5xx_on_a_status_read_is_retried_with_backoff(did, sleeps, tmp_path):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.faults.errors = 2
    assert provider.status(talk_id).state == RemoteState.QUEUED
    assert len(sleeps) == 2 and len(did.requests("GET", "/talks/")) == 3


def test_a_5xx_that_never_ends_is_retryable_after_the_last_try(did, sleeps, tmp_path):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.faults.errors = 100
    with pytest.raises(ProviderError) as caught:
        provider.status(talk_id)
    assert caught.value.kind == FailureKind.RETRYABLE and "503" in str(caught.value)
    assert len(did.requests("GET", "/talks/")) == provider.policy.attempts


def test_a_5xx_on_submit_is_not_blindly_retried(did, sleeps, tmp_path):
    did.faults.errors, did.faults.error_methods = 1, ("POST",)
    provider = _provider(did, sleeps)
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    # D-ID may have started a render: the pipeline decides, not a blind resend.
    assert caught.value.kind == FailureKind.RETRYABLE
    assert did.submissions == 1 and sleeps == []


def test_a_refused_body_is_permanent(did, sleeps, tmp_path):
    provider = _provider(did, sleeps, source_url="ftp://example.com/face.jpg")
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.PERMANENT
    assert "ValidationError" in str(caught.value) and "source_url" in str(caught.value)
    assert did.submissions == 1 and not did.talks and sleeps == []


def test_a_script_too_short_for_d_id_is_refused_before_sending(did, sleeps, tmp_path):
    script = Script(video_type=VideoType.OVERVIEW, title="t", sections=(Section("h", "Hi"),))
    with pytest.raises(ProviderError) as caught:
        _submit(_provider(did, sleeps), tmp_path, _request(script=script))
    assert caught.value.kind == FailureKind.PERMANENT and did.submissions == 0


def test_refused_credentials_mean_the_provider_is_down_and_are_never_echoed(did, sleeps, tmp_path):
    provider = _provider(did, sleeps, api_key="bm9ib2R5:wrong-password")
    with pytest.raises(ProviderError) as caught:
        _submit(provider, tmp_path)
    assert caught.value.kind == FailureKind.PROVIDER_DOWN and "401" in str(caught.value)
    assert "wrong-password" not in str(caught.value) and "wrong-password" not in repr(provider)
    health = provider.health()
    assert not health.ok and "wrong-password" not in health.detail


def test_malformed_json_is_retryable(did, sleeps, tmp_path):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.faults.malformed = 1
    with pytest.raises(ProviderError) as caught:
        provider.status(talk_id)
    assert caught.value.kind == FailureKind.RETRYABLE and "malformed JSON" in str(caught.value)
    assert provider.status(talk_id).state == RemoteState.PROCESSING  # the next read is fine


def test_a_truncated_download_is_retried_and_then_succeeds(did, sleeps, tmp_path, studio_clip):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.finish(talk_id)
    did.faults.truncated_downloads = 1
    output = provider.fetch(talk_id, workdir=tmp_path)
    assert output.video_path.read_bytes() == Path(str(studio_clip["mp4"])).read_bytes()
    assert len(did.downloads) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("fault", ["truncated_downloads", "wrong_type_downloads"])
def test_a_bad_download_is_retryable_and_leaves_no_file(did, sleeps, tmp_path, fault):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    did.finish(talk_id)
    setattr(did.faults, fault, 100)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(ProviderError) as caught:
        provider.fetch(talk_id, workdir=workdir)
    assert caught.value.kind == FailureKind.RETRYABLE
    assert list(workdir.iterdir()) == []  # neither a partial nor a wrong file


def test_cancel_deletes_a_talk_and_a_talk_in_progress_cannot_be_deleted(did, sleeps, tmp_path):
    provider = _provider(did, sleeps)
    talk_id = _submit(provider, tmp_path)
    provider.status(talk_id)
    provider.status(talk_id)  # now "started"
    with pytest.raises(ProviderError) as caught:
        provider.cancel(talk_id)
    assert caught.value.kind == FailureKind.PERMANENT and "409" in str(caught.value)
    did.finish(talk_id)
    provider.cancel(talk_id)
    assert talk_id not in did.talks


def test_health_reads_the_credit_balance(did, sleeps):
    provider = _provider(did, sleeps)
    health = provider.health()
    assert health.ok and health.extra == {"remaining": 40.0} and health.latency_ms is not None
    did.credits = 0
    assert not provider.health().ok
    did.faults.errors = 100
    down = provider.health()
    assert not down.ok and "503" in down.detail


# --- webhooks -------------------------------------------------------------------------


def test_webhook_tokens_are_compared_against_every_configured_secret(did, sleeps):
    provider = _provider(did, sleeps, webhook_secrets=["old-secret", SECRET])
    provider.webhook_verify(headers={"x-presgen-token": "old-secret"}, body=b"{}")
    provider.webhook_verify(headers={}, body=b"{}", query={"token": SECRET})
    with pytest.raises(WebhookError):
        provider.webhook_verify(headers={"x-presgen-token": "nope"}, body=b"{}")
    with pytest.raises(WebhookError):
        _provider(did, sleeps).webhook_verify(headers={"x-presgen-token": ""}, body=b"{}")


def _counts() -> tuple[int, int, int]:
    return (
        WebhookEvent.objects.count(),
        GenerationAttempt.objects.count(),
        VideoJob.objects.count(),
    )


@pytest.fixture
def hooked(db, did, settings, rq_queues):
    """A D-ID account in the database, a job with a submitted talk, and its webhook."""
    settings.VIDEO_PROVIDER_CLASSES = {**settings.VIDEO_PROVIDER_CLASSES, **ADAPTERS}
    account = _account(did, webhook_url=HOOK, webhook_secret=SECRET)
    account.save()
    provider = DidProvider(name="did", account=account)
    talk_id = provider.submit(_request(), workdir=Path("."), on_progress=lambda _: None).external_id
    job = video_job_build(learner=user_build(), status=JobStatus.RENDERING)
    attempt = GenerationAttempt.objects.create(
        job=job, provider="did", external_id=talk_id, status=AttemptStatus.SUBMITTED
    )
    return talk_id, attempt, rq_queues


def _post(client, body: bytes, **headers: str):
    return client.post(
        "/webhooks/did/", data=body, content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("token", [None, "", "not-the-secret"])
def test_a_webhook_without_the_right_token_is_refused_and_changes_nothing(
    hooked, did, client, token
):
    talk_id, _attempt, _queues = hooked
    did.finish(talk_id)
    [hook] = did.webhooks
    assert hook.url == f"{HOOK}?token={SECRET}"
    before = _counts()
    headers = {} if token is None else {"x-presgen-token": token}
    response = _post(client, hook.body, **headers)
    assert 400 <= response.status_code < 500
    assert _counts() == before


def test_a_verified_webhook_is_recorded_once_and_asks_for_a_status_check(
    hooked, did, client, django_capture_on_commit_callbacks
):
    talk_id, attempt, queues = hooked
    did.webhook_mode = "twice"
    did.finish(talk_id)
    first, second = did.webhooks
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, first.body, **{"x-presgen-token": SECRET})
    assert response.status_code == 202
    assert WebhookEvent.objects.get().event_id == f"did:{talk_id}:done"
    assert queues["default"].count == 1  # a worker will re-read D-ID's API

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, second.body, **{"x-presgen-token": SECRET})
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1 and queues["default"].count == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED  # the webhook alone moves nothing


def test_an_out_of_order_webhook_is_only_a_hint(
    hooked, did, client, django_capture_on_commit_callbacks
):
    talk_id, attempt, _queues = hooked
    did.webhook_mode = "out_of_order"
    did.finish(talk_id)
    done, stale = did.webhooks
    assert json.loads(stale.body)["status"] == "started"
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, done.body, **{"x-presgen-token": SECRET}).status_code == 202
        assert _post(client, stale.body, **{"x-presgen-token": SECRET}).status_code == 202
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == [
        f"did:{talk_id}:done",
        f"did:{talk_id}:started",
    ]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED


def test_no_webhook_is_sent_when_d_id_stays_silent(hooked, did, client):
    talk_id, _attempt, _queues = hooked
    did.webhook_mode = "never"
    did.finish(talk_id)
    assert did.webhooks == []


def test_an_unreadable_webhook_body_is_refused(hooked, client):
    before = _counts()
    response = _post(client, b"{not json", **{"x-presgen-token": SECRET})
    assert response.status_code == 400 and _counts() == before


# --- the pipeline ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_renders_with_d_id_alone_and_finishes_on_status_checks(
    pipeline, did, settings, studio_clip
):
    settings.VIDEO_PROVIDER_CLASSES = {**settings.VIDEO_PROVIDER_CLASSES, **ADAPTERS}
    ProviderAccount.objects.create(kind="studio", name="studio", enabled=False)
    account = _account(did, subtitles=True, resolutions=["480p"])
    account.save()
    job = overview_job_build()
    pipeline.drain()

    job.refresh_from_db()
    attempt = job.attempts.get()
    assert job.status == JobStatus.RENDERING and attempt.provider == "did"
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.external_id in did.talks
    assert did.bodies[0]["user_data"] == str(attempt.idempotency_key)

    outcomes = [attempt_check_task(attempt.pk) for _ in range(3)]
    assert "checking again" in outcomes[0] and "ready" in outcomes[-1], outcomes
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    video = Video.objects.get(job=job)
    assert video.provider == "did" and video.quality_report["passed"] is True
    assert video.file.read() == Path(str(studio_clip["mp4"])).read_bytes()
    assert not video.captions  # D-ID burns subtitles in; there is no captions file
    assert did.submissions == 1
    assert attempt_check_task(attempt.pk) == "nothing to check"
