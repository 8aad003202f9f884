"""The PresGen-Avatar API: thin views over videos.avatar_api.services.

Every endpoint needs an API token; a token sees only the videos and custom
avatars it created (anything else is 404, never 403).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from presgen.api.parsers import ApiJSONParser
from presgen.models import User
from videos.avatar_api import serializers as s
from videos.avatar_api.authentication import BearerTokenAuthentication
from videos.avatar_api.services import (
    CustomAvatarError,
    api_status_for,
    api_video_create,
    api_video_describe,
    api_video_get,
    api_video_metrics,
    custom_avatar_save,
    custom_avatars_list,
    token_id_for,
    video_of,
)
from videos.models import JobStatus, VideoJob
from videos.services import job_cancel
from videos.studio.narration import voices_available
from videos.studio.presenter import avatars_available


class AvatarApiView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def user(self, request: Request) -> User:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        return user

    def token_id(self, request: Request) -> str:
        return token_id_for(key=request.auth.key)

    def job_get(self, request: Request, video_id: int) -> VideoJob:
        job = api_video_get(
            user=self.user(request), token_id=self.token_id(request), video_id=video_id
        )
        if job is None:
            raise Http404("no such video")
        return job


class VideoCreateView(AvatarApiView):
    parser_classes = [ApiJSONParser]  # deeply nested JSON is a 400, not a 500

    @extend_schema(
        request=s.VideoCreateSerializer,
        responses={201: s.VideoCreatedSerializer, 200: s.VideoCreatedSerializer},
        summary="Make a video from a script (an Idempotency-Key header makes retries safe)",
    )
    def post(self, request: Request) -> Response:
        token_id = self.token_id(request)
        serializer = s.VideoCreateSerializer(
            data=request.data, context={"request": request, "token_id": token_id}
        )
        serializer.is_valid(raise_exception=True)
        spec = serializer.spec()
        try:
            job, created = api_video_create(
                user=self.user(request),
                token_id=token_id,
                spec=spec,
                idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            )
        except LookupError as error:  # a custom avatar deleted since validation
            return Response(
                {"avatar_config": {"avatar_id": [str(error)]}}, status=status.HTTP_400_BAD_REQUEST
            )
        body = {
            "video_id": str(job.pk),
            "status": api_status_for(job_status=job.status),
            "ignored": list(spec.ignored),
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class VideoDetailView(AvatarApiView):
    @extend_schema(responses=s.VideoStatusSerializer, summary="A video's status")
    def get(self, request: Request, video_id: int) -> Response:
        job = self.job_get(request, video_id)
        url = request.build_absolute_uri(reverse("avatar_api:download", args=[job.pk]))
        return Response(api_video_describe(job=job, download_url=url))


class VideoDownloadView(AvatarApiView):
    @extend_schema(
        responses={(200, "video/mp4"): bytes}, summary="The finished MP4 (404 until completed)"
    )
    def get(self, request: Request, video_id: int) -> FileResponse:
        job = self.job_get(request, video_id)
        video = video_of(job) if job.status == JobStatus.READY else None
        if video is None:
            raise Http404("the video is not ready")
        return FileResponse(
            video.file.open("rb"),
            content_type="video/mp4",
            as_attachment=True,
            filename=f"presgen-video-{job.pk}.mp4",
        )


class VideoCancelView(AvatarApiView):
    @extend_schema(
        request=None,
        responses={200: s.CancelSerializer, 409: s.CancelSerializer},
        summary="Cancel a video that is not finished (409 once it is completed or failed)",
    )
    def post(self, request: Request, video_id: int) -> Response:
        job = self.job_get(request, video_id)
        result = job_cancel(job=job)
        cancelled = job.status == JobStatus.CANCELLED
        body = {
            "video_id": str(job.pk),
            "status": api_status_for(job_status=job.status),
            "cancelled": cancelled,
            "message": result.message,
        }
        return Response(body, status=status.HTTP_200_OK if cancelled else status.HTTP_409_CONFLICT)


class VideoMetricsView(AvatarApiView):
    @extend_schema(responses=s.VideoMetricsSerializer, summary="How a video's render went")
    def get(self, request: Request, video_id: int) -> Response:
        return Response(api_video_metrics(job=self.job_get(request, video_id)))


class AvatarModelsView(AvatarApiView):
    @extend_schema(
        responses=s.AvatarModelSerializer(many=True),
        summary="The studio's avatars, then this token's custom avatars",
    )
    def get(self, request: Request) -> Response:
        models: list[dict[str, Any]] = [
            {"avatar_id": a.id, "name": a.name, "description": a.description, "custom": False}
            for a in avatars_available().values()
        ]
        models += [
            {
                "avatar_id": a.avatar_id,
                "name": a.name,
                "description": f"custom portrait, {a.width}×{a.height}",
                "custom": True,
            }
            for a in custom_avatars_list(user=self.user(request), token_id=self.token_id(request))
        ]
        return Response(models)


class VoicesView(AvatarApiView):
    @extend_schema(responses=s.VoiceSerializer(many=True), summary="The studio's voices")
    def get(self, request: Request) -> Response:
        voices = voices_available(voices_dir=settings.STUDIO_VOICES_DIR)
        return Response(
            [
                {
                    "voice_id": v.voice_id,
                    "name": v.name,
                    "language": v.language,
                    "sample_rate": v.sample_rate,
                }
                for v in voices.values()
            ]
        )


class CustomAvatarCreateView(AvatarApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.CustomAvatarCreateSerializer},
        responses={201: s.CustomAvatarSerializer},
        summary='Upload a portrait; use it as avatar_config.avatar_id "custom:<id>"',
    )
    def post(self, request: Request) -> Response:
        serializer = s.CustomAvatarCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["image"]
        try:
            avatar = custom_avatar_save(
                user=self.user(request),
                token_id=self.token_id(request),
                upload=upload,
                size=upload.size,
                name=serializer.validated_data["name"],
                metadata=serializer.validated_data["metadata"],
            )
        except CustomAvatarError as error:
            return Response({"image": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(avatar.as_dict(), status=status.HTTP_201_CREATED)
