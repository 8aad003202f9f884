"""Serializers of the intake endpoints: assessments in, video jobs out."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.models import Assessment, Certification, Difficulty, Domain, DomainScore
from presgen.api.intake import DomainResult
from presgen.models import ExperienceLevel, LearningStyle, Pace
from videos.models import ErrorKind, JobStatus, VideoJob, VideoType

MAX_ID = 2**63 - 1
QUALITIES = ("480p", "720p", "1080p")
# How far ahead of the server's clock a taken_at may be (clocks differ a little).
FUTURE_TOLERANCE = timedelta(minutes=5)
PERCENT_SCHEMA = {"type": "number", "minimum": 0, "maximum": 100, "example": 72.5}


def no_surrogates(value: str) -> None:
    """Lone UTF-16 surrogates ("\\ud800" in JSON) cannot be stored as UTF-8 text."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise serializers.ValidationError("Text must not contain unpaired surrogate characters.")


class TextField(serializers.CharField):
    """A CharField that refuses what a database cannot store (NUL bytes, lone surrogates)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(no_surrogates)


@extend_schema_field(PERCENT_SCHEMA)
class PercentField(serializers.DecimalField):
    """0 to 100, as a JSON number (a numeric string is accepted too); rounded to 2 places."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(100))
        super().__init__(max_digits=5, decimal_places=2, coerce_to_string=False, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):  # JSON true/false is not a score
            self.fail("invalid")
        return super().to_internal_value(data)

    def validate_precision(self, value: Decimal) -> Decimal:
        if value.copy_abs() > 1000:
            self.fail("max_whole_digits", max_whole_digits=3)
        try:
            value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            self.fail("invalid")
        return super().validate_precision(value)


