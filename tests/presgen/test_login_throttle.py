"""Sign-in: failed attempts are limited; sessions are rotated on sign-in and cleared on sign-out."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.builders import user_build

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_MAX_FAILURES_PER_USER = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(client):
    user = user_build()
    for _ in range(3):
        assert sign_in(client, user.username, "wrong").status_code == 200

    response = sign_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 500
    assert "Too many failed sign-in attempts. Please try again in 10 minutes" in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_the_limit_is_per_username_and_address(client):
    alice, bob = user_build(), user_build()
    for _ in range(3):
        sign_in(client, alice.username, "wrong")

    assert sign_in(Client(), bob.username, PASSWORD).status_code == 302
    assert sign_in(Client(), alice.username, PASSWORD, address="10.0.0.2").status_code == 302


def test_spreading_guesses_over_addresses_still_hits_the_per_username_limit():
    alice = user_build()
    for n in range(5):
        sign_in(Client(), alice.username, "wrong", address=f"10.0.1.{n}")

    assert sign_in(Client(), alice.username, PASSWORD, address="10.0.2.1").status_code == 429


def test_a_successful_sign_in_clears_the_count_for_that_address(client):
    user = user_build()
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, user.username, "wrong")

    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_lock_ends_when_the_window_has_passed(client, settings, monkeypatch):
    user = user_build()
    for _ in range(3):
        sign_in(client, user.username, "wrong")
    import presgen.login_throttle as throttle

    later = throttle.time.time() + settings.LOGIN_LOCKOUT_SECONDS + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)

    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_session_is_rotated_on_sign_in_and_cleared_on_sign_out(client):
    user = user_build()
    client.get(reverse("login"))
    session = client.session
    session["before"] = "anonymous"
    session.save()
    anonymous_key = session.session_key

    assert sign_in(client, user.username, PASSWORD).status_code == 302
    assert client.session.session_key != anonymous_key
    signed_in_key = client.session.session_key

    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session
    assert client.session.session_key != signed_in_key


def test_state_changing_forms_need_the_csrf_token():
    user = user_build()
    strict = Client(enforce_csrf_checks=True)
    assert sign_in(strict, user.username, PASSWORD).status_code == 403
    strict.force_login(user)
    assert strict.post(reverse("playlists:create"), {"title": "Mine"}).status_code == 403
    assert not user.playlists.exists()


def test_the_admin_sign_in_is_limited_too(client):
    staff = user_build(is_staff=True)
    url = reverse("admin:login")
    for _ in range(3):
        response = client.post(url, {"username": staff.username, "password": "wrong"})
        assert response.status_code == 200

    response = client.post(url, {"username": staff.username, "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
