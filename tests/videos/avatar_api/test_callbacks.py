"""Signed callbacks to PresGen-Avatar API clients when their video finishes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.worker import SimpleWorker

from tests.builders import user_build, video_job_build
from videos.models import JobStatus
from videos.notifications import job_outcome_notify
from videos.signing import webhook_check

pytestmark = pytest.mark.django_db

SECRET = "callback-signing-secret"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/presgen"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _finish(job, *, capture) -> None:
    job.status, job.error = JobStatus.FAILED, "the script was too long"
    job.save()
    with capture(execute=True):
        assert job_outcome_notify(job=job) == []  # no learner notification for API jobs


def _work(rq_queues) -> None:
    queues = list(rq_queues.values())
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


def test_the_client_is_called_back_with_a_signed_event(
    settings, rq_queues, receiver, django_capture_on_commit_callbacks
):
    settings.AVATAR_API_WEBHOOK_SECRET = SECRET
    job = video_job_build(
        learner=user_build(),
        parameters={"source": "avatar_api", "webhook_url": receiver.url},
    )
    _finish(job, capture=django_capture_on_commit_callbacks)
    _work(rq_queues)
    ((headers, body),) = receiver.received
    assert webhook_check(secrets=[SECRET], headers=headers, body=body) == f"msg_{job.pk}_failed"
    assert b'"status": "failed"' in body and b"too long" in body


@pytest.mark.django_db(transaction=True)  # the worker's retry is enqueued on commit
def test_a_client_that_is_down_is_called_again_later(
    settings, rq_queues, receiver, django_capture_on_commit_callbacks
):
    settings.AVATAR_API_WEBHOOK_SECRET = SECRET
    receiver.status = 503
    job = video_job_build(
        learner=user_build(),
        parameters={"source": "avatar_api", "webhook_url": receiver.url},
    )
    _finish(job, capture=django_capture_on_commit_callbacks)
    _work(rq_queues)
    assert len(receiver.received) == 1
    scheduled = rq_queues["default"].scheduled_job_registry.get_job_ids()
    assert any(i.startswith(f"callback-{job.pk}-") for i in scheduled)


def test_no_secret_means_no_unsigned_callback(
    settings, rq_queues, receiver, django_capture_on_commit_callbacks
):
    settings.AVATAR_API_WEBHOOK_SECRET = ""
    job = video_job_build(
        learner=user_build(),
        parameters={"source": "avatar_api", "webhook_url": receiver.url},
    )
    _finish(job, capture=django_capture_on_commit_callbacks)
    _work(rq_queues)
    assert receiver.received == []
