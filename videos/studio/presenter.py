"""The animated presenter: an illustrated (or uploaded) host, drawn by PresGen with Pillow.

The renderer calls `Presenter.panel()` for every frame, so everything is prepared once, at
construction: the backdrop and the body (which never moves) become one panel-sized array, and
the part that moves (the head, or the framed portrait) is pre-composited over it for each of a
few quantised poses, as a crop of just the region it moves in. Mouth shapes and blinks are small
patches per pose. A frame is then at most three numpy slice copies into one buffer, and none
when nothing changed since the previous frame (about 0.01-0.05 ms a call, even at 1080p).

Drawn avatars are flat vector illustrations, drawn two to four times larger and downscaled with
LANCZOS for smooth edges. Their geometry is written in "figure units": 1.0 is the width of the
figure's shoulders; y grows downwards from the top of the head (hair may rise above 0).
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from videos.studio.theme import color_blend, color_parse
from videos.studio.types import FPS, AvatarConfig

__all__ = [
    "EXPRESSIONS",
    "MOUTH_LEVELS",
    "AvatarInfo",
    "Presenter",
    "UnknownAvatarError",
    "avatars_available",
    "mouth_level_index",
]

RGB = tuple[int, int, int]
Point = tuple[float, float]
Fill = str | int | tuple[int, ...]  # what ImageDraw accepts as a colour

EXPRESSIONS = ("friendly", "encouraging", "focused")

# Mouth energy thresholds: below the first one the mouth stays closed (the gate keeps breath
# noise and room tone from flapping the mouth); each further threshold opens it one step.
_MOUTH_THRESHOLDS = (0.08, 0.25, 0.45, 0.7)
MOUTH_LEVELS = len(_MOUTH_THRESHOLDS) + 1  # closed, slightly open, open, wider, wide

_FIGURE_TOP, _FIGURE_BOTTOM = -0.1, 1.4  # figure units: the top of the tallest hair, the bust's end
_LOOP_FRAMES = 10 * FPS  # the idle motion repeats every 10 s
_BLINK_SLOT = 4 * FPS  # one blink per 4 s slot...
_BLINK_JITTER = FPS  # ...starting anywhere in its first second, so blinks are 3-5 s apart
_BLINK_SEQUENCE = (1, 2, 1)  # eye states over the ~3 blink frames: half, closed, half
_EYES_OPEN, _EYES_HALF, _EYES_CLOSED = 0, 1, 2
_EYE_STATES = (_EYES_OPEN, _EYES_HALF, _EYES_CLOSED)
# The head drawings cached: (mouth level, eye state). The resting one is the base; the others
# become small patches over it.
_HEAD_BASE = (0, _EYES_OPEN)
_HEAD_VARIANTS = (
    _HEAD_BASE,
    *((level, _EYES_OPEN) for level in range(1, len(_MOUTH_THRESHOLDS) + 1)),
    (0, _EYES_HALF),
    (0, _EYES_CLOSED),
)
_CACHE_BUDGET_BYTES = 52 * 1024 * 1024  # all cached arrays of one presenter, at most


class UnknownAvatarError(ValueError):
    """An avatar id that is not one of `avatars_available()`."""

    def __init__(self, avatar_id: str) -> None:
        known = ", ".join(sorted(_LOOKS))
        super().__init__(f"Unknown avatar {avatar_id!r}; available avatars: {known}")
        self.avatar_id = avatar_id


@dataclass(frozen=True)
class AvatarInfo:
    id: str
    name: str
    description: str


def avatars_available() -> dict[str, AvatarInfo]:
    """The drawn avatars, by id (a custom portrait is chosen with `AvatarConfig.image_path`)."""
    return {look.info.id: look.info for look in _LOOKS.values()}


def mouth_level_index(mouth: float) -> int:
    """The mouth shape for a frame's audio energy: 0 (closed) .. MOUTH_LEVELS - 1 (wide)."""
    if not mouth > 0:  # also catches NaN
        return 0
    level = 0
    for threshold in _MOUTH_THRESHOLDS:
        if mouth < threshold:
            break
        level += 1
    return level


# --------------------------------------------------------------------------------------------
# Colours and the look of each avatar


@dataclass(frozen=True)
class _Look:
    info: AvatarInfo
    skin: str
    skin_shadow: str
    hair: str
    hair_light: str
    brow: str
    eye: str
    lip: str
    hair_style: str  # side_part | curly_puff | bob
    outfit: str  # blazer | sport | cardigan
    top: str  # main garment colour
    top_dark: str
    trim: str  # shirt, stripes or blouse
    accent: str  # tie, headband or buttons
    blush: float = 1.0
    lashes: bool = False
    glasses: bool = False
    earrings: bool = False
    energy: float = 1.0  # scales the idle motion


_LOOKS: dict[str, _Look] = {
    look.info.id: look
    for look in (
        _Look(
            info=AvatarInfo(
                id="professional_instructor",
                name="Professional Instructor",
                description="Calm, neat presenter in a navy blazer and tie; clear and composed.",
            ),
            skin="#f1c6a4",
            skin_shadow="#dca583",
            hair="#3a2a21",
            hair_light="#5b4233",
            brow="#3a2a21",
            eye="#2a1d17",
            lip="#b8695e",
            hair_style="side_part",
            outfit="blazer",
            top="#2d4a73",
            top_dark="#223a5c",
            trim="#f4f6fa",
            accent="#b23a48",
            blush=0.7,
            energy=0.75,
        ),
        _Look(
            info=AvatarInfo(
                id="motivational_coach",
                name="Motivational Coach",
                description="Energetic coach in a bright track jacket; upbeat and lively.",
            ),
            skin="#8d5a3c",
            skin_shadow="#75472d",
            hair="#1f1715",
            hair_light="#3b2b25",
            brow="#1f1715",
            eye="#1a1210",
            lip="#7d3f35",
            hair_style="curly_puff",
            outfit="sport",
            top="#ff6a3d",
            top_dark="#e4532a",
            trim="#ffffff",
            accent="#ffd23f",
            earrings=True,
            lashes=True,
            blush=0.6,
            energy=1.2,
        ),
        _Look(
            info=AvatarInfo(
                id="practice_instructor",
                name="Practice Instructor",
                description="Friendly tutor in a cardigan and glasses; patient and encouraging.",
            ),
            skin="#dba47f",
            skin_shadow="#c58a63",
            hair="#7b3c22",
            hair_light="#9c5432",
            brow="#5e2d1a",
            eye="#2e1f18",
            lip="#b35f58",
            hair_style="bob",
            outfit="cardigan",
            top="#2f8c80",
            top_dark="#25736a",
            trim="#f6efe0",
            accent="#f3d9a4",
            glasses=True,
            lashes=True,
            energy=1.0,
        ),
    )
}

# smile: how far the mouth corners lift; brows: how far the brows rise (negative: lowered)
_EXPRESSION_SHAPES: dict[str, tuple[float, float]] = {
    "friendly": (0.55, 0.0),
    "encouraging": (1.0, 1.0),
    "focused": (0.1, -0.35),
}


# --------------------------------------------------------------------------------------------
# Drawing in figure units


