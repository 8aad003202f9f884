"""Signed webhooks in the Standard Webhooks style (https://www.standardwebhooks.com).

PresGen signs the callbacks its PresGen-Avatar API sends, and checks the ones
another PresGen sends it. The signature covers "<id>.<timestamp>.<body>", so
neither the body nor the time can be changed; a timestamp more than five
minutes off is refused (a replayed capture is stale); several secrets may be
configured at once so a secret can be rotated without dropping deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from videos.providers.base import WebhookError

TOLERANCE_SECONDS = 5 * 60


def _key(secret: str) -> bytes:
    # Standard Webhooks secrets look like "whsec_<base64>"; plain strings work too.
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def webhook_sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(*, secret: str, msg_id: str, body: bytes, now: float | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_sign(
            secret=secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


def webhook_check(
    *,
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Return the message id of a correctly signed, timely webhook; raise WebhookError otherwise."""
    secrets = [s for s in secrets if s]
    if not secrets:
        raise WebhookError("no webhook secret configured: refusing unsigned callbacks")
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and stamp and given):
        raise WebhookError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookError("webhook-timestamp is not a number") from None
    current = now if now is not None else time.time()
    if abs(current - timestamp) > tolerance:
        raise WebhookError("webhook-timestamp too old or in the future (replay?)")
    candidates = [part for part in given.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = webhook_sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return msg_id
    raise WebhookError("bad signature")
