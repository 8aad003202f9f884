"""Reads for the learning side: what a learner's home shows, weak and strong areas."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from library.models import Assessment, DomainScore
from presgen.models import User

# A domain is weak below the certification's passing score and strong from this
# margin above it; the seed's planner works from the weakest three.
STRONG_MARGIN = Decimal(10)


def assessment_weak_areas(*, assessment: Assessment, limit: int | None = None) -> list[DomainScore]:
    """Domains scored below the passing score, weakest first (ties: heavier exam weight first)."""
    threshold = assessment.certification.passing_score
    scores = (
        assessment.domain_scores.select_related("domain")
        .filter(score__lt=threshold)
        .order_by("score", "-domain__weight", "domain__position")
    )
    return list(scores[:limit] if limit else scores)


def assessment_strong_areas(*, assessment: Assessment) -> list[DomainScore]:
    """Domains scored at least STRONG_MARGIN above the passing score, strongest first."""
    threshold = assessment.certification.passing_score + STRONG_MARGIN
    return list(
        assessment.domain_scores.select_related("domain")
        .filter(score__gte=threshold)
        .order_by("-score", "domain__position")
    )


def learner_assessments(*, learner: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(learner=learner).select_related("certification")


@dataclass(frozen=True)
class HomeSummary:
    latest: Assessment | None
    weak: list[DomainScore]
    strong: list[DomainScore]
    video_count: int


def learner_home_summary(*, learner: User) -> HomeSummary:
    latest = learner_assessments(learner=learner).first()
    return HomeSummary(
        latest=latest,
        weak=assessment_weak_areas(assessment=latest) if latest else [],
        strong=assessment_strong_areas(assessment=latest) if latest else [],
        video_count=learner.videos.filter(hidden=False).count(),
    )
