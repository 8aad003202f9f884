"""Who may see which learner-owned row: the one place portal views and the API ask.

A learner sees only their own rows (and, for videos, only those staff have not
hidden). Anything else is "not found", never "forbidden", so ids reveal nothing
about what exists. Every view and API endpoint that takes an id from the URL or
a form goes through `owned_or_404` (or filters with `owned_by`).
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from presgen.models import User

M = TypeVar("M", bound=Model)

# model label -> lookup path from the model to its owning learner ("learner" if absent)
_OWNER_PATHS: dict[str, str] = {
    "library.playlistitem": "playlist__learner",
    "library.domainscore": "assessment__learner",
    "videos.generationattempt": "job__learner",
}
# model label -> what else a row must satisfy for its learner to see it
_VISIBLE_TO_LEARNER: dict[str, Q] = {
    "videos.video": Q(hidden=False),
}


def owner_path(model: type[Model]) -> str:
    return _OWNER_PATHS.get(model._meta.label_lower, "learner")


def owned_by(
    rows: QuerySet[M] | type[M], *, user: User | AnonymousUser, learner: User | None = None
) -> QuerySet[M]:
    """The rows of `rows` that `user` may see as their owner's.

    `learner` is whose rows to look at; it defaults to `user`. Acting for another
    learner is allowed only to a staff-scoped caller (`user.is_staff`), which is how
    an assessment service posts results for any learner; anyone else gets nothing.
    """
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    if not user.is_authenticated:
        return queryset.none()
    subject = learner if learner is not None else user
    if subject.pk != user.pk and not user.is_staff:
        return queryset.none()
    label = queryset.model._meta.label_lower
    queryset = queryset.filter(**{owner_path(queryset.model): subject})
    visible = _VISIBLE_TO_LEARNER.get(label)
    return queryset.filter(visible) if visible is not None else queryset


def owned_or_404(
    rows: QuerySet[M] | type[M],
    *,
    user: User | AnonymousUser,
    learner: User | None = None,
    **lookup: object,
) -> M:
    """The one row matching `lookup` that `user` may see, or Http404 (also for anonymous users)."""
    try:
        return owned_by(rows, user=user, learner=learner).get(**lookup)
    except (ObjectDoesNotExist, MultipleObjectsReturned, ValueError, TypeError) as error:
        # ValueError/TypeError: a malformed id from a URL or a form is simply not found
        raise Http404("Not found.") from error
