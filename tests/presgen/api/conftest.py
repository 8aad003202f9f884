"""Fixtures for the REST API tests: learners, a staff service, token clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from library.models import Certification
from presgen.api.tokens import api_token_create
from presgen.models import User
from tests.builders import certification_build, user_build


@pytest.fixture(autouse=True)
def throttle_history_cleared() -> Iterator[None]:
    """Throttling counts requests in the cache: start and leave every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Test users get passwords; the real hasher is slow by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def token_client() -> Callable[..., APIClient]:
    """An APIClient sending a new token of `user` (scope "learner" or "staff")."""

    def make(user: User, *, scope: str = "learner", keyword: str = "Token") -> APIClient:
        _, key = api_token_create(user=user, name="tests", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
        return client

    return make


@pytest.fixture
def learner(db) -> User:
    return user_build(username="ada")


@pytest.fixture
def other_learner(db) -> User:
    return user_build(username="grace")


@pytest.fixture
def staff_user(db) -> User:
    return user_build(username="assess-service", is_staff=True)


@pytest.fixture
def api(learner: User, token_client) -> APIClient:
    """The learner's own token."""
    return token_client(learner)


@pytest.fixture
def other_api(other_learner: User, token_client) -> APIClient:
    return token_client(other_learner)


@pytest.fixture
def service_api(staff_user: User, token_client) -> APIClient:
    """A staff-scoped service token (e.g. the assessment service)."""
    return token_client(staff_user, scope="staff")


@pytest.fixture
def cert(db) -> Certification:
    return certification_build(
        slug="cloud-101",
        name="Cloud 101",
        domains={"compute": 40, "networking": 35, "security": 25},
    )