def curve_points(p0: Point, c0: Point, c1: Point, p1: Point, *, steps: int = 24) -> list[Point]:
    """Points along a cubic Bezier curve, p0 included, p1 included."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        points.append(
            (
                u**3 * p0[0] + 3 * u * u * t * c0[0] + 3 * u * t * t * c1[0] + t**3 * p1[0],
                u**3 * p0[1] + 3 * u * u * t * c0[1] + 3 * u * t * t * c1[1] + t**3 * p1[1],
            )
        )
    return points


def points_mirror(points: Sequence[Point]) -> list[Point]:
    """The same points mirrored about the figure's centre line (x = 0.5), in reverse order."""
    return [(1.0 - x, y) for x, y in reversed(points)]


class _Pen:
    """Draws figure-unit shapes onto a supersampled canvas that covers one box of the figure."""

    def __init__(self, *, image: Image.Image, scale: float, origin: Point) -> None:
        self.image = image
        self.scale = scale  # canvas pixels per figure unit
        self.origin = origin  # the figure-unit point at the canvas' top-left corner
        self.draw = ImageDraw.Draw(image)

    def xy(self, point: Point) -> tuple[float, float]:
        return ((point[0] - self.origin[0]) * self.scale, (point[1] - self.origin[1]) * self.scale)

    def scaled(self, *, center: Point, factor: float) -> _Pen:
        """A pen on the same canvas that draws everything `factor` times larger about `center`."""
        cx, cy = center
        origin = (cx - (cx - self.origin[0]) / factor, cy - (cy - self.origin[1]) / factor)
        pen = _Pen(image=self.image, scale=self.scale * factor, origin=origin)
        pen.draw = self.draw
        return pen

    def mask_pen(self) -> _Pen:
        """A pen on a blank mask the size of this canvas, for clipping."""
        mask = Image.new("L", self.image.size, 0)
        return _Pen(image=mask, scale=self.scale, origin=self.origin)

    def ellipse(self, center: Point, rx: float, ry: float, fill: Fill) -> None:
        x, y = self.xy(center)
        rx, ry = rx * self.scale, ry * self.scale
        self.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill)

    def polygon(self, points: Sequence[Point], fill: Fill) -> None:
        self.draw.polygon([self.xy(p) for p in points], fill=fill)

    def stroke(self, points: Sequence[Point], width: float, fill: Fill) -> None:
        """A polyline with round joints and round caps."""
        pixels = [self.xy(p) for p in points]
        w = width * self.scale
        self.draw.line(pixels, fill=fill, width=max(1, round(w)), joint="curve")
        for x, y in (pixels[0], pixels[-1]):
            self.draw.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=fill)

    def clipped(self, clip: Image.Image, paint: Callable[[_Pen], None]) -> None:
        """Paint on a fresh layer, keep only what falls inside the `clip` mask, composite it."""
        box = clip.getbbox()
        if box is None:
            return
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        paint(_Pen(image=layer, scale=self.scale, origin=self.origin))
        layer = layer.crop(box)
        alpha = ImageChops.multiply(layer.getchannel("A"), clip.crop(box))
        layer.putalpha(alpha)
        self.image.alpha_composite(layer, dest=box[:2])


def ellipse_points(center: Point, rx: float, ry: float, *, steps: int = 72) -> list[Point]:
    return [
        (
            center[0] + rx * math.cos(2 * math.pi * i / steps),
            center[1] + ry * math.sin(2 * math.pi * i / steps),
        )
        for i in range(steps)
    ]


# --------------------------------------------------------------------------------------------
# The head, in head coordinates: figure units before the head is enlarged (see _HEAD_SCALE).

_FACE_CENTER = (0.5, 0.335)
_FACE_RX, _FACE_RY = 0.165, 0.215
_EYE_Y, _EYE_DX = 0.338, 0.071
_MOUTH_CENTER = (0.5, 0.468)
# The head is drawn in its own coordinates (above) and then enlarged about this point, which
# gives the friendly, slightly big-headed proportions of flat illustration.
_HEAD_ANCHOR, _HEAD_SCALE = (0.5, 0.2), 1.25
_NECK_PIVOT = (0.5, 0.66)  # figure units; the head tilts about this point, under the chin


def face_points() -> list[Point]:
    """An egg-shaped face: an ellipse whose lower half narrows to a soft chin."""
    points = []
    cx, cy = _FACE_CENTER
    for i in range(96):
        a = 2 * math.pi * i / 96
        s = math.sin(a)  # > 0 in the lower half (y grows downwards)
        narrow = 1 - 0.2 * s**2 if s > 0 else 1.0
        y_stretch = 1.0 if s < 0 else 1.02
        points.append((cx + _FACE_RX * math.cos(a) * narrow, cy + _FACE_RY * s * y_stretch))
    return points


def neck_draw(pen: _Pen, look: _Look, *, bottom: float) -> None:
    """The neck from under the chin down to `bottom`, shaded where the chin shadows it."""
    neck = [(0.44, 0.42), (0.56, 0.42), (0.565, bottom), (0.435, bottom)]
    pen.polygon(neck, fill=look.skin)
    clip = pen.mask_pen()
    clip.polygon(neck, fill=255)
    pen.clipped(clip.image, lambda p: p.ellipse((0.5, 0.54), 0.1, 0.042, fill=look.skin_shadow))


def ears_draw(pen: _Pen, look: _Look) -> None:
    for side in (-1, 1):
        x = 0.5 + side * (_FACE_RX - 0.004)
        pen.ellipse((x, 0.355), 0.03, 0.043, fill=look.skin)
        pen.ellipse((x + side * 0.006, 0.357), 0.014, 0.025, fill=look.skin_shadow)
        if look.earrings:
            pen.ellipse((x + side * 0.004, 0.405), 0.011, 0.011, fill=look.accent)
            pen.ellipse((x + side * 0.004, 0.405), 0.0055, 0.0055, fill=look.skin)


def nose_draw(pen: _Pen, look: _Look) -> None:
    pen.stroke(
        curve_points((0.487, 0.405), (0.494, 0.414), (0.506, 0.414), (0.513, 0.405), steps=12),
        0.0075,
        fill=look.skin_shadow,
    )


def cheeks_draw(pen: _Pen, look: _Look, *, smile: float) -> None:
    """Soft-edged blush: an ellipse blurred on a small mask, then tinted onto the face."""
    strength = (0.22 + 0.2 * smile) * look.blush
    rx, ry = 0.034 * pen.scale, 0.022 * pen.scale
    pad = round(ry * 1.2)
    size = (round(2 * rx) + 2 * pad, round(2 * ry) + 2 * pad)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((pad, pad, size[0] - pad, size[1] - pad), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(ry * 0.35)).point(lambda v: round(v * strength))
    color = Image.new("RGBA", size, (*color_parse("#ff6f6f"), 255))
    for side in (-1, 1):
        x, y = pen.xy((0.5 + side * 0.1, 0.418))
        pen.image.paste(color, (round(x - size[0] / 2), round(y - size[1] / 2)), mask)


