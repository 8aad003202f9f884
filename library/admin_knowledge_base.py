"""Admin pages to import a knowledge-base file and export a certification (JSON or YAML).

The same parser and import service as `manage.py import_knowledge_base`: a bad
file is refused with the parser's message (line or field path) and nothing is
written, since the import is one transaction.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from library.knowledge_base import KnowledgeBaseError, knowledge_base_dump, knowledge_base_parse
from library.models import Certification
from library.services import knowledge_base_import

MAX_FILE_BYTES = 2 * 1024 * 1024
FORMATS = {"yaml": "application/yaml", "json": "application/json"}


class KnowledgeBaseUploadForm(forms.Form):
    file = forms.FileField(
        label="Knowledge-base file",
        help_text="JSON or YAML, as written by Export or described in the README (at most 2 MB).",
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        name = upload.name or "upload"
        if not name.lower().endswith((".json", ".yaml", ".yml")):
            raise forms.ValidationError("Choose a .json, .yaml or .yml file.")
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 2 MB."
            )
        try:
            text: str = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        return text


def knowledge_base_import_view(request: HttpRequest, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not model_admin.has_add_permission(request) or not model_admin.has_change_permission(
        request
    ):
        raise PermissionDenied
    form = KnowledgeBaseUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = request.FILES.get("file")
        name = getattr(upload, "name", None) or "upload"
        try:
            data = knowledge_base_parse(text=form.cleaned_data["file"], name=name)
            result = knowledge_base_import(data=data)
        except KnowledgeBaseError as error:
            form.add_error("file", f"{error} Nothing was imported.")
        else:
            certification = result.certification
            created = bool(result.created.get("certification"))
            LogEntry.objects.log_actions(
                user_id=cast(int, request.user.pk),  # admin_view: always signed in
                queryset=[certification],
                action_flag=ADDITION if created else CHANGE,
                change_message=f"Imported from {name}: {result.summary()}.",
            )
            messages.success(request, f"Imported {certification.name}: {result.summary()}.")
            return HttpResponseRedirect(
                reverse("admin:library_certification_change", args=[certification.pk])
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import a knowledge base",
        "form": form,
    }
    return TemplateResponse(request, "admin/library/certification/import.html", context)


def knowledge_base_export_view(
    request: HttpRequest, model_admin: admin.ModelAdmin, pk: int, fmt: str
) -> HttpResponse:
    if not model_admin.has_view_permission(request) or fmt not in FORMATS:
        raise PermissionDenied
    certification = get_object_or_404(Certification, pk=pk)
    response = HttpResponse(
        knowledge_base_dump(certification=certification, fmt=fmt),
        content_type=f"{FORMATS[fmt]}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{certification.slug}.{fmt}"'
    return response
