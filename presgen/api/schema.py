"""The OpenAPI schema's view class: every PresGen API operation declares its error answers.

Views declare their success and specific error codes with @extend_schema; this
adds the codes any operation can answer with the common error shape (bad input,
no or bad credentials, not allowed, not found, wrong content type, throttled),
so the schema matches what the API does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from presgen.api.conventions import api_conventions_apply
from presgen.api.errors import ERROR_DESCRIPTIONS, ApiErrorSerializer

BODY_METHODS = {"POST", "PUT", "PATCH"}


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[int]:
        codes = [400, 404]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += [401, 403]
        if self.method in BODY_METHODS:
            codes.append(415)
        if self.view.get_throttles():
            codes.append(429)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if not api_conventions_apply(self.view):
            return self._drf_error_responses(responses)
        for code in self._error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ApiErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    str(code),
                    direction=direction,
                )
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 1},
                "description": "seconds to wait before trying again",
            }
        if "401" in responses:
            responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
                "schema": {"type": "string"},
                "description": "how to authenticate",
            }
        return dict(sorted(responses.items()))

    def _drf_error_responses(self, responses: dict[str, Any]) -> dict[str, Any]:
        """Views with their own contract answer errors in DRF's default bodies: say so."""
        detail = {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        }
        codes: dict[str, tuple[dict[str, Any], str]] = {}
        if self.method in BODY_METHODS:
            invalid = {"type": "object", "additionalProperties": True}
            codes["400"] = (invalid, "Bad input: errors by field name")
            codes["415"] = (detail, ERROR_DESCRIPTIONS[415])
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes["401"] = (detail, ERROR_DESCRIPTIONS[401])
            codes["403"] = (detail, ERROR_DESCRIPTIONS[403])
        if "{" in self.path:
            codes["404"] = (detail, ERROR_DESCRIPTIONS[404])
        for code, (schema, description) in codes.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": schema}},
                    "description": description,
                }
        return dict(sorted(responses.items()))
