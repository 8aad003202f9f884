"""Sign-in with a limit on failed attempts, so passwords cannot be guessed at speed.

Failures are counted in the cache per (client address, username) and per
username from anywhere, for every sign-in form (from authenticate()'s signals).
Past the limit the form is refused with 429 and the password is not even
checked until the window has passed; a successful sign-in clears the count for
that address and username.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse


def _key(*parts: str) -> str:
    # Usernames are user input: hash them so any text makes a valid, bounded cache key.
    digest = hashlib.sha256("\x00".join(parts).lower().encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def login_failures_forget(*, username: str) -> None:
    """Drop the per-username failure count (an erased account leaves nothing behind)."""
    cache.delete(_key("user", username))


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


def locked_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (
        f"Too many failed sign-in attempts. Please try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}, or reset your password."
    )


@receiver(user_login_failed)
def _failure_counted(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kw: object
) -> None:
    # Every sign-in form (the portal's and the admin's) authenticates with the request.
    if request is not None:
        login_failure_record(request=request, username=str(credentials.get("username", "")))


@receiver(user_logged_in)
def _failures_cleared(
    sender: object, request: HttpRequest | None, user: object, **kw: object
) -> None:
    if request is not None:
        login_failures_clear(request=request, username=user.get_username())  # type: ignore[attr-defined]


def login_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """While an address+username is locked, a sign-in POST is answered 429 without checking it."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method == "POST":
            wait = login_locked_for(
                request=request, username=request.POST.get("username", "")[:150]
            )
            if wait:
                messages.error(request, locked_message(wait))
                request.method = "GET"  # show the form again, with the message
                response = view(request, *args, **kwargs)
                response.status_code = 429
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapped


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        wait = login_locked_for(request=request, username=username)
        if wait:
            form = self.get_form()
            form.add_error(None, locked_message(wait))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)
