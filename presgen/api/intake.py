"""Writes behind the intake endpoints: recording an assessment (and planning its series)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from library.models import Assessment, AssessmentSource, Certification, Domain, DomainScore
from presgen.models import User
from videos.services import SeriesPlan, series_plan

PROFILE_FIELDS = ("experience_level", "learning_styles", "preferred_pace")


class AssessmentConflict(ValueError):
    """The same result (source and external id) was already received."""


@dataclass(frozen=True)
class DomainResult:
    domain: Domain
    score: Decimal


def assessment_record(
    *,
    learner: User,
    certification: Certification,
    overall_score: Decimal,
    taken_at: datetime,
    domain_scores: list[DomainResult],
    external_id: str = "",
    profile: dict[str, Any] | None = None,
    source: str = AssessmentSource.API,
) -> SeriesPlan:
    """Store an assessment with its domain scores and plan its videos, all or nothing.

    Profile fields given (experience level, learning styles, pace) update the learner
    first, so the planned scripts are personalised with them. The jobs are queued
    only once everything is committed. A second result with the same external id
    from the same source raises AssessmentConflict and changes nothing.
    """
    profile = {k: v for k, v in (profile or {}).items() if k in PROFILE_FIELDS}
    try:
        with transaction.atomic():
            if profile:
                for name, value in profile.items():
                    setattr(learner, name, value)
                learner.save(update_fields=list(profile))
            assessment = Assessment.objects.create(
                learner=learner,
                certification=certification,
                overall_score=overall_score,
                taken_at=taken_at,
                source=source,
                external_id=external_id,
                raw_payload={
                    "domain_scores": {r.domain.slug: str(r.score) for r in domain_scores},
                    **({"profile": profile} if profile else {}),
                },
            )
            DomainScore.objects.bulk_create(
                DomainScore(assessment=assessment, domain=r.domain, score=r.score)
                for r in domain_scores
            )
            return series_plan(assessment=assessment)
    except IntegrityError as error:
        if (
            external_id
            and Assessment.objects.filter(source=source, external_id=external_id).exists()
        ):
            raise AssessmentConflict(
                f"an assessment with external_id {external_id!r} was already received"
            ) from error
        raise
