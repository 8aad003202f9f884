"""Property-based tests of every operation in the OpenAPI schema (schemathesis).

The schema is loaded from the app itself (/api/schema/); every operation is called
with generated requests, authenticated: a learner token for the learner endpoints,
a staff-scoped token for the staff-only ones and a DRF token for the
PresGen-Avatar-compatible API. Every answer must be no 5xx, a declared status code,
a declared content type, and a body matching its schema. Nothing renders: jobs are
queued only on commit, and each test runs inside a transaction that never commits.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from library.models import Assessment, DomainScore, Notification, Playlist, PlaylistItem
from presgen.api.tokens import api_token_create
from presgen.models import User
from tests.builders import certification_build, user_build, video_build, video_job_build
from videos.models import JobStatus

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
STAFF_PATHS = ("/api/v1/providers", "/api/v1/metrics")
AVATAR_PATHS = ("/api/v1/avatar/",)


class Keys:
    learner = ""
    staff = ""
    avatar = ""


class Known:
    """Ids and slugs of objects that exist, by the path they appear in."""

    ids: dict[str, object] = {}


# Loaded from the app itself at collection (pytest-django has set Django up by then);
# one test per operation. (schemathesis's lazy `from_fixture` loader does not work
# with pytest 9's node ids, so the schema is loaded eagerly.)
_turn = itertools.count()


def _known_objects(case) -> None:
    """Every other case names objects that exist, so the paths past "not found" run too."""
    if next(_turn) % 2:
        return
    for name in list(case.path_parameters or {}):
        prefix = next((p for p in Known.ids if case.operation.path.startswith(p)), None)
        if name == "video_id" and not case.operation.path.startswith("/api/v1/avatar/"):
            case.path_parameters[name] = Known.ids["video_id"]
        elif prefix is not None:
            case.path_parameters[name] = Known.ids[prefix]
    if isinstance(case.query, dict):
        case.query.pop("learner", None)
    if isinstance(case.body, dict):
        case.body.pop("learner", None)
        if "certification" in case.body:
            case.body["certification"] = "cloud-101"
        parameters = case.body.get("parameters")
        if isinstance(parameters, dict) and "domain" in parameters:
            parameters["domain"] = "compute"
        if isinstance(case.body.get("domain_scores"), list):
            scores = [s for s in case.body["domain_scores"] if isinstance(s, dict)][:2]
            for score, slug in zip(scores, ("compute", "networking"), strict=False):
                score["domain"] = slug
            case.body["domain_scores"] = scores


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def world(db, settings, media_root) -> Iterator[None]:
    settings.API_THROTTLE_RATES = {
        "anon": "100000/hour",
        "user": "100000/hour",
        "create": "100000/hour",
    }
    _world()
    # The WSGI handler closes "old" connections around each request, as a server must;
    # inside the test's transaction that would close the test's own connection (on
    # PostgreSQL; SQLite's in-memory test database ignores it). Django's test client
    # turns this off the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _world() -> None:
    """Objects for the generated requests to find: a learner with results and videos."""
    learner = user_build(username="fuzz-learner")
    staff = user_build(username="fuzz-staff", is_staff=True)
    cert = certification_build(slug="cloud-101", domains={"compute": 50, "networking": 50})
    assessment = Assessment.objects.create(
        learner=learner, certification=cert, overall_score=Decimal(55), taken_at=timezone.now()
    )
    for domain in cert.domains.all():
        DomainScore.objects.create(assessment=assessment, domain=domain, score=Decimal(55))
    jobs = {}
    for status in (JobStatus.QUEUED, JobStatus.FAILED, JobStatus.READY):
        jobs[status] = video_job_build(learner=learner, certification=cert, status=status)
    video = video_build(job=jobs[JobStatus.READY])
    playlist = Playlist.objects.create(learner=learner, title="Mine")
    PlaylistItem.objects.create(playlist=playlist, video=video)
    Known.ids = {
        "/api/v1/assessments/": assessment.pk,
        "/api/v1/jobs/": jobs[JobStatus.FAILED].pk,
        "/api/v1/videos/": video.pk,
        "/api/v1/playlists/": playlist.pk,
        "/api/v1/avatar/videos/": jobs[JobStatus.QUEUED].pk,
        "/api/v1/certifications/": cert.slug,
        "/api/v1/providers/": "studio",
        "video_id": video.pk,
    }
    Notification.objects.create(learner=learner, kind="info", title="Hello")
    Keys.learner = api_token_create(user=learner, name="fuzz")[1]
    Keys.staff = api_token_create(user=staff, name="fuzz", scope="staff")[1]
    Keys.avatar = Token.objects.create(user=learner).key


def _credentials(path: str) -> str:
    if path.startswith(AVATAR_PATHS):
        return f"Bearer {Keys.avatar}"
    if path.startswith(STAFF_PATHS):
        return f"Token {Keys.staff}"
    if not User.objects.filter(username="fuzz-learner").exists():
        # A generated DELETE /me removed the account: carry on with a new one.
        Keys.learner = api_token_create(user=user_build(username="fuzz-learner"), name="fuzz")[1]
    return f"Token {Keys.learner}"


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case, world):
    _known_objects(case)
    case.call_and_validate(
        headers={"Authorization": _credentials(case.operation.path)}, checks=CHECKS
    )
