"""Writes and reads for playlists: the generated ones and the learner's own.

Each learner has, per certification, two generated playlists built from their
ready, visible videos: "complete preparation" (overview, remediation, practice,
exam prep, motivational) and "quick review" (overview, practice). They are kept
up to date by `playlists_generated_sync` and cannot be renamed, edited or
deleted. Custom playlists are the learner's own: any of their visible videos,
once each, in the order they choose.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet

from library.models import Certification, Playlist, PlaylistItem, PlaylistKind, WatchProgress
from presgen.models import User
from videos.models import JobStatus, Video, VideoJob, VideoType

PLAYLIST_TITLE_MAX = 200

# Generated playlists: the video types they hold, in playing order.
GENERATED_SEQUENCES: dict[str, tuple[str, ...]] = {
    PlaylistKind.COMPLETE_PREPARATION: (
        VideoType.OVERVIEW,
        VideoType.REMEDIATION,
        VideoType.PRACTICE_SESSION,
        VideoType.EXAM_PREP,
        VideoType.MOTIVATIONAL,
    ),
    PlaylistKind.QUICK_REVIEW: (VideoType.OVERVIEW, VideoType.PRACTICE_SESSION),
}


class PlaylistError(ValueError):
    """A playlist change that is refused; the message is fit to show the learner."""


def learner_visible_videos(*, learner: User) -> QuerySet[Video]:
    """The learner's ready, non-hidden videos."""
    return Video.objects.filter(learner=learner, hidden=False, job__status=JobStatus.READY)


def _generated_title(kind: str, certification: Certification) -> str:
    label = PlaylistKind(kind).label
    return f"{label}: {certification.name}"[:PLAYLIST_TITLE_MAX]


def _items_replace(*, playlist: Playlist, video_ids: Sequence[int]) -> None:
    """Make the playlist hold exactly these videos in this order (positions 0..n-1)."""
    current = {item.video_id: item for item in playlist.items.all()}
    wanted = set(video_ids)
    playlist.items.exclude(video_id__in=wanted).delete()
    changed: list[PlaylistItem] = []
    for position, video_id in enumerate(video_ids):
        item = current.get(video_id)
        if item is None:
            PlaylistItem.objects.create(playlist=playlist, video_id=video_id, position=position)
        elif item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        PlaylistItem.objects.bulk_update(changed, ["position"])


def playlists_generated_sync(*, learner: User, certification: Certification) -> list[Playlist]:
    """Create or update the learner's generated playlists for a certification.

    Idempotent: running it again without new videos changes nothing. Videos are
    ordered by their type's place in the playlist's sequence, then oldest first.
    Returns the playlists in GENERATED_SEQUENCES order.
    """
    videos = list(
        learner_visible_videos(learner=learner)
        .filter(job__certification=certification)
        .order_by("created_at", "pk")
        .values_list("pk", "video_type")
    )
    playlists = []
    for kind, sequence in GENERATED_SEQUENCES.items():
        rank = {video_type: index for index, video_type in enumerate(sequence)}
        # sorted() is stable: within a type, videos stay oldest first.
        chosen = sorted((row for row in videos if row[1] in rank), key=lambda row: rank[row[1]])
        video_ids = [pk for pk, _ in chosen]
        with transaction.atomic():
            playlist, _ = Playlist.objects.select_for_update().get_or_create(
                learner=learner,
                kind=kind,
                certification=certification,
                defaults={"title": _generated_title(kind, certification)},
            )
            _items_replace(playlist=playlist, video_ids=video_ids)
        playlists.append(playlist)
    return playlists


