from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.form_import import FormMappingError, form_responses_import
from library.google_forms import FormsError, forms_connect
from library.models import FormMapping


class Command(BaseCommand):
    help = (
        "Create assessments from a Google Form's responses (skipping ones already imported) "
        "and plan their video series. The form's mapping (question → domain) is kept in the "
        "admin under Library › Form mappings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("form_id", help="the Google Form's id (from its edit URL)")
        parser.add_argument("--certification", required=True, help="the certification's slug")

    def handle(self, *args: Any, form_id: str, certification: str, **options: Any) -> None:
        mapping = (
            FormMapping.objects.select_related("certification").filter(form_id=form_id).first()
        )
        if mapping is None:
            raise CommandError(
                f"No mapping for form {form_id}: add one in the admin (Library › Form mappings) "
                "saying which question counts towards which domain.",
                returncode=2,
            )
        if mapping.certification.slug != certification:
            raise CommandError(
                f"Form {form_id} is mapped to {mapping.certification.slug}, not {certification}.",
                returncode=2,
            )
        try:
            client = forms_connect(
                service_account_file=settings.GOOGLE_SERVICE_ACCOUNT_FILE,
                api_url=settings.GOOGLE_FORMS_API_URL,
            )
            result = form_responses_import(mapping=mapping, client=client)
        except (FormsError, FormMappingError) as error:
            raise CommandError(f"{error}\nNothing was imported.", returncode=2) from None
        for line in result.errors:
            self.stderr.write(line)
        self.stdout.write(f"Form {form_id}: {result.summary()}.")
        if result.errors:
            # The good responses are in; the named ones need the mapping or the form fixed.
            raise CommandError(
                f"{len(result.errors)} response(s) could not be imported.", returncode=2
            )
