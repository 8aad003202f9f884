"""Settings are read at start-up: each bad value must stop the process with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 50


def settings_load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "DATABASE_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
            "EMAIL_PORT",
            "LOG_LEVEL",
            "MEDIA_ROOT",
        }
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "presgen.settings", "VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.DATABASES['default']['ENGINE'], settings.REDIS_URL)",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def production(**env: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": GOOD_SECRET,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        **env,
    }


def test_debug_defaults_work_with_no_environment(tmp_path):
    result = settings_load(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.sqlite3"
    assert result.stdout.split()[1] == f"unix://{tmp_path}/redis/redis.sock?db=0"


def test_production_with_all_secrets_starts(tmp_path):
    result = settings_load(
        tmp_path,
        **production(
            DATABASE_URL="postgres://u:p@db.internal:5432/presgen", REDIS_URL="redis://cache:6379/1"
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache:6379/1"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY must be at least 32 characters"),
        ({"DEBUG": "0"}, "SECRET_KEY must be set"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        (
            production(FIELD_ENCRYPTION_KEYS=""),
            "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off",
        ),
        (production(FIELD_ENCRYPTION_KEYS="not-a-key"), "is not a Fernet key"),
        (production(DATABASE_URL="mysql://root@db/x"), "DATABASE_URL must be a URL starting with"),
        (production(REDIS_URL="http://cache"), "REDIS_URL must be a URL starting with"),
        (production(EMAIL_PORT="smtp"), "EMAIL_PORT must be a whole number"),
        (production(LOG_LEVEL="LOUD"), "LOG_LEVEL must be DEBUG, INFO"),
        (production(MEDIA_ROOT="media"), "MEDIA_ROOT must be an absolute path"),
    ],
)
def test_bad_environment_fails_at_start_with_a_clear_message(tmp_path, env, message):
    result = settings_load(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
