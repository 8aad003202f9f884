import pytest

from tests.builders import user_build, video_job_build
from videos.scriptwriting import CvProfile, WrittenScript, script_write
from videos.scriptwriting.introduction import experience_band_pick

pytestmark = pytest.mark.django_db

SENIOR_ENGINEER = CvProfile(
    name="Jordan Lee",
    headline="Senior Software Engineer",
    years_experience=12,
    skills=["Python", "Kubernetes", "AWS", "Terraform", "SQL"],
    roles=["Senior Software Engineer", "Software Developer"],
    industry="technology",
)
NEW_NURSE = CvProfile(
    name="Maria Gonzalez",
    headline="Registered Nurse",
    years_experience=1,
    skills=["Patient assessment", "Medication administration"],
    roles=["Staff Nurse"],
    industry="healthcare",
)


def _introduce(cv: CvProfile | None = None, *, certification=None, **profile) -> WrittenScript:
    learner = user_build(first_name="Jo", last_name="Bloggs", display_name="Jo", **profile)
    job = video_job_build(
        learner=learner,
        video_type="introduction",
        certification=certification,
        parameters={"cv": cv.as_dict()} if cv else {},
    )
    return script_write(job=job)


def test_a_senior_engineer_introduces_themselves_from_their_cv():
    written = _introduce(SENIOR_ENGINEER)

    text = written.narration_text
    first = written.script.sections[0]
    assert first.text.startswith("Hello, I'm Jordan Lee. I'm a senior software engineer.")
    assert "12 years of experience in technology, leading teams" in text
    assert "Python, Kubernetes, AWS and Terraform" in text
    assert "I'm Jordan, and I look forward to working with you" in written.script.sections[-1].text
    assert first.slide["name"] == "Jordan Lee"
    assert first.slide["headline"] == "Senior Software Engineer"
    assert "12 years of experience" in first.slide["highlights"]
    assert " I " in f" {text} " and "you scored" not in text.lower()  # first person, not coaching
    assert written.quality.parts["length"]["score"] == 100  # 45-90 s


def test_industry_and_career_stage_change_the_wording():
    nurse = _introduce(NEW_NURSE).narration_text
    engineer = _introduce(SENIOR_ENGINEER).narration_text

    assert "early in my healthcare career" in nurse
    assert "safe, compassionate care" in nurse
    assert "I'm a staff nurse" in nurse
    assert "compassionate" not in engineer and "leading teams" in engineer


def test_the_industry_can_be_overridden_by_the_job():
    learner = user_build(display_name="Jo")
    job = video_job_build(
        learner=learner,
        video_type="introduction",
        parameters={"industry": "education", "cv": SENIOR_ENGINEER.as_dict()},
    )

    text = script_write(job=job).narration_text

    assert "experience in education" in text
    assert "helping people learn" in text


@pytest.mark.parametrize(
    "industry", ["technology", "healthcare", "finance", "education", "general"]
)
def test_every_industry_template_reads_well_and_fits_the_length(industry):
    cv = CvProfile(name="Sam Taylor", years_experience=5, industry=industry)

    written = _introduce(cv)

    assert written.script.sections[0].text.startswith("Hello, I'm Sam Taylor.")
    assert written.quality.parts["length"]["score"] == 100, written.quality.parts["length"]
    assert written.quality.total >= 90


def test_without_a_cv_the_profile_is_enough():
    written = _introduce(None, experience_level="10+")

    text = written.narration_text
    assert text.startswith("Hello, I'm Jo Bloggs.")
    assert "more than ten years of experience" in text
    assert written.writer == "template"


def test_the_certification_being_prepared_is_mentioned(demo):
    written = _introduce(NEW_NURSE, certification=demo.certification)

    assert "preparing for the Cloud Foundations Associate certification" in written.narration_text
    assert (
        "Preparing for Cloud Foundations Associate"
        in written.script.sections[0].slide["highlights"]
    )


def test_a_malformed_cv_parameter_does_not_break_the_introduction():
    learner = user_build(display_name="Jo", first_name="Jo", last_name="Bloggs")
    job = video_job_build(
        learner=learner,
        video_type="introduction",
        parameters={"cv": {"name": 42, "skills": "python", "years_experience": -3}},
    )

    assert script_write(job=job).narration_text.startswith("Hello, I'm Jo Bloggs.")


def test_visual_learners_get_more_highlights():
    cv = CvProfile(name="Ann Lee", skills=[f"Skill {n}" for n in range(8)])

    visual = _introduce(cv, learning_styles=["visual"])
    other = _introduce(cv, learning_styles=["reading"])

    assert len(visual.script.sections[2].slide["highlights"]) == 6
    assert len(other.script.sections[2].slide["highlights"]) == 4
    assert visual.gesture_level > other.gesture_level


def test_career_stage_comes_from_cv_years_before_the_profile_level():
    assert experience_band_pick(years=1, experience_level="10+") == "early"
    assert experience_band_pick(years=5, experience_level="0-1") == "mid"
    assert experience_band_pick(years=None, experience_level="5-10") == "senior"
