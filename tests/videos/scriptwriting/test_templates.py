import json
import re

import pytest

from library.knowledge_base import knowledge_base_parse
from library.services import knowledge_base_import
from tests.builders import assessment_build, certification_build, user_build, video_job_build
from videos.scriptwriting import ScriptWriteError, WrittenScript, script_write
from videos.scriptwriting.speech import unspeakable_find, words_count
from videos.studio.types import PAUSE_MARKER, VideoType

pytestmark = pytest.mark.django_db

DEMO_WEIGHTS = {
    "Cloud Concepts": 20,
    "Security and Identity": 24,
    "Compute and Storage": 22,
    "Networking and Delivery": 16,
    "Operations, Cost and Resilience": 18,
}
SECURITY_CONCEPTS = [
    "Identity and Least Privilege",
    "Multi-Factor Authentication",
    "Encryption at Rest and in Transit",
]


def _opens_and_closes_with_name(written: WrittenScript, name: str) -> bool:
    sections = written.script.sections
    return len(sections) >= 3 and name in sections[0].text and name in sections[-1].text


# --- overview ---------------------------------------------------------------------


def test_overview_is_a_roadmap_of_exam_weights_and_scores_weakest_first(demo, demo_job):
    written = script_write(job=demo_job("overview"))

    assert written.writer == "template" and written.fallback_reason == ""
    assert _opens_and_closes_with_name(written, "Alex Rivera")
    domains = written.script.sections[0].slide["domains"]
    assert {d["name"]: d["weight"] for d in domains} == DEMO_WEIGHTS
    assert [d["score"] for d in domains] == [42, 55, 63, 81, 88]  # weakest first
    text = written.narration_text
    assert "Security and Identity carries the most weight, at 24 percent" in text
    assert "Your biggest opportunity is Security and Identity, where you scored 42 percent" in text
    assert "Cloud Concepts at 88 percent" in text  # a strength
    assert "64 percent overall" in text and "pass mark is 70 percent" in text


def test_overview_without_an_assessment_still_shows_the_roadmap(demo):
    learner = user_build(display_name="Noor")
    job = video_job_build(learner=learner, certification=demo.certification)

    written = script_write(job=job)

    domains = written.script.sections[0].slide["domains"]
    assert all(d["score"] is None for d in domains)
    assert "Once you take an assessment" in written.narration_text


def test_a_job_for_another_certification_than_its_assessment_is_refused(demo, demo_job):
    job = demo_job("overview")
    job.certification = certification_build(name="Other Cert")

    with pytest.raises(ScriptWriteError, match="attach the matching assessment"):
        script_write(job=job)


def test_a_job_without_certification_cannot_have_an_overview():
    job = video_job_build(learner=user_build(), video_type="overview")

    with pytest.raises(ScriptWriteError, match="need a certification"):
        script_write(job=job)


# --- remediation ------------------------------------------------------------------


def test_remediation_teaches_the_weak_domains_concepts_with_examples(demo, demo_job):
    written = script_write(job=demo_job("remediation", domain="security-identity"))

    text = written.narration_text
    for title in SECURITY_CONCEPTS:
        assert title in text
    assert "hotel key card" in text  # an analogy
    assert "reporting application is given a role" in text  # an example
    assert "You scored 42 percent here" in text
    concept_slides = [s.slide["concepts"] for s in written.script.sections if s.slide]
    assert [c["title"] for c in concept_slides[0]] == SECURITY_CONCEPTS
    assert all(c["example"] and c["summary"] for slide in concept_slides for c in slide)
    assert _opens_and_closes_with_name(written, "Alex Rivera")


def test_remediation_puts_the_concepts_the_planner_names_first(demo, demo_job):
    job = demo_job("remediation", domain="security-identity", concepts=["secrets-and-monitoring"])

    slide = script_write(job=job).script.sections[0].slide

    assert slide["concepts"][0]["title"] == "Secrets Management and Security Monitoring"


def test_remediation_without_a_domain_takes_the_weakest(demo, demo_job):
    written = script_write(job=demo_job("remediation"))

    assert written.script.title == "Strengthen Security and Identity"


