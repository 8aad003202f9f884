"""Which providers exist: enabled ProviderAccount rows, plus the studio by default."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from videos.models import ProviderAccount, ProviderKind
from videos.providers.base import Provider

STUDIO = "studio"


def provider_class_get(*, kind: str) -> type:
    try:
        path = settings.VIDEO_PROVIDER_CLASSES[kind]
    except KeyError:
        raise LookupError(f"no provider adapter for kind {kind!r}") from None
    cls: type = import_string(path)
    return cls


def provider_build(*, account: ProviderAccount) -> Provider:
    cls = provider_class_get(kind=account.kind)
    provider: Provider = cls(name=account.name, account=account)
    return provider


def providers_enabled() -> list[tuple[Provider, int]]:
    """Enabled providers with their priority (lower first).

    The studio is always there, so a fresh install renders with no set-up;
    a ProviderAccount of kind "studio" configures it (or disables it).
    """
    providers: list[tuple[Provider, int]] = []
    studio_configured = False
    for account in ProviderAccount.objects.all():
        if account.kind == ProviderKind.STUDIO:
            studio_configured = True
        if not account.enabled or account.kind not in settings.VIDEO_PROVIDER_CLASSES:
            continue
        providers.append((provider_build(account=account), account.priority))
    if not studio_configured:
        studio_cls = provider_class_get(kind=STUDIO)
        providers.append((studio_cls(name=STUDIO, account=None), 100))
    return providers


def provider_get(*, name: str) -> Provider:
    """The provider an attempt was made with, by its name."""
    account = ProviderAccount.objects.filter(name=name).first()
    if account is not None:
        return provider_build(account=account)
    if name == STUDIO:
        studio: Provider = provider_class_get(kind=STUDIO)(name=STUDIO, account=None)
        return studio
    raise LookupError(f"unknown provider {name!r}")
