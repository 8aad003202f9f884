"""One JSON shape for every API error, and the exceptions the API raises itself.

    {"error": {"status": 400, "code": "invalid", "message": "...",
               "fields": {"domain_scores[1].score": ["Ensure this value is ..."]}}}

`fields` is empty unless the input had field errors. A 401 carries WWW-Authenticate,
a 429 carries Retry-After (whole seconds). Bad input is never a 500: Django's
Http404, PermissionDenied, ValidationError, SuspiciousOperation and a value the
database refuses (DataError) all map to 4xx answers in this shape.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from presgen.api.conventions import api_conventions_apply

log = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is valid but the resource's state does not allow it (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    """Well-formed, but not something the API can do (422), e.g. a reused Idempotency-Key."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail flattened to {"a.b[0].c": ["message", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"
            elif key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
                name = prefix  # a nested object's own errors belong to the object
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(field_errors(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            if detail:
                flat.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    flat.update(field_errors(item, f"{prefix}[{index}]"))
    elif detail is not None:
        flat.setdefault(prefix, []).append(str(detail))
    return flat


def error_body(
    *, status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "fields": fields or {},
        }
    }


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    detail = exc.detail
    non_field_key = api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, dict):
        general = [str(m) for m in detail.get(non_field_key, [])]
        fields = field_errors({k: v for k, v in detail.items() if k != non_field_key})
    else:
        general = [str(m) for m in field_errors(detail).get("", [])]
        fields = {}
    if general:
        message = " ".join(general)
    elif fields:
        message = "Some fields are not valid: " + ", ".join(fields) + "."
    else:
        message = "Invalid input."
    return error_body(status_code=400, code="invalid", message=message, fields=fields)


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(str(exc) or "Bad request.")
    if isinstance(exc, DataError):
        # A value the database refuses (out of range, a NUL byte on PostgreSQL) is bad
        # input that validation should have caught: answer 400 and leave a trace.
        log.warning("database refused a value from an API request: %s", exc)
        return exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["A value in the request cannot be stored."]}
        )
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error in the one shape above."""
    if not api_conventions_apply(context.get("view")):
        return drf_exception_handler(exc, context)
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        return None  # a real bug: Django's 500 handling logs it with its traceback
    headers: dict[str, str] = {}
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if isinstance(api_exc, exceptions.Throttled):
        headers["Retry-After"] = str(max(1, math.ceil(getattr(api_exc, "wait", None) or 1)))
    if isinstance(api_exc, exceptions.ValidationError):
        body = _validation_body(api_exc)
    else:
        detail = api_exc.detail
        code = getattr(detail, "code", None) or api_exc.default_code
        message = str(api_exc.default_detail) if isinstance(detail, dict | list) else str(detail)
        fields = field_errors(detail) if isinstance(detail, dict) else {}
        body = error_body(
            status_code=api_exc.status_code, code=str(code), message=message, fields=fields
        )
    set_rollback()
    return Response(body, status=api_exc.status_code, headers=headers)


# --- the schema of the error shape ------------------------------------------------


class ApiErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="the HTTP status, repeated")
    code = serializers.CharField(help_text="machine-readable: invalid, not_found, throttled...")
    message = serializers.CharField(help_text="for people")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text='field errors by field path, e.g. {"domain_scores[0].score": ["..."]}',
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorBodySerializer()


ERROR_DESCRIPTIONS = {
    400: "Bad input (field errors in `error.fields`), malformed JSON or a bad header",
    401: "No credentials, or an invalid or revoked token",
    403: "Authenticated but not allowed (e.g. a staff-only endpoint)",
    404: "Not found, or not yours (another learner's object is answered as missing)",
    405: "Method not allowed",
    409: "The object's state does not allow this, or the request is already in flight",
    415: "The body must be JSON (Content-Type: application/json)",
    422: "The Idempotency-Key was already used with a different request",
    429: "Too many requests; retry after the number of seconds in Retry-After",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`@extend_schema(responses={200: X, **error_responses(400, 404)})`."""
    return {
        code: OpenApiResponse(response=ApiErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL under /api/ that matches no route is answered in JSON too."""
    if request.path.startswith("/api/v1/avatar/"):
        return JsonResponse({"detail": "Not found."}, status=404)  # that API's own shape
    if request.path.startswith("/api/"):
        body = error_body(status_code=404, code="not_found", message="No such API endpoint.")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)
