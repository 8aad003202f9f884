import math
import stat

import pytest
from rq import SimpleWorker

from presgen.embedded_redis import EmbeddedRedis, EmbeddedRedisError, pid_alive


@pytest.fixture
def socket_path(tmp_path_factory):
    # Short path: unix socket paths are limited to 107 bytes.
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="pg-") as tmp:
        yield Path(tmp) / "r" / "redis.sock"


def test_starts_on_a_private_unix_socket_and_stops(socket_path):
    server = EmbeddedRedis(socket_path=socket_path)
    server.start()
    pid = server.process.pid
    try:
        assert server.client().ping()
        mode = stat.S_IMODE(socket_path.stat().st_mode)
        assert mode & 0o077 == 0, f"socket readable by others: {oct(mode)}"
        assert server.client().config_get("port")["port"] == "0"  # no TCP port at all
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not socket_path.exists()


def test_serves_rq_jobs(socket_path):
    from redis import Redis
    from rq import Queue

    with EmbeddedRedis(socket_path=socket_path) as server:
        connection = Redis.from_url(server.url)
        queue = Queue("default", connection=connection)
        job = queue.enqueue(math.hypot, 3, 4)
        SimpleWorker([queue], connection=connection).work(burst=True)
        job.refresh()
        assert job.is_finished
        assert job.return_value() == 5.0


def test_refuses_to_start_twice_on_the_same_socket(socket_path):
    with EmbeddedRedis(socket_path=socket_path):
        with pytest.raises(EmbeddedRedisError, match="already listens"):
            EmbeddedRedis(socket_path=socket_path).start()


def test_stale_socket_from_a_crash_is_replaced(socket_path):
    socket_path.parent.mkdir(parents=True)
    socket_path.write_text("left over")
    with EmbeddedRedis(socket_path=socket_path) as server:
        assert server.client().ping()
