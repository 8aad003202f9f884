"""Outbound HTTP for the remote provider adapters: one shared client, one retry policy.

Every vendor module calls `http_request` / `http_download`, so the retry
rules live here once and tests have one seam (the local fake servers):

- 429: wait for `Retry-After` (seconds or an HTTP date, capped), then retry;
- 5xx, timeouts, dropped connections: exponential backoff with jitter;
- any other 4xx: never retried (the request itself is wrong);
- a request that is not idempotent (a submit) is retried only when the
  server cannot have acted on it: a 429, or a connection that was never
  made. Anything else surfaces as a retryable ProviderError and the
  pipeline decides (a new attempt, or another provider).
"""

from __future__ import annotations

import email.utils
import functools
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import certifi
import httpx

from videos.providers.base import FailureKind, ProviderError

TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
DOWNLOAD_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=30.0, pool=5.0)
DOWNLOAD_CHUNK = 1 << 16


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, the first included
    base_seconds: float = 0.5
    cap_seconds: float = 20.0
    max_retry_after: float = 120.0  # longer waits go back to the pipeline's scheduler


DEFAULT_POLICY = RetryPolicy()

_client_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid: int | None = None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle, loaded once (~0.1 s): RQ's forked work horses inherit it from the worker."""
    return ssl.create_default_context(cafile=certifi.where())


def http_client() -> httpx.Client:
    """The process's shared client (connection pooling); a forked worker makes its own."""
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            _client = httpx.Client(timeout=TIMEOUT, follow_redirects=True, verify=tls_context())
            _client_pid = os.getpid()
        return _client


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (delta seconds or an HTTP date) in seconds, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    # Full jitter: spreads the retries of many workers hitting one outage.
    return random.uniform(0, min(policy.cap_seconds, policy.base_seconds * 2**attempt))  # noqa: S311


def _short(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:300]


def http_request(
    method: str,
    url: str,
    *,
    provider: str,
    idempotent: bool,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    client: httpx.Client | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request with the retry policy; returns a 2xx response or raises ProviderError."""
    client = client or http_client()
    last: ProviderError | None = None
    for attempt in range(policy.attempts):
        try:
            response = client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # Never reached the server: safe to send again, even a submit.
            last = ProviderError(
                f"{provider}: cannot connect ({type(error).__name__})", kind=FailureKind.RETRYABLE
            )
        except httpx.TransportError as error:
            last = ProviderError(
                f"{provider}: {type(error).__name__} during {method} {httpx.URL(url).path}",
                kind=FailureKind.RETRYABLE,
            )
            if not idempotent:
                raise last from None
        else:
            status = response.status_code
            if status < 400:
                return response
            if status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                last = ProviderError(
                    f"{provider}: rate limited (429)",
                    kind=FailureKind.RETRYABLE,
                    retry_after=wait,
                )
                if wait is not None and wait > policy.max_retry_after:
                    raise last
                if attempt + 1 < policy.attempts:
                    sleep(wait if wait is not None else _backoff(policy, attempt))
                continue
            if status >= 500:
                last = ProviderError(
                    f"{provider}: server error {status}: {_short(response)}",
                    kind=FailureKind.RETRYABLE,
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
                if not idempotent:
                    raise last
            elif status in (401, 403):
                # Bad or revoked credentials: this provider cannot be used until fixed.
                raise ProviderError(
                    f"{provider}: credentials refused ({status})", kind=FailureKind.PROVIDER_DOWN
                )
            else:
                raise ProviderError(
                    f"{provider}: request refused ({status}): {_short(response)}",
                    kind=FailureKind.PERMANENT,
                )
        if attempt + 1 < policy.attempts:
            sleep(_backoff(policy, attempt))
    assert last is not None
    raise last


def http_json(response: httpx.Response, *, provider: str) -> dict[str, Any]:
    """The response's JSON object; a malformed body is the provider's (retryable) fault."""
    try:
        data = response.json()
    except ValueError:
        raise ProviderError(
            f"{provider}: malformed JSON in the response", kind=FailureKind.RETRYABLE
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(f"{provider}: expected a JSON object", kind=FailureKind.RETRYABLE)
    return data


def http_call(
    method: str,
    url: str,
    *,
    provider: str,
    idempotent: bool,
    headers: Mapping[str, str],
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> dict[str, Any]:
    """A JSON API call with the retry policy; an empty body reads as {}."""
    response = http_request(
        method,
        url,
        provider=provider,
        idempotent=idempotent,
        policy=policy,
        sleep=sleep,
        headers=dict(headers),
        **kwargs,
    )
    if not response.content:
        return {}
    return http_json(response, provider=provider)


class JsonApiClient:
    """What the remote provider adapters share: JSON calls to their base URL, with their
    own headers (`_headers`) and retry policy. Subclasses set name, base_url, policy, sleep."""

    name: str
    base_url: str
    policy: RetryPolicy
    sleep: Callable[[float], None]

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return http_call(
            method,
            f"{self.base_url}{path}",
            provider=self.name,
            idempotent=idempotent,
            headers=self._headers(),
            policy=policy or self.policy,
            sleep=self.sleep,
            **kwargs,
        )


def http_download(
    url: str,
    *,
    dest: Path,
    provider: str,
    headers: Mapping[str, str] | None = None,
    content_types: tuple[str, ...] = ("video/mp4",),
    max_bytes: int = 4 << 30,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    client: httpx.Client | None = None,
) -> int:
    """Stream a file to `dest` (never all in memory); returns its size.

    A truncated body (fewer bytes than Content-Length), a wrong content type
    or an oversize file raises a retryable ProviderError and leaves no file.
    """
    client = client or http_client()
    partial = dest.with_name(dest.name + ".part")
    last: ProviderError | None = None
    for attempt in range(policy.attempts):
        try:
            with client.stream("GET", url, headers=headers, timeout=DOWNLOAD_TIMEOUT) as response:
                if response.status_code >= 400:
                    if response.status_code < 500 and response.status_code != 429:
                        raise ProviderError(
                            f"{provider}: download refused ({response.status_code})",
                            kind=FailureKind.PERMANENT,
                        )
                    raise httpx.HTTPStatusError(
                        "retry", request=response.request, response=response
                    )
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if content_types and kind not in content_types:
                    raise ProviderError(
                        f"{provider}: download is {kind or 'untyped'}, "
                        f"expected {', '.join(content_types)}",
                        kind=FailureKind.RETRYABLE,
                    )
                expected = response.headers.get("Content-Length")
                written = 0
                with open(partial, "wb") as handle:
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise ProviderError(
                                f"{provider}: download larger than {max_bytes} bytes",
                                kind=FailureKind.RETRYABLE,
                            )
                        handle.write(chunk)
                if expected is not None and expected.isdigit() and written != int(expected):
                    raise httpx.RemoteProtocolError(f"got {written} of {expected} bytes")
            os.replace(partial, dest)
            return written
        except ProviderError:
            partial.unlink(missing_ok=True)
            raise
        except (httpx.TransportError, httpx.HTTPStatusError) as error:
            partial.unlink(missing_ok=True)
            last = ProviderError(
                f"{provider}: download failed ({error})", kind=FailureKind.RETRYABLE
            )
        if attempt + 1 < policy.attempts:
            sleep(_backoff(policy, attempt))
    assert last is not None
    raise last
