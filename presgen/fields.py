"""An encrypted JSON field for secrets at rest (provider credentials).

Values are encrypted with the first of settings.FIELD_ENCRYPTION_KEYS and
decrypted with any of them (MultiFernet), so keys rotate by prepending a new
key and running `manage.py rotate_field_keys`, which re-encrypts every row.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet_current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class EncryptedJSONField(models.TextField):
    """Stores a JSON value as a Fernet token; the plain value never reaches the database."""

    description = "JSON encrypted with Fernet"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        try:
            plain = fernet_current().decrypt(value.encode())
        except InvalidToken:
            # Never guess: a row we cannot decrypt means the keys are wrong.
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name} cannot be decrypted with "
                "FIELD_ENCRYPTION_KEYS (was a key removed before re-encrypting?)"
            ) from None
        return json.loads(plain)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value if value is not None else {}

    def get_prep_value(self, value: Any) -> str:
        plain = json.dumps(value if value is not None else {}, sort_keys=True)
        return fernet_current().encrypt(plain.encode()).decode()

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata) keeps the ciphertext, never the secret.
        return self.get_prep_value(self.value_from_object(obj))
