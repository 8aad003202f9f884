"""Writes for watch progress: where a learner is in a video and how much they really watched.

The player posts, every few seconds and on pause/end, the playback position and
how many seconds it actually played since its last save. Completion is earned
by watching, not by dragging the position to the end: it needs
`seconds_watched` of at least COMPLETION_RATIO of the duration, and each save
may add no more media seconds than could have played in the wall time since
the previous save (plus some slack for timers and the network, at the fastest
playback speed the player offers).
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from library.models import WatchProgress
from presgen.models import User
from videos.models import Video

COMPLETION_RATIO = 0.95
# The fastest playback speed the player offers: media seconds per wall second.
MAX_PLAYBACK_RATE = 2.0
# Wall seconds allowed on top of the time since the previous save (timer jitter,
# a slow request, the first save of a new row).
SAVE_SLACK_SECONDS = 10.0


def watch_seconds_cap(*, elapsed_seconds: float) -> float:
    """The most media seconds a save may credit after `elapsed_seconds` of wall time."""
    return (max(elapsed_seconds, 0.0) + SAVE_SLACK_SECONDS) * MAX_PLAYBACK_RATE


def watch_progress_record(
    *,
    learner: User,
    video: Video,
    position_seconds: float,
    seconds_watched_delta: float,
    now: datetime | None = None,
) -> WatchProgress:
    """Save the learner's position and add the seconds they actually watched.

    The position is clamped to [0, duration]. The watched delta is clamped to
    [0, cap], where the cap is what could have played since the previous save
    (see `watch_seconds_cap`); a brand-new row has only the slack. The video is
    completed once seconds_watched reaches COMPLETION_RATIO of its duration;
    completion and completed_at are set once and never undone.

    `now` is the time of the save (default: the current time).
    """
    if not math.isfinite(position_seconds) or not math.isfinite(seconds_watched_delta):
        raise ValueError("position and watched seconds must be finite numbers")
    now = now or timezone.now()
    duration = max(float(video.duration_seconds), 0.0)
    with transaction.atomic():
        progress, created = WatchProgress.objects.select_for_update().get_or_create(
            learner=learner, video=video
        )
        elapsed = 0.0 if created else (now - progress.updated_at).total_seconds()
        delta = min(max(seconds_watched_delta, 0.0), watch_seconds_cap(elapsed_seconds=elapsed))
        progress.position_seconds = min(max(position_seconds, 0.0), duration)
        progress.seconds_watched += delta
        if not progress.completed and progress.seconds_watched >= COMPLETION_RATIO * duration:
            progress.completed = True
            progress.completed_at = now
        progress.updated_at = now
        # A queryset update rather than save(): `auto_now` would stamp the clock
        # time, and updated_at must be the `now` this save was measured against.
        WatchProgress.objects.filter(pk=progress.pk).update(
            position_seconds=progress.position_seconds,
            seconds_watched=progress.seconds_watched,
            completed=progress.completed,
            completed_at=progress.completed_at,
            updated_at=now,
        )
    return progress


def watch_download_count(*, learner: User, video: Video) -> None:
    """Count one download of the video by the learner.

    A queryset update: it leaves `updated_at` (the clock for the watched-seconds
    cap) alone.
    """
    with transaction.atomic():
        WatchProgress.objects.get_or_create(learner=learner, video=video)
        WatchProgress.objects.filter(learner=learner, video=video).update(
            downloads=F("downloads") + 1
        )
