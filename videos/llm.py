"""The one client for the external LLM: any OpenAI-compatible chat-completions API.

`POST {LLM_API_URL}/chat/completions` with a bearer key. Every failure (HTTP
error, timeout, connection, a reply without a message) becomes an LlmError
whose `kind` lets callers decide to retry or fall back. The API key is never
logged nor put into an error message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

_LOGGER = logging.getLogger(__name__)
_BODY_EXCERPT = 300  # characters of an error body worth keeping for staff


class LlmError(Exception):
    """kind: disabled | timeout | connection | http | malformed."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code

    @property
    def retryable(self) -> bool:
        return self.kind in {"timeout", "connection"} or (
            self.status_code is not None and (self.status_code == 429 or self.status_code >= 500)
        )


@dataclass(frozen=True)
class ChatUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class ChatReply:
    content: str
    model: str
    usage: ChatUsage


def llm_enabled() -> bool:
    return bool(settings.LLM_API_URL)


def chat_complete(
    *,
    messages: list[dict[str, str]],
    temperature: float = 0.4,
    max_tokens: int | None = None,
    json_mode: bool = False,
) -> ChatReply:
    """One chat completion. json_mode asks for a JSON object (not every server supports it)."""
    if not llm_enabled():
        raise LlmError("the LLM is not configured (LLM_API_URL is empty)", kind="disabled")
    url = f"{str(settings.LLM_API_URL).rstrip('/')}/chat/completions"
    key = str(settings.LLM_API_KEY or "")
    body: dict[str, Any] = {
        "model": settings.LLM_MODEL,
        "messages": messages,
        "temperature": temperature,
    }
    if max_tokens:
        body["max_tokens"] = max_tokens
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"

    started = time.monotonic()
    timeout = float(settings.LLM_TIMEOUT_SECONDS)
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise LlmError(f"the LLM did not answer within {timeout:g} s", kind="timeout") from None
    except httpx.HTTPError as exc:
        # The exception text names the URL, never the headers, so it is safe to keep.
        raise LlmError(
            f"could not reach the LLM: {type(exc).__name__}", kind="connection"
        ) from None
    elapsed = time.monotonic() - started

    if response.status_code >= 400:
        excerpt = _redact(response.text[:_BODY_EXCERPT], key)
        retry = response.headers.get("Retry-After")
        message = f"the LLM answered HTTP {response.status_code}"
        if retry:
            message += f" (retry after {retry} s)"
        if excerpt.strip():
            message += f": {' '.join(excerpt.split())}"
        raise LlmError(message, kind="http", status_code=response.status_code)

    reply = _reply_parse(response)
    _LOGGER.info(
        "LLM reply from %s in %.1f s (%d prompt + %d completion tokens)",
        reply.model,
        elapsed,
        reply.usage.prompt_tokens,
        reply.usage.completion_tokens,
    )
    return reply


def _reply_parse(response: httpx.Response) -> ChatReply:
    try:
        data = response.json()
    except ValueError:
        raise LlmError("the LLM's reply is not JSON", kind="malformed") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LlmError(
            "the LLM's reply has no choices[0].message.content", kind="malformed"
        ) from None
    if not isinstance(content, str) or not content.strip():
        raise LlmError("the LLM's reply is empty", kind="malformed")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return ChatReply(
        content=content,
        model=str(data.get("model") or settings.LLM_MODEL),
        usage=ChatUsage(
            prompt_tokens=_int(usage.get("prompt_tokens")),
            completion_tokens=_int(usage.get("completion_tokens")),
            total_tokens=_int(usage.get("total_tokens")),
        ),
    )


def _redact(text: str, key: str) -> str:
    # Some servers echo the request (headers included) in their error pages.
    return text.replace(key, "[redacted]") if key else text


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
