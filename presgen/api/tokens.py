"""API tokens: made with the plain key shown once, stored as a SHA-256 digest, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from presgen.models import ApiToken, ApiTokenScope, User

KEY_PREFIX = "pgk_"  # recognisable in logs and by secret scanners
# A token's last use is written at most this often (not on every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenError(ValueError):
    """A token that cannot be made; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def api_key_hash(*, key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_masked(*, token: ApiToken) -> str:
    return f"{token.key_prefix}…"


def api_token_scope_check(*, user: User, scope: str) -> None:
    if scope not in ApiTokenScope.values:
        raise ApiTokenError(
            f"scope must be one of {', '.join(ApiTokenScope.values)}; got {scope!r}", field="scope"
        )
    if scope == ApiTokenScope.STAFF and not user.is_staff:
        raise ApiTokenError(
            f"{user.username} is not staff: a staff-scoped token needs a staff user",
            field="scope",
        )


def api_token_create(
    *, user: User, name: str, scope: str = ApiTokenScope.LEARNER
) -> tuple[ApiToken, str]:
    """A new token for `user` and its plain key (returned only here, never stored)."""
    api_token_scope_check(user=user, scope=scope)
    name = name.strip()
    if not name:
        raise ApiTokenError("give the token a name (what will use it)", field="name")
    token = ApiToken(user=user, name=name[:100], scope=scope)
    key = api_token_key_assign(token=token)
    token.save()
    return token, key


def api_token_key_assign(*, token: ApiToken) -> str:
    """Give an unsaved token a fresh key; returns the plain key (only its digest is kept)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token.key_prefix = key[: len(KEY_PREFIX) + 6]
    token.key_hash = api_key_hash(key=key)
    return key


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke a token; False if it already was."""
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked=False).update(
            revoked=True, revoked_at=timezone.now()
        )
    token.refresh_from_db()
    return bool(changed)


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The live token with this key (its user active), noting its use; None otherwise."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_key_hash(key=key), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
