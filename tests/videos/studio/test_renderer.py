"""The studio renders real videos: probe what a viewer would get."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from videos.quality import video_check
from videos.studio import slides
from videos.studio.captions import vtt_parse
from videos.studio.narration import UnknownVoiceError
from videos.studio.presenter import Presenter, UnknownAvatarError, avatars_available
from videos.studio.renderer import RenderError, video_render
from videos.studio.types import (
    PAUSE_MARKER,
    AvatarConfig,
    Quality,
    Script,
    Section,
    VideoConfig,
    VideoType,
    VoiceConfig,
)

pytestmark = pytest.mark.slow

SLIDE_DATA = {
    VideoType.OVERVIEW: {
        "domains": [
            {"name": "Security", "weight": 24, "score": 42},
            {"name": "Networking", "weight": 16, "score": 81},
        ]
    },
    VideoType.REMEDIATION: {
        "concepts": [
            {
                "title": "Least privilege",
                "summary": "Grant only what is needed.",
                "example": "A reporting job reads one bucket.",
            }
        ]
    },
    VideoType.PRACTICE_SESSION: {
        "question": "Who patches the hypervisor?",
        "choices": ["You", "The provider"],
        "answer": 1,
        "explanation": "The provider runs the hardware.",
        "key_concepts": ["Shared responsibility"],
        "think_seconds": 2,
    },
    VideoType.EXAM_PREP: {"checklist": ["Sleep well", "Read each question twice"]},
    VideoType.MOTIVATIONAL: {"scores": [{"name": "Security", "score": 42}], "overall": 64},
    VideoType.CELEBRATION: {"learner": "Alex", "certification": "Cloud Foundations", "score": 86},
    VideoType.INTRODUCTION: {
        "name": "Alex Rivera",
        "headline": "Cloud engineer",
        "highlights": ["Five years in operations"],
    },
}


def script_build(
    video_type: VideoType, text: str = "Welcome. Here is what matters most today."
) -> Script:
    return Script(
        video_type=video_type,
        title="Test video",
        sections=(Section(heading="Start", text=text, slide=SLIDE_DATA[video_type]),),
    )


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        a = container.streams.audio[0]
        return {
            "video_codec": v.codec_context.name,
            "audio_codec": a.codec_context.name,
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate),
            "duration": float(container.duration / av.time_base),
        }


AVATARS = sorted(avatars_available())
TYPE_AVATAR = list(itertools.product(VideoType, AVATARS))


@pytest.mark.parametrize(("video_type", "avatar_id"), TYPE_AVATAR, ids=lambda v: str(v))
def test_every_type_renders_a_video_that_passes_the_quality_check(tmp_path, video_type, avatar_id):
    result = video_render(
        script=script_build(video_type),
        dest=tmp_path / "out.mp4",
        avatar=AvatarConfig(avatar_id=avatar_id),
        quality="480p",
    )
    facts = probe(result.video_path)
    assert facts["video_codec"] == "h264" and facts["audio_codec"] == "aac"
    assert facts["size"] == (854, 480)
    assert facts["fps"] == 25
    assert abs(facts["duration"] - result.report.duration) < 0.3
    assert result.thumbnail_path.stat().st_size > 1000

    cues = vtt_parse(result.captions_path.read_text())
    assert cues, "no captions"
    for a, b in itertools.pairwise(cues):
        assert a.start < a.end <= b.start + 1e-3
    assert cues[-1].end <= result.report.duration + 0.05
    words = " ".join(c.text.replace("\n", " ") for c in cues)
    assert words.split() == ["Welcome.", "Here", "is", "what", "matters", "most", "today."]

    report = video_check(
        video_path=result.video_path,
        expected_duration=result.report.duration,
        expected_size=(854, 480),
        captions_path=result.captions_path,
    )
    assert report.passed, report.reasons


def test_every_avatar_appears_and_looks_different(tmp_path):
    thumbs = []
    for avatar_id in AVATARS:
        result = video_render(
            script=script_build(VideoType.OVERVIEW, "Hello there."),
            dest=tmp_path / f"{avatar_id}.mp4",
            avatar=AvatarConfig(avatar_id=avatar_id),
            quality="480p",
        )
        thumbs.append(np.asarray(__import__("PIL.Image").Image.open(result.thumbnail_path), float))
    assert len(AVATARS) >= 3
    for a, b in itertools.combinations(thumbs, 2):
        assert np.abs(a - b).mean() > 2


def frames_read(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_mouth_moves_only_while_speech_is_heard(tmp_path):
    """A practice video with a think pause: the presenter's mouth is still in the silence."""
    size = Quality.P480.size
    text = f"Which option is right? {PAUSE_MARKER} The provider patches the hypervisor."
    result = video_render(
        script=script_build(VideoType.PRACTICE_SESSION, text),
        dest=tmp_path / "out.mp4",
        avatar=AvatarConfig(avatar_id=AVATARS[0], gesture_level=0),
        voice=VoiceConfig(think_pause=3.0),
        quality="480p",
    )
    # Where the mouth is: the pixels that differ between a closed and an open mouth.
    layout = slides.frame_layout(size=size, presenter=True)
    x0, y0, x1, y1 = layout.presenter_box
    presenter = Presenter(
        avatar=AvatarConfig(avatar_id=AVATARS[0], gesture_level=0),
        panel_size=(x1 - x0, y1 - y0),
        panel_color=(30, 41, 59),
    )
    closed = presenter.panel(frame_index=0, mouth=0.0).copy()
    opened = presenter.panel(frame_index=0, mouth=0.9).copy()
    ys, xs = np.nonzero(np.abs(closed.astype(int) - opened.astype(int)).sum(axis=2) > 30)
    mouth = (slice(y0 + ys.min(), y0 + ys.max() + 1), slice(x0 + xs.min(), x0 + xs.max() + 1))

    frames = frames_read(result.video_path)
    # Share of mouth pixels that change strongly between frames: a mouth opening
    # changes many; codec noise (e.g. at a keyframe) changes a few by a little.
    motion = [
        float((np.abs(b[mouth].astype(int) - a[mouth].astype(int)).sum(axis=2) > 90).mean())
        for a, b in itertools.pairwise(frames)
    ]
    # Locate the think pause from the captions: the gap between the two cues.
    cues = vtt_parse(result.captions_path.read_text())
    gap_start, gap_end = cues[0].end, cues[1].start
    assert gap_end - gap_start > 2.5
    silent = motion[int((gap_start + 0.4) * 25) : int((gap_end - 0.3) * 25)]
    speaking = motion[int(cues[0].start * 25) : int(cues[0].end * 25)]
    assert max(silent) < 0.01, "the mouth moved during the think pause"
    assert max(speaking) > 0.1, "the mouth did not move while speaking"


