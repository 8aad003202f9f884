"""The seed's planning rules: which videos an assessment calls for.

Pure decisions, no writes: `series_items_plan` returns what should exist;
`videos.services.series_plan` makes the rows. Practice sessions,
celebrations (on a passing score) and introductions are made on request
(`videos.services.video_request`). Each planned video carries the
few inputs that would change it ("material"): planning again with the same
material finds the existing job instead of making a second one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from library.models import Assessment
from library.selectors import assessment_strong_areas, assessment_weak_areas
from videos.models import VideoType

REMEDIATION_LIMIT = 3  # the three weakest domains
EXAM_PREP_MIN_SCORE = Decimal(50)


@dataclass(frozen=True)
class PlannedVideo:
    video_type: str
    priority: int
    plan_key: str
    parameters: dict[str, Any] = field(default_factory=dict)
    material: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(
            {"type": self.video_type, **self.material}, sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def score_band(score: Decimal | float) -> int:
    """Scores in 10-point bands: 62% and 65% make the same video; 62% and 75% do not."""
    return int(Decimal(score) // 10)


def series_items_plan(*, assessment: Assessment) -> list[PlannedVideo]:
    weak = assessment_weak_areas(assessment=assessment, limit=REMEDIATION_LIMIT)
    strong = assessment_strong_areas(assessment=assessment)
    overall = assessment.overall_score

    items = [
        PlannedVideo(
            video_type=VideoType.OVERVIEW,
            priority=1,
            plan_key="overview",
            material={"weak": [s.domain.slug for s in weak], "band": score_band(overall)},
        )
    ]
    items += [
        PlannedVideo(
            video_type=VideoType.REMEDIATION,
            priority=2,
            plan_key=f"remediation:{s.domain.slug}",
            parameters={"domain": s.domain.slug},
            material={"domain": s.domain.slug, "band": score_band(s.score)},
        )
        for s in weak
    ]
    items.append(
        PlannedVideo(
            video_type=VideoType.MOTIVATIONAL,
            priority=3,
            plan_key="motivational",
            material={"band": score_band(overall), "strong": [s.domain.slug for s in strong]},
        )
    )
    if overall >= EXAM_PREP_MIN_SCORE:
        items.append(
            PlannedVideo(
                video_type=VideoType.EXAM_PREP, priority=4, plan_key="exam_prep", material={}
            )
        )
    return items
