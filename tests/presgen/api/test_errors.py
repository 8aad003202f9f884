"""One JSON error shape for every API error; throttling answers 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.test import APIClient

from presgen.api.errors import api_exception_handler, field_errors
from tests.presgen.test_settings import settings_load

pytestmark = pytest.mark.django_db

ASSESSMENT = {
    "certification": "cloud-101",
    "overall_score": 70,
    "domain_scores": [{"domain": "compute", "score": 70}],
}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Http404("gone"), 404, "not_found"),
        (PermissionDenied(), 403, "permission_denied"),
        (exceptions.ParseError(), 400, "parse_error"),
        (exceptions.MethodNotAllowed("PATCH"), 405, "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/xml"), 415, "unsupported_media_type"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (ValidationError({"name": ["too long"]}), 400, "invalid"),
        (ValidationError("nope"), 400, "invalid"),
        (SuspiciousOperation("too many fields"), 400, "parse_error"),
        (DataError("value out of range"), 400, "invalid"),
    ],
)
def test_every_error_has_the_one_shape(exc, status, code):
    response = api_exception_handler(exc, {"view": None})

    assert response.status_code == status
    error = response.data["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert error["status"] == status and error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def test_an_unexpected_exception_is_left_to_djangos_500_handling():
    assert api_exception_handler(ZeroDivisionError(), {"view": None}) is None


def test_field_errors_are_flattened_to_paths():
    detail = {
        "overall_score": ["too high"],
        "domain_scores": {1: {"score": ["not a number"]}},
        "parameters": {"non_field_errors": ["expected an object"]},
        "learning_styles": [[], ["unknown"]],
    }

    assert field_errors(detail) == {
        "overall_score": ["too high"],
        "domain_scores[1].score": ["not a number"],
        "parameters": ["expected an object"],
        "learning_styles[1]": ["unknown"],
    }


def test_a_validation_error_names_the_fields_in_its_message(api, cert):
    response = api.post("/api/v1/assessments", {"overall_score": 70}, format="json")

    error = response.json()["error"]
    assert response.status_code == 400
    assert set(error["fields"]) == {"certification", "domain_scores"}
    assert "certification" in error["message"] and "domain_scores" in error["message"]


def test_unknown_api_paths_are_404(api):
    assert api.get("/api/v1/jobs/1/explode").status_code == 404


# --- throttling -----------------------------------------------------------------------------


@pytest.fixture
def strict_create_rate(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "create": "2/minute"}


def test_creating_assessments_is_limited_with_retry_after(api, cert, strict_create_rate):
    answers = [api.post("/api/v1/assessments", ASSESSMENT, format="json") for _ in range(3)]

    assert [r.status_code for r in answers] == [201, 201, 429]
    throttled = answers[-1]
    assert throttled.json()["error"]["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 60
    # Reading is not the expensive part: still allowed.
    assert api.get("/api/v1/assessments").status_code == 200


def test_creating_jobs_shares_the_create_rate(api, cert, strict_create_rate):
    body = {"video_type": "introduction"}
    codes = [api.post("/api/v1/jobs", body, format="json").status_code for _ in range(3)]

    assert codes == [201, 201, 429]


def test_the_create_rate_is_per_user(api, other_api, cert, strict_create_rate):
    for _ in range(2):
        api.post("/api/v1/assessments", ASSESSMENT, format="json")

    assert api.post("/api/v1/assessments", ASSESSMENT, format="json").status_code == 429
    assert other_api.post("/api/v1/assessments", ASSESSMENT, format="json").status_code == 201


def test_every_request_counts_toward_the_user_rate(api, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/hour"}

    codes = [api.get("/api/v1/jobs").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


def test_anonymous_callers_have_their_own_rate_on_public_pages(db, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "2/hour"}
    client = APIClient()

    codes = [client.get("/api/schema/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_the_avatar_api_keeps_its_own_error_contract(db):
    response = APIClient().get("/api/v1/avatar/voices")

    assert response.status_code == 401
    assert "detail" in response.json() and "error" not in response.json()


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "0/hour", "-5/minute"])
def test_a_bad_rate_in_the_environment_stops_start_up_with_a_clear_message(tmp_path, rate):
    result = settings_load(tmp_path, DEBUG="1", API_THROTTLE_CREATE=rate)

    assert result.returncode != 0
    assert "API_THROTTLE_CREATE must look like 120/hour" in result.stderr


def test_rates_come_from_the_environment(tmp_path):
    result = settings_load(tmp_path, DEBUG="1", API_THROTTLE_CREATE="30/minute")

    assert result.returncode == 0, result.stderr
