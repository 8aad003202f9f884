"""A local stand-in for D-ID's Talks API, over real HTTP, with fault switches.

It follows D-ID's documented contract: `Authorization: Basic <key>` (401
`{"kind": "AuthorizationError", ...}` otherwise), `POST /talks` validated
as D-ID validates it (400 `{"kind": "ValidationError", "description"}`),
`GET /talks/{id}` moving one step along `created → started → done` per
poll, `DELETE /talks/{id}` (409 while rendering), `POST /images`,
`GET /credits`, and the finished MP4 at a pre-signed-looking URL that
needs no Authorization. Webhooks are recorded in `webhooks` (D-ID POSTs
the talk JSON to the talk's `webhook` URL) for the test to deliver.

`VendorServer` and `Faults` are the vendor-neutral part, shared with the
Runway fake.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Faults:
    """Switches a test flips; counters count down one per affected request."""

    latency: float = 0.0  # seconds before every answer
    errors: int = 0  # the next N API requests answer `error_status`
    error_status: int = 503
    error_methods: tuple[str, ...] = ("GET", "POST", "DELETE")
    rate_limits: int = 0  # the next N API requests answer 429 with Retry-After
    retry_after: str = "1"
    malformed: int = 0  # the next N API answers are broken JSON (status unchanged)
    truncated_downloads: int = 0  # Content-Length larger than the bytes sent
    wrong_type_downloads: int = 0  # served as text/html


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    vendor: VendorServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _any(self) -> None:
        self.vendor.dispatch(self)

    do_GET = do_POST = do_DELETE = _any


class VendorServer:
    """A threaded HTTP server on 127.0.0.1, port chosen by the OS."""

    def __init__(self, *, video: bytes | Path) -> None:
        self.video = video.read_bytes() if isinstance(video, Path) else video
        self.faults = Faults()
        self.lock = threading.RLock()
        self.seen: list[Seen] = []
        self.downloads: list[Seen] = []
        handler = type("Handler", (_Handler,), {"vendor": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def requests(self, method: str, prefix: str = "") -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    def _take(self, name: str) -> bool:
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    # --- the request cycle -----------------------------------------------------

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        seen = Seen(
            handler.command, parts.path, {k.lower(): v for k, v in handler.headers.items()}, body
        )
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if parts.path.startswith("/files/"):
            with self.lock:
                self.downloads.append(seen)
            return self._download(handler, parts.path)
        with self.lock:
            self.seen.append(seen)
        if self._take("rate_limits"):
            reply = self.rate_limited()
            reply.headers["Retry-After"] = self.faults.retry_after
        elif handler.command in self.faults.error_methods and self._take("errors"):
            reply = Reply(self.faults.error_status, {"message": "upstream unavailable"})
        else:
            reply = self.handle(seen, dict(parse_qsl(parts.query)))
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        if reply.body is None:
            payload = b""
        if payload and self._take("malformed"):
            payload = payload[: max(1, len(payload) // 2)]  # cut mid-object: not JSON
        self._send(handler, reply.status, payload, reply.content_type, reply.headers)

    def _download(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        if not self.file_exists(path):
            return self._send(handler, 404, b"<Error>NoSuchKey</Error>", "application/xml", {})
        if self._take("wrong_type_downloads"):
            return self._send(handler, 200, b"<html>AccessDenied</html>", "text/html", {})
        if self._take("truncated_downloads"):
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.send_header("Content-Length", str(len(self.video) + 4096))
            handler.end_headers()
            handler.wfile.write(self.video[: len(self.video) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        return self._send(handler, 200, self.video, "video/mp4", {})

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str],
    ) -> None:
        handler.send_response(status)
        if payload:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    # --- for subclasses ----------------------------------------------------------

    def handle(self, seen: Seen, query: dict[str, str]) -> Reply:
        raise NotImplementedError

    def rate_limited(self) -> Reply:
        return Reply(429, {"message": "Too Many Requests"})

    def file_exists(self, path: str) -> bool:
        return True


# --- D-ID --------------------------------------------------------------------------

TEXT_PROVIDERS = {"microsoft", "elevenlabs", "amazon", "google", "azure-openai", "afflorithmics"}
TALK_FIELDS = {
    "source_url",
    "script",
    "config",
    "user_data",
    "name",
    "webhook",
    "result_url",
    "face",
    "persist",
    "driver_url",
}
TALK_ERRORS = {
    "error": {"kind": "FaceError", "description": "Failed to detect a face in the source image"},
    "rejected": {"kind": "ModerationError", "description": "The script failed content moderation"},
}
FINAL = ("done", "error", "rejected")


@dataclass
class Webhook:
    url: str
    body: bytes


class FakeDid(VendorServer):
    def __init__(
        self, *, video: bytes | Path, duration: float = 5.0, api_key: str = "dXNlcg:secret"
    ) -> None:
        super().__init__(video=video)
        self.api_key = api_key
        self.duration = duration
        self.lifecycle: list[str] = ["created", "started", "done"]  # for talks made from now
        self.webhook_mode = "once"  # "never" | "once" | "twice" | "out_of_order"
        self.credits = 40.0
        self.talks: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, list[str]] = {}
        self.bodies: list[dict[str, Any]] = []  # each accepted POST /talks body
        self.images: list[bytes] = []
        self.webhooks: list[Webhook] = []
        self._ids = itertools.count(1)

    @property
    def submissions(self) -> int:
        """POST /talks requests that reached the server, accepted or not."""
        return len(self.requests("POST", "/talks"))

    def rate_limited(self) -> Reply:
        return Reply(429, {"kind": "TooManyRequestsError", "description": "Too Many Requests"})

    def file_exists(self, path: str) -> bool:
        return path.removeprefix("/files/").removesuffix(".mp4") in self.talks

    @staticmethod
    def _error(status: int, kind: str, description: str) -> Reply:
        return Reply(status, {"kind": kind, "description": description})

    def handle(self, seen: Seen, query: dict[str, str]) -> Reply:
        if seen.headers.get("authorization") != f"Basic {self.api_key}":
            return self._error(401, "AuthorizationError", "user unauthenticated")
        path, method = seen.path.rstrip("/"), seen.method
        if method == "POST" and path == "/talks":
            return self._talk_create(seen.body)
        if method == "POST" and path == "/images":
            return self._image_upload(seen)
        if method == "GET" and path == "/credits":
            return Reply(200, {"remaining": self.credits, "total": 100, "credits": []})
        if path.startswith("/talks/"):
            talk_id = path.removeprefix("/talks/")
            with self.lock:
                if talk_id not in self.talks:
                    return self._error(404, "NotFoundError", "not found")
                if method == "GET":
                    return Reply(200, self._poll(talk_id))
                if method == "DELETE":
                    if self.talks[talk_id]["status"] == "started":
                        return self._error(409, "TalkInProcessError", "talk is in process")
                    return Reply(200, self.talks.pop(talk_id))
        return self._error(404, "NotFoundError", f"no route {method} {path}")

    def _talk_create(self, raw: bytes) -> Reply:
        try:
            body = json.loads(raw)
        except ValueError:
            return self._error(400, "BadRequestError", "body is not JSON")
        problem = talk_problem(body)
        if problem:
            return self._error(400, "ValidationError", problem)
        with self.lock:
            talk_id = f"tlk_{next(self._ids):06d}"
            self.bodies.append(body)
            self.talks[talk_id] = {
                "id": talk_id,
                "object": "talk",
                "status": "created",
                "created_at": "2025-01-01T00:00:00.000Z",
                "source_url": body["source_url"],
                "user_data": body.get("user_data", ""),
                "webhook": body.get("webhook", ""),
                "config": body.get("config", {}),
            }
            self.steps[talk_id] = list(self.lifecycle)
            answer = {k: self.talks[talk_id][k] for k in ("id", "object", "status", "created_at")}
        return Reply(201, answer)

    def _image_upload(self, seen: Seen) -> Reply:
        if not seen.headers.get("content-type", "").startswith("multipart/form-data"):
            return self._error(400, "ValidationError", "expected multipart/form-data")
        if b'name="image"' not in seen.body:
            return self._error(400, "ValidationError", "image is required")
        with self.lock:
            self.images.append(seen.body)
            number = len(self.images)
        return Reply(201, {"id": f"img_{number}", "url": f"s3://d-id-images-prod/u/img_{number}"})

    def _poll(self, talk_id: str) -> dict[str, Any]:
        """Answer with the talk's current status, then move it one step on."""
        steps = self.steps[talk_id]
        status = steps.pop(0) if len(steps) > 1 else steps[0]
        self.set_status(talk_id, status)
        return dict(self.talks[talk_id])

    def set_status(self, talk_id: str, status: str) -> None:
        with self.lock:
            talk = self.talks[talk_id]
            before, talk["status"] = talk["status"], status
            if status == "done":
                talk["result_url"] = f"{self.url}/files/{talk_id}.mp4"
                talk["duration"] = self.duration
            elif status in TALK_ERRORS:
                talk["error"] = TALK_ERRORS[status]
            if status in FINAL and before != status:
                self._webhook(talk)

    def finish(self, talk_id: str, status: str = "done") -> None:
        """Jump a talk to a final status (as a render finishing between polls)."""
        with self.lock:
            self.steps[talk_id] = [status]
        self.set_status(talk_id, status)

    def _webhook(self, talk: dict[str, Any]) -> None:
        url = talk.get("webhook")
        if not url or self.webhook_mode == "never":
            return
        body = json.dumps(talk).encode()
        deliveries = [Webhook(url, body)]
        if self.webhook_mode == "twice":
            deliveries.append(Webhook(url, body))
        elif self.webhook_mode == "out_of_order":
            # An older "started" notice arrives after the final one.
            deliveries.append(Webhook(url, json.dumps({**talk, "status": "started"}).encode()))
        self.webhooks.extend(deliveries)


