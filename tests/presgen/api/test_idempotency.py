"""Idempotency-Key on the POSTs that create: replay, 422, 409, per user, 24 h expiry."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import Assessment
from presgen.api.idempotency import ClaimOutcome, idempotency_claim
from presgen.models import IdempotencyKey
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/assessments"
JOBS = "/api/v1/jobs"
BODY = {
    "certification": "cloud-101",
    "overall_score": 70,
    "domain_scores": [{"domain": "compute", "score": 90}, {"domain": "networking", "score": 50}],
}


def _post(client, body=BODY, key="key-1", url=ASSESSMENTS):
    raw = json.dumps(body)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.generic("POST", url, raw, content_type="application/json", **headers)


def _fingerprint(body=BODY, url=ASSESSMENTS) -> str:
    return hashlib.sha256(f"POST\n{url}\n{json.dumps(body)}".encode()).hexdigest()


def test_a_replay_returns_the_stored_response_and_creates_nothing_more(api, cert):
    first = _post(api)
    second = _post(api)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Assessment.objects.count() == 1
    assert VideoJob.objects.count() == len(first.json()["jobs"])


def test_without_a_key_every_post_creates(api, cert):
    _post(api, key=None)
    _post(api, key=None)

    assert Assessment.objects.count() == 2


def test_the_same_key_with_a_different_body_is_422(api, cert):
    _post(api)

    response = _post(api, body={**BODY, "overall_score": 71})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert Assessment.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(api, cert):
    _post(api)

    response = _post(api, body={"video_type": "introduction"}, url=JOBS)

    assert response.status_code == 422
    assert not VideoJob.objects.filter(video_type="introduction").exists()


def test_a_request_still_in_flight_is_409(api, learner, cert):
    now = timezone.now()
    IdempotencyKey.objects.create(  # claimed by a first request that has not answered yet
        user=learner,
        key="key-1",
        fingerprint=_fingerprint(),
        method="POST",
        path=ASSESSMENTS,
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )

    response = _post(api)

    assert response.status_code == 409
    assert "still being processed" in response.json()["error"]["message"]
    assert not Assessment.objects.exists()


def test_an_abandoned_claim_is_taken_over_by_the_same_request(api, learner, cert):
    long_ago = timezone.now() - timedelta(hours=1)
    IdempotencyKey.objects.create(  # its process died before answering
        user=learner,
        key="key-1",
        fingerprint=_fingerprint(),
        method="POST",
        path=ASSESSMENTS,
        created_at=long_ago,
        expires_at=long_ago + timedelta(hours=24),
    )

    assert _post(api).status_code == 201
    assert _post(api)["Idempotent-Replayed"] == "true"
    assert Assessment.objects.count() == 1


def test_keys_are_per_user(api, other_api, learner, other_learner, cert):
    mine = _post(api)
    theirs = _post(other_api)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["learner"] == other_learner.pk
    assert "Idempotent-Replayed" not in theirs


def test_keys_expire_after_24_hours(api, learner, cert, settings):
    assert settings.API_IDEMPOTENCY_HOURS == 24
    first = _post(api)
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    second = _post(api)

    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert IdempotencyKey.objects.count() == 1  # the expired row is gone


def test_a_failed_request_releases_its_key(api, cert):
    bad = _post(api, body={**BODY, "overall_score": 500})
    good = _post(api)

    assert bad.status_code == 400 and good.status_code == 201
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "tab\tin-key"])
def test_a_malformed_key_is_400(api, cert, key):
    response = _post(api, key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Assessment.objects.exists()


def test_job_requests_are_idempotent_too(api, cert):
    body = {"video_type": "practice_session", "certification": "cloud-101"}

    first = _post(api, body=body, url=JOBS, key="job-key")
    second = _post(api, body=body, url=JOBS, key="job-key")

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert VideoJob.objects.count() == 1


def test_the_database_lets_only_one_claim_run(learner):
    args = {"user": learner, "key": "k", "fingerprint": "f" * 64, "method": "POST", "path": "/x"}

    first = idempotency_claim(**args)
    second = idempotency_claim(**args)

    assert first.outcome is ClaimOutcome.CLAIMED
    assert second.outcome is ClaimOutcome.IN_FLIGHT
    assert IdempotencyKey.objects.count() == 1
