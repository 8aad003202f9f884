"""Slides drawn from the script with Pillow, one layout per video type.

A slide is rendered once per section (the caller caches it) and composited
under the presenter and captions for every frame. The frame is split into the
slide (left ~68%) and a plain presenter panel (right ~32%); the bottom band is
left empty because players overlay captions there.

Every piece of text goes through `text_fit`, which wraps, shrinks and, as a
last resort, truncates with an ellipsis, so nothing ever overflows its box.
The practice countdown is a separate small patch (`countdown_draw`) pasted on
the cached slide once per second of think time.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from videos.studio import theme
from videos.studio.theme import RGB, Palette, TextStyle
from videos.studio.types import PAUSE_MARKER, Script, Section, VideoType

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 with x1/y1 exclusive, like PIL crops
Painter = Callable[[ImageDraw.ImageDraw, int], None]

ELLIPSIS = "…"
COUNTDOWN_SIZE = 0.125  # countdown ring diameter, fraction of the frame height
HEADER = TextStyle(bold=False, max_size=theme.HEADER_SIZE, min_size=0.016, line_spacing=1.2)
BRAND = TextStyle(bold=True, max_size=theme.HEADER_SIZE, min_size=0.016, line_spacing=1.2)
ROW = TextStyle(bold=True, max_size=0.027, min_size=0.016, line_spacing=1.2)
CHOICE = TextStyle(bold=False, max_size=0.029, min_size=0.016, line_spacing=1.25)
CHIP = TextStyle(bold=True, max_size=0.02, min_size=0.015, line_spacing=1.2)


# --- frame layout ---------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    slide_box: Box
    presenter_box: Box | None  # None without a presenter: the slide takes the frame
    caption_safe: int  # pixels at the bottom that captions may cover
    header_box: Box  # the small video-title / branding line
    content_box: Box  # where layouts draw: inside the margins, above the caption band


def frame_layout(*, size: tuple[int, int], presenter: bool) -> Layout:
    """Split a frame into slide, presenter panel and the caption-safe band."""
    width, height = size
    split = round(width * theme.SLIDE_WIDTH) if presenter else width
    caption_safe = round(height * theme.CAPTION_SAFE)
    margin = round(height * theme.MARGIN_X)
    header_top = round(height * theme.HEADER_Y)
    header_bottom = header_top + math.ceil(height * theme.HEADER_SIZE * 1.6)
    content_bottom = height - caption_safe - round(height * theme.CONTENT_GAP)
    return Layout(
        size=(width, height),
        slide_box=(0, 0, split, height),
        presenter_box=(split, 0, width, height) if presenter else None,
        caption_safe=caption_safe,
        header_box=(margin, header_top, split - margin, header_bottom),
        content_box=(margin, round(height * theme.CONTENT_TOP), split - margin, content_bottom),
    )


# --- fonts and text fitting -----------------------------------------------------


@functools.lru_cache(maxsize=512)
def font_load(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped TrueType font at a pixel size (the basic layout engine is fast and
    gives the same metrics on every machine)."""
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    font_size: int
    font_path: str
    box: Box  # the box the text was given
    bbox: Box  # the ink actually drawn; always inside `box`
    block: Box  # the text's line block (font ascent..descent), also inside `box`
    origins: tuple[tuple[int, int], ...]  # each line's left/ascender anchor
    line_height: int
    truncated: bool  # an ellipsis replaced text that did not fit

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return font_load(self.font_path, self.font_size)


