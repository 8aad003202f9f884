"""Every URL the project serves, with another learner's ids: nothing of theirs leaks or changes.

The URLs come from the URL resolver, not from a hand-kept list, so a page or an
endpoint added later is swept too. Learner B tries every route with each of
learner A's ids (and every method); no response may carry anything of A's
(their markers are in titles, texts and file bytes) and A's data must be exactly
as before. A control run as A proves the markers are visible where they belong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from library.models import Notification, Playlist, PlaylistItem, WatchProgress
from presgen.models import User
from tests.builders import assessment_build, certification_build, user_build, video_job_build
from videos.models import GenerationAttempt, JobStatus, Video, VideoJob

pytestmark = pytest.mark.django_db

# Not learner data: the admin (staff only, tested in tests/*/test_admin.py), webhooks
# (signed by providers, tested in tests/videos/test_webhooks.py), the API schema and
# docs, password-reset links (a signed token, not an id) and static files.
SKIPPED = re.compile(
    r"^(admin/|webhooks/|api/(schema|docs|redoc)/|accounts/password_reset/|static/)"
)
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")
MEDIA_KINDS = ("video", "captions", "thumbnail", "download")
METHODS = ("get", "post", "put", "patch", "delete")


def routes(*, with_params: bool = True) -> Iterator[str]:
    def walk(patterns: list, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    for route in walk(get_resolver().url_patterns, ""):
        route = route.replace("^", "").replace("$", "").replace("\\.", ".")
        if not SKIPPED.match(route) and bool(PARAM.search(route)) == with_params:
            yield route


def fill(route: str, ids: list[str]) -> Iterator[str]:
    """Every URL for the route with each id (and each media kind for a `kind` part)."""
    names = [m.group(2) or m.group(3) for m in PARAM.finditer(route)]
    for value in ids:
        kinds = MEDIA_KINDS if "kind" in names else ("",)
        for kind in kinds:

            def sub(match: re.Match[str], value: str = value, kind: str = kind) -> str:
                return kind if (match.group(2) or match.group(3)) == "kind" else value

            yield "/" + PARAM.sub(sub, route)


def learner_data(learner: User, marker: str) -> dict[str, list[int]]:
    """A learner with one of everything, each carrying `marker` somewhere a page would show."""
    certification = certification_build(domains={"iam": 60, "network": 40})
    assessment = assessment_build(
        learner=learner,
        certification=certification,
        scores={"iam": 40, "network": 90},
        external_id=f"{marker}-assessment",
    )
    ready = video_job_build(
        learner=learner,
        assessment=assessment,
        certification=certification,
        status=JobStatus.READY,
        parameters={"domain": "iam", "topic": marker},
    )
    video = Video.objects.create(
        job=ready,
        learner=learner,
        video_type=ready.video_type,
        title=f"{marker} video",
        file=ContentFile(b"\x00\x00\x00\x18ftypmp42" + marker.encode(), name="v.mp4"),
        captions=ContentFile(f"WEBVTT\n\n00:00.000 --> 00:02.000\n{marker}\n".encode(), "c.vtt"),
        thumbnail=ContentFile(b"\xff\xd8\xff" + marker.encode(), name="t.jpg"),
        duration_seconds=2,
        size_bytes=20,
        width=640,
        height=360,
    )
    failed = video_job_build(
        learner=learner,
        certification=certification,
        status=JobStatus.FAILED,
        error=f"{marker} failure",
    )
    GenerationAttempt.objects.create(job=failed, provider="studio", error=f"{marker} attempt")
    playlist = Playlist.objects.create(learner=learner, title=f"{marker} playlist")
    PlaylistItem.objects.create(playlist=playlist, video=video)
    notification = Notification.objects.create(
        learner=learner, kind="info", title=f"{marker} notice", body=marker
    )
    progress = WatchProgress.objects.create(learner=learner, video=video, position_seconds=1)
    return {
        "ids": sorted(
            {
                assessment.pk,
                ready.pk,
                failed.pk,
                video.pk,
                playlist.pk,
                notification.pk,
                progress.pk,
                learner.pk,
            }
        )
    }


def snapshot(learner: User) -> tuple:
    """Everything of the learner's that a leaky write could change."""
    learner.refresh_from_db()
    return (
        (learner.display_name, learner.email, learner.is_active, learner.preferred_voice),
        sorted(
            VideoJob.objects.filter(learner=learner).values_list(
                "pk", "status", "error", "parameters", "provider"
            )
        ),
        sorted(Video.objects.filter(learner=learner).values_list("pk", "title", "hidden")),
        sorted(Playlist.objects.filter(learner=learner).values_list("pk", "title", "items__video")),
        sorted(Notification.objects.filter(learner=learner).values_list("pk", "read_at")),
        sorted(
            WatchProgress.objects.filter(learner=learner).values_list(
                "pk", "position_seconds", "seconds_watched", "completed", "downloads"
            )
        ),
        sorted(learner.assessments.values_list("pk", "overall_score")),
    )


def body_of(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items()).encode()
    return headers + b"\n" + content


def sweep(client: Client, ids: list[int]) -> list[tuple[str, str, int, bytes]]:
    results = []
    for route in routes():
        for url in fill(route, [str(i) for i in ids]):
            for method in METHODS:
                response = getattr(client, method)(url, content_type="application/json")
                results.append((method.upper(), url, response.status_code, body_of(response)))
    # Routes without ids act for the caller; naming another learner must not change that.
    for route in routes(with_params=False):
        for learner_id in ids:
            url = f"/{route}?learner={learner_id}"
            response = client.get(url)
            results.append(("GET", url, response.status_code, body_of(response)))
    return results


def test_another_learner_gets_nothing_of_theirs_from_any_url(media_root, rq_queues):
    victim_marker, intruder_marker = "VICTIM-7f3a9c", "INTRUDER-2b8e41"
    intruder = user_build(display_name="Intruder")
    learner_data(intruder, intruder_marker)
    victim = user_build(display_name="Victim", email="victim@example.com")
    victim_ids = learner_data(victim, victim_marker)["ids"]
    before = snapshot(victim)

    client = Client()
    client.force_login(intruder)
    results = sweep(client, victim_ids)

    leaks = [
        f"{method} {url} -> {status}"
        for method, url, status, body in results
        if victim_marker.encode() in body
    ]
    assert leaks == []
    server_errors = [f"{m} {u} -> {s}" for m, u, s, _ in results if s >= 500]
    assert server_errors == []
    assert snapshot(victim) == before
    # The sweep really reached learner pages and media, not just login redirects.
    swept = {url.split("/")[1] for _, url, _, _ in results}
    assert {"videos", "media", "playlists", "notifications", "assessments", "api"} <= swept
    assert len(results) > 200


def test_the_owner_sees_their_markers_on_the_same_urls(media_root, rq_queues):
    """Control: the sweep can see a leak, because the owner's own markers do show."""
    marker = "OWNER-5d1c07"
    owner = user_build()
    ids = learner_data(owner, marker)["ids"]
    client = Client()
    client.force_login(owner)

    seen = {
        url
        for route in routes()
        for url in fill(route, [str(i) for i in ids])
        if marker.encode() in body_of(client.get(url))
    }

    assert any(url.startswith("/videos/") for url in seen)  # the player
    assert any(url.startswith("/media/videos/") for url in seen)  # files
    assert any(url.startswith("/playlists/") for url in seen)
    assert any(url.startswith("/assessments/") for url in seen)
    assert any(url.startswith("/api/v1/videos/") for url in seen)
    assert any(url.startswith("/api/v1/jobs/") for url in seen)
