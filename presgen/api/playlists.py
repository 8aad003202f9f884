"""/api/v1/playlists: the learner's playlists (generated and their own), CRUD and order.

Writes go through `library.playlists`; a change it refuses (a generated playlist
edited, a name left empty, an order that does not list every video once) is a
400 with its message. Another learner's playlist is a 404 for every method.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from library.models import Playlist, PlaylistItem, PlaylistKind, WatchProgress
from library.playlists import (
    PlaylistError,
    learner_certifications,
    playlist_create,
    playlist_delete,
    playlist_rename,
    playlist_reorder,
    playlist_video_add,
    playlist_video_remove,
    playlists_generated_sync,
)
from presgen.api.errors import error_responses
from presgen.api.serializers_learner import (
    LEARNER_PARAMETER,
    CertificationBriefSerializer,
    VideoBriefSerializer,
    id_field,
    request_learner,
    schema_generation,
)
from presgen.models import User
from presgen.ownership import owned_by, owned_or_404
from videos.models import Video

# --- reads --------------------------------------------------------------------------------


def api_playlists_list(*, learner: User, caller: User) -> QuerySet[Playlist]:
    """The learner's playlists with their visible videos in order (a fixed number of queries)."""
    items = (
        PlaylistItem.objects.filter(video__hidden=False)
        .select_related("video")
        .order_by("position", "pk")
    )
    return (
        owned_by(Playlist, user=caller, learner=learner)
        .select_related("certification")
        .prefetch_related(Prefetch("items", queryset=items, to_attr="visible_items"))
        .order_by("kind", "title", "pk")
    )


def api_completed_video_ids(*, learner: User) -> set[int]:
    return set(
        WatchProgress.objects.filter(learner=learner, completed=True).values_list(
            "video_id", flat=True
        )
    )


# --- serializers ------------------------------------------------------------------------


class PlaylistVideoSerializer(VideoBriefSerializer):
    completed = serializers.SerializerMethodField()

    class Meta(VideoBriefSerializer.Meta):
        fields = [*VideoBriefSerializer.Meta.fields, "completed"]
        read_only_fields = fields

    def get_completed(self, video: Video) -> bool:
        return video.pk in self.context.get("completed_ids", set())


class PlaylistSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-playlist-detail", read_only=True)
    generated = serializers.SerializerMethodField(
        help_text="made for the learner and kept up to date: cannot be edited"
    )
    certification = CertificationBriefSerializer(read_only=True, allow_null=True)
    videos = serializers.SerializerMethodField()
    video_count = serializers.SerializerMethodField()
    completed_count = serializers.SerializerMethodField()
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Playlist
        fields = [
            "id",
            "url",
            "title",
            "kind",
            "generated",
            "certification",
            "videos",
            "video_count",
            "completed_count",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def _videos(self, playlist: Playlist) -> list[Video]:
        items = getattr(playlist, "visible_items", None)
        if items is None:
            items = (
                playlist.items.filter(video__hidden=False)
                .select_related("video")
                .order_by("position", "pk")
            )
        return [item.video for item in items]

    def get_generated(self, playlist: Playlist) -> bool:
        return playlist.kind != PlaylistKind.CUSTOM

    @extend_schema_field(PlaylistVideoSerializer(many=True))
    def get_videos(self, playlist: Playlist) -> list[dict[str, Any]]:
        data = PlaylistVideoSerializer(self._videos(playlist), many=True, context=self.context).data
        return list(data)

    def get_video_count(self, playlist: Playlist) -> int:
        return len(self._videos(playlist))

    def get_completed_count(self, playlist: Playlist) -> int:
        completed = self.context.get("completed_ids", set())
        return sum(1 for video in self._videos(playlist) if video.pk in completed)


class PlaylistWriteSerializer(serializers.Serializer):
    # Not blank and at most 200 characters; the service also folds runs of spaces into one.
    title = serializers.RegexField(
        r"^[^\x00]*\S[^\x00]*$",
        max_length=200,
        trim_whitespace=False,
        error_messages={"invalid": "Give the playlist a name."},
        help_text="the playlist's name (up to 200 characters, not only spaces)",
    )


class PlaylistReorderSerializer(serializers.Serializer):
    video_ids = serializers.ListField(
        child=id_field(),
        allow_empty=True,
        max_length=10_000,
        help_text="every video of the playlist, each once, in the new order",
    )


class PlaylistAddVideoSerializer(serializers.Serializer):
    video_id = id_field(help_text="one of the learner's own visible videos")


def _refused(error: PlaylistError) -> ValidationError:
    return ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(error)]})


VIDEO_ID_PARAMETER = OpenApiParameter(
    "video_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="the video to remove"
)


# --- views --------------------------------------------------------------------------------


