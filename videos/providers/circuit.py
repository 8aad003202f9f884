"""A circuit breaker per provider, kept in the database so every worker sees it.

closed: used normally; failures are counted in a sliding window.
open: after CIRCUIT_FAILURE_THRESHOLD failures within CIRCUIT_WINDOW_SECONDS,
    the provider is skipped for CIRCUIT_COOLDOWN_SECONDS.
half_open: after the cool-down one caller gets a trial; success closes the
    circuit, failure opens it again for another cool-down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from videos.models import CircuitState, ProviderCircuit


def _circuit_get(*, provider: str) -> ProviderCircuit:
    circuit, _ = ProviderCircuit.objects.get_or_create(provider=provider)
    return circuit


def circuit_allows(*, provider: str, now: datetime | None = None) -> bool:
    """May this provider be used now? Claims the half-open trial when it is due."""
    now = now or timezone.now()
    circuit = _circuit_get(provider=provider)
    cooldown = timedelta(seconds=settings.CIRCUIT_COOLDOWN_SECONDS)
    if circuit.state == CircuitState.CLOSED:
        return True
    if circuit.state == CircuitState.OPEN:
        if circuit.opened_at is not None and now - circuit.opened_at < cooldown:
            return False
        # Only one worker wins the trial: the update matches the row it read.
        return (
            ProviderCircuit.objects.filter(
                pk=circuit.pk, state=CircuitState.OPEN, opened_at=circuit.opened_at
            ).update(state=CircuitState.HALF_OPEN, updated_at=now)
            == 1
        )
    # Half-open with a trial under way. A trial that never reported back (its
    # worker died) must not keep the provider shut forever: hand out another.
    if now - circuit.updated_at < cooldown:
        return False
    return (
        ProviderCircuit.objects.filter(
            pk=circuit.pk, state=CircuitState.HALF_OPEN, updated_at=circuit.updated_at
        ).update(updated_at=now)
        == 1
    )


def circuit_success_record(*, provider: str) -> None:
    # No row yet means closed (circuit_allows creates it): nothing to write.
    ProviderCircuit.objects.filter(provider=provider).exclude(
        state=CircuitState.CLOSED, failures=0
    ).update(
        state=CircuitState.CLOSED,
        failures=0,
        window_started_at=None,
        opened_at=None,
        updated_at=timezone.now(),
    )


def circuit_failure_record(*, provider: str, error: str, now: datetime | None = None) -> str:
    """Count a provider failure; returns the circuit's state afterwards."""
    now = now or timezone.now()
    _circuit_get(provider=provider)
    window = timedelta(seconds=settings.CIRCUIT_WINDOW_SECONDS)
    with transaction.atomic():
        circuit = ProviderCircuit.objects.select_for_update().get(provider=provider)
        circuit.last_error = error[:2000]
        if circuit.state == CircuitState.HALF_OPEN:
            circuit.state = CircuitState.OPEN
            circuit.opened_at = now
        elif circuit.state == CircuitState.CLOSED:
            if circuit.window_started_at is None or now - circuit.window_started_at >= window:
                circuit.window_started_at = now
                circuit.failures = 1
            else:
                circuit.failures += 1
            if circuit.failures >= settings.CIRCUIT_FAILURE_THRESHOLD:
                circuit.state = CircuitState.OPEN
                circuit.opened_at = now
        circuit.save()
        return circuit.state


def circuit_reset(*, provider: str) -> None:
    """Staff say the provider is fine again: close its circuit now."""
    _circuit_get(provider=provider)
    ProviderCircuit.objects.filter(provider=provider).update(
        state=CircuitState.CLOSED,
        failures=0,
        window_started_at=None,
        opened_at=None,
        updated_at=timezone.now(),
    )
