from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import django_rq
import pytest
from django.conf import settings
from django.core.cache import cache

from presgen.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: the machine's when REDIS_URL is set, else an embedded one for this run."""
    if not settings.EMBEDDED_REDIS:
        yield _per_xdist_worker(settings.REDIS_URL)
        return
    # A short private path: unix socket paths are limited to 107 bytes.
    with tempfile.TemporaryDirectory(prefix="presgen-redis-") as tmp:
        with EmbeddedRedis(socket_path=Path(tmp) / "redis.sock") as server:
            yield server.url


def _per_xdist_worker(url: str) -> str:
    """The machine's Redis, one database per pytest-xdist worker ("gw0" → db 1, "gw1" → db 2).

    Each test empties its queues: two workers sharing a database would empty each other's.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    return urlsplit(url)._replace(path=f"/{1 + int(worker[2:]) % 15}").geturl()


@pytest.fixture
def rq_queues(settings, redis_url: str) -> Iterator[dict[str, django_rq.queues.DjangoRQ]]:
    """RQ queues on the real Redis above (a database for tests only), emptied before and after."""
    settings.RQ_QUEUES = {
        name: {"URL": redis_url, "DEFAULT_TIMEOUT": 60} for name in settings.RQ_QUEUE_NAMES
    }
    queues = {name: django_rq.get_queue(name) for name in settings.RQ_QUEUE_NAMES}
    # The whole test database, not just the queues: scheduled, started and failed
    # registries left by an earlier test would show in the next one's figures.
    connection = queues["default"].connection
    connection.flushdb()
    yield queues
    connection.flushdb()


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _cache_cleared() -> Iterator[None]:
    """Rate-limit counters live in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()
