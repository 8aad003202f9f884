"""The learner's in-app notifications: what is there, how many are unread, marking them read.

Notifications are written by videos/notifications.py (a video is ready or
failed, a series is finished). The portal's notification pages and the REST
API read and mark them through these functions only.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from library.models import Notification
from presgen.models import User
from presgen.ownership import owned_by


def notification_list(*, learner: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The learner's notifications, newest first (only the unread ones if `unread_only`)."""
    notifications = owned_by(Notification, user=learner)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-pk")


def notification_unread_count(*, learner: User) -> int:
    """How many of the learner's notifications are unread (one COUNT query)."""
    return owned_by(Notification, user=learner).filter(read_at__isnull=True).count()


def notification_mark_read(*, learner: User, notification_ids: Sequence[int] | None = None) -> int:
    """Mark the learner's unread notifications read; return how many changed.

    `notification_ids` None means all of the learner's unread notifications; an
    empty sequence means none. Ids of other learners' notifications (or of none
    at all) are ignored. Notifications already read keep their first `read_at`,
    so calling this again changes nothing and returns 0.
    """
    unread = owned_by(Notification, user=learner).filter(read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
