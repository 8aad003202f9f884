import pytest
from django.urls import reverse

from library.services import demo_load

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