def eyes_draw(pen: _Pen, look: _Look, *, state: int) -> None:
    for side in (-1, 1):
        cx = 0.5 + side * _EYE_DX
        if state == _EYES_CLOSED:
            lid = curve_points(
                (cx - 0.02, _EYE_Y),
                (cx - 0.01, _EYE_Y + 0.01),
                (cx + 0.01, _EYE_Y + 0.01),
                (cx + 0.02, _EYE_Y),
                steps=12,
            )
            pen.stroke(lid, 0.0065, fill=look.eye)
            if look.lashes:
                pen.stroke(
                    [(cx + side * 0.019, _EYE_Y), (cx + side * 0.027, _EYE_Y - 0.006)],
                    0.005,
                    fill=look.eye,
                )
            continue
        pen.ellipse((cx, _EYE_Y), 0.0165, 0.021, fill=look.eye)
        pen.ellipse((cx + 0.0055, _EYE_Y - 0.0075), 0.0055, 0.0055, fill="#ffffff")
        if state == _EYES_HALF:
            # The upper lid comes down over the top half of the eye.
            pen.polygon(
                [
                    (cx - 0.025, _EYE_Y - 0.03),
                    (cx + 0.025, _EYE_Y - 0.03),
                    (cx + 0.025, _EYE_Y + 0.002),
                    (cx - 0.025, _EYE_Y + 0.002),
                ],
                fill=look.skin,
            )
            pen.stroke(
                [(cx - 0.018, _EYE_Y + 0.002), (cx + 0.018, _EYE_Y + 0.002)], 0.006, look.eye
            )
        if look.lashes:  # a flick at the outer corner
            y = _EYE_Y - 0.011 if state == _EYES_OPEN else _EYE_Y + 0.001
            pen.stroke(
                [
                    (cx + side * 0.013, y),
                    (cx + side * 0.022, y - 0.007),
                    (cx + side * 0.026, y - 0.008),
                ],
                0.0048,
                fill=look.eye,
            )


def brows_draw(pen: _Pen, look: _Look, *, raise_: float) -> None:
    y = _EYE_Y - 0.047 - 0.012 * raise_
    for side in (-1, 1):
        cx = 0.5 + side * (_EYE_DX + 0.002)
        inner, outer = cx - side * 0.026, cx + side * 0.027
        # Focused brows sit a little lower at the inner end.
        inner_y = y + 0.004 - 0.004 * min(raise_, 0)
        points = curve_points(
            (inner, inner_y),
            (cx - side * 0.008, y - 0.008),
            (cx + side * 0.012, y - 0.009),
            (outer, y + 0.002),
            steps=14,
        )
        pen.stroke(points, 0.0115, fill=look.brow)


def mouth_outline(*, level: int, smile: float) -> tuple[list[Point], list[Point]]:
    """The upper and lower edges of the mouth opening, left to right."""
    cx, cy = _MOUTH_CENTER
    opening = (0.0, 0.011, 0.022, 0.034, 0.047)[level]
    half_width = 0.041 + 0.01 * smile - 0.003 * level
    lift = 0.006 + 0.013 * smile  # corners above the centre of the mouth
    upper, lower = [], []
    for i in range(25):
        u = -1 + 2 * i / 24
        bow = 1 - u * u
        x = cx + half_width * u
        upper.append((x, cy - lift * (1 - bow) * 0.9 + lift * 0.1 + 0.25 * lift * bow))
        lower.append((x, cy - lift * (1 - bow) * 0.9 + lift * 0.1 + (lift + opening) * bow**0.75))
    return upper, lower


def mouth_draw(pen: _Pen, look: _Look, *, level: int, smile: float) -> None:
    upper, lower = mouth_outline(level=level, smile=smile)
    if level == 0:
        pen.stroke(lower, 0.0085, fill=look.lip)
        return
    shape = upper + list(reversed(lower))
    pen.polygon(shape, fill="#4a1a22")
    clip = pen.mask_pen()
    clip.polygon(shape, fill=255)
    cx = _MOUTH_CENTER[0]
    top = min(y for _, y in upper)
    bottom = max(y for _, y in lower)

    def inside_paint(p: _Pen) -> None:
        teeth = min(0.011, (bottom - top) * 0.38)
        p.polygon([(x, y + teeth) for x, y in upper[::-1]] + upper, fill="#fbfbf8")
        if level >= 2:
            p.ellipse((cx, bottom + 0.004), 0.026, 0.017, fill="#d9646c")

    pen.clipped(clip.image, inside_paint)
    pen.stroke([*shape, shape[0]], 0.0045, fill=look.lip)


def hair_back_draw(pen: _Pen, look: _Look) -> None:
    """Hair behind the face (drawn before it)."""
    if look.hair_style == "side_part":
        pen.ellipse((0.5, 0.235), 0.188, 0.2, fill=look.hair)
    elif look.hair_style == "curly_puff":
        # A high puff of curls: a scalloped silhouette, then curl marks spread over it.
        pen.ellipse((0.5, 0.12), 0.2, 0.15, fill=look.hair)
        for i in range(22):
            a = 2 * math.pi * i / 22
            pen.ellipse(
                (0.5 + 0.2 * math.cos(a), 0.12 + 0.15 * math.sin(a)), 0.04, 0.04, fill=look.hair
            )
        pen.ellipse((0.5, 0.27), 0.178, 0.17, fill=look.hair)
        for i in range(1, 40):  # a sunflower spiral spreads the curls evenly
            r, a = math.sqrt(i / 40), i * 2.39996
            x, y = 0.5 + 0.17 * r * math.cos(a), 0.11 + 0.12 * r * math.sin(a)
            turn = a * 0.7
            arc = [
                (x + 0.013 * math.cos(turn + t), y + 0.013 * math.sin(turn + t))
                for t in (0.0, 0.6, 1.2, 1.8, 2.4, 3.0)
            ]
            pen.stroke(arc, 0.0055, fill=look.hair_light)
    elif look.hair_style == "bob":
        outline = (
            curve_points((0.31, 0.54), (0.27, 0.36), (0.28, 0.07), (0.5, 0.065))
            + curve_points((0.5, 0.065), (0.72, 0.07), (0.73, 0.36), (0.69, 0.54))
            + curve_points((0.69, 0.54), (0.66, 0.565), (0.62, 0.56), (0.6, 0.53), steps=8)
            + [(0.4, 0.53)]
            + curve_points((0.4, 0.53), (0.38, 0.56), (0.34, 0.565), (0.31, 0.54), steps=8)
        )
        pen.polygon(outline, fill=look.hair)


