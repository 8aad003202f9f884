"""Sign-in with a limit on failed attempts, so passwords cannot be guessed at speed.

Failures are counted in the cache per (client address, username) and per
username from anywhere. Past the limit the form is refused with 429 and the
password is not even checked until the window has passed; a successful sign-in
clears the count for that address and username.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def _key(*parts: str) -> str:
    # Usernames are user input: hash them so any text makes a valid, bounded cache key.
    digest = hashlib.sha256("\x00".join(parts).lower().encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    address = request.META.get("REMOTE_ADDR", "")
    return [
        (_key("pair", address, username), settings.LOGIN_MAX_FAILURES),
        (_key("user", username), settings.LOGIN_MAX_FAILURES_PER_USER),
    ]


def login_locked_for(*, request: HttpRequest, username: str) -> int:
    """Seconds until this address may try this username again; 0 when it may now."""
    now = time.time()
    waits = []
    for key, limit in _keys(request, username):
        failures, first_at = cache.get(key, (0, now))
        if failures >= limit:
            waits.append(first_at + settings.LOGIN_LOCKOUT_SECONDS - now)
    return max(0, math.ceil(max(waits, default=0)))


def login_failure_record(*, request: HttpRequest, username: str) -> None:
    now = time.time()
    window = settings.LOGIN_LOCKOUT_SECONDS
    for key, _limit in _keys(request, username):
        failures, first_at = cache.get(key, (0, now))
        if now - first_at >= window:
            failures, first_at = 0, now
        cache.set(key, (failures + 1, first_at), timeout=math.ceil(first_at + window - now))


def login_failures_clear(*, request: HttpRequest, username: str) -> None:
    cache.delete(_keys(request, username)[0][0])


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        wait = login_locked_for(request=request, username=username)
        if wait:
            form = self.get_form()
            minutes = max(1, math.ceil(wait / 60))
            form.add_error(
                None,
                f"Too many failed sign-in attempts. Please try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password.",
            )
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        login_failure_record(request=self.request, username=self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        login_failures_clear(request=self.request, username=form.get_user().get_username())
        return super().form_valid(form)
