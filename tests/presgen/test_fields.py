import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
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