def test_practice_video_counts_down_then_shows_the_explanation(tmp_path):
    text = f"Which option is right? {PAUSE_MARKER} The provider patches the hypervisor."
    result = video_render(
        script=script_build(VideoType.PRACTICE_SESSION, text),
        dest=tmp_path / "out.mp4",
        voice=VoiceConfig(think_pause=3.0),
        quality="480p",
    )
    frames = frames_read(result.video_path)
    cues = vtt_parse(result.captions_path.read_text())
    x0, y0, x1, y1 = slides.countdown_box(size=Quality.P480.size)
    ring = [f[y0:y1, x0:x1].astype(int) for f in frames]
    in_pause = [ring[int((cues[0].end + s) * 25)] for s in (0.3, 1.3)]
    assert np.abs(in_pause[0] - in_pause[1]).mean() > 1, "the countdown did not change"
    question = frames[int(cues[0].start * 25) + 5][:, :500].astype(int)
    explanation = frames[-3][:, :500].astype(int)
    assert np.abs(question - explanation).mean() > 3, "the slide did not switch to the answer"


def test_without_slides_the_presenter_fills_the_frame(tmp_path):
    result = video_render(
        script=script_build(VideoType.MOTIVATIONAL, "You are doing well."),
        dest=tmp_path / "out.mp4",
        video=VideoConfig(slides=False),
        quality="480p",
    )
    frame = frames_read(result.video_path)[10]
    # Presenter centred in the whole frame: the left third is no longer slide text.
    assert probe(result.video_path)["size"] == (854, 480)
    assert frame[:, 300:550].std() > 10


def test_progress_is_reported_in_order_to_100(tmp_path):
    seen: list[int] = []
    video_render(
        script=script_build(VideoType.OVERVIEW),
        dest=tmp_path / "out.mp4",
        quality="480p",
        on_progress=seen.append,
    )
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) > 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"avatar": AvatarConfig(avatar_id="robot")}, UnknownAvatarError, "robot"),
        ({"voice": VoiceConfig(voice_id="nobody")}, UnknownVoiceError, "nobody"),
        ({"quality": "4k"}, RenderError, "unknown quality '4k'"),
        ({"voice": VoiceConfig(speed=9)}, ValueError, "speed"),
    ],
)
def test_bad_input_is_rejected_before_any_work(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        video_render(script=script_build(VideoType.OVERVIEW), dest=tmp_path / "out.mp4", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_or_missing_output_folder(tmp_path):
    with pytest.raises(RenderError, match="does not exist"):
        video_render(script=script_build(VideoType.OVERVIEW), dest=tmp_path / "no" / "out.mp4")
    # /proc refuses new files even to root, whatever its mode bits say.
    with pytest.raises(RenderError, match="cannot write"):
        video_render(script=script_build(VideoType.OVERVIEW), dest=Path("/proc/presgen-out.mp4"))
    with pytest.raises(RenderError, match=r"must be an \.mp4"):
        video_render(script=script_build(VideoType.OVERVIEW), dest=tmp_path / "out.avi")


def test_a_render_that_fails_midway_leaves_nothing_and_keeps_the_old_file(tmp_path):
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"previous good video")

    def fail_at_half(percent: int) -> None:
        if percent >= 50:
            raise RuntimeError("worker stopped")

    with pytest.raises(RuntimeError, match="worker stopped"):
        video_render(
            script=script_build(VideoType.OVERVIEW),
            dest=dest,
            quality="480p",
            on_progress=fail_at_half,
        )
    assert dest.read_bytes() == b"previous good video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
