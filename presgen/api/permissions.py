"""Who an API request acts for, and the staff scope: the API's one place for both.

Object-level checks are `presgen.ownership.owned_by` / `owned_or_404` applied to
`api_learner(request)`: another learner's object is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from presgen.models import User
from presgen.ownership import owned_by

M = TypeVar("M", bound=Model)

STAFF_SCOPE = "staff"
LEARNER_SCOPE = "learner"


def request_scope(request: Request) -> str:
    """The caller's scope: a token's own scope, or for a session the user's role."""
    user = cast(User, request.user)
    token_scope = getattr(request.auth, "scope", None)
    if token_scope is not None:
        # A learner-scoped token of a staff user is still only a learner token.
        return STAFF_SCOPE if token_scope == STAFF_SCOPE and user.is_staff else LEARNER_SCOPE
    return STAFF_SCOPE if user.is_authenticated and user.is_staff else LEARNER_SCOPE


def is_staff_scope(request: Request) -> bool:
    return request.user.is_authenticated and request_scope(request) == STAFF_SCOPE


def api_learner(request: Request, *, learner_id: Any = None) -> User:
    """The learner this request acts for.

    A staff-scoped caller (a service token, e.g. the assessment service) may name any
    learner with `learner_id`; anyone else acts only for themselves, and naming another
    learner is a 404 as if that learner did not exist.
    """
    user = cast(User, request.user)
    if learner_id in (None, ""):
        return user
    if not is_staff_scope(request):
        if str(learner_id) == str(user.pk):
            return user
        raise Http404("No such learner.")
    try:
        return User.objects.get(pk=int(learner_id), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        raise Http404("No such learner.") from None


class StaffScope(BasePermission):
    """Staff-only endpoints: a staff session or a staff-scoped token."""

    message = "This endpoint is for staff."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_scope(request)


def api_rows(
    request: Request, rows: QuerySet[M] | type[M], *, learner_id: Any = None
) -> QuerySet[M]:
    """The learner-owned rows this request may see.

    A staff-scoped caller sees every learner's rows, or only one learner's when it names
    `learner_id`; anyone else sees only their own (naming another learner is a 404).
    """
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    if learner_id in (None, "") and is_staff_scope(request):
        return queryset
    return owned_by(
        queryset, user=request.user, learner=api_learner(request, learner_id=learner_id)
    )


def api_object_or_404(
    request: Request, rows: QuerySet[M] | type[M], *, learner_id: Any = None, **lookup: object
) -> M:
    """The one row matching `lookup` among `api_rows(...)`, or Http404 (never a 403)."""
    try:
        return api_rows(request, rows, learner_id=learner_id).get(**lookup)
    except (ObjectDoesNotExist, MultipleObjectsReturned, ValueError, TypeError) as error:
        raise Http404("Not found.") from error
