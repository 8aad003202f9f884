"""Slack incoming webhooks, against a local fake Slack over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from videos.slack import SlackError, slack_message_send


class FakeSlack:
    """A local HTTP server standing in for a Slack incoming webhook.

    Answers every POST with `status` and `reply` (Slack answers "ok"), and keeps
    what it received in `requests` as (path, headers, parsed JSON body).
    """

    def __init__(self, *, status: int = 200, reply: str = "ok") -> None:
        self.status = status
        self.reply = reply
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append((self.path, dict(self.headers), json.loads(body)))
                payload = fake.reply.encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret-token"
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def closed_port_url() -> str:
    """A local URL where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/T000/B000/secret-token"


def test_the_message_is_posted_as_json_text():
    with FakeSlack() as slack:
        slack_message_send(webhook_url=slack.url, text="Success rate 95.0% – look at HeyGen")

    [(path, headers, body)] = slack.requests
    assert path == "/services/T000/B000/secret-token"
    assert headers["Content-Type"] == "application/json"
    assert body == {"text": "Success rate 95.0% – look at HeyGen"}


@pytest.mark.parametrize(("status", "reply"), [(500, "internal_error"), (404, "no_service")])
def test_an_error_status_raises_slack_error_without_the_url(status, reply):
    with FakeSlack(status=status, reply=reply) as slack:
        with pytest.raises(SlackError) as raised:
            slack_message_send(webhook_url=slack.url, text="hello")

    message = str(raised.value)
    assert str(status) in message and reply in message
    # The webhook URL is a credential: it must not end up in logs via the error.
    assert "secret-token" not in message and "127.0.0.1" not in message
    assert raised.value.__cause__ is None


def test_no_connection_raises_slack_error_without_the_url():
    with pytest.raises(SlackError) as raised:
        slack_message_send(webhook_url=closed_port_url(), text="hello", timeout=5)

    assert "unreachable" in str(raised.value)
    assert "secret-token" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_malformed_url_raises_slack_error():
    with pytest.raises(SlackError):
        slack_message_send(webhook_url="not a url at all", text="hello")
