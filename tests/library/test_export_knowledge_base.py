"""Exporting a knowledge base gives a file that imports back to the same content."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from library.knowledge_base import knowledge_base_dump, knowledge_base_parse
from library.models import Certification
from library.services import DEMO_KNOWLEDGE_BASE, knowledge_base_import

pytestmark = pytest.mark.django_db


def content(certification: Certification) -> dict:
    """Everything a knowledge base holds, as plain data to compare."""
    return yaml.safe_load(knowledge_base_dump(certification=certification, fmt="yaml"))


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_the_demo_knowledge_base_survives_export_and_reimport(fmt):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    certification = Certification.objects.get(slug="cloud-foundations")
    before = content(certification)
    exported = knowledge_base_dump(certification=certification, fmt=fmt)

    Certification.objects.all().delete()
    knowledge_base_import(data=knowledge_base_parse(text=exported, name=f"export.{fmt}"))

    after = content(Certification.objects.get(slug="cloud-foundations"))
    assert after == before
    domains = before["certification"]["domains"]
    assert len(domains) >= 5
    assert all(d["concepts"] and d["questions"] for d in domains)
    assert any(q["key_concepts"] for d in domains for q in d["questions"])


def test_an_edit_in_the_database_shows_in_the_export():
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    certification = Certification.objects.get(slug="cloud-foundations")
    certification.domains.filter(position=0).update(name="Cloud concepts (2027 syllabus)")

    assert "Cloud concepts (2027 syllabus)" in knowledge_base_dump(certification=certification)


def test_the_command_writes_json_and_refuses_an_unknown_slug():
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    out = StringIO()
    call_command("export_knowledge_base", "cloud-foundations", "--format", "json", stdout=out)
    assert knowledge_base_parse(text=out.getvalue()).slug == "cloud-foundations"

    with pytest.raises(
        CommandError, match="No certification 'nope' \\(known: cloud-foundations\\)"
    ) as error:
        call_command("export_knowledge_base", "nope")
    assert error.value.returncode == 2
