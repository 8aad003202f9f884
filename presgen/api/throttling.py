"""Request rates: per user, per anonymous address, and stricter for expensive creates.

Rates ("120/minute", "1000/hour", ...) come from settings.API_THROTTLE_RATES (read
from the environment in settings.py) at request time, so a test's `settings`
override applies. A refused request is a 429 with Retry-After.

A view opts into the stricter "create" rate by naming its expensive actions in
`create_throttled_actions` (e.g. ("create", "retry")).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from presgen.api.conventions import api_conventions_apply


class _SettingsRateThrottle(SimpleRateThrottle):
    def __init__(self) -> None:  # the rate is read per request, not at import
        self.rate = None

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request: Request, view: Any) -> bool:
        if not api_conventions_apply(view):
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ApiAnonThrottle(_SettingsRateThrottle):
    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiUserThrottle(_SettingsRateThrottle):
    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ApiCreateThrottle(_SettingsRateThrottle):
    """The stricter rate for creating assessments and jobs (each plans real renders)."""

    scope = "create"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if getattr(view, "action", None) not in getattr(view, "create_throttled_actions", ()):
            return None
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
