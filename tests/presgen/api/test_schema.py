"""The OpenAPI schema at /api/schema/ and its docs pages (local assets only)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

INTAKE = ("/api/v1/assessments", "/api/v1/jobs")


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema, prefixes=INTAKE):
    for path, item in schema["paths"].items():
        if path.startswith(prefixes):
            for method, operation in item.items():
                yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document


def test_the_intake_endpoints_are_documented(schema):
    documented = {(path, method) for path, method, _ in _operations(schema)}

    assert documented == {
        ("/api/v1/assessments", "get"),
        ("/api/v1/assessments", "post"),
        ("/api/v1/assessments/{id}", "get"),
        ("/api/v1/jobs", "get"),
        ("/api/v1/jobs", "post"),
        ("/api/v1/jobs/{id}", "get"),
        ("/api/v1/jobs/{id}/cancel", "post"),
        ("/api/v1/jobs/{id}/retry", "post"),
    }


def test_every_operation_declares_its_error_answers_in_the_error_shape(schema):
    for path, method, operation in _operations(schema, prefixes=("/api/v1/",)):
        if path.startswith("/api/v1/avatar/"):
            continue  # the PresGen-Avatar API keeps its own contract
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429"} <= codes, (method, path, codes)
        if method in ("post", "put", "patch"):
            assert "415" in codes, (method, path)
        error = operation["responses"]["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ApiError"}
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_creates_declare_201_conflict_and_idempotency(schema):
    for path in INTAKE:
        operation = schema["paths"][path]["post"]
        assert {"201", "409", "422"} <= set(operation["responses"])
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"]
    for action in ("cancel", "retry"):
        assert {"200", "409"} <= set(
            schema["paths"][f"/api/v1/jobs/{{id}}/{action}"]["post"]["responses"]
        )


def test_lists_are_paginated_in_the_schema(schema):
    for path in INTAKE:
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"page", "page_size"} <= names
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"])


def test_the_error_shape_is_a_component(schema):
    body = schema["components"]["schemas"]["ApiErrorBody"]

    assert set(body["properties"]) == {"status", "code", "message", "fields"}


def test_token_and_bearer_security_schemes(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["apiTokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["apiTokenAuth"]["description"],
    }
    assert schemes["apiBearerAuth"]["scheme"] == "bearer"
    security = schema["paths"]["/api/v1/assessments"]["post"]["security"]
    assert {"apiTokenAuth": []} in security and {"apiBearerAuth": []} in security


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_assets(client, page):
    response = client.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    found = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Swagger UI's start-up script is served by the page itself (no inline script: CSP).
    own = [a.replace("&amp;", "&") for a in found if a.startswith(f"{page}?")]
    assets = [a for a in found if not a.startswith(f"{page}?")]
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert "https://" not in html and "http://" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), "inline script"
    scripts = "".join(client.get(url).content.decode() for url in own)
    assert "/api/schema/" in html + scripts
    for asset in assets:  # vendored in the sidecar package, collected with the static files
        assert finders.find(asset.removeprefix("/static/")) is not None, asset
