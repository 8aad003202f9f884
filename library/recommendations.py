"""Reads: which of the learner's own videos to watch next, and why.

Only the learner's ready, visible, not yet completed videos are recommended,
in this order, each video once:

1. "continue watching": started and not completed, most recently watched first;
2. "your weakest area: <domain>": remediation videos for the weakest domains of
   the latest assessment, weakest first, not yet started;
3. "practice next": practice sessions of a domain whose remediation video the
   learner has completed;
4. "exam prep": exam-prep videos once the latest assessment scored at least
   EXAM_PREP_FROM percent overall.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from library.models import WatchProgress
from library.playlists import learner_visible_videos
from library.selectors import assessment_weak_areas, learner_assessments
from presgen.models import User
from videos.models import Video, VideoType

EXAM_PREP_FROM = Decimal(50)
WEAKEST_DOMAINS = 3

CONTINUE_WATCHING = "continue watching"
WEAKEST_AREA = "your weakest area: {domain}"
PRACTICE_NEXT = "practice next"
EXAM_PREP = "exam prep"


@dataclass(frozen=True)
class Recommendation:
    video: Video
    reason: str


def recommendations_for(*, learner: User, limit: int = 5) -> list[Recommendation]:
    """Up to `limit` of the learner's videos to watch next, each with its reason."""
    if limit <= 0:
        return []
    progress = {p.video_id: p for p in WatchProgress.objects.filter(learner=learner)}
    completed = {video_id for video_id, p in progress.items() if p.completed}
    started = {
        video_id
        for video_id, p in progress.items()
        if not p.completed and (p.position_seconds > 0 or p.seconds_watched > 0)
    }
    candidates = (
        learner_visible_videos(learner=learner)
        .exclude(pk__in=completed)
        .select_related("domain")
        .order_by("created_at", "pk")
    )
    picked: list[Recommendation] = []
    seen: set[int] = set()

    def add(videos: list[Video], reason: str) -> None:
        for video in videos:
            if video.pk not in seen and len(picked) < limit:
                seen.add(video.pk)
                picked.append(Recommendation(video=video, reason=reason))

    in_progress = sorted(
        candidates.filter(pk__in=started),
        key=lambda video: progress[video.pk].updated_at,
        reverse=True,
    )
    add(in_progress, CONTINUE_WATCHING)

    latest = learner_assessments(learner=learner).first()
    if latest is not None:
        for weak in assessment_weak_areas(assessment=latest, limit=WEAKEST_DOMAINS):
            remediation = candidates.filter(
                video_type=VideoType.REMEDIATION, domain=weak.domain
            ).exclude(pk__in=started)
            add(list(remediation), WEAKEST_AREA.format(domain=weak.domain.name))

    remediated_domains = Video.objects.filter(
        learner=learner,
        pk__in=completed,
        video_type=VideoType.REMEDIATION,
        domain__isnull=False,
    ).values("domain")
    add(
        list(
            candidates.filter(video_type=VideoType.PRACTICE_SESSION, domain__in=remediated_domains)
        ),
        PRACTICE_NEXT,
    )

    if latest is not None and latest.overall_score >= EXAM_PREP_FROM:
        add(
            list(
                candidates.filter(
                    video_type=VideoType.EXAM_PREP, job__certification=latest.certification
                )
            ),
            EXAM_PREP,
        )
    return picked
