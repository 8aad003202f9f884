"""/api/v1/videos: the learner's own visible videos, their media, and watch progress.

Media (`videos/{id}/file`, `captions`, `thumbnail`) stream with HTTP Range
support and take the API's authentication (a token works), so other systems
can download what the portal plays. Another learner's video, a hidden one or a
missing file is a 404 for every method.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db.models import F, FilteredRelation, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from library.models import WatchProgress
from library.progress import watch_progress_record
from presgen.api.errors import error_responses
from presgen.api.serializers_learner import (
    LEARNER_PARAMETER,
    CertificationBriefSerializer,
    DomainBriefSerializer,
    FirstRendererNegotiation,
    id_field,
    request_learner,
    schema_generation,
)
from presgen.models import User
from presgen.ownership import owned_by, owned_or_404
from videos.media import VIDEO_FILE_TYPES, video_file_response
from videos.models import Video, VideoType

WATCHED_TRUE = "true"
WATCHED_FALSE = "false"
WATCHED_IN_PROGRESS = "in_progress"
WATCHED_NOT_STARTED = "not_started"
WATCHED_CHOICES = [
    (WATCHED_TRUE, "completed"),
    (WATCHED_FALSE, "not completed yet (not started or in progress)"),
    (WATCHED_IN_PROGRESS, "started and not completed"),
    (WATCHED_NOT_STARTED, "not started"),
]


# --- reads ----------------------------------------------------------------------------


def api_videos_list(*, learner: User, caller: User) -> QuerySet[Video]:
    """The learner's visible videos with the learner's own watch progress, newest first.

    One query for any number of rows: the progress is a filtered LEFT JOIN, the
    domain, its certification and the job's certification are joined in.
    """
    started = Q(own_progress__position_seconds__gt=0) | Q(own_progress__seconds_watched__gt=0)
    return (
        owned_by(Video, user=caller, learner=learner)
        .select_related("domain__certification", "job__certification")
        .annotate(
            own_progress=FilteredRelation("progress", condition=Q(progress__learner=learner)),
            watch_position=F("own_progress__position_seconds"),
            watch_seconds=F("own_progress__seconds_watched"),
            watch_completed=F("own_progress__completed"),
            watch_completed_at=F("own_progress__completed_at"),
            watch_started=started,
        )
        .order_by("-created_at", "-pk")
    )


def api_videos_filter(
    videos: QuerySet[Video],
    *,
    video_type: str = "",
    domain: str = "",
    certification: str = "",
    watched: str = "",
) -> QuerySet[Video]:
    if video_type:
        videos = videos.filter(video_type=video_type)
    if domain:
        videos = videos.filter(domain__slug=domain)
    if certification:
        videos = videos.filter(job__certification__slug=certification)
    completed = Q(own_progress__completed=True)
    started = Q(own_progress__position_seconds__gt=0) | Q(own_progress__seconds_watched__gt=0)
    if watched == WATCHED_TRUE:
        videos = videos.filter(completed)
    elif watched == WATCHED_FALSE:
        videos = videos.exclude(completed)
    elif watched == WATCHED_IN_PROGRESS:
        videos = videos.filter(started).exclude(completed)
    elif watched == WATCHED_NOT_STARTED:
        videos = videos.exclude(completed).exclude(started)
    return videos


# --- serializers ------------------------------------------------------------------------


class WatchStateSerializer(serializers.Serializer):
    position_seconds = serializers.FloatField(read_only=True)
    seconds_watched = serializers.FloatField(read_only=True)
    completed = serializers.BooleanField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    state = serializers.ChoiceField(
        choices=["not_started", "in_progress", "watched"], read_only=True
    )


def _watch_state(video: Video) -> dict[str, Any]:
    completed = bool(getattr(video, "watch_completed", False))
    started = bool(getattr(video, "watch_started", False))
    return {
        "position_seconds": getattr(video, "watch_position", None) or 0.0,
        "seconds_watched": getattr(video, "watch_seconds", None) or 0.0,
        "completed": completed,
        "completed_at": getattr(video, "watch_completed_at", None),
        "state": "watched" if completed else "in_progress" if started else "not_started",
    }


class VideoSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-video-detail", read_only=True)
    type = serializers.ChoiceField(source="video_type", choices=VideoType.choices, read_only=True)
    domain = DomainBriefSerializer(read_only=True, allow_null=True)
    certification = CertificationBriefSerializer(
        source="job.certification", read_only=True, allow_null=True
    )
    created = serializers.DateTimeField(source="created_at", read_only=True)
    progress = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()
    captions = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = Video
        fields = [
            "id",
            "url",
            "title",
            "type",
            "focus_area",
            "domain",
            "certification",
            "duration_seconds",
            "size_bytes",
            "width",
            "height",
            "created",
            "progress",
            "file",
            "captions",
            "thumbnail",
        ]
        read_only_fields = fields

    @extend_schema_field(WatchStateSerializer)
    def get_progress(self, video: Video) -> dict[str, Any]:
        return _watch_state(video)

    def _media_url(self, video: Video, field: FieldFile, name: str) -> str | None:
        if not field.name:
            return None
        path = reverse(f"api-video-{name}", args=[video.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, video: Video) -> str:
        return self._media_url(video, video.file, "file") or ""

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_captions(self, video: Video) -> str | None:
        return self._media_url(video, video.captions, "captions")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail(self, video: Video) -> str | None:
        return self._media_url(video, video.thumbnail, "thumbnail")


class VideoFilterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=VideoType.choices, required=False, help_text="only videos of this type"
    )
    domain = serializers.SlugField(
        max_length=80, required=False, help_text="only videos about this domain (its slug)"
    )
    certification = serializers.SlugField(
        max_length=80, required=False, help_text="only videos for this certification (its slug)"
    )
    watched = serializers.ChoiceField(
        choices=WATCHED_CHOICES, required=False, help_text="by the learner's progress"
    )
    learner = id_field(
        required=False,
        help_text="staff-scoped callers only: act for this learner (by id)",
    )


class ProgressInputSerializer(serializers.Serializer):
    position_seconds = serializers.FloatField(
        help_text="where playback is now, in seconds (clamped to the video's duration)"
    )
    seconds_watched = serializers.FloatField(
        min_value=0,
        default=0.0,
        help_text="seconds actually played since the previous save (a delta, not a total); "
        "at most what could have played in the time since that save is counted",
    )


class ProgressSerializer(serializers.ModelSerializer):
    class Meta:
        model = WatchProgress
        fields = [
            "video",
            "position_seconds",
            "seconds_watched",
            "completed",
            "completed_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- views --------------------------------------------------------------------------------


@extend_schema(tags=["videos"])
class VideoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The learner's own visible videos."""

    serializer_class = VideoSerializer
    queryset = Video.objects.none()  # the model, for the schema; rows come from get_queryset

    def get_queryset(self) -> QuerySet[Video]:
        if schema_generation(self):
            return Video.objects.none()
        request = self.request
        return api_videos_list(learner=request_learner(request), caller=cast(User, request.user))

    def get_object(self) -> Video:
        return owned_or_404(
            self.get_queryset(),
            user=self.request.user,
            learner=request_learner(self.request),
            pk=self.kwargs["pk"],
        )

    @extend_schema(
        summary="List the learner's videos",
        parameters=[VideoFilterSerializer],
        responses={200: VideoSerializer(many=True), **error_responses(400, 401, 404, 429)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = VideoFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        videos = api_videos_filter(
            self.get_queryset(),
            video_type=chosen.get("type", ""),
            domain=chosen.get("domain", ""),
            certification=chosen.get("certification", ""),
            watched=chosen.get("watched", ""),
        )
        page = self.paginate_queryset(videos)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(videos, many=True).data)

    @extend_schema(
        summary="One video, with its progress and media URLs",
        parameters=[LEARNER_PARAMETER],
        responses={200: VideoSerializer, **error_responses(401, 404, 429)},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Save the playback position and the seconds watched",
        description="Completion is earned by watching: a video is completed once the seconds "
        "watched reach 95% of its duration, and stays completed.",
        parameters=[LEARNER_PARAMETER],
        request=ProgressInputSerializer,
        responses={200: ProgressSerializer, **error_responses(400, 401, 404, 429)},
    )
    @action(detail=True, methods=["put", "post"], url_path="progress")
    def progress(self, request: Request, pk: str | None = None) -> Response:
        video = owned_or_404(
            Video, user=request.user, learner=request_learner(request), pk=self.kwargs["pk"]
        )
        given = ProgressInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        progress = watch_progress_record(
            learner=video.learner,
            video=video,
            position_seconds=given.validated_data["position_seconds"],
            seconds_watched_delta=given.validated_data["seconds_watched"],
        )
        return Response(ProgressSerializer(progress).data)


# --- media ----------------------------------------------------------------------------------

# kind -> (model field, default Content-Type, other Content-Types allowed by file name)
DOWNLOAD_PARAMETER = OpenApiParameter(
    "download",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    enum=[0, 1],
    description="1: send as an attachment with a file name (a video download is counted)",
)
VIDEO_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="the video's id"
)
RANGE_PARAMETER = OpenApiParameter(
    "Range",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="one byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-500`",
)


