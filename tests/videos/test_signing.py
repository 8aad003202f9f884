from __future__ import annotations

import base64

import pytest

from videos.providers.base import WebhookError
from videos.signing import TOLERANCE_SECONDS, webhook_check, webhook_headers

BODY = b'{"type":"video.completed","data":{"video_id":"7","status":"completed"}}'
NOW = 1_800_000_000.0


def _signed(secret: str = "current-secret", body: bytes = BODY, at: float = NOW) -> dict:
    return webhook_headers(secret=secret, msg_id="msg_7_completed", body=body, now=at)


def test_a_correctly_signed_timely_webhook_is_accepted():
    assert webhook_check(secrets=["current-secret"], headers=_signed(), body=BODY, now=NOW) == (
        "msg_7_completed"
    )


@pytest.mark.parametrize(
    ("case", "headers", "body", "message"),
    [
        ("tampered body", _signed(), BODY.replace(b"7", b"8"), "bad signature"),
        ("wrong secret", _signed(secret="someone-else"), BODY, "bad signature"),
        ("missing signature", {**_signed(), "webhook-signature": ""}, BODY, "missing"),
        ("missing id", {k: v for k, v in _signed().items() if k != "webhook-id"}, BODY, "missing"),
        ("stale (a replayed capture)", _signed(at=NOW - TOLERANCE_SECONDS - 1), BODY, "too old"),
        ("from the future", _signed(at=NOW + TOLERANCE_SECONDS + 1), BODY, "future"),
        ("bad timestamp", {**_signed(), "webhook-timestamp": "soon"}, BODY, "not a number"),
    ],
)
def test_forged_or_replayed_webhooks_are_refused(case, headers, body, message):
    with pytest.raises(WebhookError, match=message):
        webhook_check(secrets=["current-secret"], headers=headers, body=body, now=NOW)


def test_both_secrets_work_while_one_is_rotated_and_whsec_secrets_are_decoded():
    old, new = "old-secret", "whsec_" + base64.b64encode(b"new-secret-bytes").decode()
    for secret in (old, new):
        assert webhook_check(secrets=[new, old], headers=_signed(secret=secret), body=BODY, now=NOW)
    with pytest.raises(WebhookError):
        webhook_check(secrets=[new], headers=_signed(secret=old), body=BODY, now=NOW)


def test_without_a_secret_nothing_is_accepted():
    with pytest.raises(WebhookError, match="no webhook secret"):
        webhook_check(secrets=[""], headers=_signed(), body=BODY, now=NOW)
