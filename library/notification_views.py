"""The learner's notifications page and the forms that mark notifications read.

Thin views over library.inbox. A notification id from the URL answers for its
owner only: another learner's notification is a 404, never a 403. Marking read
is a POST; it redirects to a same-site `next`, else to the notification's own
link, else back to the list. Links that lead off the site are never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from library.inbox import notification_list, notification_mark_read, notification_unread_count
from library.models import Notification
from presgen.models import User
from presgen.ownership import owned_or_404

PAGE_SIZE = 20


@dataclass(frozen=True)
class NotificationRow:
    notification: Notification
    link: str  # the notification's url when it is same-site, else ""

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def _learner(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required: never anonymous here


def _same_site(request: HttpRequest, url: str) -> str:
    """`url` if it stays on this site, else ""."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    unread_only = request.GET.get("show") == "unread"
    paginator = Paginator(notification_list(learner=learner, unread_only=unread_only), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [NotificationRow(n, _same_site(request, n.url)) for n in page.object_list]
    return render(
        request,
        "library/notifications.html",
        {
            "page": page,
            "rows": rows,
            "unread_only": unread_only,
            "unread_count": notification_unread_count(learner=learner),
        },
    )


@login_required
@require_POST
def notification_read_view(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Mark one notification read, then go to `next`, or its link, or the list."""
    notification = owned_or_404(Notification, user=request.user, pk=pk)
    notification_mark_read(learner=_learner(request), notification_ids=[notification.pk])
    requested = request.POST.get("next") or request.GET.get("next") or ""
    if requested:
        # An off-site `next` is ignored rather than followed: back to the list.
        return redirect(_same_site(request, requested) or reverse("notifications:list"))
    return redirect(_same_site(request, notification.url) or reverse("notifications:list"))


@login_required
@require_POST
def notification_read_all_view(request: HttpRequest) -> HttpResponseRedirect:
    changed = notification_mark_read(learner=_learner(request))
    if changed:
        noun = "notification" if changed == 1 else "notifications"
        messages.success(request, f"Marked {changed} {noun} as read.")
    else:
        messages.info(request, "You have no unread notifications.")
    return redirect("notifications:list")
