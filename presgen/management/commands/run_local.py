"""Start PresGen for local use: embedded Redis, one RQ worker and gunicorn.

Ctrl-C (or SIGTERM) stops all three and waits for them; if any of them dies,
the others are stopped too, so nothing is left running behind the terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from library.services import DEMO_LEARNER, DEMO_STAFF
from presgen.embedded_redis import EmbeddedRedis, EmbeddedRedisError, die_with_parent
from videos.reconciler import jobs_reconcile

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the embedded Redis, an RQ worker with the scheduler, and the web server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args: Any, host: str, port: int, web_workers: int, **options: Any) -> None:
        stop_requested: list[int] = []

        def request_stop(signum: int, frame: object) -> None:
            stop_requested.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        redis_server = None
        children: dict[str, subprocess.Popen[bytes]] = {}
        env = dict(os.environ)
        try:
            if settings.EMBEDDED_REDIS:
                redis_server = EmbeddedRedis(socket_path=settings.EMBEDDED_REDIS_SOCKET)
                try:
                    redis_server.start()
                except EmbeddedRedisError as exc:
                    raise CommandError(str(exc), returncode=2) from None
                self.stdout.write(f"Embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")

            manage = str(Path(settings.BASE_DIR) / "manage.py")
            children["worker"] = _spawn(
                [
                    sys.executable,
                    manage,
                    "rqworker",
                    *settings.RQ_QUEUE_NAMES,
                    "--with-scheduler",
                    "--worker-class",
                    "videos.worker.PresGenWorker",
                    "--worker-ttl",
                    "60",
                ],
                env=env,
            )
            # The periodic reconciler (re-enqueues lost jobs, checks overdue renders).
            children["cron"] = _spawn([sys.executable, manage, "rqcron", "videos.cron"], env=env)
            # Jobs planned while Redis was not running yet (e.g. by load_demo) go
            # on the queue now rather than at the reconciler's first round.
            try:
                queued = jobs_reconcile(grace=timedelta(0)).requeued
            except DatabaseError as error:  # not migrated yet: `make run` migrates first
                self.stderr.write(f"Could not look for waiting video jobs: {error}")
            else:
                if queued:
                    self.stdout.write(f"{queued} waiting video job(s) queued")
            missing_media_warn(self)
            children["web"] = _spawn(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "presgen.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(web_workers),
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "5",
                ],
                env=env,
            )
            url = f"http://{host}:{port}/"
            if _wait_healthy(url + "healthz", children, stop_requested):
                self.stdout.write(self.style.SUCCESS(f"\nPresGen is running at {url}"))
                self.stdout.write(f"  learner login: {DEMO_LEARNER[0]} / {DEMO_LEARNER[1]}")
                self.stdout.write(
                    f"  staff login:   {DEMO_STAFF[0]} / {DEMO_STAFF[1]}  ({url}admin/)"
                )
                self.stdout.write("Press Ctrl-C to stop.\n")
            while not stop_requested:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"the {name} process exited (code {child.returncode})")
                time.sleep(0.2)
            self.stdout.write("\nStopping…")
        finally:
            _stop_all(children)
            if redis_server is not None:
                redis_server.stop()
        self.stdout.write("Stopped.")


def missing_media_warn(command: BaseCommand) -> None:
    """Start-up check: Video rows whose files are gone are listed as a warning, not fatal."""
    try:
        call_command("check_media", stdout=command.stdout)
    except CommandError as error:
        command.stderr.write(f"Warning: {error}; `manage.py check_media` lists them again.")
    except DatabaseError as error:  # not migrated yet: `make run` migrates first
        command.stderr.write(f"Could not check the media files: {error}")


def _spawn(cmd: list[str], *, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own session: the terminal's Ctrl-C reaches only us, and we stop the
    # children in order; the death signal covers us being killed outright.
    return subprocess.Popen(
        cmd,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


def _wait_healthy(
    url: str, children: dict[str, subprocess.Popen[bytes]], stop: list[int], timeout: float = 60
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop:
        if any(child.poll() is not None for child in children.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    return False


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in children.values():
        # Whatever is left (a work-horse mid-render, a stuck web worker) is killed.
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)
