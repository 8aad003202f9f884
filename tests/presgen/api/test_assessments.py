"""POST /api/v1/assessments plans a series; GET lists and shows them with their jobs."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from library.models import Assessment, DomainScore
from tests.builders import assessment_build, certification_build
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments"


def _payload(**changes):
    payload = {
        "certification": "cloud-101",
        "overall_score": 62.5,
        "domain_scores": [
            {"domain": "compute", "score": 85},
            {"domain": "networking", "score": 41.5},
            {"domain": "security", "score": "58"},
        ],
    }
    payload.update(changes)
    return payload


def test_posting_an_assessment_stores_it_and_plans_the_series(
    api, learner, cert, rq_queues, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, _payload(external_id="lms-attempt-17"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assessment = Assessment.objects.get()
    assert body["id"] == assessment.pk and body["learner"] == learner.pk
    assert body["certification"] == "cloud-101" and body["overall_score"] == 62.5
    assert body["external_id"] == "lms-attempt-17" and body["source"] == "api"
    assert body["passed"] is False
    assert {d["domain"]: d["score"] for d in body["domain_scores"]} == {
        "compute": 85,
        "networking": 41.5,
        "security": 58,
    }
    assert assessment.domain_scores.count() == 3
    # The series: an overview first, remediation of the two domains below 70%, ...
    planned = [(j["video_type"], j["parameters"].get("domain")) for j in body["jobs"]]
    assert planned[0] == ("overview", None)
    assert ("remediation", "networking") in planned and ("remediation", "security") in planned
    assert ("remediation", "compute") not in planned
    assert ("motivational", None) in planned and ("exam_prep", None) in planned
    assert all(j["status"] == "queued" and j["progress"] == 0 for j in body["jobs"])
    jobs = VideoJob.objects.filter(learner=learner, assessment=assessment)
    assert sorted(j["id"] for j in body["jobs"]) == sorted(jobs.values_list("pk", flat=True))
    # ...queued on Redis once committed (only ids travel; no worker runs here).
    queued = [job for queue in rq_queues.values() for job in queue.jobs]
    assert sorted(job.args[0] for job in queued) == sorted(j["id"] for j in body["jobs"])


def test_taken_at_defaults_to_now_and_can_be_given(api, cert):
    before = timezone.now()
    first = api.post(URL, _payload(), format="json").json()
    taken = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    second = api.post(URL, _payload(taken_at=taken.isoformat()), format="json").json()

    assert parse_datetime(first["taken_at"]) >= before
    assert parse_datetime(second["taken_at"]) == taken


def test_profile_fields_update_the_learner(api, learner, cert):
    response = api.post(
        URL,
        _payload(
            experience_level="5-10",
            learning_styles=["visual", "hands_on", "visual"],
            preferred_pace="fast",
        ),
        format="json",
    )

    assert response.status_code == 201
    learner.refresh_from_db()
    assert learner.experience_level == "5-10"
    assert learner.learning_styles == ["visual", "hands_on"]
    assert learner.preferred_pace == "fast"


def test_a_staff_service_token_posts_for_any_learner(service_api, learner, cert):
    response = service_api.post(URL, _payload(learner=learner.pk), format="json")

    assert response.status_code == 201
    assert Assessment.objects.get().learner == learner
    assert response.json()["learner"] == learner.pk


def test_a_learner_token_may_name_itself(api, learner, cert):
    assert api.post(URL, _payload(learner=learner.pk), format="json").status_code == 201


def test_a_learner_token_acting_for_another_learner_is_404(api, other_learner, cert):
    response = api.post(URL, _payload(learner=other_learner.pk), format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Assessment.objects.exists() and not VideoJob.objects.exists()


def test_a_learner_scoped_token_of_a_staff_user_acts_only_for_itself(
    token_client, staff_user, learner, cert
):
    client = token_client(staff_user, scope="learner")

    response = client.post(URL, _payload(learner=learner.pk), format="json")

    assert response.status_code == 404
    assert not Assessment.objects.exists()


def test_a_staff_service_naming_an_unknown_learner_is_404(service_api, cert):
    response = service_api.post(URL, _payload(learner=987654), format="json")

    assert response.status_code == 404
    assert not Assessment.objects.exists()


def test_the_same_external_id_twice_is_a_conflict(api, cert):
    assert api.post(URL, _payload(external_id="x-1"), format="json").status_code == 201

    response = api.post(URL, _payload(external_id="x-1"), format="json")

    assert response.status_code == 409
    assert "x-1" in response.json()["error"]["message"]
    assert Assessment.objects.count() == 1


def test_scores_are_rounded_to_two_places(api, cert):
    response = api.post(URL, _payload(overall_score=66.666), format="json")

    assert response.status_code == 201
    assert Assessment.objects.get().overall_score == Decimal("66.67")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"certification": "no-such-cert"}, "certification"),
        ({"certification": None}, "certification"),
        ({"overall_score": 100.5}, "overall_score"),
        ({"overall_score": -1}, "overall_score"),
        ({"overall_score": "lots"}, "overall_score"),
        ({"overall_score": True}, "overall_score"),
        ({"overall_score": 1e300}, "overall_score"),
        ({"overall_score": "9" * 5000}, "overall_score"),
        ({"domain_scores": []}, "domain_scores"),
        ({"domain_scores": "compute=80"}, "domain_scores"),
        ({"domain_scores": [{"domain": "compute", "score": 101}]}, "domain_scores[0].score"),
        ({"domain_scores": [{"domain": "compute"}]}, "domain_scores[0].score"),
        ({"domain_scores": [{"domain": "cooking", "score": 50}]}, "domain_scores[0].domain"),
        (
            {
                "domain_scores": [
                    {"domain": "compute", "score": 50},
                    {"domain": "compute", "score": 60},
                ]
            },
            "domain_scores[1].domain",
        ),
        ({"taken_at": "yesterday"}, "taken_at"),
        ({"taken_at": "2999-01-01T00:00:00Z"}, "taken_at"),
        ({"taken_at": "0001-01-01T00:00:00+05:00"}, "taken_at"),
        ({"external_id": "abc\x00def"}, "external_id"),
        ({"external_id": "abc\ud800def"}, "external_id"),
        ({"external_id": "x" * 201}, "external_id"),
        ({"learning_styles": ["telepathy"]}, "learning_styles[0]"),
        ({"experience_level": "forever"}, "experience_level"),
        ({"learner": "me"}, "learner"),
        ({"learner": 10**30}, "learner"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    api, learner, cert, changes, field
):
    # json.dumps writes a lone surrogate as the escape "\\ud800", as a client would.
    body = json.dumps(_payload(**changes))
    response = api.generic("POST", URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["status"] == 400
    assert field in error["fields"], error
    assert not Assessment.objects.exists() and not VideoJob.objects.exists()
    learner.refresh_from_db()
    assert learner.experience_level == "1-3"


def test_a_domain_of_another_certification_is_refused(api, cert):
    certification_build(slug="other", domains={"cooking": 100})

    response = api.post(
        URL, _payload(domain_scores=[{"domain": "cooking", "score": 50}]), format="json"
    )

    assert response.status_code == 400
    assert "compute, networking, security" in str(response.json()["error"]["fields"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"certification": "cloud-101",', "application/json", 400, "parse_error"),
        (b"\xff\xfe\x00", "application/json", 400, "parse_error"),
        (b"[1, 2, 3]", "application/json", 400, "invalid"),
        (b'"just a string"', "application/json", 400, "invalid"),
        (b"NaN", "application/json", 400, "parse_error"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "parse_error"),
        (b"certification=cloud-101", "application/x-www-form-urlencoded", 415, None),
        (b"<xml/>", "text/xml", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_are_4xx_never_500(api, cert, body, content_type, status, code):
    response = api.generic("POST", URL, body, content_type=content_type)

    assert response.status_code == status
    assert response.json()["error"]["status"] == status
    if code:
        assert response.json()["error"]["code"] == code
    assert not Assessment.objects.exists()


# --- reading -------------------------------------------------------------------------------


def _assessment(learner, cert, **fields):
    return assessment_build(
        learner=learner, certification=cert, scores={"compute": 80, "networking": 40}, **fields
    )


def test_list_shows_only_the_callers_assessments_newest_first(api, learner, other_learner, cert):
    old = _assessment(learner, cert, taken_at=timezone.now() - timedelta(days=3))
    new = _assessment(learner, cert)
    _assessment(other_learner, cert)

    body = api.get(URL).json()

    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [new.pk, old.pk]


def test_list_filters_by_certification(api, learner, cert):
    other = certification_build(slug="other", domains={"compute": 100})
    mine = _assessment(learner, cert)
    assessment_build(learner=learner, certification=other, scores={"compute": 50})

    body = api.get(URL, {"certification": "cloud-101"}).json()

    assert [a["id"] for a in body["results"]] == [mine.pk]


def test_a_staff_service_lists_everyones_or_one_learners(service_api, learner, other_learner, cert):
    a = _assessment(learner, cert)
    b = _assessment(other_learner, cert)

    everyone = service_api.get(URL).json()
    one = service_api.get(URL, {"learner": learner.pk}).json()

    assert {x["id"] for x in everyone["results"]} == {a.pk, b.pk}
    assert [x["id"] for x in one["results"]] == [a.pk]


def test_a_learner_listing_another_learners_is_404(api, other_learner, cert):
    _assessment(other_learner, cert)

    assert api.get(URL, {"learner": other_learner.pk}).status_code == 404


def test_detail_shows_the_domain_scores_and_planned_jobs(api, learner, cert):
    created = api.post(URL, _payload(), format="json").json()

    body = api.get(f"{URL}/{created['id']}").json()

    assert body["domain_scores"] == created["domain_scores"]
    assert sorted(j["id"] for j in body["jobs"]) == sorted(j["id"] for j in created["jobs"])
    assert body["jobs"][0]["video_type"] == "overview"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_learners_assessment_is_404_for_every_method(api, other_learner, cert, method):
    theirs = _assessment(other_learner, cert)

    response = getattr(api, method)(f"{URL}/{theirs.pk}", {}, format="json")

    assert response.status_code in (404, 405)
    if method == "get":
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert Assessment.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("pk", ["999999", "abc", "-1", "99999999999999999999999"])
def test_unknown_ids_are_404(api, pk):
    assert api.get(f"{URL}/{pk}").status_code == 404


def test_assessments_cannot_be_changed_or_deleted(api, learner, cert):
    mine = _assessment(learner, cert)

    assert api.put(f"{URL}/{mine.pk}", {}, format="json").status_code == 405
    response = api.delete(f"{URL}/{mine.pk}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert DomainScore.objects.filter(assessment=mine).count() == 2


def _assessments_with_jobs(learner, cert, count):
    domains = list(cert.domains.all())
    for _ in range(count):
        assessment = Assessment.objects.create(
            learner=learner, certification=cert, overall_score=50, taken_at=timezone.now()
        )
        DomainScore.objects.bulk_create(
            DomainScore(assessment=assessment, domain=d, score=50) for d in domains
        )
        VideoJob.objects.bulk_create(
            VideoJob(learner=learner, assessment=assessment, video_type=t, priority=1)
            for t in ("overview", "motivational")
        )


def test_the_list_uses_as_many_queries_for_60_assessments_as_for_3(
    api, learner, other_learner, cert, token_client
):
    _assessments_with_jobs(learner, cert, 3)
    _assessments_with_jobs(other_learner, cert, 60)
    other_api = token_client(other_learner)
    counts = []
    for client in (api, other_api):
        client.get(URL)  # first use of each token records it (once a minute at most)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": 100})
        counts.append((len(queries), response.json()["count"]))

    assert counts[0][1] == 3 and counts[1][1] == 60
    assert counts[0][0] == counts[1][0]