def _media_schema(kind: str, description: str) -> Any:
    default_type, others = VIDEO_FILE_TYPES[kind]
    types = [default_type.split(";")[0], *sorted(others)]
    binary = OpenApiTypes.STR if kind == "captions" else OpenApiTypes.BINARY
    responses: dict[Any, Any] = {}
    for media_type in types:
        responses[(200, media_type)] = OpenApiResponse(binary, description="the whole file")
        responses[(206, media_type)] = OpenApiResponse(binary, description="the range asked for")
    responses[(416, "text/plain")] = OpenApiResponse(
        OpenApiTypes.STR, description="the range starts past the end of the file"
    )
    responses.update(error_responses(401, 404, 429))
    return extend_schema(
        summary=description,
        tags=["videos"],
        parameters=[VIDEO_ID_PARAMETER, DOWNLOAD_PARAMETER, RANGE_PARAMETER, LEARNER_PARAMETER],
        responses=responses,
    )


class _VideoMediaView(APIView):
    """One stored file of a video, to its owner only, with single-range support."""

    kind: ClassVar[str] = "file"
    renderer_classes = [JSONRenderer]  # errors; the file itself bypasses the renderers
    content_negotiation_class = FirstRendererNegotiation

    def get(self, request: Request, pk: str) -> HttpResponse | StreamingHttpResponse:
        video = owned_or_404(Video, user=request.user, learner=request_learner(request), pk=pk)
        return video_file_response(
            request._request,
            video=video,
            field_name=self.kind,
            download=request.query_params.get("download") == "1",
        )


@_media_schema("file", "The video file (MP4)")
class VideoFileView(_VideoMediaView):
    kind = "file"


@_media_schema("captions", "The video's captions (WebVTT)")
class VideoCaptionsView(_VideoMediaView):
    kind = "captions"


@_media_schema("thumbnail", "The video's thumbnail image")
class VideoThumbnailView(_VideoMediaView):
    kind = "thumbnail"
