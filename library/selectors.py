"""Reads for the learning side: what a learner's home shows, weak and strong areas."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet

from library.charts import PASSING, STRONG, WEAK, change_text, standing
from library.models import Assessment, Certification, DomainScore
from presgen.models import User
from presgen.ownership import owned_by
from videos.models import Video, VideoJob
from videos.selectors import learner_job_labels

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


# --- the learner's assessment history (portal: /assessments/) --------------------------

STANDING_LABELS = {WEAK: "Below the pass line", PASSING: "Passing", STRONG: "Strong"}


@dataclass(frozen=True)
class AssessmentRow:
    """One assessment in the history, with what the list shows beside it."""

    assessment: Assessment
    previous_overall: Decimal | None  # the previous assessment of the same certification
    weak_count: int  # domains scored below the passing score
    planned_count: int  # videos planned from it (not counting ones staff hid)

    @property
    def passed(self) -> bool:
        return self.assessment.overall_score >= self.assessment.certification.passing_score

    @property
    def margin(self) -> Decimal:
        """Overall score minus the passing score (negative: below it)."""
        return self.assessment.overall_score - self.assessment.certification.passing_score

    @property
    def margin_abs(self) -> Decimal:
        return abs(self.margin)

    @property
    def change(self) -> Decimal | None:
        if self.previous_overall is None:
            return None
        return self.assessment.overall_score - self.previous_overall

    @property
    def change_text(self) -> str:
        return change_text(self.change)


@dataclass(frozen=True)
class CertificationHistory:
    certification: Certification
    rows: list[AssessmentRow]  # newest first

    @property
    def oldest_first(self) -> list[AssessmentRow]:
        return self.rows[::-1]


def _newest_first(assessment: Assessment) -> tuple[object, int]:
    return (assessment.taken_at, assessment.pk)


def learner_assessment_history(*, learner: User) -> list[CertificationHistory]:
    """The learner's own assessments by certification (latest taken first), newest first.

    One query whatever the number of assessments: the certification is joined,
    and the weak-domain and planned-video counts are annotated.
    """
    visible_jobs = Q(video_jobs__learner=F("learner")) & (
        Q(video_jobs__video__isnull=True) | Q(video_jobs__video__hidden=False)
    )
    assessments = (
        owned_by(Assessment, user=learner)
        .select_related("certification")
        .annotate(
            weak_count=Count(
                "domain_scores",
                filter=Q(domain_scores__score__lt=F("certification__passing_score")),
                distinct=True,
            ),
            planned_count=Count("video_jobs", filter=visible_jobs, distinct=True),
        )
        .order_by("-taken_at", "-pk")
    )
    # certification id -> [(assessment, weak count, planned count)], newest first
    by_certification: dict[int, list[tuple[Assessment, int, int]]] = {}
    for assessment in assessments:
        by_certification.setdefault(assessment.certification_id, []).append(
            (assessment, assessment.weak_count, assessment.planned_count)
        )
    histories = []
    for group in by_certification.values():  # dicts keep order: latest taken first
        rows = [
            AssessmentRow(
                assessment=assessment,
                previous_overall=group[i + 1][0].overall_score if i + 1 < len(group) else None,
                weak_count=weak_count,
                planned_count=planned_count,
            )
            for i, (assessment, weak_count, planned_count) in enumerate(group)
        ]
        histories.append(CertificationHistory(certification=group[0][0].certification, rows=rows))
    return histories


@dataclass(frozen=True)
class DomainResult:
    """One domain's score in an assessment, against the pass line and the previous result."""

    score: DomainScore
    previous: Decimal | None  # this domain's score in the previous assessment, if it had one
    standing: str  # charts.WEAK, PASSING or STRONG

    @property
    def change(self) -> Decimal | None:
        return None if self.previous is None else self.score.score - self.previous

    @property
    def change_text(self) -> str:
        return change_text(self.change)

    @property
    def standing_label(self) -> str:
        return STANDING_LABELS[self.standing]


@dataclass(frozen=True)
class PlannedVideo:
    """A video job planned from an assessment, with its learner-facing label."""

    job: VideoJob
    label: str
    video: Video | None  # set when the job is ready and its video is visible to the learner


@dataclass(frozen=True)
class AssessmentReport:
    assessment: Assessment
    previous: Assessment | None  # the learner's previous assessment of the same certification
    domains: list[DomainResult]  # in exam order
    weak: list[DomainScore]
    strong: list[DomainScore]
    planned: list[PlannedVideo]

    @property
    def passing_score(self) -> Decimal:
        return self.assessment.certification.passing_score

    @property
    def passed(self) -> bool:
        return self.assessment.overall_score >= self.passing_score

    @property
    def margin_abs(self) -> Decimal:
        return abs(self.assessment.overall_score - self.passing_score)

    @property
    def change(self) -> Decimal | None:
        if self.previous is None:
            return None
        return self.assessment.overall_score - self.previous.overall_score

    @property
    def change_text(self) -> str:
        return change_text(self.change)


def assessment_previous(*, assessment: Assessment) -> Assessment | None:
    """The same learner's assessment of the same certification taken just before this one."""
    return (
        Assessment.objects.filter(
            learner_id=assessment.learner_id, certification_id=assessment.certification_id
        )
        .filter(
            Q(taken_at__lt=assessment.taken_at)
            | Q(taken_at=assessment.taken_at, pk__lt=assessment.pk)
        )
        .order_by("-taken_at", "-pk")
        .first()
    )


def assessment_planned_videos(*, assessment: Assessment) -> list[PlannedVideo]:
    """The video jobs planned from `assessment` for its learner (not those staff hid)."""
    jobs = list(
        VideoJob.objects.filter(assessment=assessment, learner_id=assessment.learner_id)
        .exclude(video__hidden=True)
        .select_related("video")
        .order_by("priority", "created_at", "pk")
    )
    planned = []
    for item in learner_job_labels(jobs):
        video = getattr(item.job, "video", None) if item.job.status == "ready" else None
        planned.append(PlannedVideo(job=item.job, label=item.label, video=video))
    return planned


def assessment_report(*, assessment: Assessment) -> AssessmentReport:
    """Everything the assessment page shows; a fixed number of queries whatever the sizes.

    `assessment` must already be one the caller may see (presgen.ownership).
    """
    certification = assessment.certification
    previous = assessment_previous(assessment=assessment)
    earlier: dict[int, Decimal] = (
        dict(previous.domain_scores.values_list("domain_id", "score")) if previous else {}
    )
    scores = assessment.domain_scores.select_related("domain").order_by(
        "domain__position", "domain__name", "pk"
    )
    strong_from = certification.passing_score + STRONG_MARGIN
    domains = [
        DomainResult(
            score=score,
            previous=earlier.get(score.domain_id),
            standing=standing(
                score.score, pass_line=certification.passing_score, strong_from=strong_from
            ),
        )
        for score in scores
    ]
    return AssessmentReport(
        assessment=assessment,
        previous=previous,
        domains=domains,
        weak=assessment_weak_areas(assessment=assessment),
        strong=assessment_strong_areas(assessment=assessment),
        planned=assessment_planned_videos(assessment=assessment),
    )
