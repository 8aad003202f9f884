"""`Idempotency-Key` for POSTs that create (assessments, jobs).

A client that may send a request twice (a timeout, a retry) sends the same
`Idempotency-Key` header both times:

- the first request claims the key (an INSERT the database refuses to repeat for
  the same user and key, committed on its own before the work starts, so two
  concurrent requests can never both run) and, when it succeeds, stores its
  status and body;
- a replay with the same method, path and body gets the stored response again
  (header `Idempotent-Replayed: true`), without doing the work twice;
- the same key with a different request is a 422;
- the same key while the first request is still running is a 409;
- keys are per user and expire after settings.API_IDEMPOTENCY_HOURS (24 h);
  expired rows are ignored and deleted lazily, at the next claim.

A request that fails (any error answer) releases its key, so the client may fix
the request and send it again with the same key.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from presgen.api.errors import Conflict, Unprocessable
from presgen.models import IdempotencyKey, User

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim with no response after this long is taken to be abandoned (its process
# died): the same request may then claim it again.
IN_FLIGHT_TIMEOUT = timedelta(minutes=10)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[ -~]*[!-~][ -~]*$",  # printable ASCII, not only spaces
    },
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (e.g. a UUID), at most 255 printable ASCII characters. Sending "
        "the same key with the same request within 24 h returns the first response again "
        "instead of creating twice; the same key with a different request is a 422, and "
        "while the first request is still running, a 409."
    ),
)


class ClaimOutcome(enum.Enum):
    CLAIMED = "claimed"  # this request runs and stores its response
    REPLAY = "replay"  # the stored response is the answer
    MISMATCH = "mismatch"  # the key was used for a different request
    IN_FLIGHT = "in_flight"  # the first request with this key is still running


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: IdempotencyKey


def idempotency_key_read(*, request: Request) -> str | None:
    """The request's Idempotency-Key, None without one; a malformed key is a 400."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise ValidationError(
            {HEADER: [f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )
    return key


def request_fingerprint(*, request: Request) -> str:
    """SHA-256 of the method, the path and the body as sent."""
    try:
        body = request.body
    except RawPostDataException:  # already parsed: hash its canonical JSON instead
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def idempotency_purge(*, now: Any = None) -> int:
    """Delete expired keys; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def idempotency_claim(*, user: User, key: str, fingerprint: str, method: str, path: str) -> Claim:
    """Claim `key` for this request, or say why not (replay, mismatch, in flight)."""
    now = timezone.now()
    idempotency_purge(now=now)
    for _ in range(3):  # the row we collide with may vanish (released or expired) meanwhile
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:500],
                    created_at=now,
                    expires_at=now + timedelta(hours=settings.API_IDEMPOTENCY_HOURS),
                )
            return Claim(ClaimOutcome.CLAIMED, record)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue
        if existing.fingerprint != fingerprint:
            return Claim(ClaimOutcome.MISMATCH, existing)
        if existing.status_code is not None:
            return Claim(ClaimOutcome.REPLAY, existing)
        if existing.created_at > now - IN_FLIGHT_TIMEOUT:
            return Claim(ClaimOutcome.IN_FLIGHT, existing)
        # Abandoned: take it over, unless another retry just did.
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, status_code__isnull=True, created_at=existing.created_at
        ).update(created_at=now)
        if taken:
            existing.created_at = now
            return Claim(ClaimOutcome.CLAIMED, existing)
        return Claim(ClaimOutcome.IN_FLIGHT, existing)
    return Claim(ClaimOutcome.IN_FLIGHT, IdempotencyKey(user=user, key=key))


def idempotency_store(*, record: IdempotencyKey, status_code: int, body: Any) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(status_code=status_code, response_body=body)


def idempotency_release(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()


ViewMethod = Callable[..., Response]


def idempotent(method: ViewMethod) -> ViewMethod:
    """Decorate a view's create method: honour the Idempotency-Key header (see above)."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key_read(request=request)
        if key is None:
            return method(view, request, *args, **kwargs)
        claim = idempotency_claim(
            user=cast(User, request.user),
            key=key,
            fingerprint=request_fingerprint(request=request),
            method=request.method or "",
            path=request.path,
        )
        if claim.outcome is ClaimOutcome.MISMATCH:
            raise Unprocessable(
                f"This {HEADER} was already used with a different request; "
                "use a new key for a new request."
            )
        if claim.outcome is ClaimOutcome.IN_FLIGHT:
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry in a moment."
            )
        if claim.outcome is ClaimOutcome.REPLAY:
            assert claim.record.status_code is not None
            return Response(
                claim.record.response_body,
                status=claim.record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            response = method(view, request, *args, **kwargs)
        except BaseException:
            idempotency_release(record=claim.record)
            raise
        if 200 <= response.status_code < 300:
            body = json.loads(JSONRenderer().render(response.data) or b"null")
            idempotency_store(record=claim.record, status_code=response.status_code, body=body)
        else:
            idempotency_release(record=claim.record)
        return response

    return wrapper
