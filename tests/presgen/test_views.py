import pytest
from django.urls import reverse

from library.services import demo_load
from tests.builders import user_build, video_build, video_job_build
from videos.models import JobStatus, VideoJob
from videos.services import series_plan

pytestmark = pytest.mark.django_db


def test_home_asks_visitors_to_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_demo_learner_logs_in_and_is_greeted_with_their_results(client):
    demo_load()
    response = client.post(
        reverse("login"), {"username": "learner", "password": "presgen-learner"}, follow=True
    )
    page = response.content.decode()
    assert "Welcome, Alex Rivera" in page
    assert "Cloud Foundations Associate" in page
    assert "Security and Identity" in page  # the demo's weakest domain


def test_the_learner_home_shows_their_series_and_nobody_elses(client, rq_queues):
    demo = demo_load()
    series_plan(assessment=demo.assessment)
    other = user_build()
    video_job_build(learner=other, video_type="celebration", step="Other learner's job")
    VideoJob.objects.filter(learner=demo.learner, video_type="overview").update(
        status=JobStatus.RENDERING, progress=40, step="Rendering with studio"
    )
    client.force_login(demo.learner)
    page = client.get(reverse("home")).content.decode()
    assert "Your video series" in page
    assert 'value="40"' in page and "Rendering with studio" in page
    assert page.count('class="job job-') == 6
    assert "Other learner" not in page


def test_a_ready_video_on_the_home_page_links_to_its_player(client, media_root):
    learner = user_build()
    job = video_job_build(learner=learner, status=JobStatus.READY)
    video = video_build(job=job, title="Subnets in ten minutes")
    client.force_login(learner)
    page = client.get(reverse("home")).content.decode()
    assert f'<a href="/videos/{video.pk}/">Subnets in ten minutes</a>' in page


def test_wrong_password_shows_an_error(client):
    demo_load()
    response = client.post(reverse("login"), {"username": "learner", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def test_staff_go_to_the_admin(client):
    client.force_login(demo_load().staff)
    assert client.get(reverse("home")).url == reverse("admin:index")


def test_healthz_reports_database_and_redis(client, rq_queues):
    assert client.get(reverse("healthz")).json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
    }


def test_healthz_is_unhealthy_without_redis(client, settings):
    settings.RQ_QUEUES = {"default": {"URL": "unix:///nonexistent/redis.sock"}}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["redis"] == "unavailable"


def test_the_home_page_recommends_the_weakest_areas_remediation(client, media_root):
    demo = demo_load()
    job = video_job_build(
        learner=demo.learner,
        certification=demo.certification,
        assessment=demo.assessment,
        video_type="remediation",
        parameters={"domain": "security-identity"},
        status=JobStatus.READY,
    )
    video_build(
        job=job,
        title="Security and Identity, step by step",
        domain=demo.certification.domains.get(slug="security-identity"),
    )
    client.force_login(demo.learner)
    page = client.get(reverse("home")).content.decode()
    assert "Recommended next" in page and "Security and Identity, step by step" in page
    assert "weakest area" in page.lower()
