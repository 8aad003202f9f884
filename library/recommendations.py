"""What the learner should do next, and why: watch one of their videos, or ask for one.

Watch: only the learner's ready, visible videos are recommended, in this order,
each video once:

1. "continue watching": started and not completed, most recently watched first;
2. "your weakest area: <domain>": remediation videos for the weakest domains of
   the latest assessment, weakest first, not yet started;
3. "still weak after your latest assessment: <domain>": a completed video about
   a domain that is still weak in an assessment newer than the one the video
   was made from, weakest first;
4. "practice next": practice sessions of a domain whose remediation video the
   learner has completed;
5. "exam prep": exam-prep videos once the latest assessment scored at least
   EXAM_PREP_FROM percent overall.

Request (the video does not exist yet, nor is it being made):

6. "you have watched N videos: practise your weakest area, <domain>": a
   practice session on the latest assessment's weakest domain, once the learner
   has completed at least PRACTICE_AFTER_WATCHED videos;
7. "your latest score (N%) is ready for exam prep": an exam-prep video for the
   latest assessment's certification when it scored at least EXAM_PREP_FROM.

At most `limit` (five) recommendations in all. `recommendation_request` acts on
a request recommendation in one click, refusing a second copy of a video that
is already being made.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet

from library.models import Assessment, Certification, Domain, WatchProgress
from library.playlists import learner_visible_videos
from library.selectors import assessment_weak_areas, learner_assessments
from presgen.models import User
from videos.models import ACTIVE_STATUSES, JobStatus, Video, VideoJob, VideoType
from videos.services import VideoRequestError, video_request

EXAM_PREP_FROM = Decimal(50)
WEAKEST_DOMAINS = 3
PRACTICE_AFTER_WATCHED = 2
# The video types a recommendation may ask for in one click.
REQUESTABLE_TYPES = (VideoType.PRACTICE_SESSION, VideoType.EXAM_PREP)

CONTINUE_WATCHING = "continue watching"
WEAKEST_AREA = "your weakest area: {domain}"
STILL_WEAK = "still weak after your latest assessment: {domain}"
PRACTICE_NEXT = "practice next"
EXAM_PREP = "exam prep"
PRACTICE_REQUEST = "you have watched {count} videos: practise your weakest area, {domain}"
EXAM_PREP_REQUEST = "your latest score ({score}%) is ready for exam prep"


@dataclass(frozen=True)
class VideoProposal:
    """A video that does not exist yet, as the one-click request form sends it."""

    video_type: str
    certification: Certification
    domain: Domain | None = None

    @property
    def title(self) -> str:
        label = VideoType(self.video_type).label
        subject = self.domain.name if self.domain else self.certification.name
        return f"{label}: {subject}"


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    """One thing to do next: watch `video`, or request `proposal` (exactly one is set)."""

    reason: str
    video: Video | None = None
    proposal: VideoProposal | None = None

    def __post_init__(self) -> None:
        if (self.video is None) == (self.proposal is None):
            raise ValueError("a recommendation is either a video to watch or one to request")

    @property
    def action(self) -> str:
        return "watch" if self.video is not None else "request"

    @property
    def title(self) -> str:
        if self.video is not None:
            return self.video.title
        assert self.proposal is not None
        return self.proposal.title


def recommendations_for(*, learner: User, limit: int = 5) -> list[Recommendation]:
    """Up to `limit` things for the learner to do next, each with its reason."""
    if limit <= 0:
        return []
    progress = {
        p.video_id: p for p in WatchProgress.objects.filter(learner=learner, video__learner=learner)
    }
    completed = {video_id for video_id, p in progress.items() if p.completed}
    started = {
        video_id
        for video_id, p in progress.items()
        if not p.completed and (p.position_seconds > 0 or p.seconds_watched > 0)
    }
    visible = learner_visible_videos(learner=learner).select_related("domain")
    candidates = visible.exclude(pk__in=completed).order_by("created_at", "pk")
    picked: list[Recommendation] = []
    seen: set[int] = set()

    def add(videos: list[Video], reason: str) -> None:
        for video in videos:
            if video.pk not in seen and len(picked) < limit:
                seen.add(video.pk)
                picked.append(Recommendation(video=video, reason=reason))

    def propose(proposal: VideoProposal, reason: str) -> None:
        if len(picked) < limit:
            picked.append(Recommendation(proposal=proposal, reason=reason))

    in_progress = sorted(
        candidates.filter(pk__in=started),
        key=lambda video: progress[video.pk].updated_at,
        reverse=True,
    )
    add(in_progress, CONTINUE_WATCHING)

    latest = learner_assessments(learner=learner).first()
    weak_areas = assessment_weak_areas(assessment=latest) if latest is not None else []
    for weak in weak_areas[:WEAKEST_DOMAINS]:
        remediation = candidates.filter(
            video_type=VideoType.REMEDIATION, domain=weak.domain
        ).exclude(pk__in=started)
        add(list(remediation), WEAKEST_AREA.format(domain=weak.domain.name))

    if latest is not None:
        watched = visible.filter(pk__in=completed).order_by("created_at", "pk")
        for weak in weak_areas:
            add(
                list(
                    _about_domains(watched, domains=[weak.domain]).filter(
                        job__assessment__taken_at__lt=latest.taken_at
                    )
                ),
                STILL_WEAK.format(domain=weak.domain.name),
            )

    remediated = Domain.objects.filter(
        videos__learner=learner,
        videos__pk__in=completed,
        videos__video_type=VideoType.REMEDIATION,
    ).distinct()
    if remediated:
        practice = candidates.filter(video_type=VideoType.PRACTICE_SESSION)
        add(list(_about_domains(practice, domains=list(remediated))), PRACTICE_NEXT)

    if latest is not None and len(completed) >= PRACTICE_AFTER_WATCHED and weak_areas:
        weakest = weak_areas[0].domain
        if not _made_or_being_made(
            learner=learner,
            video_type=VideoType.PRACTICE_SESSION,
            certification=latest.certification,
            domain=weakest,
        ):
            propose(
                VideoProposal(VideoType.PRACTICE_SESSION, latest.certification, weakest),
                PRACTICE_REQUEST.format(count=len(completed), domain=weakest.name),
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
        if not _made_or_being_made(
            learner=learner, video_type=VideoType.EXAM_PREP, certification=latest.certification
        ):
            propose(
                VideoProposal(VideoType.EXAM_PREP, latest.certification),
                EXAM_PREP_REQUEST.format(score=f"{latest.overall_score:.0f}"),
            )
    return picked


def _about_domains(videos: QuerySet[Video], *, domains: list[Domain]) -> QuerySet[Video]:
    """The videos about any of `domains`: by their own domain, or the one their job asked for.

    (A practice session's Video carries no domain; its job's parameters do.)
    """
    about = Q(pk__in=[])
    for domain in domains:
        about |= Q(domain=domain) | Q(
            job__certification_id=domain.certification_id, job__parameters__domain=domain.slug
        )
    return videos.filter(about)


def _jobs_for(
    *, learner: User, video_type: str, certification: Certification, domain: Domain | None = None
) -> QuerySet[VideoJob]:
    jobs = VideoJob.objects.filter(
        learner=learner, video_type=video_type, certification=certification
    )
    return jobs.filter(parameters__domain=domain.slug) if domain is not None else jobs


def _made_or_being_made(
    *, learner: User, video_type: str, certification: Certification, domain: Domain | None = None
) -> bool:
    jobs = _jobs_for(
        learner=learner, video_type=video_type, certification=certification, domain=domain
    )
    return jobs.filter(status__in=[*ACTIVE_STATUSES, JobStatus.READY]).exists()


class AlreadyBeingMade(VideoRequestError):
    """The same video is already queued or being made; `job` is that job."""

    def __init__(self, message: str, *, job: VideoJob) -> None:
        super().__init__(message, field="")
        self.job = job


def recommendation_request(
    *,
    learner: User,
    video_type: str,
    certification: Certification,
    domain: Domain | None = None,
) -> VideoJob:
    """Ask for a recommended video in one click.

    Refused (VideoRequestError, with the field at fault) when the type cannot be
    asked for this way, the learner has no assessment for the certification, the
    domain is not the certification's, or exam prep is asked for below
    EXAM_PREP_FROM percent; refused with AlreadyBeingMade when the same video is
    already queued or being made.
    """
    if video_type not in REQUESTABLE_TYPES:
        raise VideoRequestError("this video cannot be requested here", field="video_type")
    latest: Assessment | None = (
        Assessment.objects.filter(learner=learner, certification=certification)
        .order_by("-taken_at")
        .first()
    )
    if latest is None:
        raise VideoRequestError(
            f"take an assessment for {certification.name} first", field="certification"
        )
    if domain is not None and domain.certification_id != certification.pk:
        raise VideoRequestError(f"{certification.name} has no domain {domain.name}", field="domain")
    if video_type == VideoType.PRACTICE_SESSION and domain is None:
        raise VideoRequestError("choose a domain to practise", field="domain")
    if video_type == VideoType.EXAM_PREP:
        domain = None
        if latest.overall_score < EXAM_PREP_FROM:
            raise VideoRequestError(
                f"exam prep opens at {EXAM_PREP_FROM:.0f}% overall; your latest score in "
                f"{certification.name} is {latest.overall_score:.0f}%",
                field="video_type",
            )
    proposal = VideoProposal(video_type, certification, domain)
    with transaction.atomic():
        # One learner's clicks queue up here, so a double click makes one job.
        User.objects.select_for_update().filter(pk=learner.pk).first()
        pending = (
            _jobs_for(
                learner=learner, video_type=video_type, certification=certification, domain=domain
            )
            .filter(status__in=ACTIVE_STATUSES)
            .first()
        )
        if pending is not None:
            raise AlreadyBeingMade(f"{proposal.title} is already being made", job=pending)
        return video_request(
            learner=learner,
            video_type=video_type,
            certification=certification,
            parameters={"domain": domain.slug} if domain is not None else {},
        )
