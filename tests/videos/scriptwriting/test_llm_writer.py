import json
from typing import Any

import pytest

from tests.videos.scriptwriting.fake_llm import FakeLlm, completion, fake_llm, llm_settings
from videos.scriptwriting import (
    ScriptWriteError,
    script_context_build,
    script_template_write,
    script_write,
)
from videos.scriptwriting.llm_writer import prompt_build
from videos.studio.types import PAUSE_MARKER

__all__ = ["fake_llm", "llm_settings"]  # fixtures used by name below

pytestmark = pytest.mark.django_db


def _brief(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body["messages"][1]["content"])


def rewrite(body: dict[str, Any], *, change=lambda text: f"So, {text}") -> str:
    """What a well-behaved model sends back: every draft section, reworded."""
    sections = [
        {"heading": s["heading"], "text": change(s["draft"])} for s in _brief(body)["sections"]
    ]
    return json.dumps({"title": "Your personal roadmap", "sections": sections})


def _rewriting(change=lambda text: f"So, {text}", *, wrap=lambda content: content):
    return lambda body: (200, completion(wrap(rewrite(body, change=change))), {})


def test_a_good_llm_reply_is_used_and_the_key_is_sent(
    demo, demo_job, llm_settings, fake_llm: FakeLlm
):
    fake_llm.respond(_rewriting())
    job = demo_job("overview")
    template = script_template_write(context=script_context_build(job=job))

    written = script_write(job=job)

    assert written.writer == "llm" and written.fallback_reason == ""
    assert written.script.title == "Your personal roadmap"
    assert all(s.text.startswith("So, ") for s in written.script.sections)
    # The facts on screen stay the knowledge base's, whatever the model wrote.
    assert [s.slide for s in written.script.sections] == [s.slide for s in template.sections]
    assert written.quality.total > 80
    (request,) = fake_llm.requests
    assert request.headers["Authorization"] == "Bearer sk-test-secret-key"
    assert request.body["model"] == "fake-model"


def test_the_prompt_carries_the_facts_the_plan_and_the_rules(demo, demo_job):
    context = script_context_build(job=demo_job("practice_session"))
    draft = script_template_write(context=context)

    messages = prompt_build(context=context, draft=draft)

    assert messages[0]["role"] == "system" and "JSON" in messages[0]["content"]
    brief = json.loads(messages[1]["content"])
    assert brief["learner"]["name"] == "Alex Rivera"
    assert brief["certification"]["name"] == "Cloud Foundations Associate"
    assert len(brief["sections"]) == len(draft.sections)
    assert any(PAUSE_MARKER in rule for rule in brief["rules"])
    assert any(PAUSE_MARKER in s["draft"] for s in brief["sections"])


def test_a_fenced_reply_with_markdown_is_cleaned_and_used(
    demo, demo_job, llm_settings, fake_llm: FakeLlm
):
    fake_llm.respond(
        _rewriting(
            change=lambda text: f"**Great** news: {text} See https://example.com.",
            wrap=lambda content: f"Here you go:\n```json\n{content}\n```",
        )
    )

    written = script_write(job=demo_job("motivational"))

    assert written.writer == "llm"
    assert "**" not in written.narration_text and "https" not in written.narration_text
    assert written.script.sections[0].text.startswith("Great news: Hi Alex Rivera.")


def test_a_practice_reply_keeps_its_pauses(demo, demo_job, llm_settings, fake_llm: FakeLlm):
    fake_llm.respond(_rewriting())

    written = script_write(job=demo_job("practice_session"))

    assert written.writer == "llm"
    questions = [s for s in written.script.sections if s.slide.get("question")]
    assert all(s.text.count(PAUSE_MARKER) == 1 for s in questions)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda fake: fake.status(500, "model overloaded"), "LLM error: the LLM answered HTTP 500"),
        (
            lambda fake: fake.status(429, "rate limited", headers={"Retry-After": "20"}),
            "HTTP 429 (retry after 20 s)",
        ),
        (lambda fake: fake.reply("Sure! Here is the script: {not: json}"), "not valid JSON"),
        (lambda fake: fake.reply("I cannot help with that."), "not a JSON object"),
        (
            lambda fake: fake.respond(lambda _: (200, "<html>gateway</html>", {})),
            "the LLM's reply is not JSON",
        ),
        (
            lambda fake: fake.reply(json.dumps({"sections": [{"heading": "x", "text": "Hi."}]})),
            "LLM reply unusable: the reply has 1 sections",
        ),
        (
            lambda fake: fake.respond(_rewriting(change=lambda text: text.replace("Alex", "you"))),
            "never uses the learner's name",
        ),
        (
            lambda fake: fake.respond(_rewriting(change=lambda text: text + " " + text * 3)),
            "words; the draft has",
        ),
    ],
)
def test_any_llm_failure_falls_back_to_the_template_with_the_reason(
    demo, demo_job, llm_settings, fake_llm: FakeLlm, answer, reason
):
    answer(fake_llm)
    job = demo_job("overview")
    template = script_template_write(context=script_context_build(job=job))

    written = script_write(job=job)

    assert written.writer == "template"
    assert reason in written.fallback_reason
    assert written.script == template
    assert "sk-test-secret-key" not in written.fallback_reason
    assert len(fake_llm.requests) == 1


def test_a_slow_llm_times_out_and_falls_back(demo, demo_job, llm_settings, fake_llm: FakeLlm):
    fake_llm.delay = 5  # LLM_TIMEOUT_SECONDS is 1
    fake_llm.respond(_rewriting())

    written = script_write(job=demo_job("motivational"))

    assert written.writer == "template"
    assert written.fallback_reason == "LLM error: the LLM did not answer within 1 s"


def test_a_practice_reply_that_drops_the_pause_falls_back(
    demo, demo_job, llm_settings, fake_llm: FakeLlm
):
    fake_llm.respond(_rewriting(change=lambda text: text.replace(PAUSE_MARKER, "")))

    written = script_write(job=demo_job("practice_session"))

    assert written.writer == "template"
    assert "thinking pause(s); the plan has 1" in written.fallback_reason
    assert PAUSE_MARKER in written.narration_text


def test_the_written_script_records_the_fallback_when_stored(
    demo, demo_job, llm_settings, fake_llm: FakeLlm
):
    fake_llm.status(503)
    stored = script_write(job=demo_job("exam_prep")).as_dict()

    assert stored["writer"] == "template"
    assert "HTTP 503" in stored["fallback_reason"]


def test_without_an_llm_url_no_request_is_made(demo, demo_job, settings, fake_llm: FakeLlm):
    settings.LLM_API_URL = ""

    written = script_write(job=demo_job("overview"))

    assert written.writer == "template" and written.fallback_reason == ""
    assert fake_llm.requests == []


def test_impossible_inputs_fail_before_the_llm_is_asked(
    demo, demo_job, llm_settings, fake_llm: FakeLlm
):
    with pytest.raises(ScriptWriteError):
        script_write(job=demo_job("remediation", domain="not-a-domain"))

    assert fake_llm.requests == []
