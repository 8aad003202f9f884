"""API tokens in the admin: make one (its key is shown once), see them masked, revoke them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import reverse
from django.utils.html import format_html

from presgen.api.tokens import (
    ApiTokenError,
    api_key_masked,
    api_token_key_assign,
    api_token_revoke,
    api_token_scope_check,
)
from presgen.models import ApiToken, IdempotencyKey

# Rendered in the admin's own layout; the key is in this one response and nowhere else.
_KEY_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<div id="content-main">
  <h1>API token “{{ token.name }}” created</h1>
  <p>Copy the key now: it is shown only this once and cannot be recovered
     (only a digest of it is stored). If it is lost, revoke the token and make a new one.</p>
  <p><label for="api-token-key"><strong>Key</strong></label><br>
     <input id="api-token-key" type="text" value="{{ key }}" readonly size="60"
            style="font-family: monospace; font-size: 1rem" onfocus="this.select()"></p>
  <p>Use it as <code>Authorization: Token {{ key_masked }}</code>
     (or <code>Bearer …</code>). User: {{ token.user }} · scope: {{ token.get_scope_display }}.</p>
  <p><a class="button" href="{{ list_url }}">Back to API tokens</a></p>
</div>
{% endblock %}"""
)


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, scope = data.get("user"), data.get("scope")
        if user is not None and scope:
            try:
                api_token_scope_check(user=user, scope=scope)
            except ApiTokenError as error:
                self.add_error("scope", str(error))
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "scope", "masked_key", "created_at", "last_used_at", "revoked")
    list_filter = ("scope", "revoked")
    search_fields = ("name", "user__username", "key_prefix")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    actions = ["revoke_selected"]

    @admin.display(description="key")
    def masked_key(self, token: ApiToken) -> str:
        return format_html("<code>{}</code>", api_key_masked(token=token))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["user", "name", "scope"]
        return [
            "name",
            "user",
            "scope",
            "masked_key",
            "created_at",
            "last_used_at",
            "revoked",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        # Scope and user are fixed once a key exists; revoking is the action below.
        return [
            "user",
            "scope",
            "masked_key",
            "created_at",
            "last_used_at",
            "revoked",
            "revoked_at",
        ]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            request._api_token_key = api_token_key_assign(token=obj)  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = getattr(request, "_api_token_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": obj,
            "key": key,
            "key_masked": api_key_masked(token=obj),
            "list_url": reverse("admin:presgen_apitoken_changelist"),
        }
        response = HttpResponse(_KEY_PAGE.render(context, request))
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(api_token_revoke(token=token) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: which create requests were made with which key, and what they answered."""

    list_display = ("key", "user", "method", "path", "status_code", "created_at", "expires_at")
    list_filter = ("method", "status_code")
    search_fields = ("key", "user__username", "path")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "key",
        "fingerprint",
        "method",
        "path",
        "status_code",
        "response_body",
        "created_at",
        "expires_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