def test_remediation_for_a_domain_not_in_the_certification_is_refused(demo, demo_job):
    with pytest.raises(ScriptWriteError) as caught:
        script_write(job=demo_job("remediation", domain="underwater-basket-weaving"))

    message = str(caught.value)
    assert "'underwater-basket-weaving' is not part of Cloud Foundations Associate" in message
    assert "security-identity" in message  # what to choose instead


def test_remediation_for_a_domain_without_concepts_is_refused():
    learner = user_build()
    cert = certification_build(domains={"alpha": 100})
    assessment = assessment_build(learner=learner, certification=cert, scores={"alpha": 30})
    job = video_job_build(
        learner=learner,
        certification=cert,
        assessment=assessment,
        video_type="remediation",
        parameters={"domain": "alpha"},
    )

    with pytest.raises(ScriptWriteError, match="no concepts for Alpha"):
        script_write(job=job)


# --- practice ---------------------------------------------------------------------


def test_practice_asks_pauses_then_answers_each_question(demo, demo_job):
    written = script_write(job=demo_job("practice_session", domain="cloud-concepts"))

    questions = [s for s in written.script.sections if s.slide.get("question")]
    assert len(questions) == 3
    for section in questions:
        slide = section.slide
        before, marker, after = section.text.partition(PAUSE_MARKER)
        assert marker == PAUSE_MARKER
        assert slide["question"] in before
        assert all(choice in before for choice in slide["choices"])
        answer = slide["choices"][slide["answer"]]
        assert f"The answer is option {'ABCD'[slide['answer']]}: {answer}" in after
        assert slide["explanation"].split(".")[0] in after
        assert slide["key_concepts"] and slide["key_concepts"][0] in after
        assert slide["think_seconds"] == 4  # the renderer's default think pause
    assert _opens_and_closes_with_name(written, "Alex Rivera")


def test_practice_filters_by_difficulty_topic_and_count(demo, demo_job):
    hard = script_write(job=demo_job("practice_session", difficulty="hard", questions=2))
    questions = [s.slide for s in hard.script.sections if s.slide.get("question")]
    assert len(questions) == 2
    assert "2 hard questions" in hard.narration_text

    topic = script_write(job=demo_job("practice_session", topic="encryption", questions=5))
    asked = [s.slide for s in topic.script.sections if s.slide.get("question")]
    assert asked
    assert all(
        "encrypt" in (q["question"] + q["explanation"] + " ".join(q["key_concepts"])).lower()
        for q in asked
    )


def test_practice_without_a_domain_starts_where_the_learner_is_weakest(demo, demo_job):
    written = script_write(job=demo_job("practice_session"))

    assert written.script.title == "Practice: Security and Identity"


def test_practice_parameters_are_read_defensively(demo, demo_job):
    written = script_write(
        job=demo_job("practice_session", questions="lots", difficulty="expert", topic=None)
    )

    assert sum(1 for s in written.script.sections if s.slide.get("question")) == 3


def test_practice_with_no_matching_questions_is_refused(demo, demo_job):
    job = demo_job("practice_session", topic="quantum knitting", difficulty="hard")

    with pytest.raises(
        ScriptWriteError, match="no hard practice questions about 'quantum knitting'"
    ):
        script_write(job=job)


def test_practice_for_an_unknown_domain_is_refused(demo, demo_job):
    with pytest.raises(ScriptWriteError, match="'nope' is not part of"):
        script_write(job=demo_job("practice_session", domain="nope"))


# --- motivational, exam prep, celebration ------------------------------------------


def test_motivational_shows_progress_strengths_and_next_steps(demo, demo_job):
    written = script_write(job=demo_job("motivational"))

    slide = written.script.sections[0].slide
    assert slide["overall"] == 64
    assert {s["name"]: s["score"] for s in slide["scores"]}["Security and Identity"] == 42
    text = written.narration_text
    assert "you are 6 points away" in text
    assert "Cloud Concepts at 88 percent" in text
    assert "Next, put that same energy into Security and Identity" in text
    assert _opens_and_closes_with_name(written, "Alex Rivera")


