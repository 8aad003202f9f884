"""API tokens for the PresGen-Avatar API: `Authorization: Bearer <key>` (or DRF's `Token <key>`)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, also under the `Bearer` keyword PresGen-Avatar clients send."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        auth = get_authorization_header(request).split()
        if auth and auth[0].lower() == b"token":
            return TokenAuthentication().authenticate(request)
        return super().authenticate(request)
