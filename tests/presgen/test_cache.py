"""The production cache: Redis-backed, and answering as a miss while Redis is down."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from presgen.api.tokens import api_token_create
from tests.builders import user_build

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
BACKEND = "presgen.cache.FailOpenRedisCache"
NOBODY_LISTENS = "redis://127.0.0.1:1/0"  # connection refused at once


def _sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture
def redis_cache(settings):
    def use(location: str) -> None:
        settings.CACHES = {
            "default": {
                "BACKEND": BACKEND,
                "LOCATION": location,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }

    return use


def test_with_redis_up_the_sign_in_limit_is_counted_in_redis(
    client, settings, redis_cache, redis_url
):
    redis_cache(redis_url)
    cache.clear()
    settings.LOGIN_MAX_FAILURES = 2
    user = user_build()
    for _ in range(2):
        assert _sign_in(client, user.username, "wrong").status_code == 200
    assert _sign_in(client, user.username, PASSWORD).status_code == 429
    cache.set("probe", 1)
    assert cache.get("probe") == 1
    cache.clear()


def test_with_redis_down_sign_in_and_the_api_still_answer(client, settings, redis_cache, caplog):
    redis_cache(NOBODY_LISTENS)
    user = user_build()
    assert cache.get("anything", "default") == "default"
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]

    assert _sign_in(client, user.username, "wrong").status_code == 200  # a form error, no 500
    response = _sign_in(client, user.username, PASSWORD)
    assert response.status_code == 302  # signed in: the limits fail open while Redis is out

    _, key = api_token_create(user=user, name="cache test")
    api = client.get("/api/v1/me", headers={"Authorization": f"Token {key}"})
    assert api.status_code == 200  # the throttle could not count, and did not fail the call
    assert "cache unavailable" in caplog.text
