"""The slides' look: colours, type scale and spacing.

Sizes are fractions of the frame height so a slide looks the same at 480p and
1080p, only sharper. Colours come from a palette built around the video's
background, so a light custom background still gets readable (dark) text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RGB = tuple[int, int, int]

# --- fonts (shipped with the project, never looked up on the system) ---------
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = str(FONT_DIR / "DejaVuSans.ttf")
FONT_BOLD = str(FONT_DIR / "DejaVuSans-Bold.ttf")
FONT_MIN_PX = 9  # below this DejaVu stops being legible, whatever the frame size

# --- colours ------------------------------------------------------------------
BACKGROUND = "#0f172a"  # slate-900, the default slide background
PANEL = "#1e293b"  # the presenter's panel, painted plain so a sprite can be pasted on it

_DARK_TEXT = {
    "text": "#f8fafc",
    "text_soft": "#cbd5e1",
    "muted": "#94a3b8",
    "accent": "#38bdf8",  # sky
    "accent_alt": "#a78bfa",  # violet
    "success": "#34d399",
    "warning": "#fbbf24",
    "danger": "#fb7185",
    "gold": "#f4c95d",
}
_LIGHT_TEXT = {
    "text": "#0f172a",
    "text_soft": "#334155",
    "muted": "#64748b",
    "accent": "#0284c7",
    "accent_alt": "#7c3aed",
    "success": "#059669",
    "warning": "#d97706",
    "danger": "#e11d48",
    "gold": "#b7791f",
}

# Score bands shared by every score graphic (percent, inclusive lower bound).
STRONG_SCORE = 80.0
DEVELOPING_SCORE = 60.0

# --- layout (fractions of the frame height unless noted) ---------------------
SLIDE_WIDTH = 0.68  # fraction of the frame *width* the slide takes beside a presenter
CAPTION_SAFE = 0.12  # bottom band players cover with captions
MARGIN_X = 0.055  # left/right padding inside the slide
HEADER_Y = 0.03  # top of the header line (video title + branding)
HEADER_SIZE = 0.021  # header text
CONTENT_TOP = 0.118  # where slide content starts
CONTENT_GAP = 0.02  # gap kept between content and the caption band
PROGRESS_HEIGHT = 0.005  # the thin section-progress line along the top
GAP = 0.024  # default vertical rhythm between blocks
RADIUS = 0.016  # card corner radius


@dataclass(frozen=True)
class TextStyle:
    """One step of the type scale; sizes are fractions of the frame height."""

    bold: bool
    max_size: float
    min_size: float
    line_spacing: float = 1.25

    @property
    def font_path(self) -> str:
        return FONT_BOLD if self.bold else FONT_REGULAR


EYEBROW = TextStyle(bold=True, max_size=0.021, min_size=0.016, line_spacing=1.2)
HEADING = TextStyle(bold=True, max_size=0.054, min_size=0.032, line_spacing=1.15)
DISPLAY = TextStyle(bold=True, max_size=0.066, min_size=0.036, line_spacing=1.12)
SUBHEADING = TextStyle(bold=False, max_size=0.036, min_size=0.022, line_spacing=1.25)
TITLE = TextStyle(bold=True, max_size=0.032, min_size=0.02, line_spacing=1.2)
BODY = TextStyle(bold=False, max_size=0.03, min_size=0.017, line_spacing=1.35)
BODY_SMALL = TextStyle(bold=False, max_size=0.025, min_size=0.016, line_spacing=1.35)
LABEL = TextStyle(bold=True, max_size=0.018, min_size=0.014, line_spacing=1.2)
NUMBER = TextStyle(bold=True, max_size=0.03, min_size=0.016, line_spacing=1.1)


@dataclass(frozen=True)
class Palette:
    background: RGB
    surface: RGB  # cards
    surface_alt: RGB  # insets inside cards, bar tracks
    border: RGB
    text: RGB
    text_soft: RGB
    muted: RGB
    accent: RGB
    accent_alt: RGB
    success: RGB
    warning: RGB
    danger: RGB
    gold: RGB
    panel: RGB


def color_parse(color: str | RGB) -> RGB:
    """'#0f172a' / '0f172a' / '#fff' / (r, g, b) -> (r, g, b)."""
    if isinstance(color, tuple):
        return (int(color[0]), int(color[1]), int(color[2]))
    value = color.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def color_blend(base: RGB, other: RGB, amount: float) -> RGB:
    """Mix `amount` (0..1) of `other` into `base`."""
    return (
        round(base[0] + (other[0] - base[0]) * amount),
        round(base[1] + (other[1] - base[1]) * amount),
        round(base[2] + (other[2] - base[2]) * amount),
    )


def color_luminance(color: RGB) -> float:
    """Relative luminance (WCAG), 0 for black .. 1 for white."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def palette_build(background: str | RGB = BACKGROUND) -> Palette:
    """Colours for a slide on `background`: light text on dark, dark text on light."""
    bg = color_parse(background)
    light = color_luminance(bg) > 0.4
    named = {
        key: color_parse(value) for key, value in (_LIGHT_TEXT if light else _DARK_TEXT).items()
    }
    # Cards are the background nudged towards the text colour, so they read as
    # raised surfaces on any background.
    lift = (0, 0, 0) if light else (255, 255, 255)
    return Palette(
        background=bg,
        surface=color_blend(bg, lift, 0.05 if light else 0.065),
        surface_alt=color_blend(bg, lift, 0.09 if light else 0.12),
        border=color_blend(bg, lift, 0.14 if light else 0.16),
        panel=color_parse(PANEL),
        **named,
    )


def strength_color(percent: float, palette: Palette) -> RGB:
    """Green for strong, amber for developing, rose for a focus area."""
    if percent >= STRONG_SCORE:
        return palette.success
    if percent >= DEVELOPING_SCORE:
        return palette.warning
    return palette.danger
