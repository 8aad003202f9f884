"""Slack incoming webhooks: the one place PresGen talks to Slack.

A webhook URL is a credential (anyone holding it can post to the channel), so
it never appears in an error message or a log line from here.
"""

from __future__ import annotations

import httpx

# Enough of Slack's answer ("invalid_payload", "no_service") to tell what went
# wrong, short enough for a log line.
_BODY_SNIPPET = 200


class SlackError(Exception):
    """Slack did not accept the message: an HTTP error status or no connection."""


def slack_message_send(*, webhook_url: str, text: str, timeout: float = 10) -> None:
    """POST {"text": text} to a Slack incoming webhook; raise SlackError unless Slack says 2xx."""
    try:
        response = httpx.post(webhook_url, json={"text": text}, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # `from None`: httpx's own message and traceback may carry the URL.
        raise SlackError(f"Slack webhook unreachable ({type(exc).__name__})") from None
    if not response.is_success:
        snippet = response.text[:_BODY_SNIPPET].strip()
        raise SlackError(f"Slack webhook answered HTTP {response.status_code}: {snippet}")
