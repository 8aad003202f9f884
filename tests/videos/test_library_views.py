"""The learner's library: own visible videos by type, live job progress, retries, filters."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import include, path, reverse

from library.models import WatchProgress
from presgen import urls as presgen_urls
from tests.builders import certification_build, user_build, video_build, video_job_build
from videos.models import JobStatus, VideoJob
from videos.selectors import WatchedState, learner_library_list

# Until presgen/urls.py includes the library, these tests add it themselves.
_INCLUDED = any(
    getattr(pattern, "urlconf_name", None) is not None
    and getattr(pattern.urlconf_name, "__name__", pattern.urlconf_name) == "videos.library_urls"
    for pattern in presgen_urls.urlpatterns
)
urlpatterns = list(presgen_urls.urlpatterns)
if not _INCLUDED:
    urlpatterns.append(path("", include("videos.library_urls")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LIBRARY = "library_portal:library"


def ready_video(learner, *, video_type="overview", title="Your roadmap", **fields):
    job = video_job_build(learner=learner, video_type=video_type, status=JobStatus.READY)
    return video_build(job=job, title=title, **fields)


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def cert():
    return certification_build(domains={"networking": 60, "security": 40})


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def page(client, **params) -> str:
    response = client.get(reverse(LIBRARY), params)
    assert response.status_code == 200
    return response.content.decode()


def shown_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="lib-title"><a href="[^"]+">([^<]+)</a></h3>', html)


def section_order(html: str) -> list[str]:
    return re.findall(r'data-section="([a-z_]+)"', html)


# --- access --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (reverse(LIBRARY), reverse("library_portal:jobs")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    response = client.post(reverse("library_portal:job_retry", args=[1]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the videos ----------------------------------------------------------------------


def test_the_owner_sees_their_own_visible_videos_grouped_by_type(
    logged_in, learner, cert, media_root
):
    networking = cert.domains.get(slug="networking")
    overview = ready_video(
        learner,
        title="Your roadmap",
        duration_seconds=125,
        domain=networking,
        thumbnail=ContentFile(b"\xff\xd8\xff", name="t.jpg"),
    )
    ready_video(learner, video_type="celebration", title="You passed")
    ready_video(learner, video_type="remediation", title="Fixing subnets")
    ready_video(learner, video_type="practice_session", title="Drill one")
    ready_video(learner, video_type="exam_prep", title="Exam day")
    ready_video(learner, video_type="motivational", title="Keep going")
    ready_video(learner, video_type="introduction", title="About me")
    ready_video(learner, title="Secret cut", hidden=True)
    ready_video(user_build(), title="Someone else's video")

    html = page(logged_in)
    assert section_order(html) == [
        "overview",
        "remediation",
        "practice_session",
        "motivational",
        "exam_prep",
        "celebration",
        "introduction",
    ]
    assert sorted(shown_titles(html)) == sorted(
        [
            "Your roadmap",
            "You passed",
            "Fixing subnets",
            "Drill one",
            "Exam day",
            "Keep going",
            "About me",
        ]
    )
    assert "Secret cut" not in html and "Someone else" not in html
    player = reverse("portal:video_player", args=[overview.pk])
    thumbnail = reverse("portal:video_media", args=[overview.pk, "thumbnail"])
    assert f'<a href="{player}">Your roadmap</a>' in html
    assert f'<img src="{thumbnail}" alt=""' in html
    assert "2:05" in html and "Networking" in html
    assert "Not started" in html
    assert "css/library.css" in html and "js/library.js" in html
    config = json.loads(
        re.search(r'<script id="library-config" type="application/json">(.*?)</script>', html)[1]
    )
    assert config == {"jobsUrl": reverse("library_portal:jobs"), "pollSeconds": 3}


def test_the_watched_state_comes_from_watch_progress(logged_in, learner, media_root):
    fresh = ready_video(learner, title="Fresh")
    halfway = ready_video(learner, title="Halfway", duration_seconds=200)
    done = ready_video(learner, title="Done")
    WatchProgress.objects.create(learner=learner, video=halfway, position_seconds=80)
    WatchProgress.objects.create(learner=learner, video=done, position_seconds=30, completed=True)
    # another learner's progress on... nothing of ours counts
    WatchProgress.objects.create(learner=user_build(), video=fresh, position_seconds=10)
    html = page(logged_in)
    card = {
        title: re.search(rf">{title}</a>.*?<p class=\"state [^\"]+\">([^<]+)</p>", html, re.S)[1]
        for title in ("Fresh", "Halfway", "Done")
    }
    assert card == {"Fresh": "Not started", "Halfway": "In progress · 40%", "Done": "Watched ✓"}


# --- search and filters --------------------------------------------------------------


def test_search_and_filters_narrow_the_list_server_side(logged_in, learner, cert, media_root):
    networking = cert.domains.get(slug="networking")
    security = cert.domains.get(slug="security")
    subnets = ready_video(
        learner, video_type="remediation", title="Subnets made easy", domain=networking
    )
    ready_video(learner, video_type="remediation", title="Firewalls", domain=security)
    ready_video(learner, video_type="overview", title="Your roadmap")
    WatchProgress.objects.create(learner=learner, video=subnets, completed=True)

    assert shown_titles(page(logged_in, q="subnet")) == ["Subnets made easy"]
    assert shown_titles(page(logged_in, q="SECURITY")) == ["Firewalls"]  # the domain's name
    assert sorted(shown_titles(page(logged_in, type="remediation"))) == [
        "Firewalls",
        "Subnets made easy",
    ]
    assert shown_titles(page(logged_in, domain=security.pk)) == ["Firewalls"]
    assert shown_titles(page(logged_in, watched="watched")) == ["Subnets made easy"]
    assert sorted(shown_titles(page(logged_in, watched="not_started"))) == [
        "Firewalls",
        "Your roadmap",
    ]
    assert shown_titles(page(logged_in, type="remediation", watched="not_started")) == ["Firewalls"]
    # unknown values do not filter; the form keeps what was chosen
    assert len(shown_titles(page(logged_in, type="music", domain="x", watched="?"))) == 3
    html = page(logged_in, q="subnet", type="remediation", domain=networking.pk)
    assert 'value="subnet"' in html
    assert '<option value="remediation" selected>' in html
    assert f'<option value="{networking.pk}" selected>Networking</option>' in html
    assert '<label for="library-q">Search</label>' in html


def test_the_selector_filters_by_watched_state(learner, media_root):
    started = ready_video(learner, title="Started")
    ready_video(learner, title="Untouched")
    WatchProgress.objects.create(learner=learner, video=started, position_seconds=5)
    result = learner_library_list(
        learner=learner, query="", video_type="", domain=None, watched=WatchedState.IN_PROGRESS
    )
    assert [v.video.title for s in result.sections for v in s.videos] == ["Started"]
    assert result.filtered and result.has_anything


def test_no_results_for_a_filter_says_so_with_a_clear_filters_link(logged_in, learner, media_root):
    ready_video(learner, title="Your roadmap")
    html = page(logged_in, q="quantum")
    assert "No videos match these filters" in html
    assert f'<a class="clear-filters" href="{reverse(LIBRARY)}">Clear filters</a>' in html
    assert shown_titles(html) == []


def test_a_new_learner_sees_what_to_do_next(logged_in, media_root):
    ready_video(user_build(), title="Someone else's video")
    html = page(logged_in)
    assert "No videos yet" in html
    assert "Take an assessment" in html and "your personal series appears here" in html
    assert "No videos match" not in html and 'role="search"' not in html


# --- jobs being made -----------------------------------------------------------------


def test_jobs_being_made_show_a_progress_bar_with_their_step(logged_in, learner, cert):
    job = video_job_build(
        learner=learner,
        certification=cert,
        video_type="remediation",
        parameters={"domain": "security"},
        status=JobStatus.RENDERING,
        progress=40,
        step="Rendering slide 3 of 8",
    )
    html = page(logged_in)
    item = re.search(rf'<li class="lib-job" data-job-id="{job.pk}">.*?</li>', html, re.S)[0]
    assert "Remediation: Security" in item and "Rendering slide 3 of 8" in item
    assert 'role="progressbar"' in item and 'aria-valuenow="40"' in item
    assert 'aria-valuemin="0"' in item and 'aria-valuemax="100"' in item
    assert "No videos yet" not in html


def test_jobs_json_lists_only_the_learners_own_active_jobs(logged_in, learner, cert):
    active = video_job_build(
        learner=learner,
        certification=cert,
        video_type="practice_session",
        parameters={"domain": "networking"},
        status=JobStatus.SCRIPTING,
        progress=15,
        step="Writing the script",
    )
    queued = video_job_build(learner=learner, status=JobStatus.QUEUED, priority=2)
    video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")
    video_job_build(learner=learner, status=JobStatus.READY)
    video_job_build(learner=user_build(), status=JobStatus.RENDERING, progress=70)

    response = logged_in.get(reverse("library_portal:jobs"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    jobs = response.json()["jobs"]
    assert [j["id"] for j in jobs] == [active.pk, queued.pk]
    assert jobs[0] == {
        "id": active.pk,
        "status": "scripting",
        "status_label": "Writing the script",
        "progress": 15,
        "step": "Writing the script",
        "label": "Practice session: Networking",
    }
    assert jobs[1]["step"] == "Queued" and jobs[1]["label"] == "Overview"


def test_filters_apply_to_jobs_too(logged_in, learner, cert):
    video_job_build(
        learner=learner,
        certification=cert,
        video_type="remediation",
        parameters={"domain": "security"},
        status=JobStatus.RENDERING,
    )
    video_job_build(learner=learner, video_type="overview", status=JobStatus.FAILED, error="x")
    security = cert.domains.get(slug="security")
    html = page(logged_in, type="remediation")
    assert "Remediation: Security" in html and "Could not be made" not in html
    html = page(logged_in, domain=security.pk)
    assert f'<option value="{security.pk}" selected>Security</option>' in html
    assert "Remediation: Security" in html and "Could not be made" not in html
    html = page(logged_in, q="overview")
    assert "Remediation: Security" not in html and "Could not be made" in html
    html = page(logged_in, watched="watched")  # jobs are never watched
    assert "No videos match these filters" in html


def test_a_hidden_video_never_shows_even_from_its_ready_job(logged_in, learner, media_root):
    hidden = ready_video(learner, title="Secret cut", hidden=True)
    html = page(logged_in)
    assert "Secret cut" not in html and f'data-job-id="{hidden.job_id}"' not in html
    assert "No videos yet" in html
    assert logged_in.get(reverse("library_portal:jobs")).json() == {"jobs": []}


# --- failed jobs and retries ---------------------------------------------------------


def test_a_failed_job_shows_its_reason_and_a_try_again_button(logged_in, learner):
    job = video_job_build(learner=learner, status=JobStatus.FAILED, error="The renderer timed out")
    html = page(logged_in)
    assert "The renderer timed out" in html
    retry = reverse("library_portal:job_retry", args=[job.pk])
    form = re.search(rf'<form method="post" action="{retry}".*?</form>', html, re.S)[0]
    assert "csrfmiddlewaretoken" in form and ">Try again</button>" in form


def test_the_owner_can_retry_their_failed_job(logged_in, learner):
    job = video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")
    response = logged_in.post(reverse("library_portal:job_retry", args=[job.pk]), follow=True)
    assert response.redirect_chain == [(reverse(LIBRARY), 302)]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.error == "" and job.progress == 0
    html = response.content.decode()
    assert "Trying again" in html and "back in the queue" in html
    assert f'data-job-id="{job.pk}"' in html  # now shown as being made


def test_retrying_a_job_that_has_not_failed_changes_nothing(logged_in, learner):
    job = video_job_build(learner=learner, status=JobStatus.RENDERING, progress=50)
    response = logged_in.post(reverse("library_portal:job_retry", args=[job.pk]), follow=True)
    assert response.redirect_chain == [(reverse(LIBRARY), 302)]
    assert "nothing to try again" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.RENDERING and job.progress == 50


def test_another_learners_job_cannot_be_retried(logged_in):
    job = video_job_build(learner=user_build(), status=JobStatus.FAILED, error="boom")
    assert logged_in.post(reverse("library_portal:job_retry", args=[job.pk])).status_code == 404
    assert logged_in.get(reverse("library_portal:job_retry", args=[job.pk])).status_code == 405
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert VideoJob.objects.filter(status=JobStatus.QUEUED).count() == 0


def test_retry_requires_the_csrf_token(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    job = video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")
    assert client.post(reverse("library_portal:job_retry", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
