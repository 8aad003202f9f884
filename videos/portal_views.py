"""The learner's video player, owner-only media and watch-progress saves (portal).

Every view here shows a learner their own, visible videos only; anything else
(another learner's video, a hidden one, a missing file) is a 404, never a 403,
so the URLs reveal nothing about what exists.
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import strip_tags
from django.views.decorators.http import require_http_methods, require_POST

from library.models import WatchProgress
from library.progress import watch_progress_record
from presgen.models import User
from presgen.ownership import owned_or_404
from videos.media import video_file_response
from videos.models import JobStatus, Video
from videos.quality import vtt_cues
from videos.selectors import duration_clock, learner_series_list

logger = logging.getLogger(__name__)

# URL kind -> the Video field it serves
MEDIA_KINDS: dict[str, str] = {"video": "file", "captions": "captions", "thumbnail": "thumbnail"}
# Captions larger than this are not parsed into a transcript (the track still plays).
TRANSCRIPT_MAX_BYTES = 2 * 1024 * 1024
# Resume from the saved position unless it is this close to the end.
RESUME_END_MARGIN_SECONDS = 3.0


@dataclass(frozen=True)
class TranscriptLine:
    start: float
    end: float
    text: str

    @property
    def clock(self) -> str:
        return clock(self.start)


def clock(seconds: float) -> str:
    """1:05, 12:00, 1:02:03."""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _own_video(request: HttpRequest, pk: int) -> Video:
    """The request's learner's visible video `pk`, or 404 (also for anonymous visitors)."""
    return owned_or_404(Video, user=request.user, pk=pk)


def transcript_lines(video: Video) -> list[TranscriptLine]:
    """The video's caption cues as transcript lines; empty when there are none or they are bad."""
    if not video.captions.name:
        return []
    try:
        with video.captions.open("rb") as handle:
            raw = handle.read(TRANSCRIPT_MAX_BYTES + 1)
        if len(raw) > TRANSCRIPT_MAX_BYTES:
            return []
        cues = vtt_cues(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        logger.warning("video %s: no transcript from its captions: %s", video.pk, error)
        return []
    lines = []
    for start, end, text in cues:
        # Cue text is WebVTT markup: drop tags (<v Speaker>, <b>...), decode entities
        # (&amp;); the template escapes the result again.
        plain = " ".join(html.unescape(strip_tags(text)).split())
        if plain:
            lines.append(TranscriptLine(start, end, plain))
    return lines


def up_next(*, learner: User, video: Video) -> Video | None:
    """The learner's next ready, visible video after this one in series order."""
    items = learner_series_list(learner=learner)
    job_ids = [item.job.pk for item in items]
    if video.job_id not in job_ids:
        return None
    for item in items[job_ids.index(video.job_id) + 1 :]:
        job = item.job
        if job.status == JobStatus.READY and hasattr(job, "video") and not job.video.hidden:
            return job.video
    return None


@login_required
@require_http_methods(["GET", "HEAD"])
def video_player(request: HttpRequest, pk: int) -> HttpResponse:
    video = _own_video(request, pk)
    learner = cast(User, request.user)
    progress = WatchProgress.objects.filter(learner=learner, video=video).first()
    position = progress.position_seconds if progress else 0.0
    resume = position if position < video.duration_seconds - RESUME_END_MARGIN_SECONDS else 0.0
    next_video = up_next(learner=learner, video=video)
    config = {
        "progressUrl": reverse("portal:video_progress", args=[video.pk]),
        "resumeSeconds": round(resume, 3),
        "duration": video.duration_seconds,
        "saveEverySeconds": 5,
        "nextUrl": reverse("portal:video_player", args=[next_video.pk]) if next_video else "",
        "csrfToken": get_token(request),
    }
    return render(
        request,
        "videos/player.html",
        {
            "video": video,
            "duration_clock": duration_clock(video.duration_seconds),
            "progress": progress,
            "resume_seconds": resume,
            "resume_clock": clock(resume),
            "transcript": transcript_lines(video),
            "next_video": next_video,
            "player_config": config,
        },
    )


@require_http_methods(["GET", "HEAD"])
def video_media(request: HttpRequest, pk: int, kind: str) -> HttpResponse | StreamingHttpResponse:
    """The video file, its captions or its thumbnail, to its owner only, with Range support.

    `?download=1` serves it as an attachment; a download of the video (not a
    resumed one, which starts past byte 0) counts in WatchProgress.downloads.
    """
    if kind not in MEDIA_KINDS:
        raise Http404("No such media.")
    video = _own_video(request, pk)
    return video_file_response(
        request,
        video=video,
        field_name=MEDIA_KINDS[kind],
        download=request.GET.get("download") == "1",
    )


def _number(
    data: dict[str, object], name: str, errors: dict[str, list[str]], *, negative_ok: bool = False
) -> float:
    value = data.get(name)
    if value is None:
        errors[name] = ["This field is required."]
    elif isinstance(value, bool) or not isinstance(value, int | float):
        errors[name] = ["A number is required."]
    elif not math.isfinite(value):
        errors[name] = ["A finite number is required."]
    elif value < 0 and not negative_ok:
        errors[name] = ["Must be zero or more."]
    else:
        return float(value)
    return 0.0


@require_POST
def video_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Save the player's position and the seconds it played since its last save.

    Body: JSON {"position": seconds, "watched": seconds}. Answers
    {"position", "seconds_watched", "completed"}, or 400 {"errors": {field: [...]}}.
    """
    video = _own_video(request, pk)
    try:
        data = json.loads(request.body or b"null")
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        return JsonResponse({"errors": {"__all__": ["Send a JSON object."]}}, status=400)
    errors: dict[str, list[str]] = {}
    position = _number(data, "position", errors, negative_ok=True)  # clamped when saved
    watched = _number(data, "watched", errors)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    progress = watch_progress_record(
        learner=cast(User, request.user),
        video=video,
        position_seconds=position,
        seconds_watched_delta=watched,
    )
    return JsonResponse(
        {
            "position": progress.position_seconds,
            "seconds_watched": progress.seconds_watched,
            "completed": progress.completed,
        }
    )
