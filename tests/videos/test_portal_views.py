"""The learner's player page and progress saves: own, visible videos only."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from library.models import WatchProgress
from tests.builders import user_build, video_build, video_job_build
from videos.models import JobStatus

pytestmark = pytest.mark.django_db

VTT = """WEBVTT

1
00:00:00.000 --> 00:00:04.000
Welcome to <b>networking</b> basics.

2
00:00:04.000 --> 00:01:05.500
Subnets split an address range &amp; routes join them.

00:01:05.500 --> 00:01:10.000
Type &lt;script&gt; safely.
"""


@pytest.fixture
def video(media_root):
    return video_build(
        job=video_job_build(learner=user_build(), priority=1, status=JobStatus.READY),
        title="Networking: a first look",
        captions=ContentFile(VTT.encode(), name="captions.vtt"),
        thumbnail=ContentFile(b"\xff\xd8\xff", name="thumb.jpg"),
        duration_seconds=120,
    )


@pytest.fixture
def owner(client, video):
    client.force_login(video.learner)
    return client


def page_url(video):
    return reverse("portal:video_player", args=[video.pk])


def progress_url(video):
    return reverse("portal:video_progress", args=[video.pk])


def player_config(page: str) -> dict:
    match = re.search(r'<script id="player-config" type="application/json">(.*?)</script>', page)
    assert match, "the page carries its player configuration"
    return json.loads(match.group(1))


def post_progress(client, video, payload):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(progress_url(video), body, content_type="application/json")


# --- the player page ---------------------------------------------------------------


def test_the_owner_sees_the_player_with_default_captions_and_a_transcript(owner, video):
    response = owner.get(page_url(video))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<h1 id="video-title">Networking: a first look</h1>' in page
    assert re.search(r"<video [^>]*\bcontrols\b[^>]*>", page)
    assert 'preload="metadata"' in page and "playsinline" in page
    media = reverse("portal:video_media", args=[video.pk, "video"])
    captions = reverse("portal:video_media", args=[video.pk, "captions"])
    thumbnail = reverse("portal:video_media", args=[video.pk, "thumbnail"])
    assert f'<source src="{media}" type="video/mp4">' in page
    track = re.search(r"<track [^>]*>", page).group(0)
    assert 'kind="captions"' in track and f'src="{captions}"' in track
    assert re.search(r"\bdefault\b", track) and 'srclang="en"' in track
    assert f'poster="{thumbnail}"' in page
    assert "2:00" in page  # the duration
    # the transcript: one button per cue, tags stripped, text escaped, seekable
    cues = re.findall(r'<button type="button" class="cue" data-start="([\d.]+)"', page)
    assert cues == ["0.000", "4.000", "65.500"]
    assert "Welcome to networking basics." in page
    assert "Subnets split an address range &amp; routes join them." in page
    assert "Type &lt;script&gt; safely." in page and "<script> safely" not in page
    assert '<span class="cue-time">0:04</span>' in page
    # labelled controls and a download
    assert '<label for="speed">Speed</label>' in page
    assert page.count("<option value=") == 7 and 'value="0.5"' in page and 'value="2"' in page
    assert "Back 10 s" in page and "Forward 10 s" in page
    assert f'href="{media}?download=1"' in page
    assert "css/player.css" in page and "js/player.js" in page
    config = player_config(page)
    assert config["progressUrl"] == progress_url(video)
    assert config["resumeSeconds"] == 0 and config["duration"] == 120
    assert config["nextUrl"] == "" and config["csrfToken"]
    assert "Resuming where you stopped" not in page


def test_the_page_resumes_from_the_saved_position(owner, video):
    WatchProgress.objects.create(learner=video.learner, video=video, position_seconds=73.4)
    page = owner.get(page_url(video)).content.decode()
    assert player_config(page)["resumeSeconds"] == 73.4
    assert "Resuming where you stopped" in page and "1:13" in page
    assert 'id="start-over"' in page


def test_a_video_watched_to_the_end_starts_again_from_the_beginning(owner, video):
    WatchProgress.objects.create(
        learner=video.learner,
        video=video,
        position_seconds=119,
        seconds_watched=119,
        completed=True,
    )
    page = owner.get(page_url(video)).content.decode()
    assert player_config(page)["resumeSeconds"] == 0
    assert "Resuming where you stopped" not in page
    assert re.search(r'<span id="watched-badge" class="badge">Watched</span>', page)


def test_a_video_without_captions_has_no_track_and_says_so(client, media_root):
    video = video_build(job=video_job_build(learner=user_build()))
    client.force_login(video.learner)
    page = client.get(page_url(video)).content.decode()
    assert "<track" not in page and "poster=" not in page
    assert "No transcript for this video." in page


def test_broken_captions_still_show_the_player(client, media_root):
    video = video_build(
        job=video_job_build(learner=user_build()),
        captions=ContentFile(b"not a vtt file", name="bad.vtt"),
    )
    client.force_login(video.learner)
    response = client.get(page_url(video))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<track" in page and "No transcript for this video." in page


def test_up_next_is_the_next_ready_visible_video_in_series_order(client, media_root):
    learner = user_build()

    def ready(priority, title, **fields):
        job = video_job_build(learner=learner, priority=priority, status=JobStatus.READY)
        return video_build(job=job, title=title, **fields)

    last = ready(4, "Exam prep")
    first = ready(1, "Overview")
    video_job_build(learner=learner, priority=2, status=JobStatus.RENDERING)  # not ready yet
    ready(2, "Hidden remediation", hidden=True)
    middle = ready(3, "Motivation")
    other = video_build(job=video_job_build(learner=user_build(), priority=2), title="Other's")
    client.force_login(learner)

    page = client.get(page_url(first)).content.decode()
    assert player_config(page)["nextUrl"] == page_url(middle)
    assert "Up next" in page and "Motivation" in page
    assert "Hidden remediation" not in page and other.title not in page
    assert player_config(client.get(page_url(middle)).content.decode())["nextUrl"] == page_url(last)
    page = client.get(page_url(last)).content.decode()
    assert player_config(page)["nextUrl"] == "" and "Up next" not in page


def test_another_learner_gets_404_never_403(client, video):
    client.force_login(user_build())
    assert client.get(page_url(video)).status_code == 404


def test_staff_get_404_too_the_portal_is_for_owners(client, video):
    client.force_login(user_build(is_staff=True, is_superuser=True))
    assert client.get(page_url(video)).status_code == 404


def test_a_hidden_video_is_404_for_its_owner(owner, video):
    video.hidden = True
    video.save()
    assert owner.get(page_url(video)).status_code == 404
    assert post_progress(owner, video, {"position": 1, "watched": 1}).status_code == 404


def test_a_missing_video_is_404(owner, video):
    assert owner.get(reverse("portal:video_player", args=[video.pk + 1000])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, video):
    response = client.get(page_url(video))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert f"next={page_url(video)}" in response.url.replace("%2F", "/")


# --- progress saves ----------------------------------------------------------------


def test_a_progress_save_records_position_and_watched_seconds(owner, video):
    response = post_progress(owner, video, {"position": 5.5, "watched": 5})
    assert response.status_code == 200
    assert response.json() == {"position": 5.5, "seconds_watched": 5.0, "completed": False}
    stored = WatchProgress.objects.get(learner=video.learner, video=video)
    assert (stored.position_seconds, stored.seconds_watched) == (5.5, 5.0)


def test_a_progress_save_clamps_the_position_and_caps_the_claimed_seconds(owner, video):
    response = post_progress(owner, video, {"position": 5000, "watched": 1000})
    data = response.json()
    assert data["position"] == 120
    assert data["seconds_watched"] < 114 and not data["completed"]  # capped below 95 %


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"position": ["This field is required."], "watched": ["This field is required."]}),
        ({"position": "12", "watched": 1}, {"position": ["A number is required."]}),
        ({"position": 1, "watched": True}, {"watched": ["A number is required."]}),
        ({"position": 1, "watched": -3}, {"watched": ["Must be zero or more."]}),
        ('{"position": NaN, "watched": 1}', {"position": ["A finite number is required."]}),
        ('{"position": 1, "watched": Infinity}', {"watched": ["A finite number is required."]}),
        ("[1, 2]", {"__all__": ["Send a JSON object."]}),
        ("not json", {"__all__": ["Send a JSON object."]}),
        ("", {"__all__": ["Send a JSON object."]}),
    ],
)
def test_bad_progress_input_is_400_with_field_errors(owner, video, payload, errors):
    response = post_progress(owner, video, payload)
    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert not WatchProgress.objects.exists()


def test_a_negative_position_is_clamped_to_zero(owner, video):
    assert post_progress(owner, video, {"position": -4, "watched": 0}).json()["position"] == 0


def test_another_learner_gets_404_for_a_progress_save(client, video):
    client.force_login(user_build())
    assert post_progress(client, video, {"position": 1, "watched": 1}).status_code == 404
    assert not WatchProgress.objects.exists()


def test_anonymous_progress_saves_are_404(client, video):
    assert post_progress(client, video, {"position": 1, "watched": 1}).status_code == 404


def test_progress_is_post_only(owner, video):
    assert owner.get(progress_url(video)).status_code == 405


def test_progress_saves_need_the_csrf_token_the_page_hands_out(video):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(video.learner)
    token = player_config(browser.get(page_url(video)).content.decode())["csrfToken"]
    payload = json.dumps({"position": 3, "watched": 3})
    refused = browser.post(progress_url(video), payload, content_type="application/json")
    assert refused.status_code == 403
    saved = browser.post(
        progress_url(video), payload, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert saved.status_code == 200 and saved.json()["seconds_watched"] == 3
