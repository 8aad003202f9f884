import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from videos.models import ProviderAccount

pytestmark = pytest.mark.django_db


def stored_text(account: ProviderAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM videos_provideraccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_at_rest_and_read_back():
    account = ProviderAccount.objects.create(
        kind="heygen", name="HeyGen", credentials={"api_key": "sk-live-123456"}
    )
    assert "sk-live-123456" not in stored_text(account)
    assert ProviderAccount.objects.get(pk=account.pk).credentials == {"api_key": "sk-live-123456"}


def test_key_rotation_keeps_old_rows_readable(settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    account = ProviderAccount.objects.create(kind="did", name="D-ID", credentials={"k": "v"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert ProviderAccount.objects.get(pk=account.pk).credentials == {"k": "v"}


def test_removed_key_is_reported_not_guessed(settings):
    account = ProviderAccount.objects.create(kind="did", name="D-ID", credentials={"k": "v"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        ProviderAccount.objects.get(pk=account.pk)


def test_rotate_field_keys_re_encrypts_every_row_under_the_newest_key(settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    accounts = [
        ProviderAccount.objects.create(kind="heygen", name=f"p{n}", credentials={"api_key": n})
        for n in range(3)
    ]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "3 value(s)" in out.getvalue()
    for account in accounts:
        token = stored_text(account).encode()
        assert json.loads(Fernet(new.encode()).decrypt(token)) == {
            "api_key": accounts.index(account)
        }
    # The old key can now be removed.
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert [a.credentials for a in ProviderAccount.objects.order_by("name")] == [
        {"api_key": 0},
        {"api_key": 1},
        {"api_key": 2},
    ]


def test_rotation_refuses_rows_no_key_can_open_and_changes_nothing(settings):
    account = ProviderAccount.objects.create(kind="did", name="D-ID", credentials={"k": "v"})
    before = stored_text(account)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_field_keys", stdout=io.StringIO())
    assert stored_text(account) == before
