"""The webhook endpoint with PresGen's own (Standard Webhooks) callbacks."""

from __future__ import annotations

import json
import time

import pytest

from tests.builders import user_build, video_job_build
from videos.models import (
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    VideoJob,
    WebhookEvent,
)
from videos.signing import TOLERANCE_SECONDS, webhook_headers

pytestmark = pytest.mark.django_db

SECRET = "peer-callback-secret"
URL = "/webhooks/peer/"


@pytest.fixture
def peer_attempt(rq_queues) -> GenerationAttempt:
    ProviderAccount.objects.create(
        kind="presgen_avatar",
        name="peer",
        base_url="http://127.0.0.1:9",
        credentials={"api_key": "peer-token", "webhook_secrets": [SECRET, "older-secret"]},
    )
    job = video_job_build(learner=user_build(), status=JobStatus.RENDERING)
    return GenerationAttempt.objects.create(
        job=job, provider="peer", external_id="42", status=AttemptStatus.SUBMITTED
    )


def _body(video_id: str = "42", status: str = "completed") -> bytes:
    return json.dumps(
        {"type": f"video.{status}", "data": {"video_id": video_id, "status": status}}
    ).encode()


def _post(client, body: bytes, headers: dict):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items()},
    )


def _state(rq_queues) -> tuple:
    return (
        WebhookEvent.objects.count(),
        list(GenerationAttempt.objects.values_list("status", flat=True)),
        list(VideoJob.objects.values_list("status", "updated_at")),
        sum(q.count for q in rq_queues.values()),
    )


def test_a_signed_callback_is_recorded_once_and_hands_the_check_to_a_worker(
    client, peer_attempt, rq_queues, django_capture_on_commit_callbacks
):
    body = _body()
    headers = webhook_headers(secret=SECRET, msg_id="msg_42_completed", body=body)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, body, headers).status_code == 202
    assert WebhookEvent.objects.count() == 1
    queued = rq_queues["default"].job_ids
    assert any(i.startswith(f"attempt-{peer_attempt.pk}-") for i in queued)
    # The job does not change on the webhook's word: a worker asks the provider first.
    peer_attempt.refresh_from_db()
    assert peer_attempt.status == AttemptStatus.SUBMITTED

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, body, headers)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert WebhookEvent.objects.count() == 1 and len(rq_queues["default"].job_ids) == 1


def test_a_callback_signed_with_the_previous_secret_still_counts(client, peer_attempt):
    body = _body()
    headers = webhook_headers(secret="older-secret", msg_id="msg_42_x", body=body)
    assert _post(client, body, headers).status_code == 202


@pytest.mark.parametrize(
    "forgery", ["tampered body", "wrong secret", "missing header", "stale", "future", "replay"]
)
def test_forged_callbacks_are_refused_and_change_nothing(client, peer_attempt, rq_queues, forgery):
    body = _body()
    now = time.time()
    headers = webhook_headers(secret=SECRET, msg_id="msg_42_completed", body=body, now=now)
    if forgery == "tampered body":
        body = _body(video_id="43")
    elif forgery == "wrong secret":
        headers = webhook_headers(secret="guessed", msg_id="msg_42_completed", body=body)
    elif forgery == "missing header":
        del headers["webhook-signature"]
    elif forgery == "stale":
        headers = webhook_headers(
            secret=SECRET, msg_id="m", body=body, now=now - TOLERANCE_SECONDS - 5
        )
    elif forgery == "future":
        headers = webhook_headers(
            secret=SECRET, msg_id="m", body=body, now=now + TOLERANCE_SECONDS + 5
        )
    elif forgery == "replay":  # a genuine delivery captured and sent again an hour later
        headers = webhook_headers(
            secret=SECRET, msg_id="msg_42_completed", body=body, now=now - 3600
        )
    before = _state(rq_queues)
    response = _post(client, body, headers)
    assert 400 <= response.status_code < 500
    assert _state(rq_queues) == before


def test_a_late_event_for_a_finished_render_moves_nothing(
    client, peer_attempt, rq_queues, django_capture_on_commit_callbacks
):
    GenerationAttempt.objects.filter(pk=peer_attempt.pk).update(status=AttemptStatus.SUCCEEDED)
    VideoJob.objects.filter(pk=peer_attempt.job_id).update(status=JobStatus.READY)
    body = _body(status="failed")
    headers = webhook_headers(secret=SECRET, msg_id="msg_42_failed", body=body)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, body, headers).status_code == 202
    assert sum(q.count for q in rq_queues.values()) == 0
    assert VideoJob.objects.get(pk=peer_attempt.job_id).status == JobStatus.READY


def test_unknown_providers_and_gets_are_refused(client, peer_attempt):
    ProviderAccount.objects.create(kind="retired", name="retired")
    ProviderAccount.objects.create(kind="studio", name="studio")
    for name in ("retired", "studio"):  # no adapter here / sends no webhooks
        response = client.post(f"/webhooks/{name}/", data=b"{}", content_type="application/json")
        assert response.status_code == 404
    assert (
        client.post("/webhooks/nobody/", data=b"{}", content_type="application/json").status_code
        == 404
    )
    assert client.get(URL).status_code == 405
