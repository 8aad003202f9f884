"""A local HeyGen (API v2) for tests: real HTTP on 127.0.0.1, the documented contract, faults.

It answers what the adapter uses, in HeyGen's shapes:

- `POST /v2/video/generate` (checks `X-Api-Key` and the body; 400 with
  `{"data": null, "error": {"code": "invalid_parameter", "message": ...}}`),
- `GET /v1/video_status.get?video_id=` (`{"code": 100, "data": {...}, "message": "Success"}`),
- `GET /v2/avatars`,

and serves the finished files from a second listener standing in for
HeyGen's CDN (another host:port), so tests can see the API key never
leaves for another host. A render goes waiting → processing → completed
(or failed) as it is polled; on its outcome the fake POSTs a signed
webhook (HMAC-SHA256 hex of the raw body in `Signature`) to `callback_url`.

Faults are queued with `inject(kind, times=, path=)` and taken by the next
matching requests: "5xx", "429" (with Retry-After), "malformed" (a 200 whose
body is not JSON), "truncate" (Content-Length larger than the bytes sent),
"wrong_type" (a download with the wrong Content-Type). `latency` delays
every answer; `webhook_mode` is "normal", "never", "duplicate" or "hold"
(kept until `webhooks_flush(reverse=True)` sends them out of order).

`random_faults(rate, seed=)` turns on a random mode for load benches: each
request (API or CDN) is faulted with probability `rate`, the kind drawn from
those that make sense for it (RANDOM_FAULTS): "timeout" (the answer comes
`stall_seconds` late, after the work was done), "429" (Retry-After: 1),
"5xx", "reset" (the socket is closed without an answer), "truncate" (a
download cut short) and "fail_render" (a generate that is accepted but whose
render fails). Renders then complete after a random 1-2 polls.
`fault_counts` counts what was injected, by (route, kind).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_INPUT_TEXT = 5000  # HeyGen's limit per scene
MAX_SCENES = 50
# Random mode: the faults each kind of request may get.
RANDOM_FAULTS: dict[str, tuple[str, ...]] = {
    "generate": ("timeout", "429", "5xx", "reset", "fail_render"),
    "api": ("timeout", "429", "5xx", "reset"),
    "download": ("timeout", "429", "5xx", "reset", "truncate"),
}


@dataclass
class Fault:
    kind: str
    times: int
    path: str  # a path prefix; "" matches every request
    status: int = 503
    retry_after: str = "1"


@dataclass
class Render:
    video_id: str
    body: dict[str, Any]
    callback_id: str
    status: str = "waiting"
    polls: int = 0
    fail_message: str = ""
    created_at: float = field(default_factory=time.time)
    polls_needed: int | None = None  # overrides the fake's polls_to_complete


@dataclass
class Delivery:
    status: int  # the receiver's answer (0 when unreachable)
    body: bytes
    signature: str


def vtt_to_srt(text: str) -> str:
    """WebVTT captions as SubRip, to play a vendor that answers with SRT."""
    cues = [block for block in text.strip().split("\n\n") if "-->" in block]
    out = []
    for number, block in enumerate(cues, start=1):
        lines = [line for line in block.split("\n") if line]
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        start, end = (part.strip().split(" ")[0] for part in lines[timing].split("-->"))
        start, end = (t if t.count(":") == 2 else f"00:{t}" for t in (start, end))
        times = f"{start.replace('.', ',')} --> {end.replace('.', ',')}"
        out.append("\n".join([str(number), times, *lines[timing + 1 :]]))
    return "\n\n".join(out) + "\n"


class FakeHeyGen:
    def __init__(
        self,
        *,
        video: bytes | Path,
        captions: bytes | Path | None,
        thumbnail: bytes | Path | None,
        duration: float,
        api_key: str = "test-api-key",
        webhook_secret: str = "whsec-test",
        polls_to_complete: int | None = 2,
    ) -> None:
        self.files = {
            "video.mp4": _bytes(video),
            "captions.vtt": _bytes(captions),
            "thumbnail.jpg": _bytes(thumbnail),
        }
        self.duration = duration
        self.api_key = api_key
        self.webhook_secret = webhook_secret  # the signing secret; tests rotate it
        self.polls_to_complete = polls_to_complete  # None: only complete()/fail() finish
        self.callback_url = ""
        self.webhook_mode = "normal"
        self.webhook_header = "Signature"
        self.captions_format = "vtt"  # or "srt"
        self.fail_renders_with = ""  # renders created while set fail with this message
        self.latency = 0.0
        self.lock = threading.Lock()
        self.renders: dict[str, Render] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request
        self.generate_requests = 0  # POSTs that reached /v2/video/generate, faulted or not
        self.download_headers: list[dict[str, str]] = []
        self.downloads: Counter[str] = Counter()  # CDN requests by path ("/files/<id>/video.mp4")
        self.deliveries: list[Delivery] = []
        self.held: list[bytes] = []
        # Random mode (off while fault_rate is 0): see random_faults().
        self.fault_rate = 0.0
        self.stall_seconds = 2.0
        self.random_polls: tuple[int, int] | None = None
        self.fault_counts: Counter[tuple[str, str]] = Counter()
        self._rng = random.Random()
        self._api = self._server()
        self._cdn = self._server()

    # --- lifecycle ----------------------------------------------------------------

    def _server(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(_Handler):
            owner = fake

        server = _Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # a handler sleeping for `latency` must not block stop()
        return server

    def start(self) -> FakeHeyGen:
        for server in (self._api, self._cdn):
            # A short poll interval: stop() waits for it, once per server.
            threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._api, self._cdn):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FakeHeyGen:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._api.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._cdn.server_address[1]}"

    # --- what tests set and read ---------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str = "",
        status: int = 503,
        retry_after: str = "1",
    ) -> None:
        with self.lock:
            self.faults.append(Fault(kind, times, path, status, retry_after))

    def random_faults(
        self,
        rate: float,
        *,
        seed: int,
        stall_seconds: float = 2.0,
        polls: tuple[int, int] | None = (1, 2),
    ) -> None:
        """Fault each request with probability `rate` (see the module docstring)."""
        with self.lock:
            self.fault_rate = rate
            self.stall_seconds = stall_seconds
            self.random_polls = polls
            self._rng = random.Random(seed)

    def submissions(self, callback_id: str | None = None) -> list[Render]:
        with self.lock:
            renders = list(self.renders.values())
        return [r for r in renders if callback_id is None or r.callback_id == callback_id]

    def complete(self, video_id: str) -> None:
        self._finish(video_id, "completed")

    def fail(self, video_id: str, message: str = "avatar render failed") -> None:
        with self.lock:
            self.renders[video_id].fail_message = message
        self._finish(video_id, "failed")

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret if secret is not None else self.webhook_secret).encode()
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    def event_body(self, video_id: str, event_type: str) -> bytes:
        with self.lock:
            render = self.renders.get(video_id)
            callback_id = render.callback_id if render else ""
            message = render.fail_message if render else ""
        data: dict[str, Any] = {"video_id": video_id, "callback_id": callback_id}
        if event_type == "avatar_video.success":
            data["url"] = f"{self.cdn_url}/files/{video_id}/video.mp4"
        else:
            data["msg"] = message
        return json.dumps({"event_type": event_type, "event_data": data}).encode()

    def webhook_send(self, body: bytes) -> Delivery:
        """POST one signed webhook to `callback_url` now; what the receiver answered."""
        signature = self.sign(body)
        request = urllib.request.Request(  # noqa: S310 (an http URL the test gave)
            self.callback_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", self.webhook_header: signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        delivery = Delivery(status=status, body=body, signature=signature)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def webhooks_flush(self, *, reverse: bool = False) -> list[Delivery]:
        with self.lock:
            held, self.held = self.held, []
        return [self.webhook_send(body) for body in (reversed(held) if reverse else held)]

    # --- the render lifecycle ------------------------------------------------------

    def _finish(self, video_id: str, outcome: str) -> None:
        with self.lock:
            render = self.renders[video_id]
            if render.status in ("completed", "failed"):
                return
            render.status = outcome
        event = "avatar_video.success" if outcome == "completed" else "avatar_video.fail"
        self._notify(self.event_body(video_id, event))

    def _notify(self, body: bytes) -> None:
        if not self.callback_url or self.webhook_mode == "never":
            return
        if self.webhook_mode == "hold":
            with self.lock:
                self.held.append(body)
            return
        self.webhook_send(body)
        if self.webhook_mode == "duplicate":
            self.webhook_send(body)  # HeyGen retries deliveries: the same event twice

    def _poll(self, video_id: str) -> dict[str, Any] | None:
        outcome = ""
        with self.lock:
            render = self.renders.get(video_id)
            if render is None:
                return None
            render.polls += 1
            if render.status in ("waiting", "processing"):
                limit = render.polls_needed
                if limit is None:
                    limit = self.polls_to_complete
                if limit is not None and render.polls >= limit:
                    outcome = "failed" if render.fail_message else "completed"
                elif render.polls > 1:
                    render.status = "processing"
        if outcome:
            self._finish(video_id, outcome)  # sends the webhook before the poll is answered
        return self._status_data(video_id)

    def _status_data(self, video_id: str) -> dict[str, Any]:
        with self.lock:
            render = self.renders[video_id]
            data: dict[str, Any] = {
                "id": video_id,
                "status": render.status,
                "callback_id": render.callback_id,
                "created_at": int(render.created_at),
                "video_url": None,
                "video_url_caption": None,
                "caption_url": None,
                "thumbnail_url": None,
                "gif_url": None,
                "duration": None,
                "error": None,
            }
            if render.status == "completed":
                files = f"{self.cdn_url}/files/{video_id}"
                data.update(video_url=f"{files}/video.mp4", duration=self.duration)
                if render.body.get("caption") and self.files["captions.vtt"] is not None:
                    data["caption_url"] = f"{files}/captions.{self.captions_format}"
                if self.files["thumbnail.jpg"] is not None:
                    data["thumbnail_url"] = f"{files}/thumbnail.jpg"
            elif render.status == "failed":
                data["error"] = {
                    "code": 40119,
                    "message": render.fail_message,
                    "detail": "The render could not be completed.",
                }
            return data

    def _fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path) or not fault.path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _random_fault(self, method: str, path: str) -> Fault | None:
        """In random mode, the fault this request gets (None for most)."""
        if path.startswith("/files/"):
            route = "download"
        elif (method, path) == ("POST", "/v2/video/generate"):
            route = "generate"
        else:
            route = "api"
        with self.lock:
            if not self.fault_rate or self._rng.random() >= self.fault_rate:
                return None
            kind = self._rng.choice(RANDOM_FAULTS[route])
            status = self._rng.choice((500, 502, 503, 504))
            self.fault_counts[(route, kind)] += 1
        return Fault(kind, 1, path, status=status, retry_after="1")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer (a refused download) is part of the tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _bytes(value: bytes | Path | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def _invalid(body: object) -> str:
    """HeyGen's 400 message for a generate body, or "" when it is valid."""
    if not isinstance(body, dict):
        return "body is invalid: expected an object"
    scenes = body.get("video_inputs")
    if not isinstance(scenes, list) or not scenes:
        return "video_inputs is invalid: field required"
    if len(scenes) > MAX_SCENES:
        return f"video_inputs is invalid: at most {MAX_SCENES} scenes"
    for index, scene in enumerate(scenes):
        where = f"video_inputs[{index}]"
        character = scene.get("character") if isinstance(scene, dict) else None
        voice = scene.get("voice") if isinstance(scene, dict) else None
        if not isinstance(character, dict) or character.get("type") not in (
            "avatar",
            "talking_photo",
        ):
            return f"{where}.character is invalid: field required"
        if character["type"] == "avatar" and not character.get("avatar_id"):
            return f"{where}.character.avatar_id is invalid: field required"
        if not isinstance(voice, dict) or voice.get("type") != "text":
            return f"{where}.voice is invalid: field required"
        text = voice.get("input_text")
        if not isinstance(text, str) or not text.strip():
            return f"{where}.voice.input_text is invalid: field required"
        if len(text) > MAX_INPUT_TEXT:
            return f"{where}.voice.input_text is invalid: at most {MAX_INPUT_TEXT} characters"
        if not voice.get("voice_id"):
            return f"{where}.voice.voice_id is invalid: field required"
        speed = voice.get("speed", 1)
        if not isinstance(speed, int | float) or not 0.5 <= speed <= 1.5:
            return f"{where}.voice.speed is invalid: between 0.5 and 1.5"
    dimension = body.get("dimension")
    if dimension is not None and not (
        isinstance(dimension, dict)
        and all(isinstance(dimension.get(k), int) and dimension[k] > 0 for k in ("width", "height"))
    ):
        return "dimension is invalid: width and height must be positive integers"
    return ""


