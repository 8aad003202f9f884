"""Choosing a provider: capable, enabled, not at its concurrency limit, best scored.

The score mixes measured quality (mean QA score), reliability (success rate,
smoothed so one early result does not decide), speed (mean generation time)
and cost, with the weights from PROVIDER_SELECTION_WEIGHTS. Providers with no
history get neutral values, so priority decides among new providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.utils import timezone

from videos.models import AttemptStatus, GenerationAttempt
from videos.providers.base import Provider
from videos.providers.registry import providers_enabled

HISTORY_DAYS = 30
NEUTRAL_QUALITY = 0.9
ACTIVE_ATTEMPT_STATUSES = (
    AttemptStatus.PENDING,
    AttemptStatus.SUBMITTED,
    AttemptStatus.PROCESSING,
)


@dataclass(frozen=True)
class Needs:
    duration_seconds: int
    quality: str
    captions: bool = True
    custom_avatar: bool = False
    narrated_presenter: bool = True


@dataclass(frozen=True)
class Candidate:
    provider: Provider
    priority: int
    score: float | None  # None when it was the only usable provider (nothing to compare)
    parts: dict[str, float]


def provider_capable(*, provider: Provider, needs: Needs) -> bool:
    caps = provider.capabilities
    return (
        needs.duration_seconds <= caps.max_duration_seconds
        and needs.quality in caps.resolutions
        and (caps.captions or not needs.captions)
        and (caps.custom_avatars or not needs.custom_avatar)
        and (caps.narrated_presenter or not needs.narrated_presenter)
    )


def providers_active() -> dict[str, int]:
    """Attempts under way per provider (their concurrency), from the status index."""
    rows = (
        GenerationAttempt.objects.filter(status__in=ACTIVE_ATTEMPT_STATUSES)
        .values("provider")
        .annotate(active=Count("id"))
    )
    return {row["provider"]: row["active"] for row in rows}


def provider_stats() -> dict[str, dict[str, float | int | None]]:
    """Per provider, over recent finished attempts: successes, failures, mean QA and time."""
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    rows = (
        GenerationAttempt.objects.filter(started_at__gte=since)
        .values("provider")
        .annotate(
            succeeded=Count("id", filter=Q(status=AttemptStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=AttemptStatus.FAILED)),
            qa=Avg("qa_score", filter=Q(qa_score__isnull=False)),
            seconds=Avg("seconds", filter=Q(status=AttemptStatus.SUCCEEDED)),
        )
    )
    return {
        row["provider"]: {
            "succeeded": row["succeeded"],
            "failed": row["failed"],
            "qa": row["qa"],
            "seconds": row["seconds"],
        }
        for row in rows
    }


def providers_rank(
    *,
    needs: Needs,
    exclude: frozenset[str] = frozenset(),
    exclude_kinds: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Usable providers for `needs`, best first.

    A lone usable provider is not scored (score None, no parts): reading the
    history, a scan of a month of attempts, would decide nothing. That is the
    common case (the studio alone), and it ran once per job.
    """
    active = providers_active()
    usable: list[tuple[Provider, int]] = []
    for provider, priority in providers_enabled():
        if provider.name in exclude or provider.kind in exclude_kinds:
            continue
        if not provider_capable(provider=provider, needs=needs):
            continue
        if active.get(provider.name, 0) >= provider.max_concurrency:
            continue
        usable.append((provider, priority))
    if len(usable) <= 1:
        return [Candidate(provider, priority, None, {}) for provider, priority in usable]

    stats = provider_stats()
    seconds = {
        p.name: float(s)
        for p, _ in usable
        if (s := stats.get(p.name, {}).get("seconds")) is not None
    }
    fastest = min(seconds.values()) if seconds else None
    dearest = max(float(p.cost_per_minute) for p, _ in usable)
    weights = settings.PROVIDER_SELECTION_WEIGHTS
    total_weight = sum(weights.values()) or 1

    candidates = []
    for provider, priority in usable:
        row = stats.get(provider.name, {})
        succeeded, failed = int(row.get("succeeded") or 0), int(row.get("failed") or 0)
        qa = row.get("qa")
        parts = {
            "quality": float(qa) / 100 if qa is not None else NEUTRAL_QUALITY,
            # Laplace smoothing: no history is 0.5, not 0 or 1.
            "reliability": (succeeded + 1) / (succeeded + failed + 2),
            "speed": (
                fastest / seconds[provider.name]
                if fastest is not None and provider.name in seconds and seconds[provider.name] > 0
                else 1.0
            ),
            "cost": 1 - float(provider.cost_per_minute) / dearest if dearest > 0 else 1.0,
        }
        score = sum(weights[k] * v for k, v in parts.items()) / total_weight
        candidates.append(Candidate(provider, priority, round(score, 4), parts))
    candidates.sort(key=lambda c: (-(c.score or 0.0), c.priority, c.provider.name))
    return candidates