def _word_split(word: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Cut a word wider than the line into pieces that fit (no hyphen: URLs, codes)."""
    pieces: list[str] = []
    rest = word
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # the longest prefix that fits, at least one character
            mid = (lo + hi + 1) // 2
            if font.getlength(rest[:mid]) <= width:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(rest[:lo])
        rest = rest[lo:]
    return pieces


def _lines_wrap(
    paragraphs: Sequence[str], font: ImageFont.FreeTypeFont, width: float
) -> tuple[list[str], set[int]]:
    """Greedy word wrap; word widths are measured once and summed (much faster than
    measuring every candidate line, and exact enough with a little padding).
    Also returns the lines that end inside a word cut in pieces (no space follows)."""
    space = font.getlength(" ")
    widths: dict[str, float] = {}
    lines: list[str] = []
    glued: set[int] = set()
    for paragraph in paragraphs:
        current: list[str] = []
        current_width = 0.0
        for word in paragraph.split(" "):
            if not word:
                continue
            word_width = widths.get(word)
            if word_width is None:
                word_width = widths[word] = font.getlength(word)
            if word_width > width:
                if current:
                    lines.append(" ".join(current))
                pieces = _word_split(word, font, width)
                glued.update(range(len(lines), len(lines) + len(pieces) - 1))
                lines.extend(pieces[:-1])
                current, current_width = [pieces[-1]], font.getlength(pieces[-1])
            elif current and current_width + space + word_width > width:
                lines.append(" ".join(current))
                current, current_width = [word], word_width
            else:
                current_width += word_width + (space if current else 0.0)
                current.append(word)
        lines.append(" ".join(current))  # an empty paragraph keeps its blank line
    return lines, glued


def _ellipsis_fit(line: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The longest start of `line` that fits with an ellipsis after it, ending on a
    whole word when that does not waste much of the line."""
    line = line.rstrip()
    lo, hi = 0, len(line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(line[:mid].rstrip() + ELLIPSIS) <= width:
            lo = mid
        else:
            hi = mid - 1
    cut = line[:lo]
    space = cut.rfind(" ")
    if lo < len(line) and line[lo] != " " and space > lo * 0.6:
        cut = cut[:space]
    cut = cut.rstrip(" ,;:.-\u2013\u2014")  # trailing punctuation, dashes
    if cut:
        return cut + ELLIPSIS
    return ELLIPSIS if font.getlength(ELLIPSIS) <= width else ""


def _block_height(count: int, font: ImageFont.FreeTypeFont, line_height: int) -> int:
    ascent, descent = font.getmetrics()
    return 0 if count == 0 else (count - 1) * line_height + ascent + descent


def text_fit(
    *,
    draw: ImageDraw.ImageDraw | None,
    text: str,
    box: Box,
    font_path: str,
    max_size: int,
    min_size: int,
    line_spacing: float = 1.25,
    align: str = "left",
    valign: str = "top",
    max_lines: int | None = None,
) -> FittedText:
    """Wrap `text` on words into `box` at the largest font size in [min_size, max_size]
    that fits; if even min_size does not, keep what fits and end it with an ellipsis.

    Nothing is drawn (see `text_draw`); `draw`, when given, only measures the ink.
    Explicit newlines start new lines. align: left|center|right; valign: top|middle|bottom.
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    max_size = max(1, int(max_size))
    min_size = max(1, min(int(min_size), max_size))
    paragraphs = [" ".join(part.split()) for part in str(text).strip().split("\n")]
    paragraphs = [] if paragraphs == [""] else paragraphs

    def attempt(size: int) -> tuple[list[str], set[int], int, float, bool]:
        font = font_load(font_path, size)
        line_height = max(1, round(size * line_spacing))
        usable = width - math.ceil(size * 0.06)  # room for glyphs overhanging their advance
        lines, glued = (
            _lines_wrap(paragraphs, font, usable) if paragraphs and usable > 0 else ([], set())
        )
        fits = (
            usable > 0
            and _block_height(len(lines), font, line_height) <= height
            and (max_lines is None or len(lines) <= max_lines)
        )
        return lines, glued, line_height, usable, fits

    size = max_size
    lines, glued, line_height, usable, fits = attempt(size)
    if not fits:
        lo, hi = min_size, max_size - 1  # binary search for the largest size that fits
        found = None
        while lo <= hi:
            mid = (lo + hi) // 2
            result = attempt(mid)
            if result[4]:
                found, lo = (mid, result), mid + 1
            else:
                hi = mid - 1
        if found is not None:
            size, (lines, glued, line_height, usable, fits) = found
        else:
            size = min_size
            lines, glued, line_height, usable, fits = attempt(size)

    font = font_load(font_path, size)
    truncated = False
    if not fits and lines:
        ascent, descent = font.getmetrics()
        room = (height - ascent - descent) // line_height + 1 if height >= ascent + descent else 0
        keep = max(0, min(room, max_lines if max_lines is not None else room, len(lines)))
        if usable <= 0:
            keep = 0
        if keep:
            # Fill the last kept line with the start of the next one before the ellipsis,
            # so "Domain 3 <a very long word>" becomes "Domain 3 <a very lo…", not "Domain 3…".
            last = lines[keep - 1]
            if keep < len(lines):
                last += ("" if keep - 1 in glued else " ") + lines[keep]
            lines = [*lines[: keep - 1], _ellipsis_fit(last, font, usable)]
        else:
            lines = []
        truncated = True

    return _text_place(
        draw=draw,
        lines=lines,
        font=font,
        font_path=font_path,
        size=size,
        box=box,
        line_height=line_height,
        align=align,
        valign=valign,
        truncated=truncated,
    )


def _text_place(
    *,
    draw: ImageDraw.ImageDraw | None,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    font_path: str,
    size: int,
    box: Box,
    line_height: int,
    align: str,
    valign: str,
    truncated: bool,
) -> FittedText:
    """Position fitted lines in the box and measure the ink they will cover."""
    x0, y0, x1, y1 = box
    block_height = _block_height(len(lines), font, line_height)
    if valign == "middle":
        top = y0 + (y1 - y0 - block_height) // 2
    elif valign == "bottom":
        top = y1 - block_height
    else:
        top = y0
    top = max(y0, top)

    origins: list[tuple[int, int]] = []
    ink = [x1, y1, x0, y0]
    block_left, block_right = x1, x0
    for index, line in enumerate(lines):
        advance = font.getlength(line)
        if align == "center":
            x = round(x0 + (x1 - x0 - advance) / 2)
        elif align == "right":
            x = round(x1 - advance)
        else:
            x = x0
        y = top + index * line_height
        if line:
            raw = (
                draw.textbbox((0, 0), line, font=font, anchor="la")
                if draw is not None
                else font.getbbox(line, anchor="la")
            )
            left, ink_top = math.floor(raw[0]), math.floor(raw[1])
            right, ink_bottom = math.ceil(raw[2]), math.ceil(raw[3])
            x = min(max(x, x0 - left), x1 - right)  # keep overhanging glyphs inside
            ink = [
                min(ink[0], x + left),
                min(ink[1], y + ink_top),
                max(ink[2], x + right),
                max(ink[3], y + ink_bottom),
            ]
            block_left, block_right = min(block_left, x), max(block_right, round(x + advance))
        origins.append((x, y))

    if ink[0] >= ink[2]:  # nothing visible
        bbox: Box = (x0, top, x0, top)
        block: Box = (x0, top, x0, top)
    else:
        bbox = (ink[0], ink[1], ink[2], ink[3])
        block = (max(x0, block_left), top, min(x1, block_right), top + block_height)
    return FittedText(
        lines=tuple(lines),
        font_size=size,
        font_path=font_path,
        box=box,
        bbox=bbox,
        block=block,
        origins=tuple(origins),
        line_height=line_height,
        truncated=truncated,
    )


def text_draw(*, draw: ImageDraw.ImageDraw, fitted: FittedText, fill: RGB) -> None:
    font = fitted.font
    for line, origin in zip(fitted.lines, fitted.origins, strict=True):
        if line:
            draw.text(origin, line, font=font, fill=fill, anchor="la")


# --- anti-aliased shapes ----------------------------------------------------------
# ImageDraw's shapes have jagged edges; circles and corners are drawn on a
# supersampled mask and scaled down, then the colour is pasted through it.


def _supersample(size: int) -> int:
    return max(2, min(4, 1600 // max(1, size)))


@functools.lru_cache(maxsize=128)
def _corner_masks(radius: int) -> tuple[Image.Image, Image.Image, Image.Image, Image.Image]:
    """Anti-aliased quarter discs for the top-left, top-right, bottom-left, bottom-right."""
    scale = _supersample(radius)
    big = radius * scale
    disc = Image.new("L", (2 * big, 2 * big), 0)
    ImageDraw.Draw(disc).ellipse((0, 0, 2 * big - 1, 2 * big - 1), fill=255)
    top_left = disc.crop((0, 0, big, big)).resize((radius, radius), Image.Resampling.BOX)
    top_right = top_left.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return (
        top_left,
        top_right,
        top_left.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        top_right.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    )


def rounded_fill(*, image: Image.Image, box: Box, radius: int, fill: RGB) -> None:
    """A filled rounded rectangle with smooth corners."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width <= 0 or height <= 0:
        return
    draw = ImageDraw.Draw(image)
    r = max(0, min(radius, width // 2, height // 2))
    if r < 2:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
        return
    if x1 - r - 1 >= x0 + r:
        draw.rectangle((x0 + r, y0, x1 - r - 1, y1 - 1), fill=fill)
    if y1 - r - 1 >= y0 + r:
        draw.rectangle((x0, y0 + r, x1 - 1, y1 - r - 1), fill=fill)
    masks = _corner_masks(r)
    corners = ((x0, y0), (x1 - r, y0), (x0, y1 - r), (x1 - r, y1 - r))
    for mask, (cx, cy) in zip(masks, corners, strict=True):
        image.paste(fill, (cx, cy, cx + r, cy + r), mask)


def rounded_draw(
    *,
    image: Image.Image,
    box: Box,
    radius: int,
    fill: RGB,
    outline: RGB | None = None,
    width: int = 0,
) -> None:
    """A rounded card, optionally with a border of `width` pixels."""
    if outline is None or width <= 0:
        rounded_fill(image=image, box=box, radius=radius, fill=fill)
        return
    rounded_fill(image=image, box=box, radius=radius, fill=outline)
    inner = (box[0] + width, box[1] + width, box[2] - width, box[3] - width)
    rounded_fill(image=image, box=inner, radius=max(0, radius - width), fill=fill)


def mask_paint(*, image: Image.Image, box: Box, painter: Painter, fill: RGB) -> None:
    """Paint `fill` through a mask that `painter(draw, scale)` draws supersampled."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width <= 0 or height <= 0:
        return
    scale = _supersample(max(width, height))
    big = Image.new("L", (width * scale, height * scale), 0)
    painter(ImageDraw.Draw(big), scale)
    image.paste(fill, box, big.resize((width, height), Image.Resampling.BOX))


@functools.lru_cache(maxsize=128)
def _disc_mask(diameter: int) -> Image.Image:
    scale = _supersample(diameter)
    big = Image.new("L", (diameter * scale, diameter * scale), 0)
    ImageDraw.Draw(big).ellipse((0, 0, diameter * scale - 1, diameter * scale - 1), fill=255)
    return big.resize((diameter, diameter), Image.Resampling.BOX)


def disc_draw(*, image: Image.Image, box: Box, fill: RGB) -> None:
    """A smooth filled circle in a square box."""
    diameter = min(box[2] - box[0], box[3] - box[1])
    if diameter > 0:
        x, y = box[0], box[1]
        image.paste(fill, (x, y, x + diameter, y + diameter), _disc_mask(diameter))


def ring_draw(
    *, image: Image.Image, box: Box, thickness: int, fraction: float, color: RGB, track: RGB
) -> None:
    """A progress ring: the full track, then an arc of `fraction` clockwise from 12 o'clock
    with round ends."""
    diameter = min(box[2] - box[0], box[3] - box[1])
    if diameter <= 0:
        return
    square = (box[0], box[1], box[0] + diameter, box[1] + diameter)

    def track_paint(draw: ImageDraw.ImageDraw, scale: int) -> None:
        size = diameter * scale
        draw.ellipse((0, 0, size - 1, size - 1), outline=255, width=thickness * scale)

    mask_paint(image=image, box=square, painter=track_paint, fill=track)
    fraction = min(1.0, max(0.0, fraction))
    if fraction <= 0:
        return

    def arc_paint(draw: ImageDraw.ImageDraw, scale: int) -> None:
        size, stroke = diameter * scale, thickness * scale
        if fraction >= 1:
            draw.ellipse((0, 0, size - 1, size - 1), outline=255, width=stroke)
            return
        start, end = -90.0, -90.0 + 360.0 * fraction
        draw.arc((0, 0, size - 1, size - 1), start, end, fill=255, width=stroke)
        centre, radius = (size - 1) / 2, (size - stroke) / 2
        for angle in (start, end):  # round caps
            cx = centre + radius * math.cos(math.radians(angle))
            cy = centre + radius * math.sin(math.radians(angle))
            draw.ellipse(
                (cx - stroke / 2, cy - stroke / 2, cx + stroke / 2, cy + stroke / 2), fill=255
            )

    mask_paint(image=image, box=square, painter=arc_paint, fill=color)


def check_draw(*, image: Image.Image, box: Box, fill: RGB) -> None:
    """A tick mark filling a square box."""
    size = min(box[2] - box[0], box[3] - box[1])

    def paint(draw: ImageDraw.ImageDraw, scale: int) -> None:
        s = size * scale
        points = [(0.2 * s, 0.53 * s), (0.42 * s, 0.74 * s), (0.8 * s, 0.3 * s)]
        draw.line(points, fill=255, width=max(2, round(0.13 * s)), joint="curve")

    mask_paint(
        image=image, box=(box[0], box[1], box[0] + size, box[1] + size), painter=paint, fill=fill
    )


# --- the drawing surface ----------------------------------------------------------


@dataclass
class SlideCanvas:
    """One slide being drawn: the image plus everything the layouts need."""

    image: Image.Image
    palette: Palette
    layout: Layout
    script: Script
    section: Section
    section_index: int
    phase: str
    texts: list[FittedText] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.draw = ImageDraw.Draw(self.image)
        self.height = self.layout.size[1]

    @property
    def slide(self) -> dict[str, Any]:
        return self.section.slide if isinstance(self.section.slide, dict) else {}

    def px(self, fraction: float) -> int:
        """A length given as a fraction of the frame height, in pixels."""
        return max(1, round(fraction * self.height))

    def fit(
        self,
        text: str,
        box: Box,
        style: TextStyle,
        *,
        align: str = "left",
        valign: str = "top",
        max_lines: int | None = None,
        max_px: int | None = None,
        min_px: int | None = None,
    ) -> FittedText:
        """Fit without drawing (to measure before laying out cards around text)."""
        top = max_px if max_px is not None else self.px(style.max_size)
        low = min_px if min_px is not None else max(theme.FONT_MIN_PX, self.px(style.min_size))
        low = min(top, low)
        return text_fit(
            draw=self.draw,
            text=text,
            box=box,
            font_path=style.font_path,
            max_size=top,
            min_size=low,
            line_spacing=style.line_spacing,
            align=align,
            valign=valign,
            max_lines=max_lines,
        )

    def put(self, fitted: FittedText, fill: RGB) -> FittedText:
        text_draw(draw=self.draw, fitted=fitted, fill=fill)
        self.texts.append(fitted)
        return fitted

    def text(self, text: str, box: Box, style: TextStyle, fill: RGB, **options: Any) -> FittedText:
        return self.put(self.fit(text, box, style, **options), fill)

    def texts_fit_uniform(
        self, texts: Sequence[str], boxes: Sequence[Box], style: TextStyle, **options: Any
    ) -> list[FittedText]:
        """Fit several texts at one shared size, so a list does not mix font sizes: the
        largest size every text fits at. Texts too long to fit even at the smallest size
        do not drag the others down; they are cut with an ellipsis at the shared size."""
        first = [
            self.fit(text, box, style, **options) for text, box in zip(texts, boxes, strict=True)
        ]
        whole = [fitted.font_size for fitted in first if not fitted.truncated]
        shared = min(whole) if whole else min((f.font_size for f in first), default=0)
        if all(fitted.font_size == shared for fitted in first):
            return first
        return [
            self.fit(text, box, style, max_px=shared, min_px=shared, **options)
            for text, box in zip(texts, boxes, strict=True)
        ]

    def card(self, box: Box, *, fill: RGB | None = None, outline: RGB | None = None) -> None:
        rounded_draw(
            image=self.image,
            box=box,
            radius=self.px(theme.RADIUS),
            fill=fill or self.palette.surface,
            outline=outline if outline is not None else self.palette.border,
            width=max(1, self.px(0.0015)),
        )

    def pill(self, box: Box, fill: RGB) -> None:
        rounded_fill(image=self.image, box=box, radius=(box[3] - box[1]) // 2, fill=fill)

    def tint(self, color: RGB, amount: float = 0.18) -> RGB:
        """`color` washed into the background, for soft fills behind coloured text."""
        return theme.color_blend(self.palette.background, color, amount)


# --- shared pieces ----------------------------------------------------------------


def number_parse(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def percents_parse(values: Sequence[Any]) -> list[float | None]:
    """Scores or weights as 0..100; a list given entirely in 0..1 is read as fractions."""
    numbers = [number_parse(value) for value in values]
    present = [n for n in numbers if n is not None]
    fractions = bool(present) and all(0 <= n <= 1 for n in present)
    return [
        None if n is None else min(100.0, max(0.0, n * 100 if fractions else n)) for n in numbers
    ]


def percent_format(value: float) -> str:
    return f"{round(value)}%"


def items_cap(items: Sequence[Any], limit: int) -> tuple[list[Any], int]:
    """At most `limit` rows: the first limit-1 plus a '+N more' row when there are more."""
    if len(items) <= limit:
        return list(items), 0
    return list(items[: limit - 1]), len(items) - (limit - 1)


def sentences_pick(text: str, *, limit: int = 4) -> list[str]:
    """The narration's first sentences, without pause markers."""
    clean = " ".join(text.replace(PAUSE_MARKER, " ").split())
    parts = re.split(r"(?<=[.!?])\s+(?=[\"'“(\[A-Z0-9])", clean)
    return [part.strip() for part in parts if part.strip()][:limit]


def strings_parse(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [str(item).strip() for item in value if str(item).strip()]


def header_draw(c: SlideCanvas, *, branding: str) -> None:
    """Section progress along the top edge, the video title left, branding right."""
    p = c.palette
    sx0, _, sx1, _ = c.layout.slide_box
    thickness = c.px(theme.PROGRESS_HEIGHT)
    total = max(1, len(c.script.sections))
    done = round((sx1 - sx0) * min(total, c.section_index + 1) / total)
    c.draw.rectangle((sx0, 0, sx1 - 1, thickness - 1), fill=p.surface_alt)
    c.draw.rectangle((sx0, 0, sx0 + done - 1, thickness - 1), fill=p.accent)

    hx0, hy0, hx1, hy1 = c.layout.header_box
    title_right = hx1
    if branding.strip():
        brand_left = hx0 + round((hx1 - hx0) * 0.6)
        brand = c.text(
            branding,
            (brand_left, hy0, hx1, hy1),
            BRAND,
            p.text_soft,
            align="right",
            valign="middle",
            max_lines=1,
        )
        mark = max(4, round(brand.font_size * 0.62))
        gap = max(3, round(brand.font_size * 0.45))
        mark_x1 = brand.bbox[0] - gap
        if mark_x1 - mark > brand_left:
            cy = (brand.bbox[1] + brand.bbox[3]) // 2
            mark_box = (mark_x1 - mark, cy - mark // 2, mark_x1, cy - mark // 2 + mark)
            rounded_fill(image=c.image, box=mark_box, radius=max(1, mark // 4), fill=p.accent)
            title_right = mark_box[0] - 3 * gap
        else:
            title_right = brand.bbox[0] - 3 * gap
    if c.script.title.strip() and title_right > hx0:
        c.text(
            c.script.title,
            (hx0, hy0, title_right, hy1),
            HEADER,
            p.muted,
            valign="middle",
            max_lines=1,
        )


def heading_draw(c: SlideCanvas, *, box: Box, eyebrow: str, heading: str, lines: int = 2) -> int:
    """The eyebrow label (with a short accent dash) and the section heading; returns the
    y where the body starts."""
    p = c.palette
    x0, y, x1, y1 = box
    if eyebrow.strip():
        dash = c.px(0.028)
        size_box = (x0 + dash + c.px(0.012), y, x1, min(y1, y + c.px(theme.EYEBROW.max_size * 1.5)))
        label = c.fit(eyebrow.upper(), size_box, theme.EYEBROW, max_lines=1, valign="middle")
        if label.lines:
            mid = (label.block[1] + label.block[3]) // 2
            bar = max(2, c.px(0.004))
            rounded_fill(
                image=c.image,
                box=(x0, mid - bar // 2, x0 + dash, mid - bar // 2 + bar),
                radius=bar // 2,
                fill=p.accent,
            )
            c.put(label, p.accent)
            y = label.block[3] + c.px(0.012)
    if heading.strip():
        style = theme.HEADING
        height = c.px(style.max_size * (style.line_spacing * (lines - 1) + 1.2))
        fitted = c.text(heading, (x0, y, x1, min(y1, y + height)), style, p.text, max_lines=lines)
        y = fitted.block[3]
    return y + c.px(theme.GAP * 1.25)


def bullets_draw(c: SlideCanvas, *, box: Box, items: Sequence[str], style: TextStyle) -> int:
    """A bulleted list, every item at one font size; returns the bottom of the last item."""
    p = c.palette
    x0, y0, x1, y1 = box
    if not items:
        return y0
    gap = c.px(0.03)
    dot = c.px(style.max_size * 0.4)
    indent = c.px(style.max_size * 1.4)
    # Let items take what they need when everything fits, else give each an equal share.
    full = c.texts_fit_uniform(items, [(x0 + indent, y0, x1, y1)] * len(items), style)
    share = y1 - y0
    if sum(f.block[3] - f.block[1] for f in full) + gap * (len(items) - 1) > y1 - y0:
        share = max(1, (y1 - y0 - gap * (len(items) - 1)) // len(items))
        full = c.texts_fit_uniform(items, [(x0 + indent, y0, x1, y0 + share)] * len(items), style)
    size = min(f.font_size for f in full)
    y = y0
    for item in items:
        if y >= y1:
            break
        bottom = min(y1, y + share)
        fitted = c.fit(item, (x0 + indent, y, x1, bottom), style, max_px=size, min_px=size)
        if not fitted.lines:
            break
        mid = y + round(fitted.font.getmetrics()[0] * 0.62)  # the first line's x-height
        disc_draw(
            image=c.image, box=(x0, mid - dot // 2, x0 + dot, mid - dot // 2 + dot), fill=p.accent
        )
        c.put(fitted, p.text_soft)
        y = fitted.block[3] + gap
    return y - gap


# --- layouts --------------------------------------------------------------------
# Each draws inside c.layout.content_box and returns False when the section's
# slide data lacks what it needs (the generic layout is used instead).


def overview_draw(c: SlideCanvas) -> bool:
    """Title and the exam's domains as a roadmap: weight bars, the learner's scores."""
    domains = [d for d in c.slide.get("domains") or [] if isinstance(d, dict)]
    if not domains:
        return False
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(c, box=c.layout.content_box, eyebrow="Exam roadmap", heading=c.section.heading)

    weights = percents_parse([d.get("weight") for d in domains])
    scores = percents_parse([d.get("score") for d in domains])
    has_scores = any(score is not None for score in scores)
    shown, more = items_cap(list(zip(domains, weights, scores, strict=True)), 8)
    top_weight = max((w for w in weights if w is not None), default=0.0) or 1.0

    width = x1 - x0
    step = c.px(0.042)
    name_x = x0 + step + c.px(0.024)
    score_w = round(width * 0.17) if has_scores else 0
    weight_w = round(width * 0.1)
    score_x = x1 - score_w
    weight_x = score_x - weight_w - (c.px(0.02) if has_scores else 0)
    bar_x1 = weight_x - c.px(0.024)

    label_h = c.px(theme.LABEL.max_size * 1.5)
    label = theme.LABEL
    c.text("DOMAIN", (name_x, y, bar_x1, y + label_h), label, p.muted, max_lines=1)
    c.text(
        "WEIGHT",
        (weight_x, y, weight_x + weight_w, y + label_h),
        label,
        p.muted,
        align="right",
        max_lines=1,
    )
    if has_scores:
        c.text(
            "YOUR SCORE", (score_x, y, x1, y + label_h), label, p.muted, align="center", max_lines=1
        )
    y += label_h + c.px(0.008)

    rows = len(shown) + (1 if more else 0)
    row_h = min(c.px(0.1), (y1 - y) // max(1, rows))
    step = min(step, round(row_h * 0.62))
    names = c.texts_fit_uniform(
        [str(d.get("name") or "Domain") for d, _, _ in shown],
        [(name_x, 0, bar_x1, max(1, round(row_h * 0.48))) for _ in shown],
        ROW,
        max_lines=1,
    )
    name_px = min((n.font_size for n in names), default=c.px(ROW.max_size))
    bar_h = max(3, c.px(0.011))
    for index, ((_, weight, score), name_fit) in enumerate(zip(shown, names, strict=True)):
        top = y + index * row_h
        mid = top + row_h // 2
        # the step marker, joined to the next by a thin line
        if index < rows - 1:
            line_x = x0 + step // 2
            c.draw.rectangle((line_x - 1, mid, line_x, mid + row_h), fill=p.border)
        marker = (x0, mid - step // 2, x0 + step, mid - step // 2 + step)
        disc_draw(image=c.image, box=marker, fill=p.surface_alt)
        inner = max(1, step // 12)
        disc_draw(
            image=c.image,
            box=(marker[0] + inner, marker[1] + inner, marker[2] - inner, marker[3] - inner),
            fill=c.tint(p.accent, 0.3),
        )
        c.text(
            str(index + 1),
            marker,
            theme.NUMBER,
            p.text,
            align="center",
            valign="middle",
            max_lines=1,
            max_px=round(step * 0.45),
        )

        name_h = name_fit.block[3] - name_fit.block[1]
        block_top = mid - (name_h + c.px(0.012) + bar_h) // 2
        name = c.fit(
            str(shown[index][0].get("name") or "Domain"),
            (name_x, block_top, bar_x1, block_top + name_h),
            ROW,
            max_lines=1,
            max_px=name_px,
            min_px=name_px,
        )
        c.put(name, p.text)
        bar_y = block_top + name_h + c.px(0.012)
        track = (name_x, bar_y, bar_x1, bar_y + bar_h)
        c.pill(track, p.surface_alt)
        if weight is not None and weight > 0:
            fill_w = max(bar_h, round((bar_x1 - name_x) * weight / top_weight))
            c.pill((name_x, bar_y, name_x + fill_w, bar_y + bar_h), p.accent)
        c.text(
            percent_format(weight) if weight is not None else "—",
            (weight_x, top, weight_x + weight_w, top + row_h),
            ROW,
            p.text_soft,
            align="right",
            valign="middle",
            max_lines=1,
            max_px=name_px,
            min_px=name_px,
        )
        if has_scores:
            pill_h = min(round(row_h * 0.56), c.px(0.05))
            pill = (score_x + c.px(0.012), mid - pill_h // 2, x1, mid - pill_h // 2 + pill_h)
            if score is None:
                c.text("—", pill, ROW, p.muted, align="center", valign="middle", max_lines=1)
            else:
                color = theme.strength_color(score, p)
                c.pill(pill, c.tint(color, 0.2))
                c.text(
                    percent_format(score),
                    pill,
                    ROW,
                    color,
                    align="center",
                    valign="middle",
                    max_lines=1,
                    max_px=round(pill_h * 0.5),
                )
    if more:
        top = y + len(shown) * row_h
        c.text(
            f"+ {more} more domains",
            (name_x, top, x1, top + row_h),
            ROW,
            p.muted,
            valign="middle",
            max_lines=1,
            max_px=name_px,
        )
    return True


def remediation_draw(c: SlideCanvas) -> bool:
    """One to three concept cards side by side: title, summary and a worked example.
    Titles, summaries and examples line up across cards and share font sizes."""
    concepts = [k for k in c.slide.get("concepts") or [] if isinstance(k, dict)][:3]
    if not concepts:
        return False
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    eyebrow = "Key concept" if len(concepts) == 1 else "Key concepts"
    y = heading_draw(c, box=c.layout.content_box, eyebrow=eyebrow, heading=c.section.heading)

    count = len(concepts)
    gap, pad, inset = c.px(0.024), c.px(0.026), c.px(0.018)
    card_w = (x1 - x0 - gap * (count - 1)) // count
    lefts = [x0 + index * (card_w + gap) for index in range(count)]
    badge = c.px(0.042)
    label_h = c.px(theme.LABEL.max_size * 1.4)
    text_w = card_w - 2 * pad
    titles = [str(k.get("title") or "").strip() for k in concepts]
    summaries = [str(k.get("summary") or "").strip() for k in concepts]
    examples = [str(k.get("example") or "").strip() for k in concepts]
    inner_h = y1 - y - 2 * pad

    # 1. titles (beside the number badge), one size for all
    title_w = text_w - badge - c.px(0.016)
    sized = c.texts_fit_uniform(
        titles, [(0, 0, title_w, round(inner_h * 0.3))] * count, theme.TITLE, max_lines=3
    )
    title_h = max([badge] + [f.block[3] - f.block[1] for f in sized])
    summary_top = y + pad + title_h + c.px(0.02)
    rest = y1 - pad - summary_top
    # 2. examples: an inset of one shared height at the bottom, at most 45% of the rest
    example_h = 0
    if any(examples):
        room = max(1, round(rest * 0.45) - label_h - 2 * inset)
        boxes = [(0, 0, text_w - 2 * inset, room)] * count
        fitted = c.texts_fit_uniform(examples, boxes, theme.BODY_SMALL)
        example_h = max(f.block[3] - f.block[1] for f in fitted) + label_h + 2 * inset
        example_px = min(f.font_size for f in fitted)
    example_gap = c.px(0.022) if example_h else 0
    # 3. summaries fill what is left
    summary_bottom = y1 - pad - example_h - example_gap
    boxes = [(left + pad, summary_top, left + pad + text_w, summary_bottom) for left in lefts]
    summary_fits = c.texts_fit_uniform(summaries, boxes, theme.BODY)
    used = max((f.block[3] for f in summary_fits if f.lines), default=summary_top)
    card_bottom = min(y1, used + example_gap + example_h + pad)

    colors = (p.accent, p.accent_alt, p.success)
    for index, left in enumerate(lefts):
        color = colors[index]
        ix0, ix1 = left + pad, left + pad + text_w
        c.card((left, y, left + card_w, card_bottom))
        strip = c.px(0.006)
        rounded_fill(image=c.image, box=(ix0, y, ix1, y + strip), radius=strip // 2, fill=color)
        top = y + pad
        marker = (ix0, top, ix0 + badge, top + badge)
        disc_draw(image=c.image, box=marker, fill=c.tint(color, 0.28))
        c.text(
            str(index + 1),
            marker,
            theme.NUMBER,
            color,
            align="center",
            valign="middle",
            max_lines=1,
            max_px=round(badge * 0.5),
        )
        # a title that fits beside the badge is centred on it, a longer one hangs from its top
        short = sized[index].block[3] - sized[index].block[1] <= badge
        title_box = (ix0 + badge + c.px(0.016), top, ix1, top + (badge if short else title_h))
        valign = "middle" if short else "top"
        c.text(
            titles[index],
            title_box,
            theme.TITLE,
            p.text,
            max_lines=3,
            valign=valign,
            max_px=sized[index].font_size,
            min_px=sized[index].font_size,
        )
        c.put(summary_fits[index], p.text_soft)
        if example_h and examples[index]:
            ebox = (ix0, card_bottom - pad - example_h, ix1, card_bottom - pad)
            rounded_fill(image=c.image, box=ebox, radius=c.px(0.01), fill=p.surface_alt)
            ex0, ey0, ex1, ey1 = ebox[0] + inset, ebox[1] + inset, ebox[2] - inset, ebox[3] - inset
            c.text("EXAMPLE", (ex0, ey0, ex1, ey0 + label_h), theme.LABEL, color, max_lines=1)
            c.text(
                examples[index],
                (ex0, ey0 + label_h, ex1, ey1),
                theme.BODY_SMALL,
                p.text_soft,
                max_px=example_px,
                min_px=example_px,
            )
    return True


def countdown_box(*, size: tuple[int, int], presenter: bool = True) -> Box:
    """Where the practice countdown ring sits: the top-right corner of the content."""
    layout = frame_layout(size=size, presenter=presenter)
    diameter = round(size[1] * COUNTDOWN_SIZE)
    _, y0, x1, _ = layout.content_box
    return (x1 - diameter, y0, x1, y0 + diameter)


def countdown_draw(
    *,
    image_size: tuple[int, int],
    box: Box,
    seconds_left: int | None,
    total: int,
    background: str = theme.BACKGROUND,
) -> tuple[tuple[int, int], Image.Image]:
    """Only the countdown patch (ring and seconds) to paste on the cached slide at the
    returned top-left. seconds_left=None draws the empty ring the slide itself shows."""
    palette = theme.palette_build(background)
    width, height = box[2] - box[0], box[3] - box[1]
    patch = Image.new("RGB", (width, height), palette.background)
    diameter = min(width, height)
    ring = ((width - diameter) // 2, (height - diameter) // 2)
    ring_box = (ring[0], ring[1], ring[0] + diameter, ring[1] + diameter)
    thickness = max(2, round(diameter * 0.075))
    fraction = 0.0
    color = palette.accent
    if seconds_left is not None and total > 0:
        fraction = max(0, min(seconds_left, total)) / total
        color = palette.accent if fraction > 1 / 3 else palette.warning
    ring_draw(
        image=patch,
        box=ring_box,
        thickness=thickness,
        fraction=fraction,
        color=color,
        track=palette.surface_alt,
    )
    if seconds_left is not None:
        draw = ImageDraw.Draw(patch)
        inner = thickness * 2
        number_box = (
            ring_box[0] + inner,
            ring_box[1] + inner,
            ring_box[2] - inner,
            ring_box[1] + round(diameter * 0.66),
        )
        number = text_fit(
            draw=draw,
            text=str(max(0, seconds_left)),
            box=number_box,
            font_path=theme.FONT_BOLD,
            max_size=round(diameter * 0.34),
            min_size=max(6, round(diameter * 0.15)),
            line_spacing=1.0,
            align="center",
            valign="bottom",
            max_lines=1,
        )
        text_draw(draw=draw, fitted=number, fill=palette.text)
        if diameter * 0.1 < theme.FONT_MIN_PX:  # too small to read: the number says enough
            return (box[0], box[1]), patch
        unit_box = (ring_box[0] + inner, number.block[3], ring_box[2] - inner, ring_box[3] - inner)
        unit = text_fit(
            draw=draw,
            text="SEC",
            box=unit_box,
            font_path=theme.FONT_BOLD,
            max_size=max(6, round(diameter * 0.1)),
            min_size=6,
            line_spacing=1.0,
            align="center",
            valign="top",
            max_lines=1,
        )
        text_draw(draw=draw, fitted=unit, fill=palette.muted)
    return (box[0], box[1]), patch


def practice_question_draw(c: SlideCanvas) -> bool:
    """The question, lettered choices, and the (empty) countdown ring top right."""
    question = str(c.slide.get("question") or "").strip()
    choices = strings_parse(c.slide.get("choices"))[:6]
    if not question and not choices:
        return False
    p = c.palette
    x0, y0, x1, y1 = c.layout.content_box
    heading_box = c.layout.content_box
    # The empty ring marks where the renderer pastes the countdown during think time
    # (given as think_seconds, or as pause markers in the narration).
    thinking = (number_parse(c.slide.get("think_seconds")) or 0) > 0
    if thinking or PAUSE_MARKER in c.section.text:
        ring = countdown_box(size=c.layout.size, presenter=c.layout.presenter_box is not None)
        _, patch = countdown_draw(
            image_size=c.layout.size,
            box=ring,
            seconds_left=None,
            total=0,
            background=_hex(p.background),
        )
        c.image.paste(patch, ring[:2])
        heading_box = (x0, y0, ring[0] - c.px(0.03), y1)
    y = heading_draw(c, box=heading_box, eyebrow="Practice question", heading=c.section.heading)
    if heading_box != c.layout.content_box:
        y = max(y, heading_box[1] + round(c.height * COUNTDOWN_SIZE) + c.px(0.016))

    gap = c.px(0.014)
    room = y1 - y
    if question:
        share = 0.42 if choices else 1.0
        fitted = c.text(question, (x0, y, x1, y + round(room * share)), theme.SUBHEADING, p.text)
        y = fitted.block[3] + c.px(0.03)
    if choices:
        choice_rows_draw(c, box=(x0, y, x1, y1), choices=choices, gap=gap)
    return True


def choice_rows_draw(
    c: SlideCanvas, *, box: Box, choices: Sequence[str], gap: int, answer: int | None = None
) -> None:
    """Lettered choice rows; with `answer`, that row is highlighted and the rest dimmed."""
    p = c.palette
    x0, y, x1, y1 = box
    count = len(choices)
    row_h = min(c.px(0.082), (y1 - y - gap * (count - 1)) // count)
    if row_h <= c.px(0.03):
        return
    badge = min(round(row_h * 0.6), c.px(0.046))
    pad = c.px(0.018)
    text_x = x0 + pad + badge + c.px(0.02)
    boxes = [(text_x, 0, x1 - pad, row_h - c.px(0.012)) for _ in choices]
    sized = c.texts_fit_uniform(choices, boxes, CHOICE, max_lines=2)
    shared = min((f.font_size for f in sized), default=c.px(CHOICE.max_size))
    for index, choice in enumerate(choices):
        top = y + index * (row_h + gap)
        row = (x0, top, x1, top + row_h)
        correct = answer is not None and index == answer
        dim = answer is not None and not correct
        if correct:
            c.card(row, fill=c.tint(p.success, 0.14), outline=p.success)
        else:
            c.card(row, fill=p.surface if not dim else c.tint(p.surface, 0.6))
        mid = top + row_h // 2
        marker = (x0 + pad, mid - badge // 2, x0 + pad + badge, mid - badge // 2 + badge)
        disc_draw(image=c.image, box=marker, fill=p.success if correct else p.surface_alt)
        letter_color = p.background if correct else (p.muted if dim else p.accent)
        c.text(
            chr(ord("A") + index),
            marker,
            theme.NUMBER,
            letter_color,
            align="center",
            valign="middle",
            max_lines=1,
            max_px=round(badge * 0.5),
        )
        text_box = (text_x, top + c.px(0.006), x1 - pad, top + row_h - c.px(0.006))
        color = p.text if correct else (p.muted if dim else p.text)
        c.text(
            choice,
            text_box,
            CHOICE,
            color,
            valign="middle",
            max_lines=2,
            max_px=shared,
            min_px=shared,
        )


def practice_explanation_draw(c: SlideCanvas) -> bool:
    """The correct answer highlighted, the explanation, key concepts as chips."""
    choices = strings_parse(c.slide.get("choices"))[:6]
    explanation = str(c.slide.get("explanation") or "").strip()
    concepts = strings_parse(c.slide.get("key_concepts"))
    answer = c.slide.get("answer")
    answer = answer if isinstance(answer, int) and not isinstance(answer, bool) else None
    if answer is not None and not 0 <= answer < len(choices):
        answer = None
    if answer is None and not explanation:
        return False
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(
        c, box=c.layout.content_box, eyebrow="Answer & explanation", heading=c.section.heading
    )

    # Key concepts follow the explanation; measure them first to leave them room.
    chip_h, chip_gap = c.px(0.05), c.px(0.012)
    label_h = c.px(theme.LABEL.max_size * 1.5)
    rows = chips_layout(c, concepts=concepts, width=x1 - x0, chip_h=chip_h) if concepts else []
    chips_h = label_h + c.px(0.01) + len(rows) * (chip_h + chip_gap) - chip_gap if rows else 0
    block_gap = c.px(0.03)
    bottom = y1 - (chips_h + block_gap if rows else 0)

    if answer is not None:
        card_h = min(c.px(0.1), max(0, bottom - y))
        if card_h > c.px(0.04):
            answer_card_draw(
                c, box=(x0, y, x1, y + card_h), letter=chr(ord("A") + answer), text=choices[answer]
            )
            y += card_h + block_gap
    if explanation and bottom - y > c.px(0.03):
        fitted = c.text(explanation, (x0, y, x1, bottom), theme.BODY, p.text_soft)
        y = fitted.block[3] + block_gap
    if rows:
        y = min(y, y1 - chips_h)
        c.text("KEY CONCEPTS", (x0, y, x1, y + label_h), theme.LABEL, p.muted, max_lines=1)
        y += label_h + c.px(0.01)
        text_color = theme.color_blend(p.accent_alt, p.text, 0.35)
        pad = round(chip_h * 0.45)
        for row in rows:
            for chip_x0, chip_x1, text in row:
                chip = (x0 + chip_x0, y, x0 + chip_x1, y + chip_h)
                c.pill(chip, c.tint(p.accent_alt, 0.2))
                c.text(
                    text,
                    (chip[0] + pad, chip[1], chip[2] - pad, chip[3]),
                    CHIP,
                    text_color,
                    align="center",
                    valign="middle",
                    max_lines=1,
                )
            y += chip_h + chip_gap
    return True


def answer_card_draw(c: SlideCanvas, *, box: Box, letter: str, text: str) -> None:
    """The green 'correct answer' card: a tick badge, a label and the answer."""
    p = c.palette
    x0, y0, x1, y1 = box
    c.card(box, fill=c.tint(p.success, 0.14), outline=p.success)
    pad = c.px(0.02)
    badge = min(c.px(0.05), y1 - y0 - 2 * pad)
    mid = (y0 + y1) // 2
    marker = (x0 + pad, mid - badge // 2, x0 + pad + badge, mid - badge // 2 + badge)
    disc_draw(image=c.image, box=marker, fill=p.success)
    inset = badge // 5
    check_draw(
        image=c.image,
        box=(marker[0] + inset, marker[1] + inset, marker[2] - inset, marker[3] - inset),
        fill=p.background,
    )
    tx, tx1 = marker[2] + c.px(0.02), x1 - pad
    label_h = c.px(theme.LABEL.max_size * 1.4)
    body = c.fit(text, (tx, 0, tx1, y1 - y0 - 2 * pad - label_h), CHOICE, max_lines=2)
    top = mid - (label_h + body.block[3] - body.block[1]) // 2
    c.text(
        f"CORRECT ANSWER · {letter}",
        (tx, top, tx1, top + label_h),
        theme.LABEL,
        p.success,
        max_lines=1,
    )
    c.text(
        text,
        (tx, top + label_h, tx1, y1 - pad // 2),
        CHOICE,
        p.text,
        max_lines=2,
        max_px=body.font_size,
        min_px=body.font_size,
    )


def chips_layout(
    c: SlideCanvas, *, concepts: Sequence[str], width: int, chip_h: int, max_rows: int = 2
) -> list[list[tuple[int, int, str]]]:
    """Chips (x0, x1, text) flowed into at most `max_rows` rows; what does not fit
    becomes a final '+N' chip."""
    font = font_load(CHIP.font_path, min(c.px(CHIP.max_size), max(1, round(chip_h * 0.42))))
    pad = round(chip_h * 0.45)
    gap = c.px(0.012)
    rows: list[list[tuple[int, int, str]]] = [[]]
    x = 0
    for index, text in enumerate(concepts):
        chip_w = min(width, round(font.getlength(text)) + 2 * pad + 2)
        if x and x + chip_w > width:
            if len(rows) == max_rows:
                rows_overflow(
                    rows, font=font, pad=pad, gap=gap, width=width, more=len(concepts) - index
                )
                return rows
            rows.append([])
            x = 0
        rows[-1].append((x, x + chip_w, text))
        x += chip_w + gap
    return rows


def rows_overflow(
    rows: list[list[tuple[int, int, str]]],
    *,
    font: ImageFont.FreeTypeFont,
    pad: int,
    gap: int,
    width: int,
    more: int,
) -> None:
    """End the last chip row with a '+N' chip, dropping chips to make room."""
    last = rows[-1]
    while True:
        label = f"+{more}"
        chip_w = round(font.getlength(label)) + 2 * pad + 2
        x = last[-1][1] + gap if last else 0
        if x + chip_w <= width or not last:
            last.append((x, min(width, x + chip_w), label))
            return
        last.pop()
        more += 1


def motivational_draw(c: SlideCanvas) -> bool:
    """Progress from the learner's scores: a bar per domain coloured by strength, and
    the overall score as a ring."""
    entries = [s for s in c.slide.get("scores") or [] if isinstance(s, dict)]
    scores = percents_parse([s.get("score") for s in entries])
    rows = [
        (str(s.get("name") or "Domain"), v)
        for s, v in zip(entries, scores, strict=True)
        if v is not None
    ]
    overall_raw = number_parse(c.slide.get("overall"))
    if overall_raw is not None:
        overall: float | None = percents_parse([overall_raw])[0]
    else:
        overall = sum(v for _, v in rows) / len(rows) if rows else None
    if not rows and overall is None:
        return False
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(
        c, box=c.layout.content_box, eyebrow="Your progress", heading=c.section.heading
    )

    width = x1 - x0
    ring_col = round(width * 0.36) if rows else width
    bars_x1 = x1 - ring_col - c.px(0.04) if rows else x0
    if rows:
        legend_h = c.px(0.036)
        shown, more = items_cap(rows, 8)
        area_bottom = y1 - legend_h - c.px(0.016)
        count = len(shown) + (1 if more else 0)
        row_h = min(c.px(0.085), (area_bottom - y) // count)
        bar_h = max(3, c.px(0.014))
        label_h = max(1, row_h - bar_h - c.px(0.018))
        pct_w = round((bars_x1 - x0) * 0.2)
        names = c.texts_fit_uniform(
            [n for n, _ in shown],
            [(x0, 0, bars_x1 - pct_w, label_h)] * len(shown),
            ROW,
            max_lines=1,
        )
        name_px = min(n.font_size for n in names)
        for index, (name, score) in enumerate(shown):
            top = y + index * row_h
            color = theme.strength_color(score, p)
            label_box = (x0, top, bars_x1 - pct_w, top + label_h)
            c.text(
                name,
                label_box,
                ROW,
                p.text,
                valign="bottom",
                max_lines=1,
                max_px=name_px,
                min_px=name_px,
            )
            c.text(
                percent_format(score),
                (bars_x1 - pct_w, top, bars_x1, top + label_h),
                ROW,
                color,
                align="right",
                valign="bottom",
                max_lines=1,
                max_px=name_px,
                min_px=name_px,
            )
            bar_y = top + label_h + c.px(0.008)
            c.pill((x0, bar_y, bars_x1, bar_y + bar_h), p.surface_alt)
            fill_w = max(bar_h, round((bars_x1 - x0) * score / 100))
            c.pill((x0, bar_y, x0 + fill_w, bar_y + bar_h), color)
        if more:
            top = y + len(shown) * row_h
            c.text(
                f"+ {more} more domains",
                (x0, top, bars_x1, top + row_h),
                ROW,
                p.muted,
                valign="middle",
                max_lines=1,
                max_px=name_px,
            )
        legend_y = min(y1 - legend_h, y + count * row_h + c.px(0.02))
        legend_draw(c, box=(x0, legend_y, bars_x1, legend_y + legend_h))

    if overall is not None:
        col_x0 = x1 - ring_col
        caption_h = c.px(0.075)
        diameter = min(ring_col, y1 - y - caption_h, c.px(0.4))
        if diameter > c.px(0.08):
            rx = col_x0 + (ring_col - diameter) // 2
            ry = y + max(0, (y1 - y - caption_h - diameter) // 3)
            ring = (rx, ry, rx + diameter, ry + diameter)
            color = theme.strength_color(overall, p)
            thickness = max(3, round(diameter * 0.085))
            ring_draw(
                image=c.image,
                box=ring,
                thickness=thickness,
                fraction=overall / 100,
                color=color,
                track=p.surface_alt,
            )
            inner = thickness * 2
            score_label_draw(
                c,
                box=(rx + inner, ry + inner, rx + diameter - inner, ry + diameter - inner),
                split_y=ry + round(diameter * 0.6),
                percent=overall,
                label="OVERALL",
                number_style=(theme.DISPLAY, p.text, round(diameter * 0.24)),
                label_style=(theme.LABEL, p.muted, None),
                gap=c.px(0.004),
            )
            if overall >= theme.STRONG_SCORE:
                verdict = "Exam ready"
            elif overall >= theme.DEVELOPING_SCORE:
                verdict = "Almost there"
            else:
                verdict = "Building momentum"
            pill_h = c.px(0.05)
            probe = c.fit(
                verdict, (col_x0, 0, x1, pill_h), CHIP, max_lines=1, align="center", valign="middle"
            )
            pill_w = min(ring_col, (probe.block[2] - probe.block[0]) + 2 * c.px(0.024))
            px0 = col_x0 + (ring_col - pill_w) // 2
            py0 = ring[3] + c.px(0.024)
            if py0 + pill_h <= y1:
                c.pill((px0, py0, px0 + pill_w, py0 + pill_h), c.tint(color, 0.2))
                c.text(
                    verdict,
                    (px0, py0, px0 + pill_w, py0 + pill_h),
                    CHIP,
                    color,
                    align="center",
                    valign="middle",
                    max_lines=1,
                )
    return True


def legend_draw(c: SlideCanvas, *, box: Box) -> None:
    """What the bar colours mean."""
    p = c.palette
    x0, y0, x1, y1 = box
    strong, developing = round(theme.STRONG_SCORE), round(theme.DEVELOPING_SCORE)
    entries = [
        (p.success, f"Strong {strong}%+"),
        (p.warning, f"Developing {developing}\u2013{strong - 1}%"),
        (p.danger, f"Focus <{developing}%"),
    ]
    dot, dot_gap, gap = c.px(0.014), c.px(0.01), c.px(0.03)
    # Entries sit one after another at their natural width when they fit, else in
    # equal slots (where text_fit shortens them).
    font = font_load(theme.LABEL.font_path, c.px(theme.LABEL.max_size))
    widths = [dot + dot_gap + math.ceil(font.getlength(text)) + 2 for _, text in entries]
    if sum(widths) + gap * (len(entries) - 1) > x1 - x0:
        widths = [(x1 - x0 - gap * (len(entries) - 1)) // len(entries)] * len(entries)
    mid = (y0 + y1) // 2
    sx = x0
    for (color, text), width in zip(entries, widths, strict=True):
        disc_draw(
            image=c.image, box=(sx, mid - dot // 2, sx + dot, mid - dot // 2 + dot), fill=color
        )
        label_box = (sx + dot + dot_gap, y0, min(x1, sx + width), y1)
        c.text(text, label_box, theme.LABEL, p.muted, valign="middle", max_lines=1)
        sx += width + gap


def exam_prep_draw(c: SlideCanvas) -> bool:
    """A checklist with check boxes; two columns when it is long."""
    items = strings_parse(c.slide.get("checklist"))
    if not items:
        return False
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(
        c, box=c.layout.content_box, eyebrow="Exam checklist", heading=c.section.heading
    )
    columns = 2 if len(items) > 5 else 1
    checklist_draw(c, box=(x0, y, x1, y1), items=items, columns=columns, checked=False)
    return True


def checklist_draw(
    c: SlideCanvas, *, box: Box, items: Sequence[str], columns: int, checked: bool
) -> None:
    """Items as row cards with an empty check box (or a green tick when `checked`),
    filled column by column; overflow becomes a '+N more' row."""
    p = c.palette
    x0, y, x1, y1 = box
    shown, more = items_cap(items, 8 * columns)
    labels = shown + ([f"+ {more} more"] if more else [])
    per_column = math.ceil(len(labels) / columns)
    gap, col_gap, pad = c.px(0.014), c.px(0.024), c.px(0.02)
    col_w = (x1 - x0 - col_gap * (columns - 1)) // columns
    row_h = min(c.px(0.085), (y1 - y - gap * (per_column - 1)) // per_column)
    if row_h <= c.px(0.025):
        return
    mark = min(c.px(0.036), round(row_h * 0.55))
    text_gap = c.px(0.02)
    text_w = col_w - 2 * pad - mark - text_gap
    sized = c.texts_fit_uniform(
        labels, [(0, 0, text_w, row_h - c.px(0.01))] * len(labels), CHOICE, max_lines=2
    )
    shared = min(f.font_size for f in sized)
    for index, label in enumerate(labels):
        column, row = divmod(index, per_column)
        cx0 = x0 + column * (col_w + col_gap)
        top = y + row * (row_h + gap)
        extra = bool(more) and index == len(labels) - 1
        c.card((cx0, top, cx0 + col_w, top + row_h))
        mid = top + row_h // 2
        square = (cx0 + pad, mid - mark // 2, cx0 + pad + mark, mid - mark // 2 + mark)
        if extra:
            pass
        elif checked:
            disc_draw(image=c.image, box=square, fill=c.tint(p.success, 0.25))
            inset = mark // 5
            check_draw(
                image=c.image,
                box=(square[0] + inset, square[1] + inset, square[2] - inset, square[3] - inset),
                fill=p.success,
            )
        else:
            rounded_draw(
                image=c.image,
                box=square,
                radius=max(2, mark // 5),
                fill=p.surface,
                outline=p.accent,
                width=max(2, c.px(0.003)),
            )
        text_box = (
            square[2] + text_gap,
            top + c.px(0.005),
            cx0 + col_w - pad,
            top + row_h - c.px(0.005),
        )
        c.text(
            label,
            text_box,
            CHOICE,
            p.muted if extra else p.text,
            valign="middle",
            max_lines=2,
            max_px=shared,
            min_px=shared,
        )


def celebration_draw(c: SlideCanvas) -> bool:
    """A certificate: double gold border, learner, certification and a score seal
    (deliberately no date: videos are re-watched)."""
    learner = str(c.slide.get("learner") or c.script.learner_name or "").strip()
    certification = str(c.slide.get("certification") or "").strip()
    if not learner and not certification:
        return False
    percent = percents_parse([c.slide.get("score")])[0]
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(
        c, box=c.layout.content_box, eyebrow="Congratulations", heading=c.section.heading, lines=1
    )

    c.card((x0, y, x1, y1), fill=p.surface, outline=p.gold)
    inset = c.px(0.014)
    inner = (x0 + inset, y + inset, x1 - inset, y1 - inset)
    rounded_draw(
        image=c.image,
        box=inner,
        radius=c.px(0.01),
        fill=p.surface,
        outline=c.tint(p.gold, 0.55),
        width=1,
    )
    pad = c.px(0.03)
    ix0, iy0, ix1, iy1 = inner[0] + pad, inner[1] + pad, inner[2] - pad, inner[3] - pad

    slots = [  # text, style, colour, height as a fraction of the frame
        ("CERTIFICATE OF ACHIEVEMENT", theme.EYEBROW, p.gold, 0.05),
        ("This certifies that", theme.BODY_SMALL, p.muted, 0.045),
        (learner or "Learner", theme.DISPLAY, p.text, 0.1),
        ("has shown exam readiness for", theme.BODY_SMALL, p.muted, 0.05),
        (certification or c.script.title, theme.TITLE, p.accent, 0.085),
    ]
    seal = min(c.px(0.15), (iy1 - iy0) // 3) if percent is not None else 0
    seal_gap = c.px(0.03) if seal else 0
    needed = sum(round(s[3] * c.height) for s in slots)
    scale = min(1.25, (iy1 - iy0 - seal - seal_gap) / max(1, needed))
    total = sum(round(s[3] * c.height * scale) for s in slots) + seal_gap + seal
    cursor = iy0 + max(0, (iy1 - iy0 - total) // 2)  # centred in the card
    for text, style, color, share in slots:
        height = round(share * c.height * scale)
        lines = 2 if style is theme.TITLE else 1
        fitted = c.text(
            text,
            (ix0, cursor, ix1, cursor + height),
            style,
            color,
            align="center",
            valign="middle",
            max_lines=lines,
        )
        if style is theme.DISPLAY and fitted.lines:  # a short gold rule under the name
            rule_w = min(ix1 - ix0, c.px(0.22))
            rx = (ix0 + ix1 - rule_w) // 2
            ry = min(cursor + height - 1, fitted.block[3] + c.px(0.006))
            c.draw.rectangle((rx, ry, rx + rule_w - 1, ry + max(1, c.px(0.002)) - 1), fill=p.gold)
        cursor += height
    if seal and percent is not None:
        sx, sy = (ix0 + ix1 - seal) // 2, cursor + seal_gap
        ring = (sx, sy, sx + seal, sy + seal)
        disc_draw(image=c.image, box=ring, fill=c.tint(p.gold, 0.12))
        ring_draw(
            image=c.image,
            box=ring,
            thickness=max(2, round(seal * 0.05)),
            fraction=1.0,
            color=p.gold,
            track=p.gold,
        )
        edge = round(seal * 0.16)
        score_label_draw(
            c,
            box=(sx + edge, sy + edge, sx + seal - edge, sy + seal - edge),
            split_y=sy + round(seal * 0.62),
            percent=percent,
            label="SCORE",
            number_style=(theme.TITLE, p.gold, round(seal * 0.26)),
            label_style=(theme.LABEL, p.text_soft, max(theme.FONT_MIN_PX, round(seal * 0.1))),
            gap=0,
        )
    return True


def score_label_draw(
    c: SlideCanvas,
    *,
    box: Box,
    split_y: int,
    percent: float,
    label: str,
    number_style: tuple[TextStyle, RGB, int | None],
    label_style: tuple[TextStyle, RGB, int | None],
    gap: int,
) -> None:
    """A percentage centred above split_y with a small label right under it, inside box
    (the middle of a score ring or a certificate seal). Styles are (style, colour, max px)."""
    x0, y0, x1, y1 = box
    style, color, max_px = number_style
    number = c.text(
        percent_format(percent),
        (x0, y0, x1, split_y),
        style,
        color,
        align="center",
        valign="bottom",
        max_lines=1,
        max_px=max_px,
    )
    style, color, max_px = label_style
    c.text(
        label,
        (x0, number.block[3] + gap, x1, y1),
        style,
        color,
        align="center",
        valign="top",
        max_lines=1,
        max_px=max_px,
    )


def introduction_draw(c: SlideCanvas) -> bool:
    """A name, a headline and the highlights as ticked rows."""
    name = str(c.slide.get("name") or "").strip()
    headline = str(c.slide.get("headline") or "").strip()
    highlights = strings_parse(c.slide.get("highlights"))
    if not (name or headline or highlights):
        return False
    p = c.palette
    x0, _, x1, y1 = c.layout.content_box
    y = heading_draw(
        c, box=c.layout.content_box, eyebrow=c.section.heading or "Welcome", heading=""
    )
    if name:
        fitted = c.text(name, (x0, y, x1, y + c.px(0.16)), theme.DISPLAY, p.text, max_lines=2)
        y = fitted.block[3] + c.px(0.012)
    if headline:
        fitted = c.text(
            headline, (x0, y, x1, y + c.px(0.11)), theme.SUBHEADING, p.accent, max_lines=2
        )
        y = fitted.block[3]
    y += c.px(0.045)
    if highlights and y1 - y > c.px(0.05):
        checklist_draw(c, box=(x0, y, x1, y1), items=highlights, columns=1, checked=True)
    return True


def generic_draw(c: SlideCanvas) -> bool:
    """Any section without slide data: the heading and the narration's first sentences."""
    x0, _, x1, y1 = c.layout.content_box
    eyebrow = str(c.script.video_type).replace("_", " ")
    heading = c.section.heading or c.script.title
    y = heading_draw(c, box=c.layout.content_box, eyebrow=eyebrow, heading=heading)
    sentences = sentences_pick(c.section.text)
    if sentences and y1 - y > c.px(0.05):
        bullets_draw(c, box=(x0, y + c.px(0.01), x1, y1), items=sentences, style=theme.BODY)
    return True


def practice_draw(c: SlideCanvas) -> bool:
    if c.phase == "explanation":
        return practice_explanation_draw(c)
    return practice_question_draw(c)


LAYOUTS: dict[VideoType, Callable[[SlideCanvas], bool]] = {
    VideoType.OVERVIEW: overview_draw,
    VideoType.REMEDIATION: remediation_draw,
    VideoType.PRACTICE_SESSION: practice_draw,
    VideoType.MOTIVATIONAL: motivational_draw,
    VideoType.EXAM_PREP: exam_prep_draw,
    VideoType.CELEBRATION: celebration_draw,
    VideoType.INTRODUCTION: introduction_draw,
}


def _hex(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


# --- entry points -----------------------------------------------------------------


@dataclass(frozen=True)
class SlideRender:
    image: Image.Image
    layout: Layout
    texts: tuple[FittedText, ...]  # every text drawn, with the box it had to fit


def slide_compose(
    *,
    script: Script,
    section_index: int,
    size: tuple[int, int],
    presenter: bool = True,
    phase: str = "main",
    background: str = theme.BACKGROUND,
    branding: str = "PresGen",
) -> SlideRender:
    """`slide_render`, plus the layout and every fitted text (for tests and debugging)."""
    section = script.sections[section_index]
    palette = theme.palette_build(background)
    layout = frame_layout(size=size, presenter=presenter)
    canvas = SlideCanvas(
        image=Image.new("RGB", size, palette.background),
        palette=palette,
        layout=layout,
        script=script,
        section=section,
        section_index=section_index,
        phase=phase,
    )
    if layout.presenter_box is not None:
        px0, py0, px1, py1 = layout.presenter_box
        canvas.draw.rectangle((px0, py0, px1 - 1, py1 - 1), fill=palette.panel)
    header_draw(canvas, branding=branding)
    layout_draw = LAYOUTS.get(script.video_type)
    if not (canvas.slide and layout_draw is not None and layout_draw(canvas)):
        generic_draw(canvas)
    return SlideRender(image=canvas.image, layout=layout, texts=tuple(canvas.texts))


def slide_render(
    *,
    script: Script,
    section_index: int,
    size: tuple[int, int],
    presenter: bool = True,
    phase: str = "main",
    background: str = theme.BACKGROUND,
    branding: str = "PresGen",
) -> Image.Image:
    """The full-frame RGB slide for one section. The presenter panel (right ~32%) is plain
    `theme.PANEL`; the bottom `caption_safe` band is left empty for captions.
    phase: practice sessions show "question" (also "main") or "explanation"."""
    return slide_compose(
        script=script,
        section_index=section_index,
        size=size,
        presenter=presenter,
        phase=phase,
        background=background,
        branding=branding,
    ).image
