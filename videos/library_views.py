"""The learner's library (portal): their own ready videos by type, jobs being made, retries.

Every view here shows a learner their own jobs and visible videos only; another
learner's job is a 404, never a 403, so the URLs reveal nothing about what exists.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from presgen.models import User
from presgen.ownership import owned_or_404
from videos.models import JobStatus, VideoJob
from videos.selectors import (
    LIBRARY_SECTIONS,
    WatchedState,
    learner_active_jobs,
    learner_job_labels,
    learner_library_list,
)
from videos.services import job_retry

# How often library.js asks for job progress while a job is being made.
POLL_SECONDS = 3
QUERY_MAX_LENGTH = 200


def _filters(request: HttpRequest) -> dict[str, str]:
    """The GET filters, with unknown values dropped (they do not filter)."""
    query = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    video_type = request.GET.get("type", "")
    if video_type not in dict(LIBRARY_SECTIONS):
        video_type = ""
    domain = request.GET.get("domain", "")
    if not domain.isdigit():
        domain = ""
    watched = request.GET.get("watched", "")
    if watched not in dict(WatchedState.CHOICES):
        watched = ""
    return {"q": query, "type": video_type, "domain": domain, "watched": watched}


@login_required
@require_http_methods(["GET", "HEAD"])
def library(request: HttpRequest) -> HttpResponse:
    learner = cast(User, request.user)  # login_required: never anonymous here
    filters = _filters(request)
    result = learner_library_list(
        learner=learner,
        query=filters["q"],
        video_type=filters["type"],
        domain=int(filters["domain"]) if filters["domain"] else None,
        watched=filters["watched"],
    )
    config = {"jobsUrl": reverse("library_portal:jobs"), "pollSeconds": POLL_SECONDS}
    return render(
        request,
        "videos/library.html",
        {
            "library": result,
            "filters": filters,
            "type_choices": LIBRARY_SECTIONS,
            "watched_choices": WatchedState.CHOICES,
            "library_config": config,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
@never_cache
def jobs_json(request: HttpRequest) -> JsonResponse:
    """The learner's jobs still being made: {"jobs": [{id, status, progress, step, label}]}."""
    items = learner_active_jobs(learner=cast(User, request.user))
    return JsonResponse(
        {
            "jobs": [
                {
                    "id": item.job.pk,
                    "status": item.job.status,
                    "status_label": item.job.get_status_display(),
                    "progress": item.job.progress,
                    "step": item.job.step or item.job.get_status_display(),
                    "label": item.label,
                }
                for item in items
            ]
        }
    )


@login_required
@require_POST
def job_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the learner's own failed job again, then back to the library with a message."""
    job = owned_or_404(VideoJob, user=request.user, pk=pk)
    label = learner_job_labels([job])[0].label
    if job.status != JobStatus.FAILED:
        messages.info(request, f"“{label}” is not a failed video: nothing to try again.")
    elif job_retry(job=job).done:
        messages.success(request, f"Trying again: “{label}” is back in the queue.")
    else:
        messages.error(request, f"“{label}” could not be tried again. Please try later.")
    return redirect("library_portal:library")