class StrictIntegerField(serializers.IntegerField):
    """A whole number given as a JSON number (not true/false, not 1.5)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(data)


def learner_field() -> StrictIntegerField:
    return StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The learner's id. Staff-scoped tokens may name any learner; anyone else "
        "only themselves (another learner is answered as not found). Default: the caller.",
    )


def _certification_get(slug: str) -> Certification:
    try:
        return Certification.objects.get(slug=slug)
    except Certification.DoesNotExist:
        raise serializers.ValidationError(f"No certification {slug!r}.") from None


# --- video jobs ------------------------------------------------------------------


class JobParametersSerializer(serializers.Serializer):
    """What a requested video is about; every field is optional."""

    topic = TextField(required=False, max_length=200, help_text="a topic in the learner's words")
    domain = serializers.SlugField(
        required=False, max_length=80, help_text="slug of a domain of the certification"
    )
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)
    questions = StrictIntegerField(
        required=False, min_value=1, max_value=10, help_text="practice questions (1–10)"
    )
    quality = serializers.ChoiceField(choices=QUALITIES, required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {k: [f"Unknown parameter; use {', '.join(self.fields)}."] for k in unknown}
                )
        return super().to_internal_value(data)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # Only the public parameters: internal ones (a CV, callback details) stay inside.
        shown = {k: v for k, v in (instance or {}).items() if k in self.fields}
        return super().to_representation(shown)


class JobCreateSerializer(serializers.Serializer):
    learner = learner_field()
    video_type = serializers.ChoiceField(choices=VideoType.choices)
    certification = serializers.SlugField(
        required=False,
        max_length=80,
        help_text="slug of the certification (not needed for a professional introduction)",
    )
    parameters = JobParametersSerializer(required=False)

    def validate_certification(self, value: str) -> Certification:
        return _certification_get(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        certification: Certification | None = attrs.get("certification")
        domain = attrs.get("parameters", {}).get("domain")
        if not domain:
            return attrs
        if certification is None:
            raise serializers.ValidationError(
                {"certification": ["Name the certification the domain belongs to."]}
            )
        if not certification.domains.filter(slug=domain).exists():
            raise serializers.ValidationError(
                {"parameters": {"domain": [f"{certification.name} has no domain {domain!r}."]}}
            )
        return attrs


class JobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-job-detail")
    learner = serializers.IntegerField(source="learner_id", read_only=True)
    certification: serializers.SlugRelatedField[Certification] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    assessment = serializers.IntegerField(source="assessment_id", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    video_type = serializers.ChoiceField(choices=VideoType.choices, read_only=True)
    error_kind = serializers.ChoiceField(choices=ErrorKind.choices, read_only=True)
    parameters = JobParametersSerializer(read_only=True)
    video = serializers.SerializerMethodField(help_text="the finished video's id, once ready")
    video_url = serializers.SerializerMethodField(help_text="the finished video, once ready")

    class Meta:
        model = VideoJob
        fields = [
            "id",
            "url",
            "learner",
            "video_type",
            "certification",
            "assessment",
            "priority",
            "parameters",
            "status",
            "status_display",
            "progress",
            "step",
            "error",
            "error_kind",
            "retries",
            "video",
            "video_url",
            "created_at",
            "updated_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _video_id(self, job: VideoJob) -> int | None:
        try:
            video = job.video
        except ObjectDoesNotExist:
            return None
        return None if video.hidden else video.pk

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_video(self, job: VideoJob) -> int | None:
        return self._video_id(job)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_video_url(self, job: VideoJob) -> str | None:
        video_id = self._video_id(job)
        if video_id is None:
            return None
        try:
            path = reverse("api-video-detail", kwargs={"pk": video_id})
        except NoReverseMatch:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class JobFilterSerializer(serializers.Serializer):
    learner = learner_field()
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    video_type = serializers.ChoiceField(choices=VideoType.choices, required=False)
    assessment = StrictIntegerField(required=False, min_value=1, max_value=MAX_ID)


# --- assessments ----------------------------------------------------------------


class DomainScoreInputSerializer(serializers.Serializer):
    domain = serializers.SlugField(max_length=80, help_text="slug of a domain of the certification")
    score = PercentField()


class AssessmentCreateSerializer(serializers.Serializer):
    learner = learner_field()
    certification = serializers.SlugField(max_length=80, help_text="slug of the certification")
    overall_score = PercentField()
    taken_at = serializers.DateTimeField(required=False, help_text="default: now")
    domain_scores = serializers.ListField(
        child=DomainScoreInputSerializer(),
        min_length=1,
        max_length=100,
        help_text="one score per domain scored; every domain must belong to the certification",
    )
    external_id = TextField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="the sender's id for this result; the same id is refused a second time (409)",
    )
    experience_level = serializers.ChoiceField(
        choices=ExperienceLevel.choices, required=False, help_text="updates the learner's profile"
    )
    learning_styles = serializers.ListField(
        child=serializers.ChoiceField(choices=LearningStyle.choices),
        required=False,
        max_length=len(LearningStyle.choices),
        help_text="updates the learner's profile",
    )
    preferred_pace = serializers.ChoiceField(
        choices=Pace.choices, required=False, help_text="updates the learner's profile"
    )

    def validate_certification(self, value: str) -> Certification:
        return _certification_get(value)

    def validate_taken_at(self, value: Any) -> Any:
        if value > timezone.now() + FUTURE_TOLERANCE:
            raise serializers.ValidationError("taken_at cannot be in the future.")
        return value

    def validate_learning_styles(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        certification: Certification = attrs["certification"]
        domains = {d.slug: d for d in certification.domains.all()}
        errors: dict[int, dict[str, list[str]]] = {}
        seen: set[str] = set()
        results: list[DomainResult] = []
        for index, item in enumerate(attrs["domain_scores"]):
            slug = item["domain"]
            if slug not in domains:
                errors[index] = {
                    "domain": [
                        f"{certification.name} has no domain {slug!r}; its domains are "
                        f"{', '.join(domains) or 'none'}."
                    ]
                }
            elif slug in seen:
                errors[index] = {"domain": [f"Domain {slug!r} is listed twice."]}
            else:
                results.append(DomainResult(domain=domains[slug], score=item["score"]))
            seen.add(slug)
        if errors:
            raise serializers.ValidationError({"domain_scores": errors})  # type: ignore[dict-item]
        attrs["domain_scores"] = results
        attrs.setdefault("taken_at", timezone.now())
        return attrs


class DomainScoreSerializer(serializers.ModelSerializer):
    domain: serializers.SlugRelatedField[Domain] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    domain_name = serializers.CharField(source="domain.name", read_only=True)
    score = PercentField(read_only=True)

    class Meta:
        model = DomainScore
        fields = ["domain", "domain_name", "score"]
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-assessment-detail")
    learner = serializers.IntegerField(source="learner_id", read_only=True)
    certification: serializers.SlugRelatedField[Certification] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    certification_name = serializers.CharField(source="certification.name", read_only=True)
    overall_score = PercentField(read_only=True)
    passed = serializers.SerializerMethodField()
    domain_scores = DomainScoreSerializer(many=True, read_only=True)
    jobs = serializers.SerializerMethodField(help_text="the videos planned from this assessment")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "url",
            "learner",
            "certification",
            "certification_name",
            "overall_score",
            "passed",
            "taken_at",
            "source",
            "external_id",
            "domain_scores",
            "jobs",
            "created_at",
        ]
        read_only_fields = fields

    def get_passed(self, assessment: Assessment) -> bool:
        return assessment.overall_score >= assessment.certification.passing_score

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, assessment: Assessment) -> Any:
        planned = self.context.get("planned_jobs", {}).get(assessment.pk)
        jobs = planned if planned is not None else assessment.video_jobs.all()
        return JobSerializer(jobs, many=True, context=self.context).data


PROFILE_INPUTS = ("experience_level", "learning_styles", "preferred_pace")
