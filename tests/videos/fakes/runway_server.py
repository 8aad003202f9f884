"""A local stand-in for Runway's developer API, over real HTTP, with fault switches.

It follows Runway's documented contract: `Authorization: Bearer <key>`
(401 otherwise) and `X-Runway-Version: 2024-11-06` (400 when missing or
unknown); `POST /v1/image_to_video` and `POST /v1/text_to_video` validated
per model (400 `{"error", "issues"}`) answering `{"id"}`; `GET
/v1/tasks/{id}` moving one step along `PENDING → RUNNING → SUCCEEDED` per
poll (`progress` 0..1 while running, `output` URLs once done, `failure` /
`failureCode` when it fails); `DELETE /v1/tasks/{id}` (204, cancels);
`GET /v1/organization`. Runway sends no webhooks.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.videos.fakes.did_server import Reply, Seen, VendorServer

API_VERSION = "2024-11-06"
IMAGE_MODELS: dict[str, tuple[set[str], set[int]]] = {
    "gen4_turbo": (
        {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
        {5, 10},
    ),
    "gen3a_turbo": ({"1280:768", "768:1280"}, {5, 10}),
}
TEXT_MODELS: dict[str, tuple[set[str], set[int]]] = {
    "veo3.1": ({"1280:720", "720:1280", "1080:1920", "1920:1080"}, {4, 6, 8}),
    "veo3.1_fast": ({"1280:720", "720:1280", "1080:1920", "1920:1080"}, {4, 6, 8}),
    "veo3": ({"1280:720", "720:1280", "1080:1920", "1920:1080"}, {8}),
}
FAILURE = {"failure": "The prompt was flagged by moderation", "failureCode": "SAFETY.INPUT.TEXT"}


class FakeRunway(VendorServer):
    def __init__(self, *, video: bytes | Path, api_key: str = "key_test123") -> None:
        super().__init__(video=video)
        self.api_key = api_key
        # For tasks made from now; RUNNING steps carry their progress.
        self.lifecycle: list[tuple[str, float | None]] = [
            ("PENDING", None),
            ("RUNNING", 0.42),
            ("SUCCEEDED", None),
        ]
        self.credit_balance = 500
        self.tasks: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, list[tuple[str, float | None]]] = {}
        self.bodies: list[tuple[str, dict[str, Any]]] = []  # (path, body) accepted
        self._ids = itertools.count(1)

    @property
    def submissions(self) -> int:
        return len(self.requests("POST", "/v1/image_to_video")) + len(
            self.requests("POST", "/v1/text_to_video")
        )

    def rate_limited(self) -> Reply:
        return Reply(429, {"error": "You have exceeded the rate limit."})

    def file_exists(self, path: str) -> bool:
        return path.removeprefix("/files/").removesuffix(".mp4") in self.tasks

    def handle(self, seen: Seen, query: dict[str, str]) -> Reply:
        if seen.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"error": "Invalid API key."})
        if seen.headers.get("x-runway-version") != API_VERSION:
            return Reply(
                400, {"error": "The X-Runway-Version header must be set to a valid version."}
            )
        path, method = seen.path.rstrip("/"), seen.method
        if method == "POST" and path in ("/v1/image_to_video", "/v1/text_to_video"):
            return self._create(path, seen.body)
        if method == "GET" and path == "/v1/organization":
            return Reply(
                200,
                {
                    "creditBalance": self.credit_balance,
                    "tier": {"maxMonthlyCreditSpend": 10000, "models": {}},
                    "usage": {"models": {}},
                },
            )
        if path.startswith("/v1/tasks/"):
            task_id = path.removeprefix("/v1/tasks/")
            with self.lock:
                if task_id not in self.tasks:
                    return Reply(404, {"error": "Task not found."})
                if method == "GET":
                    return Reply(200, self._poll(task_id))
                if method == "DELETE":
                    self.steps[task_id] = [("CANCELLED", None)]
                    self.set_status(task_id, "CANCELLED")
                    return Reply(204)
        return Reply(404, {"error": f"No route {method} {path}."})

    def _create(self, path: str, raw: bytes) -> Reply:
        try:
            body = json.loads(raw)
        except ValueError:
            return Reply(400, {"error": "Body is not valid JSON."})
        issues = task_issues(path, body)
        if issues:
            return Reply(400, {"error": "Validation of body failed", "issues": issues})
        with self.lock:
            task_id = str(uuid.UUID(int=next(self._ids)))
            self.bodies.append((path, body))
            self.tasks[task_id] = {
                "id": task_id,
                "createdAt": "2025-01-01T00:00:00.000Z",
                "status": "PENDING",
            }
            self.steps[task_id] = list(self.lifecycle)
        return Reply(200, {"id": task_id})

    def _poll(self, task_id: str) -> dict[str, Any]:
        steps = self.steps[task_id]
        status, progress = steps.pop(0) if len(steps) > 1 else steps[0]
        self.set_status(task_id, status, progress=progress)
        return dict(self.tasks[task_id])

    def set_status(self, task_id: str, status: str, *, progress: float | None = None) -> None:
        with self.lock:
            task = self.tasks[task_id]
            for key in ("progress", "output", "failure", "failureCode"):
                task.pop(key, None)
            task["status"] = status
            if status == "RUNNING" and progress is not None:
                task["progress"] = progress
            elif status == "SUCCEEDED":
                task["output"] = [f"{self.url}/files/{task_id}.mp4"]
            elif status == "FAILED":
                task.update(FAILURE)


def task_issues(path: str, body: object) -> list[dict[str, Any]]:
    """What Runway would refuse in a generation request (empty when valid)."""
    if not isinstance(body, dict):
        return [{"path": [], "message": "Expected object"}]
    models = IMAGE_MODELS if path.endswith("image_to_video") else TEXT_MODELS
    issues: list[dict[str, Any]] = []
    model = body.get("model")
    if model not in models:
        return [{"path": ["model"], "message": f"Invalid enum value, expected {sorted(models)}"}]
    ratios, durations = models[model]
    if path.endswith("image_to_video"):
        image = body.get("promptImage")
        if not isinstance(image, str) or not image.startswith(("https://", "data:image/")):
            issues.append({"path": ["promptImage"], "message": "Must be an HTTPS URL or data URI"})
    text = body.get("promptText")
    required = path.endswith("text_to_video")
    if (text is not None or required) and (not isinstance(text, str) or not 1 <= len(text) <= 1000):
        issues.append(
            {"path": ["promptText"], "message": "A non-empty string up to 1000 characters"}
        )
    if body.get("ratio") not in ratios:
        issues.append({"path": ["ratio"], "message": f"Invalid enum value for {model}"})
    if "duration" in body and body["duration"] not in durations:
        issues.append({"path": ["duration"], "message": f"Must be one of {sorted(durations)}"})
    return issues


@contextmanager
def runway_server(*, video: bytes | Path) -> Iterator[FakeRunway]:
    server = FakeRunway(video=video)
    try:
        yield server
    finally:
        server.close()
