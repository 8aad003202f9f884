"""`manage.py run_local` brings the site up and Ctrl-C leaves nothing behind."""

import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from presgen.management.commands.run_local import Command as RunLocal
from presgen.management.commands.run_local import missing_media_warn
from tests.builders import user_build, video_build, video_job_build

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with_env(marker: str) -> list[int]:
    """Pids whose environment carries VAR_DIR=marker: everything run_local started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ")[-1].split()[0]
        except (OSError, IndexError):
            continue
        if f"VAR_DIR={marker}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def test_run_local_serves_then_ctrl_c_stops_everything():
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pg-run-") as var_dir:
        env = {**os.environ, "DEBUG": "1", "VAR_DIR": var_dir}
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_local", "--port", str(port), "--web-workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
        reader.start()
        try:
            # Wait for the banner: run_local prints it once the site answers.
            deadline = time.monotonic() + 90
            banner = f"PresGen is running at http://127.0.0.1:{port}/"
            while time.monotonic() < deadline and not any(banner in line for line in lines):
                time.sleep(0.2)
            assert any(banner in line for line in lines), "".join(lines)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                body = r.read()
            assert b'"redis": "ok"' in body
            assert b'"database": "ok"' in body
            started = processes_with_env(var_dir)
            # run_local + worker + cron + gunicorn master and worker (+ embedded Redis)
            assert len(started) >= 5
        finally:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            proc.wait(timeout=30)
            reader.join(timeout=5)
        output = "".join(lines)
        assert proc.returncode == 0, output
        assert "learner login: learner" in output
        time.sleep(0.5)
        assert processes_with_env(var_dir) == []


@pytest.mark.django_db
def test_start_up_warns_about_videos_whose_files_are_missing_and_carries_on(media_root):
    video = video_build(job=video_job_build(learner=user_build()))
    video.file.storage.delete(video.file.name)
    out, err = io.StringIO(), io.StringIO()
    command = RunLocal(stdout=out, stderr=err)

    missing_media_warn(command)  # a warning, not an exception

    line = f"video #{video.pk} (learner #{video.learner_id}): file {video.file.name} is missing"
    assert line in out.getvalue()
    assert err.getvalue().startswith("Warning: 1 video file(s) missing from storage")


@pytest.mark.django_db
def test_start_up_says_nothing_is_missing_when_every_file_is_there(media_root):
    video_build(job=video_job_build(learner=user_build()))
    out, err = io.StringIO(), io.StringIO()
    command = RunLocal(stdout=out, stderr=err)

    missing_media_warn(command)

    assert out.getvalue() == "Every file of 1 video(s) is in storage.\n"
    assert err.getvalue() == ""
