import pytest
from django.core.exceptions import ImproperlyConfigured

from presgen.env import env_bool, env_int, env_list, env_path, env_str, env_url


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("Yes", True), ("off", False), ("", False)]
)
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("FLAG", not expected, environ={"FLAG": raw}) is expected


def test_env_bool_rejects_anything_else_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG must be one of .* got 'banana'"):
        env_bool("DEBUG", False, environ={"DEBUG": "banana"})


def test_env_int_rejects_words_and_out_of_range_values():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT must be a whole number"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "twenty"})
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT must be at most 65535"):
        env_int("EMAIL_PORT", 25, maximum=65535, environ={"EMAIL_PORT": "70000"})
    assert env_int("EMAIL_PORT", 25, environ={}) == 25


def test_env_str_required_when_no_default():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        env_str("SECRET_KEY", None, environ={})


def test_env_list_splits_and_trims():
    assert env_list("HOSTS", [], environ={"HOSTS": " a.example , b.example,,"}) == [
        "a.example",
        "b.example",
    ]


def test_env_path_must_be_absolute(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="MEDIA_ROOT must be an absolute path"):
        env_path("MEDIA_ROOT", tmp_path, environ={"MEDIA_ROOT": "relative/media"})


def test_env_url_checks_scheme_without_printing_the_password():
    with pytest.raises(ImproperlyConfigured) as caught:
        env_url(
            "DATABASE_URL",
            "sqlite:///x",
            schemes=("sqlite", "postgres"),
            environ={"DATABASE_URL": "mysql://admin:hunter2@db/app"},
        )
    message = str(caught.value)
    assert "DATABASE_URL must be a URL starting with one of sqlite://, postgres://" in message
    assert "hunter2" not in message
    assert "admin:***@db/app" in message