def _title_clean(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise PlaylistError("Give the playlist a name.")
    if len(cleaned) > PLAYLIST_TITLE_MAX:
        raise PlaylistError(f"A playlist name is at most {PLAYLIST_TITLE_MAX} characters.")
    return cleaned


def _custom_only(playlist: Playlist, action: str) -> None:
    if playlist.kind != PlaylistKind.CUSTOM:
        raise PlaylistError(
            f"“{playlist.title}” is made for you and kept up to date: it cannot be {action}."
        )


def playlist_create(*, learner: User, title: str) -> Playlist:
    return Playlist.objects.create(
        learner=learner, title=_title_clean(title), kind=PlaylistKind.CUSTOM
    )


def playlist_rename(*, playlist: Playlist, title: str) -> Playlist:
    _custom_only(playlist, "renamed")
    playlist.title = _title_clean(title)
    playlist.save(update_fields=["title", "updated_at"])
    return playlist


def playlist_delete(*, playlist: Playlist) -> None:
    _custom_only(playlist, "deleted")
    playlist.delete()


def playlist_video_add(*, playlist: Playlist, video: Video) -> PlaylistItem:
    """Add one of the playlist owner's visible videos at the end; never twice."""
    _custom_only(playlist, "edited")
    if not learner_visible_videos(learner=playlist.learner).filter(pk=video.pk).exists():
        raise PlaylistError("You can only add your own videos.")
    if playlist.items.filter(video=video).exists():
        raise PlaylistError(f"“{video.title}” is already in this playlist.")
    last = playlist.items.aggregate(last=Max("position"))["last"]
    try:
        with transaction.atomic():
            item = PlaylistItem.objects.create(
                playlist=playlist, video=video, position=0 if last is None else last + 1
            )
    except IntegrityError:  # added by a concurrent request
        raise PlaylistError(f"“{video.title}” is already in this playlist.") from None
    return item


def playlist_video_remove(*, playlist: Playlist, video: Video) -> None:
    _custom_only(playlist, "edited")
    deleted, _ = playlist.items.filter(video=video).delete()
    if not deleted:
        raise PlaylistError(f"“{video.title}” is not in this playlist.")
    _items_replace(
        playlist=playlist, video_ids=list(playlist.items.values_list("video_id", flat=True))
    )


def playlist_reorder(*, playlist: Playlist, video_ids: Sequence[int]) -> None:
    """Put the playlist's videos in this order; `video_ids` must list each item exactly once."""
    _custom_only(playlist, "reordered")
    with transaction.atomic():
        current = list(
            PlaylistItem.objects.select_for_update()
            .filter(playlist=playlist)
            .values_list("video_id", flat=True)
        )
        if len(video_ids) != len(set(video_ids)) or sorted(video_ids) != sorted(current):
            raise PlaylistError(
                "The new order must list each video of the playlist exactly once "
                f"(the playlist has {len(current)}, the order gave {len(video_ids)})."
            )
        _items_replace(playlist=playlist, video_ids=list(video_ids))


def playlist_video_move(*, playlist: Playlist, video: Video | None, direction: str) -> None:
    """Move one video up or down by one place; at either end it stays where it is."""
    order = list(playlist.items.order_by("position", "pk").values_list("video_id", flat=True))
    if video is None or video.pk not in order:
        raise PlaylistError("That video is not in this playlist.")
    if direction not in ("up", "down"):
        raise PlaylistError("Move a video up or down.")
    index = order.index(video.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        playlist_reorder(playlist=playlist, video_ids=order)


def playlist_videos(*, playlist: Playlist) -> list[Video]:
    """The playlist's visible videos in order (a video hidden later drops out)."""
    return [
        item.video
        for item in playlist.items.select_related("video")
        .filter(video__hidden=False)
        .order_by("position", "pk")
    ]


def playlist_progress(*, playlist: Playlist, learner: User) -> tuple[int, int, Video | None]:
    """(videos completed, videos in the playlist, the first not-completed video in order)."""
    videos = playlist_videos(playlist=playlist)
    completed = set(
        WatchProgress.objects.filter(
            learner=learner, video__in=[video.pk for video in videos], completed=True
        ).values_list("video_id", flat=True)
    )
    next_video = next((video for video in videos if video.pk not in completed), None)
    return len(completed), len(videos), next_video


def learner_certifications(*, learner: User) -> QuerySet[Certification]:
    """Certifications the learner has an assessment or a video job for."""
    job_certs = VideoJob.objects.filter(learner=learner, certification__isnull=False).values(
        "certification"
    )
    return Certification.objects.filter(
        Q(assessments__learner=learner) | Q(pk__in=job_certs)
    ).distinct()