def hair_front_draw(pen: _Pen, look: _Look) -> None:
    """Hair over the forehead (drawn after the face)."""
    if look.hair_style == "side_part":
        # Combed over from a parting on the left, falling to the right temple.
        fringe = (
            curve_points((0.336, 0.3), (0.33, 0.22), (0.36, 0.16), (0.415, 0.14), steps=16)
            + curve_points((0.415, 0.14), (0.5, 0.19), (0.6, 0.17), (0.668, 0.29), steps=18)
            + curve_points((0.668, 0.29), (0.72, 0.1), (0.46, 0.02), (0.362, 0.095), steps=20)
            + [(0.326, 0.18)]
        )
        pen.polygon(fringe, fill=look.hair)
        # A parting line and a soft highlight give the cut some shape.
        pen.stroke(
            curve_points((0.415, 0.14), (0.41, 0.11), (0.41, 0.085), (0.42, 0.062), steps=10),
            0.006,
            fill=look.hair_light,
        )
        pen.stroke(
            curve_points((0.47, 0.115), (0.53, 0.095), (0.6, 0.11), (0.645, 0.16), steps=12),
            0.011,
            fill=look.hair_light,
        )
        for side in (-1, 1):  # short, tapered sideburns
            x = 0.5 + side * 0.165
            pen.polygon(
                [(x + side * 0.004, 0.27), (x - side * 0.012, 0.28), (x - side * 0.002, 0.345)],
                fill=look.hair,
            )
    elif look.hair_style == "curly_puff":
        # Pulled back under a headband.
        hairline = curve_points((0.336, 0.29), (0.33, 0.13), (0.67, 0.13), (0.664, 0.29))
        pen.polygon([*hairline, (0.7, 0.12), (0.3, 0.12)], fill=look.hair)
        lower = curve_points((0.328, 0.225), (0.37, 0.16), (0.63, 0.16), (0.672, 0.225))
        upper = curve_points((0.672, 0.19), (0.63, 0.12), (0.37, 0.12), (0.328, 0.19))
        pen.polygon(lower + upper, fill=look.accent)
        shine = curve_points((0.36, 0.175), (0.4, 0.14), (0.6, 0.14), (0.64, 0.175), steps=16)
        pen.stroke(shine, 0.007, fill="#fff1a8")
    elif look.hair_style == "bob":
        fringe = (
            curve_points((0.325, 0.31), (0.32, 0.16), (0.4, 0.1), (0.5, 0.1), steps=16)
            + curve_points((0.5, 0.1), (0.6, 0.1), (0.68, 0.16), (0.675, 0.31), steps=16)
            + curve_points((0.675, 0.31), (0.66, 0.22), (0.62, 0.2), (0.57, 0.175), steps=10)
            + curve_points((0.57, 0.175), (0.5, 0.2), (0.41, 0.22), (0.36, 0.26), steps=12)
            + curve_points((0.36, 0.26), (0.345, 0.27), (0.335, 0.29), (0.325, 0.31), steps=6)
        )
        pen.polygon(fringe, fill=look.hair)
        pen.stroke(
            curve_points((0.37, 0.2), (0.43, 0.14), (0.52, 0.125), (0.6, 0.135), steps=14),
            0.012,
            fill=look.hair_light,
        )


def glasses_draw(pen: _Pen, look: _Look) -> None:
    frame = "#2b2b36"
    layer = Image.new("RGBA", pen.image.size, (0, 0, 0, 0))
    lens = _Pen(image=layer, scale=pen.scale, origin=pen.origin)
    for side in (-1, 1):
        lens.ellipse((0.5 + side * _EYE_DX, _EYE_Y), 0.039, 0.034, fill=(255, 255, 255, 38))
    pen.image.alpha_composite(layer)
    for side in (-1, 1):
        cx = 0.5 + side * _EYE_DX
        ring = ellipse_points((cx, _EYE_Y), 0.039, 0.034, steps=60)
        pen.stroke(ring + ring[:2], 0.0065, fill=frame)
        pen.stroke(
            [(cx + side * 0.039, _EYE_Y - 0.006), (0.5 + side * 0.163, _EYE_Y - 0.01)], 0.006, frame
        )
    pen.stroke(
        curve_points(
            (0.5 - _EYE_DX + 0.039, _EYE_Y - 0.004),
            (0.49, _EYE_Y - 0.016),
            (0.51, _EYE_Y - 0.016),
            (0.5 + _EYE_DX - 0.039, _EYE_Y - 0.004),
            steps=10,
        ),
        0.0055,
        fill=frame,
    )


def head_draw(pen: _Pen, look: _Look, *, expression: str, mouth: int, eyes: int) -> None:
    smile, brows = _EXPRESSION_SHAPES[expression]
    pen = pen.scaled(center=_HEAD_ANCHOR, factor=_HEAD_SCALE)
    hair_back_draw(pen, look)
    neck_draw(pen, look, bottom=0.59)
    ears_draw(pen, look)
    pen.polygon(face_points(), fill=look.skin)
    cheeks_draw(pen, look, smile=smile)
    nose_draw(pen, look)
    eyes_draw(pen, look, state=eyes)
    brows_draw(pen, look, raise_=brows)
    mouth_draw(pen, look, level=mouth, smile=smile)
    hair_front_draw(pen, look)
    if look.glasses:
        glasses_draw(pen, look)


# --------------------------------------------------------------------------------------------
# The body: neck, shoulders and outfit. It never moves.


def torso_points() -> list[Point]:
    left = (
        curve_points((0.5, 0.7), (0.45, 0.7), (0.43, 0.7), (0.41, 0.705), steps=4)
        + curve_points((0.41, 0.705), (0.24, 0.73), (0.1, 0.76), (0.06, 0.86))
        + curve_points((0.06, 0.86), (0.035, 0.93), (0.03, 1.1), (0.02, 1.45), steps=12)
    )
    # The left half, then its mirror image back up the right side.
    return left + points_mirror(left)


def body_draw(pen: _Pen, look: _Look) -> None:
    neck_draw(pen.scaled(center=_HEAD_ANCHOR, factor=_HEAD_SCALE), look, bottom=0.72)
    torso = torso_points()
    if look.outfit == "blazer":
        outfit_draw_blazer(pen, look, torso)
    elif look.outfit == "sport":
        outfit_draw_sport(pen, look, torso)
    else:
        outfit_draw_cardigan(pen, look, torso)


def arms_draw(pen: _Pen, color: str) -> None:
    """Soft creases where the arms meet the chest."""
    for side in (-1, 1):
        points = curve_points(
            (0.5 + side * 0.33, 0.9),
            (0.5 + side * 0.34, 1.05),
            (0.5 + side * 0.35, 1.2),
            (0.5 + side * 0.355, 1.42),
            steps=16,
        )
        pen.stroke(points, 0.008, fill=color)


def outfit_draw_blazer(pen: _Pen, look: _Look, torso: list[Point]) -> None:
    pen.polygon(torso, fill=look.top)
    arms_draw(pen, look.top_dark)
    # Shirt and tie in the V of the jacket.
    pen.polygon([(0.415, 0.705), (0.585, 0.705), (0.5, 1.06)], fill=look.trim)
    pen.polygon([(0.475, 0.735), (0.525, 0.735), (0.515, 0.775), (0.485, 0.775)], fill=look.accent)
    pen.polygon(
        [(0.485, 0.77), (0.515, 0.77), (0.53, 0.99), (0.5, 1.03), (0.47, 0.99)], fill=look.accent
    )
    pen.stroke([(0.49, 0.78), (0.51, 0.96)], 0.004, fill="#9a2f3c")
    for side in (-1, 1):  # shirt collar points
        pen.polygon(
            [(0.5 + side * 0.075, 0.695), (0.5 + side * 0.025, 0.74), (0.5 + side * 0.06, 0.79)],
            fill="#dfe4ec",
        )
        pen.polygon(
            [(0.5 + side * 0.09, 0.7), (0.5 + side * 0.03, 0.735), (0.5 + side * 0.065, 0.78)],
            fill=look.trim,
        )
    for side in (-1, 1):  # lapels with a notch
        lapel = [
            (0.5 + side * 0.09, 0.7),
            (0.5 + side * 0.125, 0.8),
            (0.5 + side * 0.1, 0.82),
            (0.5 + side * 0.13, 0.84),
            (0.5 + side * 0.02, 1.1),
            (0.5 + side * 0.005, 1.1),
            (0.5 + side * 0.075, 0.7),
        ]
        pen.polygon(lapel, fill=look.top_dark)
    pen.polygon([(0.5, 1.03), (0.51, 1.45), (0.49, 1.45)], fill=look.top_dark)
    pen.ellipse((0.515, 1.2), 0.011, 0.011, fill="#1b2d48")
    pen.polygon([(0.64, 0.94), (0.72, 0.935), (0.72, 0.945), (0.64, 0.95)], fill=look.top_dark)
    pen.polygon(
        [(0.655, 0.915), (0.665, 0.9), (0.68, 0.91), (0.69, 0.898), (0.7, 0.935), (0.655, 0.94)],
        fill="#f4f6fa",
    )


