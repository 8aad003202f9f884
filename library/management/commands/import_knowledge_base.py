from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.knowledge_base import KnowledgeBaseError, knowledge_base_load
from library.services import knowledge_base_import


class Command(BaseCommand):
    help = "Create or update a certification from a knowledge-base file (JSON or YAML)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="path to a .json, .yaml or .yml file")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            data = knowledge_base_load(path=file)
            result = knowledge_base_import(data=data)
        except KnowledgeBaseError as exc:
            # Exit code 2: the input was wrong; nothing was written (the import is atomic).
            raise CommandError(f"{exc}\nNothing was imported.", returncode=2) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {result.certification.name}: {result.summary()}.")
        )
