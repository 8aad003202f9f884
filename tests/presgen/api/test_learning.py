"""/api/v1/recommendations, /api/v1/notifications and /api/v1/certifications."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from library.models import Notification, WatchProgress
from presgen.models import User
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video

pytestmark = pytest.mark.django_db


def fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


# --- recommendations ----------------------------------------------------------------------


@pytest.fixture
def cert():
    return certification_build(slug="cloud", name="Cloud Basics", domains={"alpha": 60, "beta": 40})


def ready_video(learner: User, cert, video_type: str, title: str, domain: str = "") -> Video:
    job = video_job_build(
        learner=learner, certification=cert, video_type=video_type, status=JobStatus.READY
    )
    return video_build(
        job=job, title=title, domain=cert.domains.get(slug=domain) if domain else None
    )


def test_recommendations_have_reasons_and_say_what_to_do(api, learner, cert, media_root):
    # passing score 70: alpha (40) is weak; 60% overall opens exam prep
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40, "beta": 80})
    overview = ready_video(learner, cert, "overview", "Your roadmap")
    remediation = ready_video(learner, cert, "remediation", "Alpha, again", domain="alpha")
    WatchProgress.objects.create(learner=learner, video=overview, position_seconds=5)

    response = api.get("/api/v1/recommendations")

    assert response.status_code == 200
    first, second, third = response.json()
    assert first["action"] == "watch"
    assert first["reason"] == "continue watching"
    assert first["video"]["id"] == overview.pk
    assert first["video"]["url"] == f"http://testserver/api/v1/videos/{overview.pk}"
    assert first["request"] is None
    assert (second["video"]["id"], second["reason"]) == (
        remediation.pk,
        "your weakest area: Alpha",
    )
    assert third["action"] == "request"
    assert third["video"] is None
    assert third["reason"] == "your latest score (60%) is ready for exam prep"
    assert third["request"] == {
        "type": "exam_prep",
        "certification": "cloud",
        "domain": None,
        "title": "Exam prep: Cloud Basics",
    }
    assert third["title"] == "Exam prep: Cloud Basics"


def test_recommendations_honour_the_limit(api, learner, cert, media_root):
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40, "beta": 80})
    ready_video(learner, cert, "remediation", "Alpha, again", domain="alpha")

    response = api.get("/api/v1/recommendations?limit=1")

    assert [item["reason"] for item in response.json()] == ["your weakest area: Alpha"]


def test_a_new_learner_has_no_recommendations(api):
    response = api.get("/api/v1/recommendations")

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("limit", ["0", "21", "many"])
def test_a_bad_limit_is_400(api, limit):
    assert "limit" in fields(api.get(f"/api/v1/recommendations?limit={limit}"))


def test_recommendations_are_the_learners_own(api, cert, media_root):
    other = user_build()
    assessment_build(learner=other, certification=cert, scores={"alpha": 40, "beta": 80})
    ready_video(other, cert, "remediation", "Theirs", domain="alpha")

    assert api.get("/api/v1/recommendations").json() == []
    assert api.get(f"/api/v1/recommendations?learner={other.pk}").status_code == 404


# --- notifications ---------------------------------------------------------------------------


def notify(learner: User, title: str, *, read: bool = False) -> Notification:
    return Notification.objects.create(
        learner=learner,
        kind="video_ready",
        title=title,
        body="Ready to watch.",
        url="/videos/1/",
        read_at=timezone.now() if read else None,
    )


def test_notifications_are_listed_newest_first_with_an_unread_filter(api, learner):
    old = notify(learner, "Old", read=True)
    new = notify(learner, "New")
    notify(user_build(), "Someone else's")

    everything = api.get("/api/v1/notifications").json()
    unread = api.get("/api/v1/notifications?unread=true").json()

    assert [row["title"] for row in everything["results"]] == ["New", "Old"]
    assert everything["results"][0] == {
        "id": new.pk,
        "kind": "video_ready",
        "title": "New",
        "body": "Ready to watch.",
        "url": "/videos/1/",
        "created": everything["results"][0]["created"],
        "read": False,
        "read_at": None,
    }
    assert everything["results"][1]["read"] is True
    assert everything["results"][1]["id"] == old.pk
    assert [row["title"] for row in unread["results"]] == ["New"]


def test_a_bad_unread_filter_is_400(api):
    assert "unread" in fields(api.get("/api/v1/notifications?unread=perhaps"))


def test_mark_some_read_by_id(api, learner):
    first, second, third = (notify(learner, name) for name in ("A", "B", "C"))

    response = api.post("/api/v1/notifications/mark-read", {"ids": [first.pk, third.pk]})

    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 1}
    assert list(Notification.objects.filter(read_at=None).values_list("pk", flat=True)) == [
        second.pk
    ]


def test_mark_all_read(api, learner):
    for name in ("A", "B"):
        notify(learner, name)
    notify(learner, "Read before", read=True)

    response = api.post("/api/v1/notifications/mark-read", {"all": True})

    assert response.json() == {"marked": 2, "unread": 0}
    assert response.status_code == 200


def test_another_learners_notifications_are_never_marked(api, learner):
    theirs = notify(user_build(), "Theirs")

    response = api.post("/api/v1/notifications/mark-read", {"ids": [theirs.pk]})

    assert response.json() == {"marked": 0, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "payload",
    [{}, {"ids": [1], "all": True}, {"all": False}, {"ids": "1,2"}, {"ids": ["x"]}],
)
def test_a_bad_mark_read_request_is_400_and_marks_nothing(api, learner, payload):
    unread = notify(learner, "Unread")

    response = api.post("/api/v1/notifications/mark-read", payload)

    assert response.status_code == 400
    unread.refresh_from_db()
    assert unread.read_at is None


# --- certifications ---------------------------------------------------------------------------


def test_certifications_are_listed_with_their_domains_and_weights(api):
    certification_build(
        slug="aws-ccp",
        name="AWS Cloud Practitioner",
        domains={"cloud-concepts": 24, "security": 30, "technology": 34, "billing": 12},
    )

    response = api.get("/api/v1/certifications")

    assert response.status_code == 200
    (cert,) = response.json()["results"]
    assert cert["slug"] == "aws-ccp"
    assert cert["url"] == "http://testserver/api/v1/certifications/aws-ccp"
    assert cert["passing_score"] == 70
    assert [(d["slug"], d["weight"]) for d in cert["domains"]] == [
        ("cloud-concepts", 24),
        ("security", 30),
        ("technology", 34),
        ("billing", 12),
    ]


def test_one_certification_by_slug(api):
    certification_build(slug="aws-ccp", name="AWS Cloud Practitioner")

    response = api.get("/api/v1/certifications/aws-ccp")

    assert response.status_code == 200
    assert response.json()["name"] == "AWS Cloud Practitioner"
    assert [d["slug"] for d in response.json()["domains"]] == ["alpha", "beta"]
    assert api.get("/api/v1/certifications/nope").status_code == 404


def test_certifications_are_read_only(api):
    certification_build(slug="aws-ccp")

    assert api.post("/api/v1/certifications", {"slug": "x"}).status_code == 405
    assert api.delete("/api/v1/certifications/aws-ccp").status_code == 405


def test_certifications_need_credentials():
    assert APIClient().get("/api/v1/certifications").status_code == 401