def test_motivational_needs_an_assessment(demo):
    job = video_job_build(
        learner=user_build(), certification=demo.certification, video_type="motivational"
    )

    with pytest.raises(ScriptWriteError, match="written from assessment results"):
        script_write(job=job)


def test_exam_prep_uses_the_certifications_strategies_and_exam_time(demo, demo_job):
    written = script_write(job=demo_job("exam_prep"))

    text = written.narration_text
    assert "read the final sentence of each scenario first" in text
    assert "You will have 90 minutes" in text
    checklists = [s.slide["checklist"] for s in written.script.sections if s.slide]
    assert checklists[0][0] == "Read the final sentence of each scenario first"
    assert "Keep the last 15 minutes for flagged questions" in checklists[1]
    assert all(not item.endswith(",") for items in checklists for item in items)
    assert "Good luck, Alex Rivera" in written.script.sections[-1].text


def test_exam_prep_without_strategies_gets_sensible_defaults():
    learner = user_build(display_name="Kim")
    cert = certification_build(exam_strategies=[], exam_minutes=None)
    job = video_job_build(learner=learner, certification=cert, video_type="exam_prep")

    written = script_write(job=job)

    checklist = written.script.sections[1].slide["checklist"]
    assert len(checklist) == 4
    assert "eliminate the answers you know are wrong" in written.narration_text
    assert "Check how long the exam is" in written.narration_text


def test_celebration_congratulates_a_pass(demo):
    learner = user_build(display_name="Priya")
    assessment = assessment_build(
        learner=learner,
        certification=demo.certification,
        scores={"cloud-concepts": 90, "security-identity": 80},
        overall_score=85,
    )
    job = video_job_build(learner=learner, assessment=assessment, video_type="celebration")

    written = script_write(job=job)

    assert written.script.sections[0].text.startswith("Congratulations, Priya!")
    assert written.script.sections[0].slide == {
        "learner": "Priya",
        "certification": "Cloud Foundations Associate",
        "score": 85.0,
    }
    assert "cleared it by 15 points" in written.narration_text
    assert "Cloud Concepts, at 90 percent" in written.narration_text


def test_celebration_for_a_failing_score_is_refused(demo, demo_job):
    with pytest.raises(ScriptWriteError, match="celebration video is for a passing score"):
        script_write(job=demo_job("celebration"))


# --- personalisation ---------------------------------------------------------------


def _learner_job(demo, **profile):
    learner = user_build(display_name="Sam", **profile)
    assessment = assessment_build(
        learner=learner,
        certification=demo.certification,
        scores={"cloud-concepts": 80, "security-identity": 40},
    )
    return video_job_build(learner=learner, assessment=assessment, video_type="overview")


def test_experience_level_changes_study_advice_and_speaking_pace(demo):
    new = script_write(job=_learner_job(demo, experience_level="0-1"))
    senior = script_write(job=_learner_job(demo, experience_level="10+"))

    assert "8 to 10 hours a week" in new.narration_text
    assert "new to the field" in new.narration_text
    assert "3 to 4 hours a week" in senior.narration_text
    assert "You know this field well" in senior.narration_text
    assert new.voice_speed == 0.9 and senior.voice_speed == 1.1
    # Slower speech, same kind of script: the estimate grows with it.
    assert new.target_seconds > senior.target_seconds


def test_preferred_pace_adjusts_the_speaking_pace(demo):
    slow = script_write(job=_learner_job(demo, experience_level="3-5", preferred_pace="slow"))
    fast = script_write(job=_learner_job(demo, experience_level="3-5", preferred_pace="fast"))

    assert slow.voice_speed == 0.9
    assert fast.voice_speed == 1.1


def test_slow_learners_get_longer_to_think_in_practice(demo):
    def practice(pace):
        learner = user_build(preferred_pace=pace)
        job = video_job_build(
            learner=learner, certification=demo.certification, video_type="practice_session"
        )
        return script_write(job=job)

    slow, fast = practice("slow"), practice("fast")

    assert slow.think_seconds > fast.think_seconds
    assert slow.target_seconds > fast.target_seconds


