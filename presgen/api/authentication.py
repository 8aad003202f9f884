"""Token authentication for other systems: `Authorization: Token <key>` or `Bearer <key>`.

`request.auth` is the ApiToken, so `presgen.api.permissions.request_scope` reads its
scope. A request without an Authorization header falls through to the next class
(the portal's session); a wrong, revoked or malformed key is a 401.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from presgen.api.tokens import api_token_for_key
from presgen.models import ApiToken, User

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Token <key>' or 'Bearer <key>'."
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = api_token_for_key(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes an unauthenticated request a 401 (with WWW-Authenticate), not a 403.
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Both spellings in the OpenAPI schema: `Token <key>` and `Bearer <key>`."""

    target_class = "presgen.api.authentication.ApiTokenAuthentication"
    name = ["apiTokenAuth", "apiBearerAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either scheme is enough (OR), not both together (AND).
        return [{"apiTokenAuth": []}, {"apiBearerAuth": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An API token as `Token <key>` (made in the admin or with "
                "`manage.py create_api_token`).",
            },
            {"type": "http", "scheme": "bearer", "description": "The same key as `Bearer <key>`."},
        ]
