"""Django's Redis cache, answering like an empty cache while Redis is unreachable.

Production keeps the sign-in limits and the API throttle counters in Redis
(shared by every web process). Django's own Redis backend raises when Redis
is down, which would turn every sign-in and API call into a 500 while the
queue is out too. The database is the source of truth and the reconciler
re-enqueues what Redis lost, so the web side should keep working: here a
Redis error is logged and answered as a miss (limits fail open for that
time), the same trade django-redis makes with IGNORE_EXCEPTIONS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _unavailable(operation: str, error: RedisError) -> None:
    log.warning("cache unavailable, %s answered as a miss: %s", operation, error)


class FailOpenRedisCache(RedisCache):
    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _unavailable("get", error)
            return default

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _unavailable("get_many", error)
            return {}

    def has_key(self, key: str, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError as error:
            _unavailable("has_key", error)
            return False

    def add(self, key: str, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _unavailable("add", error)
            return False

    def set(self, key: str, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _unavailable("set", error)

    def set_many(
        self, data: dict[str, Any], timeout: Any = None, version: int | None = None
    ) -> list[str]:
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            _unavailable("set_many", error)
            return list(data)  # Django's contract: the keys that were not set

    def touch(self, key: str, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            _unavailable("touch", error)
            return False

    def delete(self, key: str, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as error:
            _unavailable("delete", error)
            return False

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            _unavailable("delete_many", error)
