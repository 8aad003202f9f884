"""Production settings pass Django's deployment checklist at WARNING level, and send the headers."""

import os
import secrets
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.presgen.test_settings import ROOT, production


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL"}}
    env.update(
        production(
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="presgen.example.com",
            VAR_DIR=str(tmp_path),
        )
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_refuse_framing(client):
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
