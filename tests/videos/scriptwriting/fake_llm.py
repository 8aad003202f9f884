"""A local fake of an OpenAI-compatible chat-completions server, over real HTTP.

Each test says how the next requests are answered (`fake.respond(...)`); every
request is recorded with its headers and JSON body. A slow answer waits on an
event that the fixture sets at teardown, so no test waits for it to finish.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


# A responder gets the request body and returns (status, body, extra headers);
# a str body is sent as is (to send broken JSON), anything else as JSON.
Responder = Callable[[Any], tuple[int, Any, dict[str, str]]]


def completion(content: str, *, model: str = "fake-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200},
    }


class FakeLlm:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.responder: Responder = lambda body: (200, completion("{}"), {})
        self.delay = 0.0
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                fake.requests.append(Recorded(self.path, dict(self.headers.items()), body))
                if fake.delay:
                    fake.release.wait(fake.delay)
                status, payload, headers = fake.responder(body)
                data = payload if isinstance(payload, str) else json.dumps(payload)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data.encode())))
                    self.end_headers()
                    self.wfile.write(data.encode())
                except OSError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll keeps shutdown (each test's teardown) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def respond(self, responder: Responder) -> None:
        self.responder = responder

    def reply(self, content: str) -> None:
        self.respond(lambda body: (200, completion(content), {}))

    def status(self, code: int, message: str = "error", headers: dict[str, str] | None = None):
        self.respond(lambda body: (code, {"error": {"message": message}}, headers or {}))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def llm_settings(settings, fake_llm: FakeLlm):
    """Point the LLM client at the fake, with a short timeout for the slow-reply test."""
    settings.LLM_API_URL = fake_llm.url
    settings.LLM_API_KEY = "sk-test-secret-key"
    settings.LLM_MODEL = "fake-model"
    settings.LLM_TIMEOUT_SECONDS = 1
    return settings
