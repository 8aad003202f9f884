"""Slides: every layout renders at every size, text never leaves its box, the
presenter panel and caption band stay clean, the countdown patch is cheap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from videos.studio import slides, theme
from videos.studio.types import PAUSE_MARKER, Quality, Script, Section, VideoType

FONT_DIR = Path(slides.__file__).resolve().parent / "fonts"
SIZES = [Quality.P480.size, Quality.P1080.size]

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" + "X" * 15  # 60 chars, no break
assert len(LONG_WORD) == 60
WORDS_600 = " ".join(f"concept{i % 37}" for i in range(600))
QUESTION_300 = (
    "A company runs a stateless web tier behind a load balancer in two Availability Zones "
    "and needs to survive the loss of a whole Region with minimal cost and operational "
    "overhead while keeping latency low for users on three continents; which design "
    "meets these requirements best given " + LONG_WORD
)[:300]
assert len(QUESTION_300) == 300

NORMAL: dict[VideoType, dict[str, Any]] = {
    VideoType.OVERVIEW: {
        "domains": [
            {"name": "Design Secure Architectures", "weight": 30, "score": 72},
            {"name": "Design Resilient Architectures", "weight": 26, "score": 85},
            {"name": "Design High-Performing Architectures", "weight": 24, "score": 54},
            {"name": "Design Cost-Optimized Architectures", "weight": 20, "score": None},
        ]
    },
    VideoType.REMEDIATION: {
        "concepts": [
            {"title": "VPC peering", "summary": "Private links between VPCs.", "example": "A-B"},
            {"title": "Transit Gateway", "summary": "A hub for many VPCs.", "example": "Hub"},
        ]
    },
    VideoType.PRACTICE_SESSION: {
        "question": "Which S3 storage class suits rarely read logs needing fast access?",
        "choices": ["S3 Standard", "S3 Standard-IA", "Glacier Deep Archive", "One Zone-IA"],
        "answer": 1,
        "explanation": "Standard-IA gives millisecond access at a lower storage price.",
        "key_concepts": ["Storage classes", "Retrieval latency"],
        "think_seconds": 5,
    },
    VideoType.MOTIVATIONAL: {
        "scores": [{"name": "Security", "score": 72}, {"name": "Cost", "score": 55}],
        "overall": 66,
    },
    VideoType.EXAM_PREP: {"checklist": ["Retake the practice exam", "Sleep well"]},
    VideoType.CELEBRATION: {"learner": "Maria", "certification": "AWS SAA", "score": 87},
    VideoType.INTRODUCTION: {
        "name": "Alex Morgan",
        "headline": "Your exam coach",
        "highlights": ["Personal", "Focused", "Practical"],
    },
}

STRESS: dict[VideoType, dict[str, Any]] = {
    VideoType.OVERVIEW: {
        "domains": [
            {"name": f"Domain {i} {LONG_WORD}", "weight": 0.1, "score": i / 12} for i in range(12)
        ]
    },
    VideoType.REMEDIATION: {
        "concepts": [
            {"title": f"Long {LONG_WORD} title", "summary": WORDS_600, "example": WORDS_600},
            {"title": LONG_WORD, "summary": LONG_WORD, "example": LONG_WORD},
            {"title": "Short", "summary": "Short.", "example": ""},
        ]
    },
    VideoType.PRACTICE_SESSION: {
        "question": QUESTION_300,
        "choices": [WORDS_600[:250], LONG_WORD, "C", QUESTION_300, "E", "F", "G"],
        "answer": 3,
        "explanation": WORDS_600,
        "key_concepts": [LONG_WORD, "Latency", "Cost"] * 6,
        "think_seconds": 30,
    },
    VideoType.MOTIVATIONAL: {
        "scores": [{"name": f"{LONG_WORD}{i}", "score": i * 9} for i in range(12)],
        "overall": 0.45,
    },
    VideoType.EXAM_PREP: {
        "checklist": [f"Item {i}: " + "revise the topic " * (i * 2) + LONG_WORD for i in range(12)]
    },
    VideoType.CELEBRATION: {
        "learner": f"{LONG_WORD} {LONG_WORD}",
        "certification": WORDS_600,
        "score": 100,
    },
    VideoType.INTRODUCTION: {
        "name": LONG_WORD * 2,
        "headline": WORDS_600,
        "highlights": [WORDS_600] * 12,
    },
}


def script_build(
    video_type: VideoType, slide: dict[str, Any], *, heading: str = "A section", title: str = ""
) -> Script:
    text = f"First sentence here. Second one follows! {PAUSE_MARKER} Third? Fourth. Fifth."
    return Script(
        video_type=video_type,
        title=title or "AWS Solutions Architect: your plan",
        sections=(Section(heading=heading, text=text, slide=slide),),
        learner_name="Maria",
    )


def phases_for(video_type: VideoType) -> list[str]:
    return ["question", "explanation"] if video_type == VideoType.PRACTICE_SESSION else ["main"]


def pixels(image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(image.crop(box)).reshape(-1, 3)


def box_inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (
        outer[0] <= inner[0] <= inner[2] <= outer[2]
        and outer[1] <= inner[1] <= inner[3] <= outer[3]
    )


def assert_clean_frame(render: slides.SlideRender, background: str = theme.BACKGROUND) -> None:
    """Presenter panel plain PANEL; nothing drawn in the caption band of the slide."""
    layout = render.layout
    height = layout.size[1]
    if layout.presenter_box is not None:
        panel = pixels(render.image, layout.presenter_box)
        assert (panel == theme.color_parse(theme.PANEL)).all()
    band = (layout.slide_box[0], height - layout.caption_safe, layout.slide_box[2], height)
    assert (pixels(render.image, band) == theme.color_parse(background)).all()


# --- every layout renders --------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[1]}p")
@pytest.mark.parametrize("video_type", list(VideoType), ids=str)
def test_every_type_renders_at_each_size(video_type: VideoType, size: tuple[int, int]) -> None:
    for phase in phases_for(video_type):
        render = slides.slide_compose(
            script=script_build(video_type, NORMAL[video_type]),
            section_index=0,
            size=size,
            phase=phase,
        )
        assert render.image.size == size
        assert render.image.mode == "RGB"
        assert render.texts, "a slide always has text"
        assert_clean_frame(render)
        # the slide area really has content, not just background
        slide_pixels = pixels(render.image, render.layout.content_box)
        assert (slide_pixels != theme.color_parse(theme.BACKGROUND)).any(axis=1).mean() > 0.01


@pytest.mark.parametrize("video_type", list(VideoType), ids=str)
def test_empty_slide_dict_shows_heading_and_first_sentences(video_type: VideoType) -> None:
    render = slides.slide_compose(
        script=script_build(video_type, {}, heading="Why this matters"),
        section_index=0,
        size=Quality.P720.size,
    )
    lines = [" ".join(t.lines) for t in render.texts]
    assert "Why this matters" in lines
    assert "First sentence here." in lines
    assert "Second one follows!" in lines
    assert not any(PAUSE_MARKER in line for line in lines)
    assert_clean_frame(render)


def test_render_without_presenter_uses_the_full_frame() -> None:
    size = Quality.P720.size
    layout = slides.frame_layout(size=size, presenter=False)
    assert layout.presenter_box is None
    assert layout.slide_box == (0, 0, *size)
    render = slides.slide_compose(
        script=script_build(VideoType.MOTIVATIONAL, NORMAL[VideoType.MOTIVATIONAL]),
        section_index=0,
        size=size,
        presenter=False,
    )
    assert render.image.size == size
    assert_clean_frame(render)
    # content reaches into the right third, where the presenter panel would be
    right = pixels(render.image, (round(size[0] * 0.7), 0, size[0], size[1]))
    assert (right != theme.color_parse(theme.BACKGROUND)).any()


def test_custom_background_and_branding() -> None:
    render = slides.slide_compose(
        script=script_build(VideoType.EXAM_PREP, NORMAL[VideoType.EXAM_PREP]),
        section_index=0,
        size=Quality.P480.size,
        background="#ffffff",
        branding="Acme Academy",
    )
    assert_clean_frame(render, background="#ffffff")
    assert render.image.getpixel((2, render.layout.size[1] - 2)) == (255, 255, 255)
    assert any(t.lines == ("Acme Academy",) for t in render.texts)
    # on a light background the text turns dark
    assert theme.color_luminance(theme.palette_build("#ffffff").text) < 0.1


def test_slide_render_returns_the_composed_image() -> None:
    kwargs: dict[str, Any] = {
        "script": script_build(VideoType.OVERVIEW, NORMAL[VideoType.OVERVIEW]),
        "section_index": 0,
        "size": Quality.P480.size,
    }
    image = slides.slide_render(**kwargs)
    assert image.tobytes() == slides.slide_compose(**kwargs).image.tobytes()


# --- frame layout ----------------------------------------------------------------


@pytest.mark.parametrize("quality", list(Quality), ids=str)
def test_frame_layout_splits_slide_and_presenter(quality: Quality) -> None:
    width, height = quality.size
    layout = slides.frame_layout(size=quality.size, presenter=True)
    assert layout.slide_box == (0, 0, round(width * 0.68), height)
    assert layout.presenter_box == (round(width * 0.68), 0, width, height)
    assert layout.caption_safe == round(height * 0.12)
    assert box_inside(layout.header_box, layout.slide_box)
    assert box_inside(layout.content_box, layout.slide_box)
    assert layout.content_box[3] <= height - layout.caption_safe
    assert layout.header_box[3] <= layout.content_box[1]


# --- text stays inside its boxes -------------------------------------------------


@pytest.mark.parametrize("presenter", [True, False], ids=["presenter", "full"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[1]}p")
@pytest.mark.parametrize("video_type", list(VideoType), ids=str)
def test_very_long_text_stays_in_its_boxes(
    video_type: VideoType, size: tuple[int, int], presenter: bool
) -> None:
    script = script_build(
        video_type, STRESS[video_type], heading=f"{LONG_WORD} {WORDS_600}", title=WORDS_600
    )
    for phase in phases_for(video_type):
        render = slides.slide_compose(
            script=script,
            section_index=0,
            size=size,
            presenter=presenter,
            phase=phase,
            branding=LONG_WORD,
        )
        for fitted in render.texts:
            assert box_inside(fitted.bbox, fitted.box), (fitted.lines, fitted.bbox, fitted.box)
            assert box_inside(fitted.block, fitted.box), (fitted.lines, fitted.block, fitted.box)
            assert box_inside(fitted.box, render.layout.slide_box) or not fitted.lines
            assert fitted.font_size >= 1
        assert any(fitted.truncated for fitted in render.texts)
        assert_clean_frame(render)


def test_long_concept_summary_is_cut_with_an_ellipsis() -> None:
    render = slides.slide_compose(
        script=script_build(VideoType.REMEDIATION, STRESS[VideoType.REMEDIATION]),
        section_index=0,
        size=Quality.P1080.size,
    )
    summary = next(t for t in render.texts if t.lines and t.lines[0].startswith("concept0"))
    assert summary.truncated
    assert summary.lines[-1].endswith(slides.ELLIPSIS)
    assert box_inside(summary.bbox, summary.box)


def test_twelve_checklist_items_are_all_shown() -> None:
    items = [f"Task number {i}" for i in range(12)]
    render = slides.slide_compose(
        script=script_build(VideoType.EXAM_PREP, {"checklist": items}),
        section_index=0,
        size=Quality.P480.size,
    )
    shown = {" ".join(t.lines) for t in render.texts}
    assert set(items) <= shown


# --- text_fit --------------------------------------------------------------------


def draw_make() -> ImageDraw.ImageDraw:
    return ImageDraw.Draw(Image.new("RGB", (10, 10)))


def fit(text: str, box: tuple[int, int, int, int], **options: Any) -> slides.FittedText:
    params: dict[str, Any] = {
        "draw": draw_make(),
        "text": text,
        "box": box,
        "font_path": theme.FONT_REGULAR,
        "max_size": 40,
        "min_size": 12,
        "line_spacing": 1.25,
    }
    return slides.text_fit(**(params | options))


def test_text_fit_keeps_the_largest_size_when_it_fits() -> None:
    fitted = fit("Short text", (0, 0, 600, 100))
    assert fitted.font_size == 40
    assert fitted.lines == ("Short text",)
    assert not fitted.truncated
    assert box_inside(fitted.bbox, fitted.box)


def test_text_fit_wraps_on_words_then_shrinks() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    fitted = fit(text, (10, 20, 310, 200))
    assert len(fitted.lines) > 1
    assert " ".join(fitted.lines) == text  # wrapped on spaces, nothing lost
    assert box_inside(fitted.bbox, fitted.box)
    smaller = fit(text, (10, 20, 310, 90))
    assert smaller.font_size < fitted.font_size
    assert " ".join(smaller.lines) == text
    assert box_inside(smaller.bbox, smaller.box)


def test_text_fit_truncates_with_an_ellipsis_at_min_size() -> None:
    fitted = fit(WORDS_600, (0, 0, 300, 120))
    assert fitted.font_size == 12
    assert fitted.truncated
    assert fitted.lines[-1].endswith(slides.ELLIPSIS)
    assert box_inside(fitted.bbox, fitted.box)


def test_text_fit_breaks_an_unbroken_word() -> None:
    fitted = fit(LONG_WORD, (0, 0, 200, 400), max_size=30, min_size=30)
    assert len(fitted.lines) > 1
    assert "".join(fitted.lines) == LONG_WORD
    assert box_inside(fitted.bbox, fitted.box)


def test_text_fit_single_line_keeps_the_start_of_a_long_word() -> None:
    fitted = fit(f"Domain 3 {LONG_WORD}", (0, 0, 260, 60), max_lines=1)
    assert len(fitted.lines) == 1
    assert fitted.lines[0].startswith("Domain 3 Pneumono")
    assert fitted.lines[0].endswith(slides.ELLIPSIS)
    assert box_inside(fitted.bbox, fitted.box)


def test_text_fit_alignment_and_empty_text() -> None:
    centred = fit("Hi", (0, 0, 400, 200), align="center", valign="middle")
    left, top, right, bottom = centred.bbox
    assert abs((left + right) / 2 - 200) < 3
    assert abs((top + bottom) / 2 - 100) < 15
    right_aligned = fit("Hi", (0, 0, 400, 200), align="right", valign="bottom")
    assert 395 <= right_aligned.bbox[2] <= 400
    assert right_aligned.block[3] == 200
    empty = fit("   ", (5, 5, 100, 100))
    assert empty.lines == ()
    assert not empty.truncated


def test_text_fit_box_too_small_for_one_line() -> None:
    fitted = fit("Anything at all", (0, 0, 200, 5))
    assert fitted.lines == ()
    assert fitted.truncated


# --- countdown -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[1]}p")
def test_countdown_patch_changes_each_second_and_fits_its_box(size: tuple[int, int]) -> None:
    box = slides.countdown_box(size=size, presenter=True)
    layout = slides.frame_layout(size=size, presenter=True)
    assert box_inside(box, layout.content_box)
    at_5, patch_5 = slides.countdown_draw(image_size=size, box=box, seconds_left=5, total=10)
    at_4, patch_4 = slides.countdown_draw(image_size=size, box=box, seconds_left=4, total=10)
    assert at_5 == at_4 == box[:2]
    assert patch_5.size == patch_4.size == (box[2] - box[0], box[3] - box[1])
    assert patch_5.mode == "RGB"
    assert patch_5.tobytes() != patch_4.tobytes()


def test_countdown_sits_on_the_question_slide_without_covering_text() -> None:
    size = Quality.P1080.size
    render = slides.slide_compose(
        script=script_build(VideoType.PRACTICE_SESSION, STRESS[VideoType.PRACTICE_SESSION]),
        section_index=0,
        size=size,
        phase="question",
    )
    box = slides.countdown_box(size=size, presenter=True)
    for fitted in render.texts:
        if not fitted.lines:
            continue
        overlaps = not (
            fitted.bbox[2] <= box[0]
            or fitted.bbox[0] >= box[2]
            or fitted.bbox[3] <= box[1]
            or fitted.bbox[1] >= box[3]
        )
        assert not overlaps, fitted.lines
    # the slide shows exactly the empty ring, so pasting patches is seamless
    _, empty = slides.countdown_draw(image_size=size, box=box, seconds_left=None, total=0)
    assert render.image.crop(box).tobytes() == empty.tobytes()


# --- fonts and helpers -------------------------------------------------------


def test_fonts_come_from_the_project_folder() -> None:
    for path in (theme.FONT_REGULAR, theme.FONT_BOLD):
        assert Path(path).parent == FONT_DIR
        assert Path(path).is_file()
        assert slides.font_load(path, 20).path == path
    assert (FONT_DIR / "LICENSE.txt").is_file()
    render = slides.slide_compose(
        script=script_build(VideoType.OVERVIEW, NORMAL[VideoType.OVERVIEW]),
        section_index=0,
        size=Quality.P480.size,
    )
    assert {Path(t.font_path).parent for t in render.texts} == {FONT_DIR}


def test_font_load_is_cached() -> None:
    assert slides.font_load(theme.FONT_BOLD, 33) is slides.font_load(theme.FONT_BOLD, 33)


def test_percents_read_fractions_and_percentages() -> None:
    assert slides.percents_parse([0.5, 0.75, None]) == [50.0, 75.0, None]
    assert slides.percents_parse([50, 75, "x"]) == [50.0, 75.0, None]
    assert slides.percents_parse([120, -5]) == [100.0, 0.0]


def test_sentences_pick_drops_pause_markers() -> None:
    text = f"One. Two! {PAUSE_MARKER} Three? Four. Five."
    assert slides.sentences_pick(text) == ["One.", "Two!", "Three?", "Four."]


def test_practice_phases_show_question_then_highlighted_answer() -> None:
    data = NORMAL[VideoType.PRACTICE_SESSION]
    script = script_build(VideoType.PRACTICE_SESSION, data)
    size = Quality.P720.size
    question = slides.slide_compose(script=script, section_index=0, size=size, phase="question")
    main = slides.slide_compose(script=script, section_index=0, size=size, phase="main")
    assert question.image.tobytes() == main.image.tobytes()  # "main" is the question
    question_lines = {" ".join(t.lines) for t in question.texts}
    assert {"A", "B", "C", "D", *data["choices"]} <= question_lines

    answer = slides.slide_compose(script=script, section_index=0, size=size, phase="explanation")
    answer_lines = {" ".join(t.lines) for t in answer.texts}
    assert "CORRECT ANSWER · B" in answer_lines
    assert {"S3 Standard-IA", data["explanation"], *data["key_concepts"]} <= answer_lines


def test_no_countdown_ring_without_think_time() -> None:
    data = {k: v for k, v in NORMAL[VideoType.PRACTICE_SESSION].items() if k != "think_seconds"}
    script = Script(
        video_type=VideoType.PRACTICE_SESSION,
        title="Practice",
        sections=(Section(heading="Q1", text="No pause here.", slide=data),),
    )
    size = Quality.P720.size
    image = slides.slide_render(script=script, section_index=0, size=size)
    box = slides.countdown_box(size=size)
    assert (pixels(image, box) == theme.color_parse(theme.BACKGROUND)).all()