def outfit_draw_sport(pen: _Pen, look: _Look, torso: list[Point]) -> None:
    pen.polygon(torso, fill=look.top)
    arms_draw(pen, look.top_dark)
    for side in (-1, 1):  # raglan stripes from the collar over the shoulders
        for offset in (0.0, 0.028):
            stripe = curve_points(
                (0.5 + side * (0.075 + offset), 0.73),
                (0.5 + side * (0.24 + offset), 0.74),
                (0.5 + side * (0.36 + offset * 0.4), 0.8),
                (0.5 + side * (0.43 + offset * 0.3), 1.45),
                steps=24,
            )
            pen.stroke(stripe, 0.012, fill=look.trim)
    # A stand-up collar around the neck, zipped down the middle.
    collar = (
        curve_points((0.41, 0.72), (0.41, 0.68), (0.43, 0.66), (0.44, 0.655), steps=6)
        + curve_points((0.44, 0.655), (0.48, 0.675), (0.52, 0.675), (0.56, 0.655), steps=10)
        + curve_points((0.56, 0.655), (0.57, 0.66), (0.59, 0.68), (0.59, 0.72), steps=6)
        + curve_points((0.59, 0.72), (0.55, 0.75), (0.45, 0.75), (0.41, 0.72), steps=10)
    )
    pen.polygon(collar, fill=look.top_dark)
    pen.stroke([(0.5, 0.72), (0.5, 1.45)], 0.008, fill="#3b3f4a")
    pen.polygon([(0.492, 0.755), (0.508, 0.755), (0.51, 0.8), (0.49, 0.8)], fill="#d8dbe2")


def outfit_draw_cardigan(pen: _Pen, look: _Look, torso: list[Point]) -> None:
    pen.polygon(torso, fill=look.top)
    arms_draw(pen, look.top_dark)
    blouse = [(0.41, 0.705), (0.59, 0.705), (0.535, 1.05), (0.5, 1.1), (0.465, 1.05)]
    pen.polygon(blouse, fill=look.trim)
    for side in (-1, 1):  # a rounded collar on the blouse
        edge = curve_points(
            (0.5, 0.745),
            (0.5 + side * 0.03, 0.79),
            (0.5 + side * 0.08, 0.78),
            (0.5 + side * 0.095, 0.7),
            steps=12,
        )
        pen.polygon([*edge, (0.5 + side * 0.06, 0.695)], fill="#ffffff")
    for side in (-1, 1):  # the cardigan's front bands
        band = [
            (0.5 + side * 0.09, 0.7),
            (0.5 + side * 0.115, 0.705),
            (0.5 + side * 0.035, 1.1),
            (0.5 + side * 0.02, 1.45),
            (0.5 + side * 0.0, 1.45),
            (0.5 + side * 0.012, 1.1),
        ]
        pen.polygon(band, fill=look.top_dark)
    for y in (1.16, 1.26, 1.36):
        pen.ellipse((0.512, y), 0.011, 0.011, fill=look.accent)


# --------------------------------------------------------------------------------------------
# Rendering layers to arrays


def supersample_for(unit: float) -> int:
    """How much larger to draw: enough for smooth edges, less for big panels (speed)."""
    return min(4, max(2, round(1300 / unit)))


def layer_render(paint: Callable[[_Pen], None], *, unit: float, box: Box) -> Image.Image:
    """Paint a transparent RGBA layer for the figure-pixel box `box` (x0, y0, x1, y1).

    `unit` is output pixels per figure unit. Drawing happens a few times larger and is downscaled
    with LANCZOS, which gives the smooth, anti-aliased edges ImageDraw lacks.
    """
    ss = supersample_for(unit)
    width, height = box[2] - box[0], box[3] - box[1]
    canvas = Image.new("RGBA", (width * ss, height * ss), (0, 0, 0, 0))
    paint(_Pen(image=canvas, scale=unit * ss, origin=(box[0] / unit, box[1] / unit)))
    # Premultiplied alpha keeps transparent (black) pixels from darkening the edges.
    return canvas.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")


def backdrop_render(
    *, size: tuple[int, int], color: RGB, center: Point, radii: Point
) -> np.ndarray:
    """The panel colour with a soft spotlight behind the presenter, fading out before the edges."""
    width, height = size
    luminance = (0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]) / 255
    light = (
        color_blend(color, (255, 255, 255), 0.11)
        if luminance < 0.6
        else color_blend(color, (0, 0, 0), 0.06)
    )
    ys = (np.arange(height, dtype=np.float32)[:, None] - center[1]) / radii[1]
    xs = (np.arange(width, dtype=np.float32)[None, :] - center[0]) / radii[0]
    t = np.clip(1 - np.sqrt(xs * xs + ys * ys), 0, 1)
    t = t * t * (3 - 2 * t)  # smoothstep
    base = np.array(color, dtype=np.float32)
    lift = np.array(light, dtype=np.float32) - base
    return np.clip(base + t[..., None] * lift + 0.5, 0, 255).astype(np.uint8)


def image_turned(image: Image.Image, *, degrees: float, pivot: Point, box: Box) -> np.ndarray:
    """The `box` part of `image` turned `degrees` (anticlockwise) about `pivot`, as float RGBA.

    Only the box is resampled, so a small feature's region costs little to turn.
    """
    if degrees == 0:
        return np.asarray(image.crop(box), dtype=np.float32)
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    # Output pixel (u, v) of the box samples the source at R(-a) (box corner + (u, v) - pivot).
    ox, oy = box[0] - pivot[0], box[1] - pivot[1]
    matrix = (cos, -sin, cos * ox - sin * oy + pivot[0], sin, cos, sin * ox + cos * oy + pivot[1])
    size = (box[2] - box[0], box[3] - box[1])
    turned = image.convert("RGBa").transform(
        size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BICUBIC
    )
    return np.asarray(turned.convert("RGBA"), dtype=np.float32)


def box_turned(box: Box, *, degrees: float, pivot: Point, margin: int, limit: Box) -> Box:
    """The box that holds `box` once turned about `pivot`, grown by `margin`, kept in `limit`."""
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - pivot[0], y - pivot[1]
        xs.append(pivot[0] + cos * dx + sin * dy)
        ys.append(pivot[1] - sin * dx + cos * dy)
    return (
        max(limit[0], math.floor(min(xs)) - margin),
        max(limit[1], math.floor(min(ys)) - margin),
        min(limit[2], math.ceil(max(xs)) + margin),
        min(limit[3], math.ceil(max(ys)) + margin),
    )


def box_union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def frame_hash(value: int, *, seed: int) -> int:
    """A small deterministic hash (for blink timing), the same on every run and machine."""
    h = (value * 0x9E3779B1 + seed) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x85EBCA77) & 0xFFFFFFFF
    h ^= h >> 13
    return h


