from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.knowledge_base import knowledge_base_dump
from library.models import Certification


class Command(BaseCommand):
    help = "Write a certification's knowledge base (domains, concepts, questions) as YAML or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the certification's slug")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        certification = Certification.objects.filter(slug=slug).first()
        if certification is None:
            known = ", ".join(Certification.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No certification {slug!r} (known: {known}).", returncode=2)
        self.stdout.write(knowledge_base_dump(certification=certification, fmt=options["format"]))
