"""The intake endpoints: assessments in (planning a series), single video jobs, their status.

Thin: serializers validate, `presgen.api.intake` / `videos.services` act, and every
object is looked up through `presgen.api.permissions` (another learner's is a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from library.models import Assessment
from presgen.api import serializers_intake as s
from presgen.api.errors import Conflict, error_responses
from presgen.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from presgen.api.intake import AssessmentConflict, assessment_record
from presgen.api.permissions import api_learner, api_object_or_404, api_rows
from videos.models import VideoJob
from videos.services import VideoRequestError, job_cancel, job_retry, video_request

LEARNER_PARAMETER = OpenApiParameter(
    "learner",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description="Staff-scoped callers: only this learner's (by id); without it, every "
    "learner's. Anyone else sees only their own; naming another learner is a 404.",
)
CREATE_ERRORS = error_responses(400, 401, 403, 404, 409, 415, 422, 429)


def _jobs_queryset() -> QuerySet[VideoJob]:
    return VideoJob.objects.select_related("certification", "video").order_by("-created_at", "-id")


def _filters(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return dict(filters.validated_data)


@extend_schema(tags=["assessments"])
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assessment results: posting one plans the learner's video series."""

    serializer_class = s.AssessmentSerializer
    queryset = Assessment.objects.none()
    create_throttled_actions = ("create",)

    def get_queryset(self) -> QuerySet[Assessment]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Assessment.objects.none()
        rows = Assessment.objects.select_related("certification").prefetch_related(
            "domain_scores__domain",
            Prefetch(
                "video_jobs",
                queryset=VideoJob.objects.select_related("certification", "video").order_by(
                    "priority", "id"
                ),
            ),
        )
        learner_id = self.request.query_params.get("learner") if self.action == "list" else None
        if self.action == "list":
            certification = self.request.query_params.get("certification")
            if certification:
                rows = rows.filter(certification__slug=certification)
        return api_rows(self.request, rows, learner_id=learner_id).order_by("-taken_at", "-id")

    def get_object(self) -> Assessment:
        return api_object_or_404(self.request, self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(
        summary="Assessments, newest first",
        parameters=[
            LEARNER_PARAMETER,
            OpenApiParameter("certification", OpenApiTypes.STR, description="certification slug"),
        ],
        responses={200: s.AssessmentSerializer(many=True), **error_responses(400, 404)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _filters(_AssessmentFilterSerializer, request)
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One assessment with its planned jobs",
        responses={200: s.AssessmentSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Post an assessment result; plans the learner's series",
        description="Creates the assessment and its domain scores and plans the videos "
        "(overview, remediation of the weakest domains, motivational, exam prep...). The "
        "response lists the planned jobs; a planned video that already exists for the "
        "learner with the same inputs is listed, not made twice. A repeated `external_id` "
        "is a 409.",
        request=s.AssessmentCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.AssessmentSerializer, **CREATE_ERRORS},
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.AssessmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        learner = api_learner(request, learner_id=data.get("learner"))
        try:
            plan = assessment_record(
                learner=learner,
                certification=data["certification"],
                overall_score=data["overall_score"],
                taken_at=data["taken_at"],
                domain_scores=data["domain_scores"],
                external_id=data.get("external_id", ""),
                profile={k: data[k] for k in s.PROFILE_INPUTS if k in data},
            )
        except AssessmentConflict as error:
            raise Conflict(f"{error}.") from None
        assessment = self.get_queryset().get(pk=plan.assessment.pk)
        body = s.AssessmentSerializer(
            assessment,
            context={**self.get_serializer_context(), "planned_jobs": {assessment.pk: plan.jobs}},
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class _AssessmentFilterSerializer(serializers.Serializer):
    learner = s.learner_field()
    certification = serializers.SlugField(required=False, max_length=80)


@extend_schema(tags=["jobs"])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Video jobs: request one video, follow its status and progress, cancel or retry it."""

    serializer_class = s.JobSerializer
    queryset = VideoJob.objects.none()
    create_throttled_actions = ("create", "retry")

    def get_queryset(self) -> QuerySet[VideoJob]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return VideoJob.objects.none()
        rows = _jobs_queryset()
        learner_id = None
        if self.action == "list":
            filters = _filters(s.JobFilterSerializer, self.request)
            learner_id = filters.pop("learner", None)
            if "assessment" in filters:
                filters["assessment_id"] = filters.pop("assessment")
            rows = rows.filter(**filters)
        return api_rows(self.request, rows, learner_id=learner_id)

    def get_object(self) -> VideoJob:
        return api_object_or_404(self.request, self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(
        summary="Video jobs, newest first",
        parameters=[s.JobFilterSerializer],
        responses={200: s.JobSerializer(many=True), **error_responses(400, 404)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A job's status, progress and step",
        responses={200: s.JobSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Request one video (a practice session, a celebration, an introduction...)",
        request=s.JobCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.JobSerializer, **CREATE_ERRORS},
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        learner = api_learner(request, learner_id=data.get("learner"))
        parameters = dict(data.get("parameters", {}))
        try:
            job = video_request(
                learner=learner,
                video_type=data["video_type"],
                certification=data.get("certification"),
                parameters=parameters,
            )
        except VideoRequestError as error:
            field = error.field or "non_field_errors"
            if field in s.JobParametersSerializer().fields:
                detail: dict[str, Any] = {"parameters": {field: [str(error)]}}
            else:
                detail = {field: [str(error)]}
            raise serializers.ValidationError(detail) from None
        job = _jobs_queryset().get(pk=job.pk)
        return Response(
            s.JobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Cancel an active job",
        request=None,
        responses={200: s.JobSerializer, **error_responses(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        result = job_cancel(job=job)
        if not result.done:
            raise Conflict(f"Cannot cancel: {result.message}.")
        return Response(self.get_serializer(_jobs_queryset().get(pk=job.pk)).data)

    @extend_schema(
        summary="Queue a failed or cancelled job again",
        request=None,
        responses={200: s.JobSerializer, **error_responses(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        result = job_retry(job=job)
        if not result.done:
            raise Conflict(f"Cannot retry: {result.message}.")
        return Response(self.get_serializer(_jobs_queryset().get(pk=job.pk)).data)
