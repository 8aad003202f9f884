"""/api/v1/: recommendations (with reasons), notifications (list, mark read) and
certifications (the knowledge base's catalogue, read-only, with domains and weights)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from library.inbox import notification_list, notification_mark_read, notification_unread_count
from library.models import Certification, Domain, Notification, NotificationKind
from library.recommendations import Recommendation, recommendations_for
from presgen.api.errors import error_responses
from presgen.api.schema import ApiAutoSchema
from presgen.api.serializers_learner import (
    ID_MAX,
    LEARNER_PARAMETER,
    VideoBriefSerializer,
    id_field,
    request_learner,
    schema_generation,
)
from videos.models import VideoType

RECOMMENDATIONS_DEFAULT = 5
RECOMMENDATIONS_MAX = 20

# --- recommendations ----------------------------------------------------------------------


class RecommendedRequestSerializer(serializers.Serializer):
    """A video that does not exist yet: what to ask for (e.g. with POST /api/v1/jobs)."""

    type = serializers.ChoiceField(choices=VideoType.choices, source="video_type")
    certification = serializers.CharField(source="certification.slug", read_only=True)
    domain = serializers.CharField(source="domain.slug", read_only=True, allow_null=True)
    title = serializers.CharField(read_only=True)


class RecommendationSerializer(serializers.Serializer):
    action = serializers.SerializerMethodField(help_text="watch a video, or request one")
    reason = serializers.CharField(read_only=True, help_text="why, for the learner")
    title = serializers.SerializerMethodField()
    video = serializers.SerializerMethodField(help_text="the video to watch (action: watch)")
    request = serializers.SerializerMethodField(help_text="the video to request (action: request)")

    @extend_schema_field(serializers.ChoiceField(choices=["watch", "request"]))
    def get_action(self, item: Recommendation) -> str:
        given = getattr(item, "action", None)
        if isinstance(given, str) and given:
            return given
        return "watch" if getattr(item, "video", None) is not None else "request"

    def get_title(self, item: Recommendation) -> str:
        given = getattr(item, "title", None)
        if isinstance(given, str):
            return given
        video = getattr(item, "video", None)
        return video.title if video is not None else ""

    @extend_schema_field(VideoBriefSerializer(allow_null=True))
    def get_video(self, item: Recommendation) -> dict[str, Any] | None:
        video = getattr(item, "video", None)
        if video is None:
            return None
        return dict(VideoBriefSerializer(video, context=self.context).data)

    @extend_schema_field(RecommendedRequestSerializer(allow_null=True))
    def get_request(self, item: Recommendation) -> dict[str, Any] | None:
        proposal = getattr(item, "proposal", None)
        if proposal is None:
            return None
        return dict(RecommendedRequestSerializer(proposal, context=self.context).data)


class RecommendationQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1,
        max_value=RECOMMENDATIONS_MAX,
        default=RECOMMENDATIONS_DEFAULT,
        help_text=f"how many (1-{RECOMMENDATIONS_MAX})",
    )
    learner = id_field(
        required=False, help_text="staff-scoped callers only: act for this learner (by id)"
    )


@extend_schema(tags=["recommendations"])
class RecommendationListView(GenericAPIView):
    """What the learner should watch (or ask for) next, each with the reason.

    A short ranked list (at most `limit`), so it is not paged.
    """

    serializer_class = RecommendationSerializer
    pagination_class = None

    @extend_schema(
        summary="What to watch or request next, with reasons",
        parameters=[RecommendationQuerySerializer],
        responses={200: RecommendationSerializer(many=True), **error_responses(400, 401, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        query = RecommendationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        items = recommendations_for(
            learner=request_learner(request), limit=query.validated_data["limit"]
        )
        return Response(self.get_serializer(items, many=True).data)


# --- notifications ----------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    url = serializers.CharField(read_only=True, help_text="the portal page it is about")
    read = serializers.SerializerMethodField()
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, default=False, help_text="true: only the unread ones"
    )
    learner = id_field(
        required=False, help_text="staff-scoped callers only: act for this learner (by id)"
    )


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=id_field(),
        required=False,
        max_length=10_000,
        help_text="the notifications to mark read (others' ids are ignored)",
    )
    all = serializers.BooleanField(required=False, default=False, help_text="true: mark all read")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == bool(attrs.get("all")):
            raise ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Send either ids: [...] or all: true."]}
            )
        return attrs


MARK_READ_REQUEST = {
    "oneOf": [
        {
            "type": "object",
            "title": "MarkReadIds",
            "properties": {
                "ids": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                    "maxItems": 10_000,
                    "description": "the notifications to mark read (others' ids are ignored)",
                }
            },
            "required": ["ids"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "title": "MarkReadAll",
            "properties": {
                "all": {"type": "boolean", "enum": [True], "description": "mark all read"}
            },
            "required": ["all"],
            "additionalProperties": False,
        },
    ]
}


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many were unread and are now read")
    unread = serializers.IntegerField(help_text="how many are still unread")


class _BodyRequiredSchema(ApiAutoSchema):
    """The mark-read body is a oneOf (ids, or all): a raw schema, which drf-spectacular
    leaves optional; an empty body is refused, so the schema says it is required."""

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        body: dict[str, Any] | None = super()._get_request_body(direction)
        if body is not None:
            body["required"] = True
        return body


@extend_schema(tags=["notifications"])
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The learner's in-app notifications, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # the model, for the schema
    schema = _BodyRequiredSchema()

    def get_queryset(self) -> QuerySet[Notification]:
        if schema_generation(self):
            return Notification.objects.none()
        query = NotificationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return notification_list(
            learner=request_learner(self.request), unread_only=query.validated_data["unread"]
        )

    @extend_schema(
        summary="List the learner's notifications",
        parameters=[NotificationQuerySerializer],
        responses={
            200: NotificationSerializer(many=True),
            **error_responses(400, 401, 404, 429),
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Mark notifications read: some by id, or all",
        parameters=[LEARNER_PARAMETER],
        request={"application/json": MARK_READ_REQUEST},
        responses={200: MarkReadResultSerializer, **error_responses(400, 401, 404, 429)},
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request) -> Response:
        learner = request_learner(request)
        given = MarkReadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        ids = None if given.validated_data.get("all") else given.validated_data["ids"]
        marked = notification_mark_read(learner=learner, notification_ids=ids)
        unread = notification_unread_count(learner=learner)
        return Response(MarkReadResultSerializer({"marked": marked, "unread": unread}).data)


# --- certifications ---------------------------------------------------------------------


class DomainSerializer(serializers.ModelSerializer):
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, help_text="exam weight (%)"
    )

    class Meta:
        model = Domain
        fields = ["slug", "name", "description", "weight", "position"]
        read_only_fields = fields


class CertificationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api-certification-detail", lookup_field="slug", read_only=True
    )
    passing_score = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, help_text="percent"
    )
    domains = DomainSerializer(many=True, read_only=True)

    class Meta:
        model = Certification
        fields = [
            "slug",
            "url",
            "name",
            "issuer",
            "description",
            "passing_score",
            "exam_minutes",
            "domains",
        ]
        read_only_fields = fields


@extend_schema(tags=["certifications"])
class CertificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The certifications PresGen knows, with their exam domains and weights."""

    serializer_class = CertificationSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"  # any slug-like value reaches the view (and is a JSON 404)
    queryset = Certification.objects.prefetch_related(
        Prefetch("domains", queryset=Domain.objects.order_by("position", "name", "pk"))
    ).order_by("name", "pk")

    @extend_schema(
        summary="List certifications",
        responses={200: CertificationSerializer(many=True), **error_responses(401, 429)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One certification, by slug",
        parameters=[
            OpenApiParameter(
                "slug",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[-a-zA-Z0-9_]+$",
                description="the certification's slug, e.g. aws-ccp",
            )
        ],
        responses={200: CertificationSerializer, **error_responses(401, 404, 429)},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)