def test_visual_learners_get_more_gestures_and_more_on_the_slides(demo):
    def exam_prep(styles):
        learner = user_build(learning_styles=styles)
        return script_write(
            job=video_job_build(
                learner=learner, certification=demo.certification, video_type="exam_prep"
            )
        )

    visual, reader = exam_prep(["visual"]), exam_prep(["reading"])

    assert visual.gesture_level > reader.gesture_level
    assert visual.slides and reader.slides
    assert len(visual.script.sections[1].slide["checklist"]) > len(
        reader.script.sections[1].slide["checklist"]
    )


def test_target_seconds_follow_150_words_a_minute(demo, demo_job):
    written = script_write(job=demo_job("motivational"))  # speed 1.0, no think pauses

    words = words_count(written.narration_text)
    sections = len(written.script.sections)
    assert written.voice_speed == 1.0
    assert written.target_seconds == pytest.approx(words / 150 * 60 + 0.6 * (sections - 1), abs=1)


@pytest.mark.parametrize(
    ("kind", "parameters"),
    [
        ("overview", {}),
        ("remediation", {"domain": "security-identity"}),
        ("practice_session", {}),
        ("motivational", {}),
        ("exam_prep", {}),
        ("introduction", {}),
    ],
)
def test_every_type_is_intro_body_close_within_its_usual_length(demo, demo_job, kind, parameters):
    written = script_write(job=demo_job(kind, **parameters))

    assert written.script.video_type == VideoType(kind)
    assert len(written.script.sections) >= 3
    assert all(s.heading and s.text for s in written.script.sections)
    assert unspeakable_find(written.narration_text) == []
    assert written.quality.parts["length"]["score"] == 100, written.quality.parts["length"]
    assert written.quality.total >= 90


MARKDOWN_KB = """
certification:
  slug: md-cert
  name: Markdown Cert
  passing_score: 70
  domains:
    - slug: alpha
      name: Alpha
      weight: 100
      concepts:
        - slug: one
          title: "**Bold** Idea"
          summary: "See https://example.com/docs for *more* detail."
          content: "- first point\\n- second point"
          examples: ["Use `code` here & there"]
          analogies: ["Like a [map](https://maps.example.com) of 100%."]
      questions:
        - question: "Which is **right**?"
          choices: ["this one", "that one"]
          answer: 0
          explanation: "Read www.example.org for reasons."
          key_concepts: [one]
"""


def test_narration_is_speakable_even_from_a_markdown_knowledge_base():
    cert = knowledge_base_import(data=knowledge_base_parse(text=MARKDOWN_KB)).certification
    learner = user_build(display_name="Ana")
    assessment = assessment_build(learner=learner, certification=cert, scores={"alpha": 20})

    for kind, parameters in [("remediation", {"domain": "alpha"}), ("practice_session", {})]:
        job = video_job_build(
            learner=learner, assessment=assessment, video_type=kind, parameters=parameters
        )
        text = script_write(job=job).narration_text
        assert unspeakable_find(text) == []
        assert not re.search(r"[*`#•]|https?:|www\.", text), text
        assert "Bold Idea" in text


def test_a_written_script_round_trips_through_json(demo, demo_job):
    written = script_write(job=demo_job("practice_session", questions=2))

    stored = json.loads(json.dumps(written.as_dict()))
    again = WrittenScript.from_dict(stored)

    assert again == written
    assert again.narration_text == written.narration_text
    assert again.think_seconds == 4
    assert PAUSE_MARKER in again.narration_text


def test_reading_a_broken_stored_script_fails_clearly():
    with pytest.raises(ValueError, match="'script' object is missing"):
        WrittenScript.from_dict({"writer": "template"})
    with pytest.raises(ValueError, match="unknown video type"):
        WrittenScript.from_dict({"script": {"video_type": "opera", "sections": []}})