def talk_problem(body: object) -> str:
    """What D-ID would refuse in a POST /talks body ("" when it is valid)."""
    if not isinstance(body, dict):
        return "body must be an object"
    unknown = set(body) - TALK_FIELDS
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    source = body.get("source_url")
    if not isinstance(source, str) or not source.startswith(("https://", "http://", "s3://")):
        return "source_url must be a valid url"
    script = body.get("script")
    if not isinstance(script, dict) or script.get("type") not in ("text", "audio"):
        return "Failed to validate script"
    if script["type"] == "text":
        text = script.get("input")
        if not isinstance(text, str) or not 3 <= len(text) <= 40_000:
            return "script.input must be 3..40000 characters"
        provider = script.get("provider", {"type": "microsoft"})
        if not isinstance(provider, dict) or provider.get("type") not in TEXT_PROVIDERS:
            return "script.provider.type is not supported"
        if "voice_id" in provider and not isinstance(provider["voice_id"], str):
            return "script.provider.voice_id must be a string"
        for flag in ("subtitles", "ssml"):
            if flag in script and not isinstance(script[flag], bool):
                return f"script.{flag} must be a boolean"
    config = body.get("config", {})
    if not isinstance(config, dict):
        return "config must be an object"
    if config.get("result_format", "mp4") not in ("mp4", "gif", "wav"):
        return "config.result_format must be one of mp4, gif, wav"
    for flag in ("fluent", "stitch"):
        if flag in config and not isinstance(config[flag], bool):
            return f"config.{flag} must be a boolean"
    user_data = body.get("user_data", "")
    if not isinstance(user_data, str) or len(user_data) > 1000:
        return "user_data must be a string of at most 1000 characters"
    webhook = body.get("webhook", "")
    if not isinstance(webhook, str) or (
        webhook and not webhook.startswith(("https://", "http://"))
    ):
        return "webhook must be a valid url"
    return ""


@contextmanager
def did_server(*, video: bytes | Path, duration: float = 5.0) -> Iterator[FakeDid]:
    server = FakeDid(video=video, duration=duration)
    try:
        yield server
    finally:
        server.close()
