"""The professional introduction: a short first-person self-introduction.

Written from the learner's profile and, when one was uploaded, their CV
(job.parameters = {"industry": optional override, "cv": CvProfile.as_dict()}).
About 120-200 words, 45-90 seconds at 150 words a minute. The wording follows
the industry (technology, healthcare, finance, education, general) and the
career stage: early-career learners talk about foundations and learning fast,
seniors about leading and mentoring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videos.studio.types import Script, Section, VideoType

from .speech import name_say, names_join, sentence_end, speakable
from .types import CvProfile

if TYPE_CHECKING:
    from .context import ScriptContext

EARLY, MID, SENIOR = "early", "mid", "senior"

# Years of experience said aloud when the CV does not give a number.
LEVEL_YEARS = {
    "0-1": "less than a year",
    "1-3": "a couple of years",
    "3-5": "several years",
    "5-10": "more than five years",
    "10+": "more than ten years",
}
GOALS = {
    EARLY: "My goal is to keep learning and to grow into a role with more responsibility "
    "in {field}.",
    MID: "Next, I want to take on bigger challenges and help my team grow.",
    SENIOR: "These days my focus is helping others grow and shaping where {field} goes next.",
}
INVITATIONS = {
    EARLY: "If your team values curiosity and hard work, I would love to hear from you.",
    MID: "If your team needs someone who delivers and helps others do the same, let's talk.",
    SENIOR: "If you need someone to lead a team or take on a hard problem, let's talk.",
}
FIELDS = {
    "technology": "technology",
    "healthcare": "healthcare",
    "finance": "finance",
    "education": "education",
    "general": "my field",
}
LEVEL_BANDS = {"0-1": EARLY, "1-3": EARLY, "3-5": MID, "5-10": SENIOR, "10+": SENIOR}

TEMPLATES: dict[str, dict[str, str]] = {
    "technology": {
        "approach": "I like to understand the problem first, keep solutions simple, and "
        "automate what I can.",
        "role": "technology professional",
        "mission": "I enjoy building reliable systems and turning complex problems into "
        "simple, working solutions.",
        EARLY: "I am at the start of my career in technology, with {years} of hands-on "
        "experience, and I learn new tools quickly.",
        MID: "I have {years} of experience in technology, taking software and systems from "
        "the first idea all the way to production.",
        SENIOR: "I bring {years} of experience in technology, leading teams, shaping "
        "architecture and mentoring engineers.",
        "value": "Teams count on me for clear thinking, steady delivery and honest communication.",
        "close": "I am always glad to talk about technology and better ways to build.",
    },
    "healthcare": {
        "approach": "I listen carefully, explain things clearly, and never cut corners on safety.",
        "role": "healthcare professional",
        "mission": "What drives me is safe, compassionate care for every patient.",
        EARLY: "I am early in my healthcare career, with {years} of experience, and I bring "
        "energy, care and a real eagerness to learn.",
        MID: "I have {years} of experience in healthcare, working closely with patients and "
        "with multidisciplinary teams.",
        SENIOR: "With {years} of experience in healthcare, I have led teams, improved "
        "clinical processes and mentored colleagues.",
        "value": "Colleagues rely on me for calm judgment, clear communication and attention "
        "to detail.",
        "close": "I am always happy to connect with people who care about better patient outcomes.",
    },
    "finance": {
        "approach": "I check the details, raise risks early, and keep everyone informed.",
        "role": "finance professional",
        "mission": "I care about accuracy, sound controls and numbers that decision makers "
        "can trust.",
        EARLY: "I am early in my finance career, with {years} of experience, and I am building "
        "a strong base in analysis and reporting.",
        MID: "I have {years} of experience in finance, turning data into clear reports and "
        "practical recommendations.",
        SENIOR: "With {years} of experience in finance, I have led teams, advised senior "
        "leaders and strengthened controls.",
        "value": "People count on me for rigour, integrity and explaining numbers in plain "
        "language.",
        "close": "I am always glad to talk about finance, risk and smarter decisions.",
    },
    "education": {
        "approach": "I keep lessons practical, give honest feedback, and celebrate every bit "
        "of progress.",
        "role": "educator",
        "mission": "I love helping people learn, and I shape every lesson around what "
        "learners need next.",
        EARLY: "I am early in my teaching career, with {years} of experience, and I bring "
        "fresh ideas and plenty of energy to every class.",
        MID: "I have {years} of experience in education, designing lessons and supporting "
        "learners at every level.",
        SENIOR: "With {years} of experience in education, I have led departments, shaped "
        "curricula and mentored new teachers.",
        "value": "Learners and colleagues value my patience, clear explanations and practical "
        "approach.",
        "close": "I am always happy to connect with people who care about learning.",
    },
    "general": {
        "approach": "I plan carefully, communicate openly, and follow through on what I promise.",
        "role": "dedicated professional",
        "mission": "I enjoy solving problems with the people around me and delivering work "
        "that others can rely on.",
        EARLY: "I am at the start of my career, with {years} of experience, and I learn "
        "quickly and take ownership of my work.",
        MID: "I have {years} of experience, delivering results across projects and teams.",
        SENIOR: "With {years} of experience, I have led teams, managed complex work and "
        "mentored others.",
        "value": "People value me for reliability, clear communication and a positive attitude.",
        "close": "I am always glad to meet new people and take on new challenges.",
    },
}


def experience_band_pick(*, years: int | None, experience_level: str) -> str:
    """early | mid | senior: the CV's years when known, else the profile's level."""
    if years is not None:
        return EARLY if years < 3 else MID if years < 8 else SENIOR
    return LEVEL_BANDS.get(experience_level, EARLY)


def script_introduction_write(*, context: ScriptContext) -> Script:
    cv = context.cv or CvProfile()
    template = TEMPLATES.get(context.industry, TEMPLATES["general"])
    # Empty when neither the CV nor the profile gives a name a voice can say: the
    # introduction then introduces the role ("Hello. I'm a technology professional.").
    name = name_say(cv.name) or context.learner_full_name
    first_name = name.split()[0] if name.split() else ""
    band = experience_band_pick(
        years=cv.years_experience, experience_level=context.experience_level
    )
    years = _years_say(years=cv.years_experience, experience_level=context.experience_level)
    role = _role_pick(cv=cv, default=template["role"])
    headline = cv.headline or role[:1].upper() + role[1:]

    hello = f"Hello, I'm {name}." if name else "Hello."
    hello += f" I'm {_article(role)} {role}. {template['mission']}"
    experience = template[band].format(years=years)
    earlier = [_spoken(r) for r in cv.roles[1:3]]
    if earlier:
        experience += (
            f" Before that, I worked as {names_join([_article(r) + ' ' + r for r in earlier])}."
        )
    experience += " " + GOALS[band].format(field=FIELDS.get(context.industry, "my field"))
    bring = ""
    if cv.skills:
        bring = f"My strengths include {names_join([_skill_say(k) for k in cv.skills[:4]])}. "
    bring += f"{template['approach']} {template['value']}"
    if context.certification_name:
        bring += f" Right now I am preparing for the {context.certification_name} certification."
    close = f"{template['close']} {INVITATIONS[band]} Thank you for listening. " + (
        f"I'm {first_name}, and I look forward to working with you."
        if first_name
        else "I look forward to working with you."
    )

    count = context.bullet_count
    highlights = [f"{years[:1].upper()}{years[1:]} of experience"]
    highlights += [r for r in cv.roles[:2] if r]
    if context.certification_name:
        highlights.append(f"Preparing for {context.certification_name}")
    slide = {"name": name, "headline": headline, "highlights": highlights[:count]}
    skills_slide = {
        "name": name,
        "headline": headline,
        "highlights": (cv.skills[:count] or highlights[:count]),
    }
    sections = (
        Section("Hello", speakable(hello), slide),
        Section("My experience", speakable(sentence_end(experience)), slide),
        Section("What I bring", speakable(bring), skills_slide),
        Section("Let's connect", speakable(close)),
    )
    return Script(
        video_type=VideoType.INTRODUCTION,
        title=f"Introducing {name}" if name else "Introducing myself",
        sections=sections,
        learner_name=first_name,
    )


def _years_say(*, years: int | None, experience_level: str) -> str:
    if years is None:
        return LEVEL_YEARS.get(experience_level, "several years")
    if years < 1:
        return "less than a year"
    return "one year" if years == 1 else f"{years} years"


def _role_pick(*, cv: CvProfile, default: str) -> str:
    """The current role in words a sentence can hold ("senior software engineer")."""
    for candidate in (*cv.roles[:1], cv.headline):
        words = candidate.split()
        if candidate and len(words) <= 6 and not any(ch in candidate for ch in "|/,;@"):
            return _spoken(candidate)
    return default


def _spoken(title: str) -> str:
    """Title Case to sentence words, keeping acronyms ("IT Project Manager" -> "IT project
    manager")."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in title.split())


def _skill_say(skill: str) -> str:
    """ "Patient assessment" reads as "patient assessment" mid-sentence; "Python",
    "Machine Learning" and "AWS" keep their capitals (names, not phrases)."""
    words = skill.split()
    if len(words) > 1 and words[1].islower() and not words[0].isupper():
        return words[0][:1].lower() + words[0][1:] + " " + " ".join(words[1:])
    return skill


def _article(phrase: str) -> str:
    first = phrase.split()[0] if phrase.split() else ""
    if first.isupper() and first[:1] in "AEFHILMNORSX":  # "an IT ...", "an SRE"
        return "an"
    return "an" if first[:1].lower() in "aeiou" else "a"
