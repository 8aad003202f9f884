import socket

import pytest

from tests.videos.scriptwriting.fake_llm import FakeLlm, completion, fake_llm, llm_settings
from videos.llm import ChatReply, ChatUsage, LlmError, chat_complete, llm_enabled

__all__ = ["fake_llm", "llm_settings"]  # fixtures used by name below

MESSAGES = [{"role": "user", "content": "Say hello."}]


def test_a_reply_is_read_into_a_typed_result(llm_settings, fake_llm: FakeLlm):
    fake_llm.reply("Hello there.")

    reply = chat_complete(messages=MESSAGES, temperature=0.2, max_tokens=50)

    assert reply == ChatReply(
        content="Hello there.",
        model="fake-model",
        usage=ChatUsage(prompt_tokens=120, completion_tokens=80, total_tokens=200),
    )
    (request,) = fake_llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test-secret-key"
    assert request.body["model"] == "fake-model"
    assert request.body["messages"] == MESSAGES
    assert request.body["max_tokens"] == 50
    assert "response_format" not in request.body


def test_json_mode_asks_for_a_json_object_and_a_trailing_slash_is_fine(
    llm_settings, fake_llm: FakeLlm
):
    llm_settings.LLM_API_URL = fake_llm.url + "/"
    fake_llm.reply("{}")

    chat_complete(messages=MESSAGES, json_mode=True)

    assert fake_llm.requests[0].path == "/v1/chat/completions"
    assert fake_llm.requests[0].body["response_format"] == {"type": "json_object"}


def test_without_a_key_no_authorization_header_is_sent(llm_settings, fake_llm: FakeLlm):
    llm_settings.LLM_API_KEY = ""
    fake_llm.reply("ok")

    chat_complete(messages=MESSAGES)

    assert "Authorization" not in fake_llm.requests[0].headers


def test_a_server_error_is_retryable_and_says_what_happened(llm_settings, fake_llm: FakeLlm):
    fake_llm.status(500, "upstream exploded")

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.kind == "http"
    assert caught.value.status_code == 500
    assert caught.value.retryable
    assert "HTTP 500" in str(caught.value) and "upstream exploded" in str(caught.value)


def test_rate_limiting_reports_retry_after(llm_settings, fake_llm: FakeLlm):
    fake_llm.status(429, "slow down", headers={"Retry-After": "7"})

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.status_code == 429
    assert caught.value.retryable
    assert "retry after 7 s" in str(caught.value)


def test_the_key_never_appears_in_an_error_even_when_the_server_echoes_it(
    llm_settings, fake_llm: FakeLlm
):
    fake_llm.respond(
        lambda body: (401, {"error": "bad key sk-test-secret-key for this account"}, {})
    )

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.status_code == 401
    assert not caught.value.retryable
    assert "sk-test-secret-key" not in str(caught.value)
    assert "[redacted]" in str(caught.value)


def test_a_slow_server_times_out(llm_settings, fake_llm: FakeLlm):
    fake_llm.delay = 5  # LLM_TIMEOUT_SECONDS is 1; the fixture releases the server at teardown
    fake_llm.reply("too late")

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.kind == "timeout"
    assert caught.value.retryable


def test_a_closed_port_is_a_connection_error(settings):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.LLM_API_URL = f"http://127.0.0.1:{port}/v1"
    settings.LLM_API_KEY = "sk-test-secret-key"

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.kind == "connection"
    assert "sk-test-secret-key" not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        "this is not json",
        {"choices": []},
        {"choices": [{"message": {"role": "assistant"}}]},
        {"choices": [{"message": {"content": "   "}}]},
        ["a", "list"],
    ],
)
def test_a_malformed_reply_is_an_error(llm_settings, fake_llm: FakeLlm, body):
    fake_llm.respond(lambda _: (200, body, {}))

    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)

    assert caught.value.kind == "malformed"
    assert not caught.value.retryable


def test_without_a_url_the_llm_is_disabled(settings):
    settings.LLM_API_URL = ""

    assert not llm_enabled()
    with pytest.raises(LlmError) as caught:
        chat_complete(messages=MESSAGES)
    assert caught.value.kind == "disabled"


def test_usage_is_optional(llm_settings, fake_llm: FakeLlm):
    payload = completion("hi")
    del payload["usage"]
    fake_llm.respond(lambda _: (200, payload, {}))

    assert chat_complete(messages=MESSAGES).usage == ChatUsage()