Box = tuple[int, int, int, int]  # x0, y0, x1, y1
Patch = tuple[int, int, int, int, np.ndarray]  # y0, y1, x0, x1 in the panel, and the pixels


def box_shifted(box: Box, dx: int, dy: int) -> Box:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def alpha_box(rgba: np.ndarray) -> Box:
    """The bounding box of a float RGBA array's visible pixels."""
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def array_diff_box(a: np.ndarray, b: np.ndarray) -> Box | None:
    ys, xs = np.nonzero(np.any(a != b, axis=2))
    if len(ys) == 0:
        return None
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def head_blend(panel: np.ndarray, head: np.ndarray, at: tuple[int, int], box: Box) -> np.ndarray:
    """The panel pixels in `box` with the float RGBA `head` (top-left at `at`) blended over."""
    x0, y0, x1, y1 = box
    out = panel[y0:y1, x0:x1].astype(np.float32)
    # The part of the head that falls inside the box (the head may be clipped by the panel).
    hx0, hy0 = max(x0 - at[0], 0), max(y0 - at[1], 0)
    hx1 = min(x1 - at[0], head.shape[1])
    hy1 = min(y1 - at[1], head.shape[0])
    if hx1 > hx0 and hy1 > hy0:
        part = head[hy0:hy1, hx0:hx1]
        ox, oy = at[0] + hx0 - x0, at[1] + hy0 - y0
        alpha = part[..., 3:4] / 255.0
        target = out[oy : oy + hy1 - hy0, ox : ox + hx1 - hx0]
        target[:] = part[..., :3] * alpha + target * (1 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class _Pose:
    dx: int
    dy: int
    tilt: int  # index into the rig's tilt angles


def poses_plan(
    *, amplitude_x: float, amplitude_y: float, tilt_max: float, step: int
) -> tuple[list[_Pose], list[float], list[int]]:
    """The idle motion: quantised poses, the tilt angles they use, and each loop frame's pose.

    A slow sway (one period per loop) carries the head sideways with a matching tilt, while a
    faster, gentler bob moves it up and down; all periods divide the loop so it repeats cleanly.
    Offsets are quantised to `step` pixels and tilts to half a degree times `step`.
    """
    tilts: list[float] = []
    poses: list[_Pose] = []
    frame_poses = []
    for frame in range(_LOOP_FRAMES):
        phase = 2 * math.pi * frame / _LOOP_FRAMES
        sway = math.sin(phase + 0.4)
        bob = 0.55 * math.sin(2 * phase) + 0.45 * math.sin(5 * phase + 1.1)
        tilt_step = 0.5 * step
        tilt = round(tilt_max * (0.8 * sway + 0.2 * math.sin(3 * phase)) / tilt_step) * tilt_step
        if tilt not in tilts:
            tilts.append(tilt)
        pose = _Pose(
            dx=round(amplitude_x * sway / step) * step,
            dy=round(amplitude_y * bob / step) * step,
            tilt=tilts.index(tilt),
        )
        if pose not in poses:
            poses.append(pose)
        frame_poses.append(poses.index(pose))
    return poses, tilts, frame_poses


# --------------------------------------------------------------------------------------------
# Rigs: what moves, cached


class _DrawnRig:
    """A drawn avatar: a still body panel, and a head cached per pose, mouth and eye state."""

    def __init__(
        self, *, look: _Look, avatar: AvatarConfig, size: tuple[int, int], color: RGB
    ) -> None:
        width, height = size
        unit = min(width * 1.1, height / (_FIGURE_BOTTOM - _FIGURE_TOP + 0.08))  # px per unit
        # The figure stands on the panel's bottom edge, centred; wide bodies are cropped.
        origin = (round((width - unit) / 2), round(height - _FIGURE_BOTTOM * unit))
        self.panel = self._body_render(look=look, unit=unit, origin=origin, size=size, color=color)
        self.seed = zlib.crc32(look.info.id.encode())

        # The head and its variants, unturned, in a box wide enough for any hair.
        head_box = (round(0.1 * unit), round(-0.12 * unit), round(0.9 * unit), round(0.78 * unit))
        heads = {
            variant: layer_render(
                functools.partial(
                    head_draw,
                    look=look,
                    expression=avatar.expression,
                    mouth=variant[0],
                    eyes=variant[1],
                ),
                unit=unit,
                box=head_box,
            )
            for variant in _HEAD_VARIANTS
        }
        # Trim the box to the drawing plus room to turn; then each variant's changed box.
        margin = math.ceil(0.05 * unit)
        trim = heads[_HEAD_BASE].getbbox() or (0, 0, 1, 1)
        trim = (trim[0] - margin, trim[1] - margin, trim[2] + margin, trim[3] + margin)
        heads = {v: img.crop(trim) for v, img in heads.items()}
        head_xy = (origin[0] + head_box[0] + trim[0], origin[1] + head_box[1] + trim[1])
        pivot = (
            _NECK_PIVOT[0] * unit - head_box[0] - trim[0],
            _NECK_PIVOT[1] * unit - head_box[1] - trim[1],
        )
        changed = {
            v: ImageChops.difference(heads[_HEAD_BASE], img).getbbox(alpha_only=False)
            for v, img in heads.items()
            if v != _HEAD_BASE
        }

        gesture = min(max(avatar.gesture_level, 0.0), 1.0) * look.energy
        amplitude = (0.007 * unit * gesture, 0.011 * unit * gesture, 2.0 * gesture)
        # Bytes per pose: the region the head moves in, and its patches (a little larger once
        # turned); the panel is held twice (here and as the presenter's frame buffer).
        pose_bytes = (
            3 * (trim[2] - trim[0] + 2 * amplitude[0]) * (trim[3] - trim[1] + 2 * amplitude[1])
        )
        pose_bytes += sum(
            3.6 * (b[2] - b[0] + 4) * (b[3] - b[1] + 4) for b in changed.values() if b
        )
        budget = _CACHE_BUDGET_BYTES - 2 * self.panel.nbytes
        step = 1
        while True:  # coarser steps if the pose cache would outgrow its budget
            poses, tilts, self.frame_poses = poses_plan(
                amplitude_x=amplitude[0], amplitude_y=amplitude[1], tilt_max=amplitude[2], step=step
            )
            if len(poses) * pose_bytes <= budget or step >= 4:
                break
            step += 1

        # Per tilt: the turned head, and each variant's turned region, as float RGBA.
        base_size = heads[_HEAD_BASE].size
        whole = (0, 0, base_size[0], base_size[1])
        turned_heads = []
        turned_parts: list[dict[tuple[int, int], tuple[Box, np.ndarray] | None]] = []
        for tilt in tilts:
            base = image_turned(heads[_HEAD_BASE], degrees=tilt, pivot=pivot, box=whole)
            parts: dict[tuple[int, int], tuple[Box, np.ndarray] | None] = {}
            for v, box in changed.items():
                if box is None:
                    parts[v] = None
                    continue
                region = box_turned(box, degrees=tilt, pivot=pivot, margin=2, limit=whole)
                parts[v] = (region, image_turned(heads[v], degrees=tilt, pivot=pivot, box=region))
            turned_heads.append(base)
            turned_parts.append(parts)

        # The panel region any pose covers; per pose, that region with the resting head, and the
        # mouth and eye variants as patches (blended over the body, so they may reach past the
        # face's edge).
        extents = [
            box_shifted(alpha_box(turned_heads[p.tilt]), head_xy[0] + p.dx, head_xy[1] + p.dy)
            for p in poses
        ]
        x0, y0, x1, y1 = box_union(extents)
        self.region = (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
        self.moving_box = self.region
        self.pose_crops: list[np.ndarray] = []
        self.mouth_patches: list[list[Patch | None]] = []
        self.eye_patches: list[list[Patch | None]] = []
        for pose in poses:
            at = (head_xy[0] + pose.dx, head_xy[1] + pose.dy)
            self.pose_crops.append(head_blend(self.panel, turned_heads[pose.tilt], at, self.region))
            patches: dict[tuple[int, int], Patch | None] = {_HEAD_BASE: None}
            for v, part in turned_parts[pose.tilt].items():
                patches[v] = None
                if part is not None:
                    box = box_shifted(part[0], at[0], at[1])
                    pixels = head_blend(self.panel, part[1], box[:2], box)
                    patches[v] = (box[1], box[3], box[0], box[2], pixels)
            self.mouth_patches.append([patches[(m, _EYES_OPEN)] for m in range(MOUTH_LEVELS)])
            self.eye_patches.append([patches[(0, e)] for e in _EYE_STATES])

    @staticmethod
    def _body_render(
        *, look: _Look, unit: float, origin: tuple[int, int], size: tuple[int, int], color: RGB
    ) -> np.ndarray:
        """The backdrop with the body (which never moves) drawn on it."""
        width, height = size
        backdrop = backdrop_render(
            size=size,
            color=color,
            center=(width / 2, origin[1] + 0.42 * unit),
            radii=(width * 0.5, unit * 0.75),
        )
        box = (-origin[0], -origin[1], width - origin[0], height - origin[1])
        body = layer_render(lambda pen: body_draw(pen, look), unit=unit, box=box)
        panel = Image.fromarray(backdrop)
        panel.paste(body, (0, 0), body)
        return np.asarray(panel.convert("RGB")).copy()

    def blink_state(self, frame_index: int) -> int:
        slot, position = divmod(frame_index, _BLINK_SLOT)
        h = frame_hash(slot, seed=self.seed)
        start = 6 + h % _BLINK_JITTER
        k = position - start
        if 0 <= k < len(_BLINK_SEQUENCE):
            return _BLINK_SEQUENCE[k]
        # Now and then a quick second blink follows the first.
        k -= len(_BLINK_SEQUENCE) + 3
        if (h >> 8) % 5 == 0 and 0 <= k < len(_BLINK_SEQUENCE):
            return _BLINK_SEQUENCE[k]
        return _EYES_OPEN

    def state(self, frame_index: int, mouth: float) -> tuple[int, int, int]:
        return (
            self.frame_poses[frame_index % _LOOP_FRAMES],
            mouth_level_index(mouth),
            self.blink_state(frame_index),
        )

    def write(self, out: np.ndarray, state: tuple[int, int, int]) -> None:
        pose, level, eyes = state
        x0, y0, x1, y1 = self.region
        out[y0:y1, x0:x1] = self.pose_crops[pose]
        for patch in (self.mouth_patches[pose][level], self.eye_patches[pose][eyes]):
            if patch is not None:
                py0, py1, px0, px1, pixels = patch
                out[py0:py1, px0:px1] = pixels

    def cache_bytes(self) -> int:
        patches = [p for row in (*self.mouth_patches, *self.eye_patches) for p in row if p]
        return (
            self.panel.nbytes
            + sum(a.nbytes for a in self.pose_crops)
            + sum(p[4].nbytes for p in patches)
        )


_PORTRAIT_FORMATS = ("PNG", "JPEG", "WEBP")
_PORTRAIT_ACCENT = (94, 184, 255)
_EQ_BARS = 11
_EQ_PATTERNS = 3  # bar-height patterns per mouth level, alternated so the bars dance


def portrait_load(path: str, *, side: int) -> Image.Image:
    """The portrait as an RGB square of `side` pixels, cropped around where a face usually is."""
    try:
        with Image.open(path, formats=_PORTRAIT_FORMATS) as opened:
            opened.draft("RGB", (side * 2, side * 2))  # JPEG: decode big photos at a lower scale
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"Cannot use {path!r} as a portrait (a PNG or JPEG image): {exc}") from exc
    if min(image.size) < 16:
        raise ValueError(f"The portrait {path!r} is too small: {image.width}x{image.height}")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (226, 232, 240))  # a light studio grey behind
        image.paste(rgba, (0, 0), rgba)
    image = image.convert("RGB")
    width, height = image.size
    crop = min(width, height)
    left = (width - crop) // 2
    top = round((height - crop) * 0.3)  # tall portraits: keep the head, lose some chest
    image = image.crop((left, top, left + crop, top + crop))
    return image.resize((side, side), Image.Resampling.LANCZOS)


