"""Staff-only endpoints: /api/v1/providers (state, figures, health check) and /api/v1/metrics."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.builders import user_build, video_job_build
from videos.models import GenerationAttempt, ProviderAccount, ProviderCircuit, VideoJob

pytestmark = pytest.mark.django_db

SECRET = "sekrit-api-key-0123456789"
WEBHOOK_SECRET = "whsec-do-not-show"


@pytest.fixture
def staff(token_client) -> APIClient:
    return token_client(user_build(is_staff=True), scope="staff")


@pytest.fixture
def heygen() -> ProviderAccount:
    return ProviderAccount.objects.create(
        kind="heygen",
        name="heygen",
        priority=1,
        base_url="http://127.0.0.1:1",  # nothing listens there
        credentials={"api_key": SECRET, "webhook_secret": WEBHOOK_SECRET},
        cost_per_minute=Decimal("1.5"),
    )


def attempt(provider: str, status: str, *, seconds: float, qa: float, cost: str = "0") -> None:
    job = video_job_build(
        learner=user_build(), status="ready" if status == "succeeded" else "failed"
    )
    GenerationAttempt.objects.create(
        job=job, provider=provider, status=status, seconds=seconds, qa_score=qa, cost=Decimal(cost)
    )


# --- who may ---------------------------------------------------------------------------------

STAFF_ENDPOINTS = [
    ("get", "/api/v1/providers"),
    ("post", "/api/v1/providers/studio/health"),
    ("get", "/api/v1/metrics"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_ENDPOINTS)
def test_learners_get_403(token_client, method, url):
    learner = token_client(user_build())

    response = getattr(learner, method)(url)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "url"), STAFF_ENDPOINTS)
def test_a_staff_users_learner_token_gets_403(token_client, method, url):
    response = getattr(token_client(user_build(is_staff=True)), method)(url)

    assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), STAFF_ENDPOINTS)
def test_without_credentials_it_is_401(method, url):
    assert getattr(APIClient(), method)(url).status_code == 401


def test_a_staff_session_may(client):
    client.force_login(user_build(is_staff=True))

    assert client.get("/api/v1/providers").status_code == 200


# --- providers -------------------------------------------------------------------------------


def test_providers_with_circuit_state_and_recent_figures_and_no_secrets(staff, heygen):
    ProviderCircuit.objects.create(
        provider="heygen", state="open", failures=5, opened_at=timezone.now(), last_error="503"
    )
    attempt("heygen", "succeeded", seconds=100, qa=90, cost="1.50")
    attempt("heygen", "succeeded", seconds=200, qa=80, cost="3.00")
    attempt("heygen", "failed", seconds=5, qa=10)

    response = staff.get("/api/v1/providers")

    assert response.status_code == 200
    assert SECRET.encode() not in response.content
    assert WEBHOOK_SECRET.encode() not in response.content
    first, studio = response.json()
    assert (first["name"], first["kind"], first["enabled"], first["priority"]) == (
        "heygen",
        "heygen",
        True,
        1,
    )
    assert first["configured"] is True
    assert first["cost_per_minute"] == 1.5
    assert first["circuit"]["state"] == "open"
    assert first["circuit"]["failures"] == 5
    recent = first["recent"]
    assert (recent["attempts"], recent["succeeded"], recent["failed"]) == (3, 2, 1)
    assert recent["success_rate"] == pytest.approx(2 / 3)
    assert recent["median_seconds"] == pytest.approx(150)
    assert recent["mean_qa_score"] == pytest.approx(60)
    assert recent["cost"] == 4.5
    # The built-in studio is always listed, even without an account row.
    assert (studio["name"], studio["configured"], studio["enabled"]) == ("studio", False, True)
    assert studio["circuit"]["state"] == "closed"
    assert studio["recent"]["attempts"] == 0
    assert studio["recent"]["success_rate"] is None


def test_a_studio_account_replaces_the_implicit_studio(staff):
    ProviderAccount.objects.create(kind="studio", name="studio", enabled=False)

    rows = staff.get("/api/v1/providers").json()

    assert [(row["name"], row["enabled"], row["configured"]) for row in rows] == [
        ("studio", False, True)
    ]


def test_recent_figures_cover_the_days_asked_for(staff, heygen):
    attempt("heygen", "succeeded", seconds=100, qa=90)
    GenerationAttempt.objects.update(started_at=timezone.now() - timedelta(days=10))

    assert staff.get("/api/v1/providers").json()[0]["recent"]["attempts"] == 0
    assert staff.get("/api/v1/providers?days=30").json()[0]["recent"]["attempts"] == 1


@pytest.mark.parametrize("days", ["0", "367", "week"])
def test_bad_days_are_400(staff, days):
    response = staff.get(f"/api/v1/providers?days={days}")

    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]


def test_the_studios_health_check_runs(staff):
    response = staff.post("/api/v1/providers/studio/health")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["kind"], body["ok"]) == ("studio", "studio", True)
    assert "joe" in body["extra"]["voices"]
    assert body["checked_at"]


def test_a_provider_that_cannot_be_reached_is_unhealthy_and_its_key_stays_secret(staff, heygen):
    response = staff.post("/api/v1/providers/heygen/health")

    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["detail"]
    assert SECRET.encode() not in response.content


def test_an_unknown_provider_is_404(staff):
    assert staff.post("/api/v1/providers/nobody/health").status_code == 404


def test_a_provider_without_an_installed_adapter_is_409(staff, settings):
    ProviderAccount.objects.create(kind="runway", name="runway")
    settings.VIDEO_PROVIDER_CLASSES = {
        kind: path for kind, path in settings.VIDEO_PROVIDER_CLASSES.items() if kind != "runway"
    }

    response = staff.post("/api/v1/providers/runway/health")

    assert response.status_code == 409


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_over_a_period(staff):
    since = timezone.now() - timedelta(days=2)
    attempt("studio", "succeeded", seconds=10, qa=80)
    attempt("studio", "succeeded", seconds=30, qa=60)
    attempt("heygen", "failed", seconds=3, qa=40, cost="0.50")
    job = video_job_build(learner=user_build(), status="cancelled")
    VideoJob.objects.filter(pk=job.pk).update(created_at=since - timedelta(days=1))  # before

    response = staff.get(
        "/api/v1/metrics", {"since": since.isoformat(), "until": timezone.now().isoformat()}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["jobs_by_status"]["ready"] == 2
    assert body["jobs_by_status"]["failed"] == 1
    assert body["jobs_by_status"]["cancelled"] == 0
    assert body["jobs_total"] == 3
    assert body["success_rate"] == pytest.approx(2 / 3)
    assert body["attempts"] == 3
    assert body["median_seconds"] == pytest.approx(20)  # succeeded attempts: 10 and 30
    assert body["p95_seconds"] == pytest.approx(29)  # 10 + 0.95 * 20
    assert body["mean_qa_score"] == pytest.approx(60)
    assert body["cost"] == 0.5
    assert body["cost_by_provider"] == {"heygen": 0.5, "studio": 0}
    assert [row["provider"] for row in body["providers"]] == ["heygen", "studio"]
    assert body["providers"][0]["success_rate"] == 0


def test_metrics_for_one_provider_with_the_default_period(staff):
    attempt("studio", "succeeded", seconds=10, qa=80)
    attempt("heygen", "failed", seconds=3, qa=40, cost="0.50")

    body = staff.get("/api/v1/metrics?provider=heygen").json()

    assert body["provider"] == "heygen"
    assert body["jobs_total"] == 1
    assert body["success_rate"] == 0
    assert [row["provider"] for row in body["providers"]] == ["heygen"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("until=2025-13-45T00:00:00Z", "until"),
        ("since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", "since"),
        ("since=2025-03-01T00:00:00Z&until=2025-03-01T00:00:00Z", "since"),
        (f"provider={'p' * 101}", "provider"),
    ],
)
def test_bad_metrics_queries_are_400(staff, query, field):
    response = staff.get(f"/api/v1/metrics?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
