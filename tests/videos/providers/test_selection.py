from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.builders import user_build, video_job_build
from tests.videos import fake_providers
from videos.models import AttemptStatus, CircuitState, GenerationAttempt, ProviderAccount
from videos.providers.circuit import (
    circuit_allows,
    circuit_failure_record,
    circuit_reset,
    circuit_success_record,
)
from videos.providers.selection import Needs, providers_rank

pytestmark = pytest.mark.django_db

NEEDS = Needs(duration_seconds=120, quality="720p")


@pytest.fixture
def fakes(settings):
    settings.VIDEO_PROVIDER_CLASSES = {
        **settings.VIDEO_PROVIDER_CLASSES,
        **fake_providers.FAKE_PROVIDERS,
    }
    ProviderAccount.objects.create(kind="studio", name="studio", enabled=False)


def _account(name: str, **fields) -> ProviderAccount:
    return ProviderAccount.objects.create(kind="good", name=name, **fields)


def _history(provider: str, *, succeeded: int, failed: int = 0, qa: float = 100, seconds=60):
    job = video_job_build(learner=user_build())
    for n in range(succeeded + failed):
        GenerationAttempt.objects.create(
            job=job,
            provider=provider,
            status=AttemptStatus.SUCCEEDED if n < succeeded else AttemptStatus.FAILED,
            qa_score=qa,
            seconds=seconds,
        )


def _names(**kwargs) -> list[str]:
    return [c.provider.name for c in providers_rank(needs=NEEDS, **kwargs)]


def test_without_history_priority_decides(fakes):
    _account("b", priority=2)
    _account("a", priority=1)
    _account("off", priority=0, enabled=False)
    assert _names() == ["a", "b"]


def test_measured_reliability_quality_speed_and_cost_outweigh_priority(fakes):
    _account("unreliable", priority=1)
    _account("steady", priority=2)
    _history("unreliable", succeeded=5, failed=5)
    _history("steady", succeeded=10)
    assert _names() == ["steady", "unreliable"]


def test_cheaper_and_faster_wins_when_quality_and_reliability_are_equal(fakes, settings):
    _account("dear", priority=1, cost_per_minute=Decimal("2.00"))
    _account("cheap", priority=2, cost_per_minute=Decimal("0.10"))
    _history("dear", succeeded=10, seconds=120)
    _history("cheap", succeeded=10, seconds=60)
    assert _names() == ["cheap", "dear"]
    # With only quality weighted, the better QA score wins instead.
    settings.PROVIDER_SELECTION_WEIGHTS = {"quality": 1, "reliability": 0, "speed": 0, "cost": 0}
    _history("dear", succeeded=30, qa=100)
    _history("cheap", succeeded=30, qa=60)
    assert _names() == ["dear", "cheap"]


def test_a_provider_at_its_concurrency_limit_is_skipped(fakes):
    _account("busy", priority=1, max_concurrency=1)
    _account("free", priority=2)
    job = video_job_build(learner=user_build())
    GenerationAttempt.objects.create(job=job, provider="busy", status=AttemptStatus.SUBMITTED)
    assert _names() == ["free"]


def test_capabilities_and_exclusions_filter(fakes):
    _account("a", priority=1)
    _account("b", priority=2)
    assert _names(exclude=frozenset({"a"})) == ["b"]
    assert providers_rank(needs=Needs(duration_seconds=7200, quality="720p")) == []
    assert providers_rank(needs=Needs(duration_seconds=60, quality="4k")) == []


def test_the_studio_is_there_by_default():
    assert [c.provider.name for c in providers_rank(needs=NEEDS)] == ["studio"]


def test_the_circuit_opens_after_repeated_failures_in_the_window(settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 3
    now = timezone.now()
    assert circuit_failure_record(provider="p", error="503", now=now) == CircuitState.CLOSED
    # A failure outside the window starts a new count.
    later = now + timedelta(seconds=settings.CIRCUIT_WINDOW_SECONDS + 1)
    assert circuit_failure_record(provider="p", error="503", now=later) == CircuitState.CLOSED
    circuit_failure_record(provider="p", error="503", now=later)
    assert circuit_failure_record(provider="p", error="503", now=later) == CircuitState.OPEN
    assert not circuit_allows(provider="p", now=later)


def test_after_the_cool_down_exactly_one_trial_is_allowed(settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 1
    now = timezone.now()
    circuit_failure_record(provider="p", error="503", now=now)
    cooled = now + timedelta(seconds=settings.CIRCUIT_COOLDOWN_SECONDS + 1)
    assert circuit_allows(provider="p", now=cooled)
    assert not circuit_allows(provider="p", now=cooled)  # the trial is taken
    circuit_success_record(provider="p")
    assert circuit_allows(provider="p")


def test_staff_can_reset_an_open_circuit(settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 1
    circuit_failure_record(provider="p", error="503")
    assert not circuit_allows(provider="p")
    circuit_reset(provider="p")
    assert circuit_allows(provider="p")
