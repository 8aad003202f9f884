"""Provider webhooks: verify the raw body, record the event once, hand the work to RQ.

`POST /webhooks/<provider account name>/`. Nothing is parsed before the
signature over the raw body checks out. The event's own id is recorded with a
unique constraint, so a redelivered event does nothing. The event only says
"look at render X": the status check re-reads the provider's API before any
job changes state, so a forged, stale or out-of-order event cannot move a job.
"""

from __future__ import annotations

import logging
from typing import cast

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from videos.models import AttemptStatus, GenerationAttempt, ProviderAccount, WebhookEvent
from videos.providers.base import WebhookError, WebhookReceiver
from videos.providers.registry import provider_build
from videos.queueing import attempt_check_enqueue

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt  # authenticated by the provider's signature, not a browser session
@require_POST
def webhook_receive(request: HttpRequest, provider: str) -> HttpResponse:
    account = ProviderAccount.objects.filter(name=provider, enabled=True).first()
    if account is None:
        return _refuse(404, "unknown provider")
    try:
        provider_adapter = provider_build(account=account)
    except LookupError:  # an account whose adapter is not installed here
        return _refuse(404, "unknown provider")
    if not hasattr(provider_adapter, "webhook_verify"):
        return _refuse(404, "this provider sends no webhooks")
    adapter = cast(WebhookReceiver, provider_adapter)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    headers = {key.lower(): value for key, value in request.headers.items()}
    try:
        # D-ID cannot sign its callbacks: its secret token comes in the query string.
        adapter.webhook_verify(headers=headers, body=body, query=request.GET.dict())
        notice = adapter.webhook_parse(headers=headers, body=body)
    except WebhookError as error:
        log.warning("webhook for %s refused: %s", provider, error)
        return _refuse(401 if "signature" in str(error).lower() else 400, str(error))

    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=account.kind,
                event_id=f"{account.name}:{notice.event_id}"[:200],
                payload={"external_id": notice.external_id, "state": notice.state or ""},
            )
            attempt = GenerationAttempt.objects.filter(
                provider=account.name,
                external_id=notice.external_id,
                status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING],
            ).first()
            if attempt is not None:
                # A worker re-reads the provider's status by API and acts on that.
                attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=0)
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    except IntegrityError:
        return JsonResponse({"status": "duplicate"}, status=200)
    return JsonResponse({"status": "accepted"}, status=202)