def color_layer(color: RGB, alpha: Image.Image) -> Image.Image:
    """A flat colour with `alpha` as its coverage."""
    layer = Image.new("RGBA", alpha.size, (*color, 0))
    layer.putalpha(alpha)
    return layer


def disc_mask(*, size: int, inset: float) -> Image.Image:
    """An anti-aliased disc filling a `size` square less `inset` pixels on each side."""
    ss = 4
    big = Image.new("L", (size * ss, size * ss), 0)
    ImageDraw.Draw(big).ellipse(
        (inset * ss, inset * ss, (size - inset) * ss - 1, (size - inset) * ss - 1), fill=255
    )
    return big.resize((size, size), Image.Resampling.LANCZOS)


class _PortraitRig:
    """An uploaded portrait in a ringed circle; a glow and an equalizer follow the voice."""

    def __init__(self, *, path: str, gesture: float, size: tuple[int, int], color: RGB) -> None:
        width, height = size
        diameter = round(min(width * 0.74, height * 0.5))
        ring = max(2, round(diameter * 0.025))
        glow = round(diameter * 0.11)
        outer = diameter + 2 * (ring + glow)  # the square the moving part is drawn in
        eq_size = (round(diameter * 0.72), round(diameter * 0.2))
        gap = round(diameter * 0.04)
        amplitude = round(diameter * 0.01 * min(max(gesture, 0.0), 1.0))
        top = max(0, round((height - outer - gap - eq_size[1]) / 2))
        left = (width - outer) // 2
        photo = portrait_load(path, side=diameter + 2)  # 1 px spare all round, under the ring

        backdrop = backdrop_render(
            size=size, color=color, center=(width / 2, top + outer / 2), radii=(width / 2, outer)
        )
        self.panel = backdrop
        self.seed = 11

        # The moving part for each mouth level, over the panel at each bob offset.
        layers = self._layers_render(photo=photo, outer=outer, ring=ring, glow=glow)
        self.region = (
            max(left, 0),
            max(top - amplitude, 0),
            min(left + outer, width),
            min(top + outer + amplitude, height),
        )
        # Bob offsets, in coarser steps if the crops would outgrow the cache budget.
        crop_bytes = (
            3 * MOUTH_LEVELS * (self.region[2] - self.region[0]) * (self.region[3] - self.region[1])
        )
        step = 1
        while (
            2 * (amplitude // step) + 1
        ) * crop_bytes > _CACHE_BUDGET_BYTES - 2 * backdrop.nbytes:
            step += 1
        bob = [
            round(amplitude * math.sin(4 * math.pi * f / _LOOP_FRAMES) / step) * step
            for f in range(_LOOP_FRAMES)
        ]
        offsets = sorted(set(bob))
        self.crops = [
            [head_blend(backdrop, layer, (left, top + dy), self.region) for layer in layers]
            for dy in offsets
        ]
        self.frame_poses = [offsets.index(dy) for dy in bob]

        # The equalizer under the circle, which stays put.
        eq_top = min(top + outer + amplitude + gap, height - eq_size[1])
        eq_left = (width - eq_size[0]) // 2
        self.eq_box = (eq_left, eq_top, eq_left + eq_size[0], eq_top + eq_size[1])
        self.moving_box = box_union([self.region, self.eq_box])
        self.eq_patches = [
            [head_blend(backdrop, bars, self.eq_box[:2], self.eq_box) for bars in per_level]
            for per_level in self._equalizer_render(size=eq_size)
        ]

    @staticmethod
    def _layers_render(*, photo: Image.Image, outer: int, ring: int, glow: int) -> list[np.ndarray]:
        """Glow, ring and photo as float RGBA, one per mouth level (the glow grows with it)."""
        square = (outer, outer)
        ring_disc = disc_mask(size=outer, inset=glow)
        photo_disc = disc_mask(size=outer, inset=glow + ring)
        halo = ring_disc.filter(ImageFilter.GaussianBlur(glow * 0.4))
        framed = Image.new("RGBA", square, (0, 0, 0, 0))
        framed.paste(photo, (glow + ring - 1, glow + ring - 1))
        framed.putalpha(photo_disc)
        layers = []
        for level in range(MOUTH_LEVELS):
            share = level / (MOUTH_LEVELS - 1)
            # A faint halo at rest, a bright one at full voice; the ring warms up with it.
            strength = 0.18 + 0.72 * share
            layer = color_layer(_PORTRAIT_ACCENT, halo.point(lambda v, s=strength: round(v * s)))
            ring_color = color_blend((226, 240, 255), _PORTRAIT_ACCENT, share)
            layer.alpha_composite(color_layer(ring_color, ring_disc))
            layer.alpha_composite(framed)
            layers.append(np.asarray(layer, dtype=np.float32))
        return layers

    @staticmethod
    def _equalizer_render(*, size: tuple[int, int]) -> list[list[np.ndarray]]:
        """Rounded bars as float RGBA: dots in silence, taller bars the louder the voice."""
        ss = 4
        width, height = size
        bar = width / (_EQ_BARS * 1.8)
        levels = []
        for level in range(MOUTH_LEVELS):
            share = level / (MOUTH_LEVELS - 1)
            patterns = []
            for pattern in range(_EQ_PATTERNS if level else 1):
                big = Image.new("RGBa", (width * ss, height * ss), (0, 0, 0, 0))
                draw = ImageDraw.Draw(big)
                for i in range(_EQ_BARS):
                    centre = (i + 0.5) / _EQ_BARS
                    envelope = 1 - 1.6 * (centre - 0.5) ** 2  # taller in the middle
                    jitter = frame_hash(i + 31 * pattern + 97 * level, seed=5) % 1000 / 1000
                    h = bar + (height - bar) * share * envelope * (0.4 + 0.6 * jitter)
                    x, y = width * centre, (height - h) / 2
                    alpha = 255 if level else 130
                    draw.rounded_rectangle(
                        ((x - bar / 2) * ss, y * ss, (x + bar / 2) * ss, (y + h) * ss),
                        radius=bar / 2 * ss,
                        fill=(*(round(c * alpha / 255) for c in _PORTRAIT_ACCENT), alpha),
                    )
                small = big.resize(size, Image.Resampling.LANCZOS).convert("RGBA")
                patterns.append(np.asarray(small, dtype=np.float32))
            levels.append(patterns)
        return levels

    def state(self, frame_index: int, mouth: float) -> tuple[int, int, int]:
        level = mouth_level_index(mouth)
        pattern = frame_hash(frame_index // 2, seed=self.seed) % _EQ_PATTERNS if level else 0
        return (self.frame_poses[frame_index % _LOOP_FRAMES], level, pattern)

    def write(self, out: np.ndarray, state: tuple[int, int, int]) -> None:
        pose, level, pattern = state
        x0, y0, x1, y1 = self.region
        out[y0:y1, x0:x1] = self.crops[pose][level]
        x0, y0, x1, y1 = self.eq_box
        out[y0:y1, x0:x1] = self.eq_patches[level][pattern]

    def cache_bytes(self) -> int:
        arrays = [a for row in (*self.crops, *self.eq_patches) for a in row]
        return self.panel.nbytes + sum(a.nbytes for a in arrays)


# --------------------------------------------------------------------------------------------


class Presenter:
    """The presenter panel for one video: prepared once, then one cached frame per call.

    `panel()` returns the presenter's own frame buffer, updated in place: it is read-only, and
    valid until the next call (copy it to keep it). Renderers paste it straight into the frame.
    """

    def __init__(
        self,
        *,
        avatar: AvatarConfig,
        panel_size: tuple[int, int],
        panel_color: tuple[int, int, int],
    ) -> None:
        width, height = panel_size
        if width < 32 or height < 32:
            raise ValueError(f"The presenter panel is too small: {width}x{height}")
        if avatar.expression not in _EXPRESSION_SHAPES:
            known = ", ".join(EXPRESSIONS)
            raise ValueError(f"Unknown expression {avatar.expression!r}; expected one of {known}")
        color = (int(panel_color[0]), int(panel_color[1]), int(panel_color[2]))
        self.avatar = avatar
        self.size = (width, height)
        self._rig: _DrawnRig | _PortraitRig
        if avatar.image_path:
            self._rig = _PortraitRig(
                path=avatar.image_path, gesture=avatar.gesture_level, size=self.size, color=color
            )
        else:
            look = _LOOKS.get(avatar.avatar_id)
            if look is None:
                raise UnknownAvatarError(avatar.avatar_id)
            self._rig = _DrawnRig(look=look, avatar=avatar, size=self.size, color=color)
        self._out = self._rig.panel.copy()
        self._state: tuple[int, int, int] | None = None

    def panel(self, *, frame_index: int, mouth: float) -> np.ndarray:
        """The (H, W, 3) uint8 RGB panel for a frame whose audio energy is `mouth` (0..1).

        The array is the presenter's own buffer: read-only and overwritten by the next call.
        """
        state = self.state(frame_index=frame_index, mouth=mouth)
        if state != self._state:
            out = self._out
            out.flags.writeable = True
            self._rig.write(out, state)
            out.flags.writeable = False
            self._state = state
        return self._out

    def state(self, *, frame_index: int, mouth: float) -> tuple[int, int, int]:
        """What the panel shows for this frame (pose, mouth, eyes): equal states, equal pixels.

        Lets a renderer cache work derived from the panel (e.g. its colour conversion).
        """
        return self._rig.state(frame_index, mouth)

    @property
    def cache_bytes(self) -> int:
        """Memory held by the cached panel, pose crops and patches."""
        return self._rig.cache_bytes() + self._out.nbytes

    @property
    def moving_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1): the only part of the panel that ever changes between frames.

        A renderer that keeps its frame buffer can paste the whole panel once, then copy just
        this box for each frame.
        """
        return self._rig.moving_box
