"""API tokens: made in the admin or by a command, key shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from presgen.api.tokens import api_token_create, api_token_revoke
from presgen.models import ApiToken
from tests.builders import user_build

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs"


def _client(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_only_a_digest_of_the_key_is_stored(learner):
    token, key = api_token_create(user=learner, name="LMS")

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in [str(v) for v in stored.values()]
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored["key_prefix"]) and len(stored["key_prefix"]) < len(key) // 3


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_token_and_bearer_keywords_authenticate(learner, keyword):
    _, key = api_token_create(user=learner, name="LMS")

    response = _client(key, keyword).get(JOBS)

    assert response.status_code == 200


def test_use_is_recorded(learner):
    token, key = api_token_create(user=learner, name="LMS")

    _client(key).get(JOBS)

    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Token pgk_not-a-real-key",
        "Bearer nonsense",
        "Token",
        "Token two parts",
    ],
)
def test_bad_credentials_are_401_in_the_error_shape(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(JOBS)

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Token")


def test_no_credentials_is_401_with_how_to_authenticate(db):
    response = APIClient().get(JOBS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "WWW-Authenticate" in response


def test_a_revoked_token_no_longer_works(learner):
    token, key = api_token_create(user=learner, name="LMS")
    assert _client(key).get(JOBS).status_code == 200

    assert api_token_revoke(token=token) is True

    assert _client(key).get(JOBS).status_code == 401
    assert api_token_revoke(token=token) is False


def test_a_deactivated_users_token_no_longer_works(learner):
    _, key = api_token_create(user=learner, name="LMS")
    learner.is_active = False
    learner.save()

    assert _client(key).get(JOBS).status_code == 401


def test_a_session_still_works_for_the_portal(learner):
    client = APIClient()
    client.force_login(learner)

    assert client.get(JOBS).status_code == 200


# --- manage.py create_api_token -----------------------------------------------------------


def test_command_prints_a_working_key_once(learner):
    out = io.StringIO()

    call_command("create_api_token", "ada", "--name", "phone app", stdout=out, stderr=io.StringIO())

    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.name == "phone app" and token.scope == "learner" and token.user == learner
    assert _client(key).get(JOBS).status_code == 200


def test_command_makes_a_staff_token_for_a_staff_user(staff_user):
    out = io.StringIO()

    call_command("create_api_token", staff_user.username, "--scope", "staff", stdout=out)

    assert ApiToken.objects.get().scope == "staff"
    assert _client(out.getvalue().strip()).get(JOBS).status_code == 200


def test_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user 'nobody'") as error:
        call_command("create_api_token", "nobody")

    assert error.value.returncode == 2
    assert not ApiToken.objects.exists()


def test_command_refuses_a_staff_scope_for_a_learner(learner):
    with pytest.raises(CommandError, match="not staff") as error:
        call_command("create_api_token", "ada", "--scope", "staff")

    assert error.value.returncode == 2
    assert not ApiToken.objects.exists()


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(client):
    admin = user_build(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_shows_the_new_key_once_and_then_only_masked(admin_client_logged_in, learner):
    client = admin_client_logged_in
    add_url = reverse("admin:presgen_apitoken_add")

    response = client.post(add_url, {"user": learner.pk, "name": "LMS", "scope": "learner"})

    assert response.status_code == 200
    page = response.content.decode()
    key = re.search(r'value="(pgk_[^"]+)"', page).group(1)
    assert "shown only this once" in page
    assert _client(key).get(JOBS).status_code == 200

    listing = client.get(reverse("admin:presgen_apitoken_changelist")).content.decode()
    token = ApiToken.objects.get()
    assert f"{token.key_prefix}…" in listing
    assert key not in listing
    change = client.get(reverse("admin:presgen_apitoken_change", args=[token.pk]))
    assert key not in change.content.decode()


def test_admin_refuses_a_staff_scope_for_a_learner(admin_client_logged_in, learner):
    response = admin_client_logged_in.post(
        reverse("admin:presgen_apitoken_add"),
        {"user": learner.pk, "name": "LMS", "scope": "staff"},
    )

    assert response.status_code == 200
    assert "needs a staff user" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(admin_client_logged_in, learner):
    token, key = api_token_create(user=learner, name="LMS")

    admin_client_logged_in.post(
        reverse("admin:presgen_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked and token.revoked_at is not None
    assert _client(key).get(JOBS).status_code == 401