class _Handler(BaseHTTPRequestHandler):
    owner: FakeHeyGen
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, delayed ACKs
    # add about 40 ms to every keep-alive answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet test output

    # --- answers ------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        length: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if length is not None and length != len(body):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"data": None, "error": {"code": code, "message": message}})

    def _reset(self) -> None:
        """Hang up without an answer: linger 0 makes the close a TCP reset."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _faulted(self, path: str, random_fault: Fault | None = None) -> bool:
        fault = self.owner._fault(path)
        if fault is None and random_fault is not None:
            if random_fault.kind not in ("5xx", "429", "truncate"):
                return False  # timeouts, resets and failed renders are handled elsewhere
            fault = random_fault
        if fault is None or fault.kind in ("truncate", "wrong_type"):
            if fault is not None:
                self._pending = fault  # applies to the download being served
            return False
        if fault.kind == "5xx":
            self._error(fault.status, "internal_error", "Internal server error")
        elif fault.kind == "429":
            self._json(
                429,
                {"data": None, "error": {"code": "rate_limit", "message": "Too many requests"}},
                headers={"Retry-After": fault.retry_after},
            )
        elif fault.kind == "malformed":
            self._send(200, b'{"data": {"video_id": "abc"')  # cut off mid-object
        return True

    # --- routes ---------------------------------------------------------------------

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        owner = self.owner
        self._pending: Fault | None = None
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if owner.latency:
            time.sleep(owner.latency)
        random_fault = owner._random_fault(method, parts.path)
        if random_fault is not None and random_fault.kind == "timeout":
            time.sleep(owner.stall_seconds)  # then answer as usual: too late for the client
        if parts.path.startswith("/files/"):
            self._download(parts.path, random_fault)
            return
        with owner.lock:
            owner.requests.append((method, parts.path))
            if (method, parts.path) == ("POST", "/v2/video/generate"):
                owner.generate_requests += 1
        if random_fault is not None and random_fault.kind == "reset":
            self._reset()
            return
        if self._faulted(parts.path, random_fault):
            return
        if self.headers.get("X-Api-Key") != owner.api_key:
            self._error(401, "invalid_api_key", "Unauthorized: invalid or missing X-Api-Key")
            return
        if (method, parts.path) == ("POST", "/v2/video/generate"):
            fail = random_fault is not None and random_fault.kind == "fail_render"
            self._generate(raw, fail=fail)
        elif (method, parts.path) == ("GET", "/v1/video_status.get"):
            video_id = parse_qs(parts.query).get("video_id", [""])[0]
            data = owner._poll(video_id)
            if data is None:
                self._json(404, {"code": 40008, "data": None, "message": "Video not found"})
            else:
                self._json(200, {"code": 100, "data": data, "message": "Success"})
        elif (method, parts.path) == ("GET", "/v2/avatars"):
            avatar = {"avatar_id": "Daisy-inskirt-20220818", "avatar_name": "Daisy"}
            self._json(200, {"error": None, "data": {"avatars": [avatar], "talking_photos": []}})
        else:
            self._error(404, "not_found", f"no route {method} {parts.path}")

    def _generate(self, raw: bytes, *, fail: bool = False) -> None:
        owner = self.owner
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self._error(400, "invalid_parameter", "body is not valid JSON")
            return
        problem = _invalid(body)
        if problem:
            self._error(400, "invalid_parameter", problem)
            return
        video_id = uuid.uuid4().hex
        with owner.lock:
            polls = owner._rng.randint(*owner.random_polls) if owner.fault_rate else None
            owner.renders[video_id] = Render(
                video_id=video_id,
                body=body,
                callback_id=str(body.get("callback_id") or ""),
                fail_message="avatar render failed (injected)" if fail else owner.fail_renders_with,
                polls_needed=polls if owner.random_polls else None,
            )
        self._json(200, {"error": None, "data": {"video_id": video_id}})

    def _download(self, path: str, random_fault: Fault | None = None) -> None:
        owner = self.owner
        with owner.lock:
            owner.download_headers.append({k.lower(): v for k, v in self.headers.items()})
            owner.downloads[path] += 1
        if random_fault is not None and random_fault.kind == "reset":
            self._reset()
            return
        if self._faulted(path, random_fault):
            return
        _, _, video_id, name = path.split("/", 3)
        with owner.lock:
            known = video_id in owner.renders
        stem, _, extension = name.partition(".")
        key = {"video": "video.mp4", "captions": "captions.vtt", "thumbnail": "thumbnail.jpg"}
        content = owner.files.get(key.get(stem, ""))
        if not known or content is None:
            self._send(404, b"Not Found", content_type="text/plain")
            return
        types = {"mp4": "video/mp4", "vtt": "text/vtt", "srt": "application/x-subrip"}
        content_type = types.get(extension, "image/jpeg")
        if extension == "srt":
            content = vtt_to_srt(content.decode()).encode()
        fault, length = self._pending, None
        if fault is not None and fault.kind == "wrong_type":
            content_type = "text/html"  # an error page from a CDN, say
        if fault is not None and fault.kind == "truncate":
            length = len(content) + 1000  # promise more than is sent, then hang up
            content = content[: len(content) // 2]
        self._send(200, content, content_type=content_type, length=length)
