from dataclasses import replace

import pytest

from videos.scriptwriting import (
    ScriptQuality,
    script_context_build,
    script_score,
    script_seconds_estimate,
    script_template_write,
)
from videos.scriptwriting.scoring import target_range
from videos.studio.types import PAUSE_MARKER, Script, Section, VideoType

pytestmark = pytest.mark.django_db

PARTS = {"length", "coverage", "personalisation", "readability", "structure"}


def _score(script: Script, context) -> ScriptQuality:
    seconds = script_seconds_estimate(
        script=script, voice_speed=context.voice_speed, think_seconds=context.think_seconds
    )
    return script_score(script=script, context=context, target_seconds=seconds)


def test_a_template_script_scores_well_in_every_part(demo, demo_job):
    context = script_context_build(job=demo_job("remediation", domain="security-identity"))
    quality = _score(script_template_write(context=context), context)

    assert set(quality.parts) == PARTS
    assert all(0 <= part["score"] <= 100 and part["note"] for part in quality.parts.values())
    assert quality.total >= 90
    assert quality.parts["coverage"]["note"] == "4 of 4 focus items named"


def test_a_deliberately_bad_script_scores_lower_in_each_part(demo, demo_job):
    context = script_context_build(job=demo_job("remediation", domain="security-identity"))
    good = _score(script_template_write(context=context), context)
    rambling = (
        "so **basically** there is this thing and it goes on and on and it never really stops "
        "because nobody told it to stop and it keeps going without a full stop anywhere at all "
        "see https://example.com "
    )
    bad = Script(
        video_type=VideoType.REMEDIATION,
        title="Stuff",
        sections=(Section(heading="", text=rambling),),
    )

    quality = _score(bad, context)

    assert quality.total < good.total - 40
    for name in PARTS:
        assert quality.parts[name]["score"] < good.parts[name]["score"], name
    assert "too short" in quality.parts["length"]["note"]
    assert "missing: Security and Identity" in quality.parts["coverage"]["note"]
    assert "name in the opening" in quality.parts["personalisation"]["note"]
    assert "not speakable: a URL, markdown" in quality.parts["readability"]["note"]
    assert "only 1 section(s)" in quality.parts["structure"]["note"]


def test_coverage_names_the_concepts_the_script_left_out(demo, demo_job):
    context = script_context_build(job=demo_job("remediation", domain="security-identity"))
    script = script_template_write(context=context)
    # Drop the section on multi-factor authentication and every mention of it.
    sections = tuple(
        replace(s, text=s.text.replace("Multi-Factor Authentication", "another idea"))
        for s in script.sections
        if s.heading != "Multi-Factor Authentication"
    )

    quality = _score(replace(script, sections=sections), context)

    assert quality.parts["coverage"]["score"] == 75
    assert "missing: Multi-Factor Authentication" in quality.parts["coverage"]["note"]


def test_a_practice_question_without_a_thinking_pause_loses_structure(demo, demo_job):
    context = script_context_build(job=demo_job("practice_session"))
    script = script_template_write(context=context)
    no_pause = replace(
        script,
        sections=tuple(replace(s, text=s.text.replace(PAUSE_MARKER, "")) for s in script.sections),
    )

    with_pause, without = _score(script, context), _score(no_pause, context)

    assert with_pause.parts["structure"]["score"] == 100
    assert without.parts["structure"]["score"] < 100
    assert "3 question(s) without a thinking pause" in without.parts["structure"]["note"]


def test_length_is_judged_against_the_video_types_usual_range(demo, demo_job):
    context = script_context_build(job=demo_job("motivational"))
    script = script_template_write(context=context)

    on_target = script_score(script=script, context=context, target_seconds=60)
    too_long = script_score(script=script, context=context, target_seconds=150)

    assert on_target.parts["length"] == {"score": 100, "note": "60 s against a usual 45–90 s"}
    assert too_long.parts["length"]["score"] < 50
    assert "too long" in too_long.parts["length"]["note"]


def test_practice_length_grows_with_the_number_of_questions():
    assert (
        target_range(video_type=VideoType.PRACTICE_SESSION, questions=6)[1]
        > target_range(video_type=VideoType.PRACTICE_SESSION, questions=3)[1]
    )


def test_think_pauses_and_speed_count_in_the_estimate(demo, demo_job):
    context = script_context_build(job=demo_job("practice_session"))
    script = script_template_write(context=context)

    normal = script_seconds_estimate(script=script, voice_speed=1.0, think_seconds=5)
    longer_pauses = script_seconds_estimate(script=script, voice_speed=1.0, think_seconds=10)
    slower = script_seconds_estimate(script=script, voice_speed=0.8, think_seconds=5)

    assert longer_pauses - normal == pytest.approx(15, abs=1)  # three questions
    assert slower > normal


def test_quality_round_trips_through_a_dict():
    quality = ScriptQuality(total=81.5, parts={"length": {"score": 90.0, "note": "fine"}})

    assert ScriptQuality.from_dict(quality.as_dict()) == quality
    assert ScriptQuality.from_dict({"total": "x", "parts": {"a": 3}}) == ScriptQuality(0.0, {})
