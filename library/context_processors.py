"""Template context every page gets from the library app.

`notifications_unread` feeds the unread badge in the header (templates/base.html).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from library.inbox import notification_unread_count
from presgen.models import User


def notifications_unread(request: HttpRequest) -> dict[str, Any]:
    """{"notifications_unread": N} for a signed-in learner (not staff); nothing for others.

    The count is lazy: one COUNT query, run only when a template shows it (and
    at most once per render).
    """
    learner = getattr(request, "user", None)  # absent when no auth middleware ran
    if not isinstance(learner, User) or not learner.is_authenticated or learner.is_staff:
        return {}
    return {
        "notifications_unread": SimpleLazyObject(lambda: notification_unread_count(learner=learner))
    }