@extend_schema(tags=["playlists"])
class PlaylistViewSet(viewsets.GenericViewSet):
    """The learner's playlists: the generated ones (read-only) and their own."""

    serializer_class = PlaylistSerializer
    queryset = Playlist.objects.none()  # the model, for the schema; rows come from get_queryset

    def get_queryset(self) -> QuerySet[Playlist]:
        if schema_generation(self):
            return Playlist.objects.none()
        request = self.request
        return api_playlists_list(learner=request_learner(request), caller=cast(User, request.user))

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not schema_generation(self):
            context["completed_ids"] = api_completed_video_ids(
                learner=request_learner(self.request)
            )
        return context

    def _playlist(self) -> Playlist:
        return owned_or_404(
            self.get_queryset(),
            user=self.request.user,
            learner=request_learner(self.request),
            pk=self.kwargs["pk"],
        )

    def _answer(self, playlist_id: int, *, code: int = status.HTTP_200_OK) -> Response:
        playlist = self.get_queryset().get(pk=playlist_id)  # fresh, with its items prefetched
        return Response(self.get_serializer(playlist).data, status=code)

    @extend_schema(
        summary="List the learner's playlists",
        description="The generated playlists (complete preparation, quick review) are brought "
        "up to date first.",
        parameters=[LEARNER_PARAMETER],
        responses={200: PlaylistSerializer(many=True), **error_responses(401, 404, 429)},
    )
    def list(self, request: Request) -> Response:
        learner = request_learner(request)
        for certification in learner_certifications(learner=learner):
            playlists_generated_sync(learner=learner, certification=certification)
        playlists = self.get_queryset()
        page = self.paginate_queryset(playlists)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(playlists, many=True).data)

    @extend_schema(
        summary="Create a playlist of the learner's own",
        parameters=[LEARNER_PARAMETER],
        request=PlaylistWriteSerializer,
        responses={201: PlaylistSerializer, **error_responses(400, 401, 404, 429)},
    )
    def create(self, request: Request) -> Response:
        given = PlaylistWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            playlist = playlist_create(
                learner=request_learner(request), title=given.validated_data["title"]
            )
        except PlaylistError as error:
            raise _refused(error) from None
        return self._answer(playlist.pk, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="One playlist with its videos in order",
        parameters=[LEARNER_PARAMETER],
        responses={200: PlaylistSerializer, **error_responses(401, 404, 429)},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.get_serializer(self._playlist()).data)

    @extend_schema(
        summary="Rename a playlist (not a generated one)",
        parameters=[LEARNER_PARAMETER],
        request=PlaylistWriteSerializer,
        responses={200: PlaylistSerializer, **error_responses(400, 401, 404, 429)},
    )
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._rename(request, partial=False)

    @extend_schema(
        summary="Rename a playlist (not a generated one); without a title nothing changes",
        parameters=[LEARNER_PARAMETER],
        request=PlaylistWriteSerializer,
        responses={200: PlaylistSerializer, **error_responses(400, 401, 404, 429)},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._rename(request, partial=True)

    def _rename(self, request: Request, *, partial: bool) -> Response:
        playlist = self._playlist()
        given = PlaylistWriteSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        if "title" in given.validated_data:
            try:
                playlist_rename(playlist=playlist, title=given.validated_data["title"])
            except PlaylistError as error:
                raise _refused(error) from None
        return self._answer(playlist.pk)

    @extend_schema(
        summary="Delete a playlist (not a generated one)",
        parameters=[LEARNER_PARAMETER],
        responses={204: None, **error_responses(400, 401, 404, 429)},
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        playlist = self._playlist()
        try:
            playlist_delete(playlist=playlist)
        except PlaylistError as error:
            raise _refused(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Put the playlist's videos in a new order",
        parameters=[LEARNER_PARAMETER],
        request=PlaylistReorderSerializer,
        responses={200: PlaylistSerializer, **error_responses(400, 401, 404, 429)},
    )
    @action(detail=True, methods=["post"], url_path="reorder")
    def reorder(self, request: Request, pk: str | None = None) -> Response:
        playlist = self._playlist()
        given = PlaylistReorderSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            playlist_reorder(playlist=playlist, video_ids=given.validated_data["video_ids"])
        except PlaylistError as error:
            raise _refused(error) from None
        return self._answer(playlist.pk)

    @extend_schema(
        summary="Add one of the learner's videos at the end",
        parameters=[LEARNER_PARAMETER],
        request=PlaylistAddVideoSerializer,
        responses={201: PlaylistSerializer, **error_responses(400, 401, 404, 429)},
    )
    @action(detail=True, methods=["post"], url_path="videos")
    def video_add(self, request: Request, pk: str | None = None) -> Response:
        playlist = self._playlist()
        given = PlaylistAddVideoSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        # Another learner's video is answered like a missing one.
        video = (
            owned_by(Video, user=request.user, learner=playlist.learner)
            .filter(pk=given.validated_data["video_id"])
            .first()
        )
        if video is None:
            raise ValidationError({"video_id": ["No such video."]})
        try:
            playlist_video_add(playlist=playlist, video=video)
        except PlaylistError as error:
            raise _refused(error) from None
        return self._answer(playlist.pk, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a video from the playlist",
        parameters=[LEARNER_PARAMETER, VIDEO_ID_PARAMETER],
        request=None,
        responses={204: None, **error_responses(400, 401, 404, 429)},
    )
    @action(detail=True, methods=["delete"], url_path=r"videos/(?P<video_id>[^/.]+)")
    def video_remove(
        self, request: Request, pk: str | None = None, video_id: str | None = None
    ) -> Response:
        playlist = self._playlist()
        video = owned_or_404(Video, user=request.user, learner=playlist.learner, pk=video_id)
        try:
            playlist_video_remove(playlist=playlist, video=video)
        except PlaylistError as error:
            raise _refused(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
