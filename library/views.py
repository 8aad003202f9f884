"""The learner's playlists: the list, one playlist, and the forms that change them.

Thin views over library.playlists. Every playlist URL answers for its owner
only: another learner's playlist is a 404, never a 403. Changes are POSTs that
redirect back with a message (a refused change shows its reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from library.models import Playlist, PlaylistKind
from library.playlists import (
    PlaylistError,
    learner_certifications,
    learner_visible_videos,
    playlist_create,
    playlist_delete,
    playlist_progress,
    playlist_rename,
    playlist_video_add,
    playlist_video_move,
    playlist_video_remove,
    playlist_videos,
    playlists_generated_sync,
)
from presgen.models import User
from presgen.ownership import owned_by, owned_or_404
from videos.models import Video


@dataclass(frozen=True)
class PlaylistRow:
    playlist: Playlist
    watched: int
    total: int
    next_video: Video | None


def _learner(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required: never anonymous here


def _own_playlist(request: HttpRequest, pk: int) -> Playlist:
    return owned_or_404(Playlist, user=request.user, pk=pk)


def _posted_video(request: HttpRequest) -> Video | None:
    raw = request.POST.get("video", "")
    if not raw.isdigit():
        return None
    return owned_by(Video, user=request.user).filter(pk=int(raw)).first()


def _back(playlist: Playlist) -> HttpResponseRedirect:
    return redirect("playlists:detail", pk=playlist.pk)


@login_required
@require_GET
def playlist_list(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    for certification in learner_certifications(learner=learner):
        playlists_generated_sync(learner=learner, certification=certification)
    rows = []
    for playlist in Playlist.objects.filter(learner=learner).select_related("certification"):
        watched, total, next_video = playlist_progress(playlist=playlist, learner=learner)
        rows.append(PlaylistRow(playlist, watched, total, next_video))
    generated = [row for row in rows if row.playlist.kind != PlaylistKind.CUSTOM]
    custom = [row for row in rows if row.playlist.kind == PlaylistKind.CUSTOM]
    return render(request, "library/playlists.html", {"generated": generated, "custom": custom})


@login_required
@require_GET
def playlist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    learner = _learner(request)
    playlist = _own_playlist(request, pk)
    videos = playlist_videos(playlist=playlist)
    watched, total, next_video = playlist_progress(playlist=playlist, learner=learner)
    addable = learner_visible_videos(learner=learner).exclude(pk__in=playlist.items.values("video"))
    return render(
        request,
        "library/playlist_detail.html",
        {
            "playlist": playlist,
            "editable": playlist.kind == PlaylistKind.CUSTOM,
            "videos": videos,
            "watched": watched,
            "total": total,
            "next_video": next_video,
            "addable": addable.order_by("title", "pk"),
        },
    )


@login_required
@require_POST
def playlist_create_view(request: HttpRequest) -> HttpResponse:
    try:
        playlist = playlist_create(learner=_learner(request), title=request.POST.get("title", ""))
    except PlaylistError as error:
        messages.error(request, str(error))
        return redirect("playlists:list")
    messages.success(request, f"Playlist “{playlist.title}” created.")
    return _back(playlist)


@login_required
@require_POST
def playlist_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _own_playlist(request, pk)
    try:
        playlist_rename(playlist=playlist, title=request.POST.get("title", ""))
    except PlaylistError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Renamed to “{playlist.title}”.")
    return _back(playlist)


@login_required
@require_POST
def playlist_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _own_playlist(request, pk)
    title = playlist.title
    try:
        playlist_delete(playlist=playlist)
    except PlaylistError as error:
        messages.error(request, str(error))
        return _back(playlist)
    messages.success(request, f"Playlist “{title}” deleted.")
    return redirect("playlists:list")


@login_required
@require_POST
def playlist_video_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _own_playlist(request, pk)
    video = _posted_video(request)
    try:
        if video is None:
            raise PlaylistError("Choose a video to add.")
        playlist_video_add(playlist=playlist, video=video)
    except PlaylistError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Added “{video.title}”.")
    return _back(playlist)


@login_required
@require_POST
def playlist_video_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _own_playlist(request, pk)
    video = _posted_video(request)
    try:
        if video is None:  # missing, or not the learner's (answered alike)
            raise PlaylistError("That video is not in this playlist.")
        playlist_video_remove(playlist=playlist, video=video)
    except PlaylistError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed “{video.title}”.")
    return _back(playlist)


@login_required
@require_POST
def playlist_video_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move one video up or down by one place (POST video, direction=up|down)."""
    playlist = _own_playlist(request, pk)
    video = _posted_video(request)
    direction = request.POST.get("direction", "")
    try:
        playlist_video_move(playlist=playlist, video=video, direction=direction)
    except PlaylistError as error:
        messages.error(request, str(error))
    else:
        assert video is not None  # the move refuses a missing video
        messages.success(request, f"Moved “{video.title}” {direction}.")
    return _back(playlist)
