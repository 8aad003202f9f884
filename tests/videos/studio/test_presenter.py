"""The animated presenter: drawn avatars and uploaded portraits, per frame."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from videos.studio.presenter import (
    EXPRESSIONS,
    MOUTH_LEVELS,
    Presenter,
    UnknownAvatarError,
    avatars_available,
    mouth_level_index,
)
from videos.studio.types import FPS, AvatarConfig

AVATAR_IDS = ("professional_instructor", "motivational_coach", "practice_instructor")
PANEL_COLOR = (15, 23, 42)
SMALL = (273, 480)  # the presenter panel of a 480p video
SIZES = {"480p": SMALL, "1080p": (615, 1080)}
LOUD = 0.9

Box = tuple[int, int, int, int]


def presenter_make(
    avatar_id: str = "professional_instructor",
    *,
    size: tuple[int, int] = SMALL,
    gesture_level: float = 0.0,
    expression: str = "friendly",
    image_path: str | None = None,
) -> Presenter:
    avatar = AvatarConfig(
        avatar_id=avatar_id,
        expression=expression,
        gesture_level=gesture_level,
        image_path=image_path,
    )
    return Presenter(avatar=avatar, panel_size=size, panel_color=PANEL_COLOR)


def frame_take(presenter: Presenter, frame_index: int, mouth: float = 0.0) -> np.ndarray:
    # panel() hands out its own buffer, overwritten by the next call: keep a copy.
    return presenter.panel(frame_index=frame_index, mouth=mouth).copy()


def diff_box(a: np.ndarray, b: np.ndarray) -> Box | None:
    """The bounding box (x0, y0, x1, y1) of the pixels that differ, or None."""
    ys, xs = np.nonzero(np.any(a != b, axis=2))
    if len(ys) == 0:
        return None
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def portrait_write(path: Path, *, size: tuple[int, int] = (300, 400)) -> Path:
    """A stand-in for an uploaded photo: a face-like drawing on a gradient."""
    width, height = size
    ramp = np.linspace(60, 200, height, dtype=np.uint8)[:, None]
    pixels = np.dstack([np.broadcast_to(ramp, (height, width))] * 3).copy()
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.55), fill=(224, 172, 140))
    draw.ellipse((width * 0.4, height * 0.3, width * 0.45, height * 0.34), fill=(40, 30, 30))
    draw.ellipse((width * 0.55, height * 0.3, width * 0.6, height * 0.34), fill=(40, 30, 30))
    draw.rectangle((0, height * 0.7, width, height), fill=(40, 90, 160))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def still_presenters() -> dict[str, Presenter]:
    """One motionless presenter per avatar (gesture level 0), at 480p."""
    return {avatar_id: presenter_make(avatar_id) for avatar_id in AVATAR_IDS}


def test_avatars_available_lists_the_three_drawn_avatars():
    available = avatars_available()

    assert set(AVATAR_IDS) <= set(available)
    for avatar_id, info in available.items():
        assert info.id == avatar_id
        assert info.name
        assert info.description


@pytest.mark.parametrize("size_name", list(SIZES))
@pytest.mark.parametrize("avatar_id", AVATAR_IDS)
def test_each_avatar_renders_a_full_panel(avatar_id: str, size_name: str):
    width, height = SIZES[size_name]
    presenter = presenter_make(avatar_id, size=(width, height), gesture_level=0.5)

    for frame_index, mouth in ((0, 0.0), (1, LOUD), (FPS * 7, 0.3)):
        panel = presenter.panel(frame_index=frame_index, mouth=mouth)
        assert panel.shape == (height, width, 3)
        assert panel.dtype == np.uint8
        # The presenter sits on the panel colour: it shows in the top corners.
        assert tuple(panel[0, 0]) == PANEL_COLOR
        assert tuple(panel[0, -1]) == PANEL_COLOR
        # ...and a drawn figure fills much of the panel.
        assert np.any(panel != PANEL_COLOR, axis=2).mean() > 0.4


def test_the_three_avatars_look_clearly_different(still_presenters: dict[str, Presenter]):
    frames = {
        avatar_id: frame_take(presenter, 0).astype(np.int16)
        for avatar_id, presenter in still_presenters.items()
    }

    for a, b in combinations(AVATAR_IDS, 2):
        mean_difference = np.abs(frames[a] - frames[b]).mean()
        assert mean_difference > 15, (a, b, mean_difference)


def test_mouth_level_index_is_closed_in_silence_and_grows_with_energy():
    assert mouth_level_index(0.0) == 0
    assert mouth_level_index(0.02) == 0  # below the gate: breath and room tone
    assert mouth_level_index(-0.5) == 0
    assert mouth_level_index(math.nan) == 0
    assert mouth_level_index(1.0) == MOUTH_LEVELS - 1
    assert mouth_level_index(7.0) == MOUTH_LEVELS - 1
    levels = [mouth_level_index(m / 100) for m in range(101)]
    assert levels == sorted(levels)
    assert set(levels) == set(range(MOUTH_LEVELS))
    assert MOUTH_LEVELS >= 4


@pytest.mark.parametrize("avatar_id", AVATAR_IDS)
def test_the_mouth_opens_with_the_voice(avatar_id: str, still_presenters: dict[str, Presenter]):
    presenter = still_presenters[avatar_id]
    silent = frame_take(presenter, 0)
    loud = frame_take(presenter, 0, LOUD)

    mouth = diff_box(silent, loud)
    assert mouth is not None
    height, width = silent.shape[:2]
    x0, y0, x1, y1 = mouth
    # A small region of the face, centred, in the upper half of the panel.
    assert (x1 - x0) < width * 0.3
    assert (y1 - y0) < height * 0.15
    assert abs((x0 + x1) / 2 - width / 2) < width * 0.05
    assert y1 < height * 0.6
    assert np.abs(silent[y0:y1, x0:x1].astype(int) - loud[y0:y1, x0:x1]).mean() > 20

    # Every level is its own shape, and the same energy always draws the same one.
    shapes = [frame_take(presenter, 0, m) for m in (0.0, 0.15, 0.3, 0.55, LOUD)]
    for a, b in combinations(range(len(shapes)), 2):
        assert not np.array_equal(shapes[a], shapes[b]), (a, b)
    assert np.array_equal(frame_take(presenter, 0, 0.0), silent)


def silent_frames_check(presenter: Presenter, frames: int) -> tuple[list[int], Box | None]:
    """The silent frames that differ from the resting frame, and the box they differ in."""
    rest = frame_take(presenter, 0)
    changed: list[int] = []
    boxes: list[Box] = []
    for frame_index in range(frames):
        frame = presenter.panel(frame_index=frame_index, mouth=0.0)
        if not np.array_equal(frame, rest):
            changed.append(frame_index)
            boxes.append(diff_box(rest, frame) or (0, 0, 0, 0))
    if not boxes:
        return changed, None
    return changed, (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def runs_of(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


@pytest.mark.parametrize("avatar_id", AVATAR_IDS)
def test_silence_is_still_but_for_blinks(avatar_id: str, still_presenters: dict[str, Presenter]):
    presenter = still_presenters[avatar_id]
    rest = frame_take(presenter, 0)
    mouth = diff_box(rest, frame_take(presenter, 0, LOUD))
    assert mouth is not None

    # At gesture level 0, 100 silent frames differ from the first only where the eyes are.
    changed, eyes = silent_frames_check(presenter, 100)
    assert changed, "no blink in 4 s"
    assert eyes is not None
    assert eyes[3] <= mouth[1], "something below the eyes moved"
    assert eyes[3] - eyes[1] < rest.shape[0] * 0.1
    # Blinks are quick: a few frames each.
    assert all(len(run) <= 4 for run in runs_of(changed))


@pytest.mark.parametrize("avatar_id", AVATAR_IDS)
def test_blinks_come_every_few_seconds(avatar_id: str, still_presenters: dict[str, Presenter]):
    presenter = still_presenters[avatar_id]
    changed, eyes = silent_frames_check(presenter, 60 * FPS)
    blinks = runs_of(changed)

    # Within any 5 s window there is a blink, and there are not too many of them.
    starts = [run[0] for run in blinks]
    gaps = np.diff([0, *starts, 60 * FPS])
    assert gaps.max() <= 5 * FPS
    assert 10 <= len(blinks) <= 25
    # The eyes close over both eyes: a wide, short box.
    assert eyes is not None
    width = presenter.size[0]
    assert eyes[2] - eyes[0] > width * 0.2


def test_blinks_are_deterministic():
    a = presenter_make("motivational_coach")
    b = presenter_make("motivational_coach")

    for frame_index in range(0, 8 * FPS):
        assert np.array_equal(
            a.panel(frame_index=frame_index, mouth=0.0), b.panel(frame_index=frame_index, mouth=0.0)
        )


@pytest.mark.parametrize("avatar_id", AVATAR_IDS)
def test_idle_motion_follows_the_gesture_level(avatar_id: str):
    presenter = presenter_make(avatar_id, gesture_level=1.0)
    rest = frame_take(presenter, 0)
    mouth = diff_box(rest, frame_take(presenter, 0, LOUD))
    assert mouth is not None

    # The head moves: frames differ below the eyes (the chin and mouth shift) while silent...
    moved = [
        box
        for f in range(0, 10 * FPS, 5)
        if (box := diff_box(rest, frame_take(presenter, f))) is not None and box[3] > mouth[3]
    ]
    assert moved
    # ...but only the head region; the body panel below it stays put.
    height = rest.shape[0]
    assert all(box[3] < height * 0.75 for box in moved)
    # ...and the motion loops: a frame and the same pose 10 s later (without a blink) match.
    repeats = [
        f
        for f in range(0, 10 * FPS, 7)
        if np.array_equal(frame_take(presenter, f), frame_take(presenter, f + 10 * FPS))
    ]
    assert len(repeats) > 20


def test_expressions_change_the_face():
    frames = {e: frame_take(presenter_make(expression=e), 0) for e in EXPRESSIONS}

    for a, b in combinations(EXPRESSIONS, 2):
        box = diff_box(frames[a], frames[b])
        assert box is not None, (a, b)
        assert box[3] < SMALL[1] * 0.6  # in the face


def test_unknown_expression_raises():
    with pytest.raises(ValueError, match="grumpy"):
        presenter_make(expression="grumpy")


def test_unknown_avatar_raises_and_lists_the_available_ones():
    with pytest.raises(UnknownAvatarError) as caught:
        presenter_make("news_anchor")

    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "news_anchor" in message
    for avatar_id in AVATAR_IDS:
        assert avatar_id in message


def test_the_panel_is_read_only(still_presenters: dict[str, Presenter]):
    panel = still_presenters["practice_instructor"].panel(frame_index=3, mouth=0.4)

    with pytest.raises(ValueError, match="read-only"):
        panel[0, 0] = 0


def test_moving_box_holds_every_change():
    presenter = presenter_make("motivational_coach", gesture_level=1.0)
    x0, y0, x1, y1 = presenter.moving_box
    first = frame_take(presenter, 0)

    for f in range(0, 10 * FPS, 3):
        frame = frame_take(presenter, f, mouth=(f % 11) / 10)
        outside = first.copy()
        outside[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
        assert np.array_equal(outside, frame)


@pytest.mark.parametrize("size_name", list(SIZES))
def test_a_custom_portrait_is_framed_and_speaks(tmp_path: Path, size_name: str):
    width, height = SIZES[size_name]
    path = portrait_write(tmp_path / "me.png")
    presenter = presenter_make(image_path=str(path), size=(width, height), gesture_level=0.5)

    silent = frame_take(presenter, 0)
    loud = frame_take(presenter, 0, LOUD)
    assert silent.shape == (height, width, 3)
    assert silent.dtype == np.uint8
    assert tuple(silent[0, 0]) == PANEL_COLOR
    # The portrait's colours are in the panel (its skin tone and shirt).
    assert np.any(np.all(np.abs(silent.astype(int) - (224, 172, 140)) < 6, axis=2))
    assert np.any(np.all(np.abs(silent.astype(int) - (40, 90, 160)) < 6, axis=2))
    # The voice lights the ring and the equalizer.
    assert diff_box(silent, loud) is not None
    assert np.abs(silent.astype(int) - loud).mean() > 0.5
    quiet_again = frame_take(presenter, 0)
    assert np.array_equal(silent, quiet_again)


def test_a_jpeg_portrait_works(tmp_path: Path):
    png = portrait_write(tmp_path / "me.png", size=(640, 480))
    jpeg = tmp_path / "me.jpg"
    Image.open(png).save(jpeg, quality=85)

    presenter = presenter_make(image_path=str(jpeg))

    assert presenter.panel(frame_index=0, mouth=0.5).shape == (SMALL[1], SMALL[0], 3)


def test_a_still_portrait_does_not_move_in_silence(tmp_path: Path):
    path = portrait_write(tmp_path / "me.png")
    presenter = presenter_make(image_path=str(path), gesture_level=0.0)
    rest = frame_take(presenter, 0)

    for f in range(100):
        assert np.array_equal(frame_take(presenter, f), rest)


def test_a_file_that_is_not_an_image_raises(tmp_path: Path):
    path = tmp_path / "portrait.png"
    path.write_text("this is not a picture")

    with pytest.raises(ValueError, match="portrait"):
        presenter_make(image_path=str(path))


def test_a_missing_portrait_raises(tmp_path: Path):
    with pytest.raises(ValueError, match="portrait"):
        presenter_make(image_path=str(tmp_path / "nowhere.png"))
