from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from presgen.fields import EncryptedJSONField


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first of FIELD_ENCRYPTION_KEYS. "
        "Rotate by prepending a new key, running this, then removing the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        try:
            with transaction.atomic():
                for model in apps.get_models():
                    fields = [f for f in model._meta.fields if isinstance(f, EncryptedJSONField)]
                    for field in fields:
                        # Reading decrypts with any key; writing encrypts with the first.
                        for pk, value in model._default_manager.values_list("pk", field.attname):
                            model._default_manager.filter(pk=pk).update(**{field.attname: value})
                            total += 1
                        self.stdout.write(f"{model._meta.label}.{field.name}: re-encrypted")
        except ImproperlyConfigured as error:  # a row no key can open: change nothing
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) now under the newest key."))
