"""Frame templates for narrated stories, drawn with Pillow (no browser, no HTML).

A frame is a full-size RGBA PNG laid over one scene: the title, the scene's text, its index
and the decoration are drawn, and a "media window" rectangle is left transparent (alpha 0) so
that ffmpeg can put the scene's image or video underneath. Templates are named like
Pixelle-Video's (`image_default`, or `1080x1920/image_default.html`) and take
`template_params` checked by `validate_params`; no value is evaluated, and none is used as a
path: an image background is named by reference and resolved by the caller, who passes the
local file to `render_frame`.

Layouts are written in fractions of the frame and in units of 1/1080 of its short side, so
each one is drawn at 9:16, 16:9, 1:1 and 4:5 and at any size of those shapes.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps

from engines.base import EngineError
from engines.ffmpeg import DEFAULT_MAX_PIXELS, clean_text, font_path
from engines.fonts import font_for_text

SIZES = ((1080, 1920), (1920, 1080), (1080, 1080), (1080, 1350))
MIN_SIDE, MAX_SIDE = 160, 4096
MAX_TITLE_CHARS, MAX_TEXT_CHARS = 200, 1500
PLACEHOLDERS = ("title", "text", "image", "index")
ELLIPSIS = "…"

Box = tuple[int, int, int, int]  # x, y, width, height
RGBA = tuple[int, int, int, int]

_NAME = re.compile(r"^(?:(\d{2,5})x(\d{2,5})/)?([a-z][a-z0-9_]{0,39})(?:\.html)?$")
_HEX = re.compile(r"^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$")
# An image background is named, never opened here: an http(s) URL or a stored image's opaque
# file name (e.g. "Xy3_...Q.png"), which the caller looks up among the user's own files.
_IMAGE_REF = re.compile(r"^(https?://[^\s]{1,2040}|[A-Za-z0-9_-]{8,64}\.(png|jpe?g|webp))$",
                        re.IGNORECASE)


class TemplateError(EngineError):
    """A template name, size or parameter was refused. `fields` maps each offending name
    (a parameter, `frame_template`, `size`, `index` or `background`) to its messages."""

    code = "invalid_template"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        self.fields = fields or {}
        super().__init__(message, detail={"fields": self.fields})


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # color | background | number | integer | boolean | choice
    default: object
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    params: tuple[Param, ...]
    plan: Callable[[_Ctx], _Plan]
    has_window: bool = True
    sizes: tuple[tuple[int, int], ...] = SIZES
    placeholders: tuple[str, ...] = PLACEHOLDERS

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass
class FrameLayout:
    path: Path
    window: Box | None  # where the scene's picture shows through; None without a window
    caption_safe: tuple[int, int] | None  # y range (top, bottom) free of drawn text
    text_boxes: dict[str, Box] = field(default_factory=dict)  # ink drawn, by role


# --- parameters -------------------------------------------------------------------------------

def _parse_color(value: object) -> RGBA:
    if not isinstance(value, str):
        raise ValueError("Must be a colour string such as '#3498db' or 'navy'.")
    text = value.strip().lower()
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) <= 4:
            digits = "".join(c * 2 for c in digits)
        digits = digits.ljust(8, "f")
        return tuple(int(digits[i:i + 2], 16) for i in range(0, 8, 2))
    if text in ImageColor.colormap:
        return (*ImageColor.getrgb(text)[:3], 255)
    raise ValueError("Not a colour: use #rgb, #rrggbb, #rrggbbaa or a CSS colour name.")


def _color_str(rgba: RGBA) -> str:
    r, g, b, a = rgba
    return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")


def _clean_background(value: object) -> str | list[str]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("A gradient is a list of two colours, top then bottom.")
        return [_color_str(_parse_color(v)) for v in value]
    if isinstance(value, str) and _IMAGE_REF.match(value.strip()):
        return value.strip()
    try:
        return _color_str(_parse_color(value))
    except ValueError:
        raise ValueError("Must be a colour, a list of two colours (a vertical gradient), or an "
                   "image as an https URL or an asset id.") from None


def _clean_value(param: Param, value: object) -> object:
    kind = param.type
    if kind == "color":
        return _color_str(_parse_color(value))
    if kind == "background":
        return _clean_background(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("Must be true or false.")
        return value
    if kind == "choice":
        if value not in param.choices:
            raise ValueError(f"Must be one of: {', '.join(param.choices)}.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("Must be a number.")
    if kind == "integer":
        if value != int(value):
            raise ValueError("Must be a whole number.")
        value = int(value)
    if not param.minimum <= value <= param.maximum:
        raise ValueError(f"Must be between {param.minimum:g} and {param.maximum:g}.")
    return value


def resolve_template(name: str) -> tuple[Template, tuple[int, int] | None]:
    """The template named `image_default`, `1080x1920/image_default` or
    `1080x1920/image_default.html`, with the size the name gives (or None)."""
    match = _NAME.match(name.strip()) if isinstance(name, str) else None
    template = TEMPLATES.get(match.group(3)) if match else None
    if template is None:
        shown = name[:60] if isinstance(name, str) else type(name).__name__
        message = f"Unknown frame template {shown!r}. Available: {', '.join(sorted(TEMPLATES))}."
        raise TemplateError(message, fields={"frame_template": [message]})
    size = (int(match.group(1)), int(match.group(2))) if match.group(1) else None
    if size is not None:
        _size_class(template, *size)
    return template, size


def _template(template: Template | str) -> Template:
    return template if isinstance(template, Template) else resolve_template(template)[0]


def _size_class(template: Template, width: int, height: int) -> tuple[int, int]:
    """The declared size with the same shape as width x height."""
    for size in template.sizes:
        if (isinstance(width, int) and isinstance(height, int)
                and min(width, height) >= MIN_SIDE and max(width, height) <= MAX_SIDE
                and abs(width / height - size[0] / size[1]) < 0.01):
            return size
    shapes = ", ".join(f"{w}x{h}" for w, h in template.sizes)
    message = (f"{template.name} is not drawn at {width}x{height}; use one of {shapes} or the "
               f"same shape between {MIN_SIDE} and {MAX_SIDE} pixels a side.")
    raise TemplateError(message, fields={"size": [message]})


def template_names(width: int, height: int) -> list[str]:
    """Names of the templates drawn at this output size (also at a scaled size of that shape)."""
    names = []
    for name, template in sorted(TEMPLATES.items()):
        try:
            _size_class(template, width, height)
        except TemplateError:
            continue
        names.append(name)
    return names


def validate_params(template: Template | str, params: dict | None) -> dict:
    """Every parameter of `template`, cleaned (colours as lowercase #rrggbb[aa]) with defaults
    filled in. Raises TemplateError listing every bad field at once; cleaning a cleaned dict
    gives it back unchanged."""
    template = _template(template)
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise TemplateError("template_params must be an object.",
                            fields={"template_params": ["Must be an object."]})
    allowed = ", ".join(p.name for p in template.params)
    fields: dict[str, list[str]] = {}
    cleaned = {p.name: p.default for p in template.params}
    for key, value in params.items():
        param = template.param(key) if isinstance(key, str) else None
        if param is None:
            shown = str(key)[:40]
            fields[shown] = [f"Unknown parameter for {template.name}. Allowed: {allowed}."]
            continue
        try:
            cleaned[key] = _clean_value(param, value)
        except ValueError as exc:
            fields[key] = [str(exc)]
    if fields:
        name, messages = next(iter(fields.items()))
        raise TemplateError(f"Invalid template parameter {name!r}: {messages[0]}", fields=fields)
    return cleaned


def background_reference(params: dict) -> str | None:
    """The image a cleaned `background` names (URL or asset id) for the caller to resolve."""
    value = params.get("background")
    return value if isinstance(value, str) and _IMAGE_REF.match(value) else None


def describe_template(template: Template | str) -> dict:
    """A JSON-able description for API listings and the docs."""
    template = _template(template)
    params = {}
    for p in template.params:
        entry = {"type": p.type, "default": p.default, "description": p.doc}
        if p.minimum is not None:
            entry.update(minimum=p.minimum, maximum=p.maximum)
        if p.choices:
            entry["choices"] = list(p.choices)
        params[p.name] = entry
    return {"name": template.name, "description": template.description,
            "sizes": [f"{w}x{h}" for w, h in template.sizes],
            "placeholders": list(template.placeholders), "params": params}


# --- layout plans -----------------------------------------------------------------------------

class _Ctx:
    """What a plan needs: the size, the cleaned parameters, and units. `u` is one pixel of a
    1080-pixel short side; `m` the outer margin."""

    def __init__(self, width: int, height: int, p: dict, index_label: str):
        self.width, self.height, self.p, self.index_label = width, height, p, index_label
        self.u = min(width, height) / 1080
        self.m, self.landscape = self.px(56), width > height * 1.2
        self.title_key = "title" if p["show_title"] else ""
        self.accent, self.ink = _parse_color(p["accent_color"]), _parse_color(p["text_color"])

    def px(self, value: float) -> int:
        return round(value * self.u)


@dataclass
class _Shape:
    box: Box
    fill: RGBA
    radius: int = 0


@dataclass
class _Slot:
    role: str  # title | text | index | mark
    content: str
    box: Box
    size: int  # preferred font size in pixels at 1080, before font_scale
    min_size: int  # at 1080; text shrinks to this, then is ellipsised
    color: RGBA
    bold: bool = False
    align: str = "center"  # left | center | right
    valign: str = "middle"  # top | middle | bottom
    badge: RGBA | None = None  # a filled pill behind the text


@dataclass
class _Plan:
    window: Box | None = None
    window_radius: int = 0
    under: list[_Shape] = field(default_factory=list)  # drawn before the window is cut
    over: list[_Shape] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)
    caption_safe: tuple[int, int] | None = None
    transparent: bool = False  # no background: the picture fills the frame


def _below(box: Box, gap: int = 0) -> int:
    return box[1] + box[3] + gap


def _span(x: int, top: int, width: int, bottom: int) -> Box:
    return (x, top, width, bottom - top)


def _ink_on(rgba: RGBA) -> RGBA:
    """Black or white, whichever reads better on `rgba`."""
    r, g, b, _ = rgba
    return (17, 17, 17, 255) if 0.299 * r + 0.587 * g + 0.114 * b > 160 else (255, 255, 255, 255)


def _plan_default(c: _Ctx) -> _Plan:
    W, H, m, px = c.width, c.height, c.m, c.px
    if c.landscape:
        title = (m + px(240), round(0.045 * H), W - 2 * m - px(480), round(0.11 * H))
        index = _Slot("index", c.index_label, (W - m - px(220), title[1], px(220), title[3]),
                      36, 24, c.accent, bold=True, align="right")
        win_h = round(0.58 * H)
        win_w = round(win_h * 16 / 9)
        window = ((W - win_w) // 2, _below(title, px(22)), win_w, win_h)
        text = _span(round(0.1 * W), _below(window, px(18)), round(0.8 * W), H - px(28))
        sizes = ((64, 34), (44, 24))
    else:
        title = (m, m, W - 2 * m, round(0.1 * H))
        index = _Slot("index", c.index_label, (m, H - m - px(50), W - 2 * m, px(50)), 36, 24,
                      c.accent, bold=True)
        text_h = round(0.19 * H)
        text = (m, index.box[1] - px(16) - text_h, W - 2 * m, text_h)
        window = _span(m, _below(title, px(34)), W - 2 * m, text[1] - px(24))
        sizes = ((76, 40), (54, 28))
    return _Plan(
        window=window,
        under=[_Shape((W // 2 - px(60), _below(title, px(10)), px(120), px(8)), c.accent)],
        slots=[_Slot("title", c.title_key, title, *sizes[0], c.ink, bold=True),
               _Slot("text", "text", text, *sizes[1], c.ink, align=c.p["text_align"]), index],
        caption_safe=(window[1] + round(window[3] * 0.74), _below(window) - px(12)))


def _plan_fullscreen(c: _Ctx) -> _Plan:
    W, H, m, px = c.width, c.height, c.m, c.px
    band_h = round((0.27 if H > W * 1.5 else 0.3) * H)
    top = H - band_h
    red, green, blue, alpha = _parse_color(c.p["band_color"])
    band = (red, green, blue, round(alpha * c.p["band_opacity"]))
    title = (m, top + px(30), W - 2 * m, round(band_h * 0.24))
    text = _span(m, _below(title, px(10)), W - 2 * m, H - round(m * 0.6))
    return _Plan(
        window=(0, 0, W, H), transparent=True,
        over=[_Shape((0, top, W, band_h), band), _Shape((0, top, W, px(8)), c.accent)],
        slots=[_Slot("title", c.title_key, title, 64, 34, c.ink, bold=True),
               _Slot("text", "text", text, 48, 26, c.ink),
               _Slot("index", c.index_label, (W - m - px(240), m, px(240), px(60)), 34, 24,
                     _ink_on(c.accent), bold=True, align="right", badge=c.accent)],
        caption_safe=(top - round(0.13 * H), top - round(0.02 * H)))


def _plan_card(c: _Ctx) -> _Plan:
    W, H, m, px = c.width, c.height, c.m, c.px
    border, radius = px(c.p["border_width"]), px(c.p["corner_radius"])
    if c.landscape:
        card_w = round(0.55 * W)
        card_h = min(round(card_w * 9 / 16), H - 2 * m - 2 * border)
        card = (m + border, (H - card_h) // 2, card_w, card_h)
        x0 = card[0] + card_w + border + px(56)
        title = (x0, card[1], W - m - x0, round(0.22 * H))
        text = _span(x0, _below(title, px(16)), W - m - x0, _below(card))
        caption = (_below(card, border + px(16)), H - px(24))
        align, valign, sizes = "left", "top", ((60, 32), (44, 24))
    else:
        title = (m, m, W - 2 * m, round(0.09 * H))
        text_h = round(0.2 * H)
        text = (m, H - m - text_h, W - 2 * m, text_h)
        card = _span(m + border, _below(title, px(28) + border), W - 2 * m - 2 * border,
                     text[1] - px(28) - border)
        caption = (card[1] + round(card[3] * 0.74), _below(card) - px(16))
        align, valign, sizes = "center", "middle", ((72, 38), (52, 28))
    frame = (card[0] - border, card[1] - border, card[2] + 2 * border, card[3] + 2 * border)
    return _Plan(
        window=card, window_radius=radius, caption_safe=caption,
        under=[_Shape(frame, c.accent, radius + border)] if border else [],
        slots=[_Slot("title", c.title_key, title, *sizes[0], c.ink, bold=True, align=align,
                     valign=valign),
               _Slot("text", "text", text, *sizes[1], c.ink, align=align, valign=valign),
               _Slot("index", c.index_label, (card[0] + px(24), card[1] + px(24), px(220),
                     px(64)), 34, 24, _ink_on(c.accent), bold=True, align="left",
                     valign="top", badge=c.accent)])


def _plan_split(c: _Ctx) -> _Plan:
    W, H, m, px, align = c.width, c.height, c.m, c.px, c.p["text_align"]
    if c.landscape:
        window, bar, x0 = (0, 0, W // 2, H), (W // 2, 0, px(10), H), W // 2 + px(74)
        index = _Slot("index", c.index_label, (x0, m, W - m - x0, px(48)), 34, 24, c.accent,
                      bold=True, align="left")
        title = (x0, _below(index.box, px(24)), W - m - x0, round(0.22 * H))
        text_bottom = round(0.83 * H) - px(16)
        caption = (round(0.83 * H), H - px(24))
        sizes = ((64, 34), (46, 24))
    else:
        window = (0, 0, W, round(0.5 * H))
        bar = (0, window[3], W, px(10))
        title = (m, window[3] + px(50), W - 2 * m, round(0.09 * H))
        index = _Slot("index", c.index_label, (m, H - m - px(44), W - 2 * m, px(44)), 34, 24,
                      c.accent, bold=True, align=align)
        text_bottom = index.box[1] - px(32)
        caption = (window[3] - round(0.13 * H), window[3] - round(0.02 * H))
        sizes = ((70, 36), (50, 26))
    text = _span(title[0], _below(title, px(20)), title[2], text_bottom)
    return _Plan(
        window=window, under=[_Shape(bar, c.accent)], caption_safe=caption,
        slots=[_Slot("title", c.title_key, title, *sizes[0], c.ink, bold=True, align=align,
                     valign="bottom"),
               _Slot("text", "text", text, *sizes[1], c.ink, align=align, valign="top"),
               index])


def _plan_quote(c: _Ctx) -> _Plan:
    W, H, m, px = c.width, c.height, c.m, c.px
    # The mark's ink sits in the upper part of its line: left of the text in 16:9, above it
    # otherwise.
    if c.landscape:
        text = (round(0.14 * W), round(0.18 * H), round(0.72 * W), round(0.46 * H))
        mark = (round(0.05 * W), text[1] - px(40), px(260), px(290))
    else:
        text = (round(1.5 * m), round(0.26 * H), W - 3 * m, round(0.44 * H))
        mark = (round(1.5 * m), text[1] - px(236), px(260), px(290))
    bar = (W // 2 - px(50), _below(text, px(28)), px(100), px(8))
    credit = (2 * m, _below(bar, px(28)), W - 4 * m, round(0.08 * H))
    return _Plan(
        under=[_Shape(bar, c.accent)], caption_safe=(_below(credit, px(8)), H - px(24)),
        slots=[_Slot("mark", "\u201c", mark, 220, 220, c.accent, bold=True, align="left",
                     valign="top"),
               _Slot("text", "text", text, 84, 34, c.ink, align=c.p["text_align"]),
               _Slot("title", c.title_key and "credit", credit, 44, 28, c.ink, valign="top"),
               _Slot("index", c.index_label, (W - m - px(220), m, px(220), px(48)), 32, 22,
                     c.accent, bold=True, align="right")])


def _common(*, background: object, text_color: str, accent: str = "#3498db",
            extra: tuple[Param, ...] = (), with_background: bool = True) -> tuple[Param, ...]:
    params = [Param("accent_color", "color", accent, doc="Bars, badges, quote marks, index.")]
    if with_background:
        params += [
            Param("background", "background", background,
                  doc="A colour, [top, bottom] colours for a vertical gradient, or an image "
                      "(https URL or asset id), scaled to cover the frame."),
            Param("background_dim", "number", 0.35, 0.0, 0.9,
                  doc="How much an image background is darkened (0 = not at all)."),
        ]
    params += [
        Param("text_color", "color", text_color, doc="Title and text."),
        Param("font_scale", "number", 1.0, 0.5, 2.0,
              doc="Scales the preferred text size; long text still shrinks to fit."),
        Param("show_title", "boolean", True, doc="Draw the story title."),
        Param("show_index", "boolean", True, doc="Draw the scene number, e.g. 2 / 6."),
        *extra]
    return tuple(params)


_ALIGN = ("left", "center")
TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("image_default", "Title at the top, the picture in the middle, text below.",
             _common(background="#111827", text_color="#ffffff", extra=(
                 Param("text_align", "choice", "center", choices=_ALIGN, doc="Scene text."),)),
             _plan_default),
    Template("image_fullscreen", "The picture fills the frame; title and text on a "
             "translucent band at the bottom, the index in a badge.",
             _common(background=None, text_color="#ffffff", with_background=False, extra=(
                 Param("band_color", "color", "#000000", doc="Colour of the text band."),
                 Param("band_opacity", "number", 0.6, 0.0, 1.0, doc="0 clear, 1 solid."))),
             _plan_fullscreen),
    Template("image_card", "The picture in a rounded card with an accent border on a coloured "
             "background, with an index badge on the card.",
             _common(background="#f4efe6", text_color="#1f2933", accent="#e4572e", extra=(
                 Param("corner_radius", "integer", 36, 0, 120, doc="Card corners, in pixels "
                       "at 1080 (scaled with the frame)."),
                 Param("border_width", "integer", 10, 0, 40, doc="Accent border, in pixels "
                       "at 1080."))),
             _plan_card),
    Template("image_split", "16:9: the picture on the left half, text on the right; "
             "9:16, 1:1, 4:5: the picture on the top half, text below.",
             _common(background="#0f172a", text_color="#f8fafc", accent="#f59e0b", extra=(
                 Param("text_align", "choice", "left", choices=_ALIGN, doc="Title and text."),)),
             _plan_split),
    Template("text_quote", "No picture: the scene's text as a large quote, the title as its "
             "credit.",
             _common(background=["#1e3a5f", "#0b1320"], text_color="#ffffff", accent="#f5c518",
                     extra=(Param("text_align", "choice", "center", choices=_ALIGN,
                                  doc="Quote text."),)),
             _plan_quote, has_window=False, placeholders=("title", "text", "index")),
)}


# --- drawing ----------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _font(bold: bool, size: int, file: Path) -> ImageFont.FreeTypeFont:
    """`file` (from font_for_text) at `size`; DejaVu Sans has a bold face of its own."""
    bold_file = file.with_name("DejaVuSans-Bold.ttf")
    if bold and file == font_path() and bold_file.is_file():
        file = bold_file
    return ImageFont.truetype(str(file), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, limit: int) -> list[str]:
    """Lines of at most `width` pixels, words kept whole unless one alone is too wide; stops
    past `limit` lines, when the caller only needs to know that the text did not fit."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while font.getlength(word) > width:  # cut at the longest prefix that fits
                lo, hi = 1, len(word)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if font.getlength(word[:mid]) <= width else (lo, mid - 1)
                lines.append(word[:lo])
                word = word[lo:]
            line = word
            if len(lines) > limit:
                return lines
        if line:
            lines.append(line)
    return lines


def _fit(text: str, slot: _Slot, top: int, bottom: int) -> tuple[ImageFont.FreeTypeFont,
                                                                 list[str], int]:
    """The largest font size in [bottom, top] at which the wrapped text fits the slot's box;
    if none does, the lines that fit at `bottom`, the last one ellipsised."""
    width, height = slot.box[2:]

    def attempt(size: int) -> tuple[ImageFont.FreeTypeFont, list[str], int, int]:
        font, line_h = _font(slot.bold, size, font_for_text(text)), round(size * 1.28)
        room = max(1, height // line_h)
        return font, _wrap(text, font, width, room), line_h, room

    best = None
    lo, hi = bottom, top
    while lo <= hi:
        size = (lo + hi + 1) // 2
        font, lines, line_h, room = attempt(size)
        if len(lines) <= room:
            best, lo = (font, lines, line_h), size + 1
        else:
            hi = size - 1
    if best is not None:
        return best
    font, lines, line_h, room = attempt(bottom)
    last = lines[room - 1]
    while last and font.getlength(last + ELLIPSIS) > width:
        last = last[:-1].rstrip()
    return font, [*lines[:room - 1], last + ELLIPSIS], line_h


def _draw_slot(draw: ImageDraw.ImageDraw, text: str, slot: _Slot, *, scale: float,
               unit: float) -> Box | None:
    """Draw `text` in the slot (preferred size times `scale`, never below its minimum times
    `unit`); the ink's bounding box, or None when nothing was drawn."""
    x, y, width, height = slot.box
    if not text or width <= 0 or height <= 0:
        return None
    top = max(8, round(slot.size * scale))
    font, lines, line_h = _fit(text, slot, top, min(top, max(8, round(slot.min_size * unit))))
    widths = [font.getlength(line) for line in lines]
    if slot.badge is not None:
        pad = round(font.size * 0.45)
        pill_w, pill_h = math.ceil(max(widths)) + 2 * pad, line_h + pad // 2
        pill_x = x if slot.align == "left" else x + width - pill_w
        draw.rounded_rectangle((pill_x, y, pill_x + pill_w, y + pill_h), radius=pill_h // 2,
                               fill=slot.badge)
        x, width, height = pill_x + pad, pill_w - 2 * pad, pill_h
    spare = height - len(lines) * line_h
    y += {"top": 0, "bottom": spare}.get(slot.valign, spare // 2)
    y += round((line_h - font.size * 1.17) / 2)  # centre ascent + descent in the line
    ink = None
    for i, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
        left = {"left": x, "right": x + width - line_w}.get(slot.align, x + (width - line_w) / 2)
        position = (round(left), y + i * line_h)
        draw.text(position, line, font=font, fill=slot.color, anchor="la")
        box = draw.textbbox(position, line, font=font, anchor="la")
        ink = box if ink is None else (min(ink[0], box[0]), min(ink[1], box[1]),
                                       max(ink[2], box[2]), max(ink[3], box[3]))
    return None if ink is None else (ink[0], ink[1], ink[2] - ink[0], ink[3] - ink[1])


def _refuse_background(message: str) -> TemplateError:
    return TemplateError(message, fields={"background": [message]})


def _background(p: dict, plan: _Plan, size: tuple[int, int], image: Path | None) -> Image.Image:
    if plan.transparent:
        return Image.new("RGBA", size, (0, 0, 0, 0))
    if image is None and background_reference(p):
        raise _refuse_background("The background names an image, but no image file was given.")
    if image is None and isinstance(p["background"], list):
        top, bottom = (Image.new("RGBA", size, _parse_color(v)) for v in p["background"])
        mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
        return Image.composite(bottom, top, mask)
    if image is None:
        return Image.new("RGBA", size, _parse_color(p["background"]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image) as source:
                if source.width * source.height > DEFAULT_MAX_PIXELS:
                    raise _refuse_background("The background image has too many pixels.")
                source.draft("RGB", size)  # a JPEG decodes at a reduced scale: much faster
                picture = ImageOps.fit(source.convert("RGB"), size, Image.Resampling.BILINEAR)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise _refuse_background("The background image could not be read.") from None
    dim = p["background_dim"]
    return picture.point(lambda v: round(v * (1 - dim))).convert("RGBA")


def _draw_shapes(draw: ImageDraw.ImageDraw, shapes: list[_Shape]) -> None:
    for shape in shapes:
        x, y, w, h = shape.box
        if w > 0 and h > 0:
            draw.rounded_rectangle((x, y, x + w - 1, y + h - 1), radius=shape.radius,
                                   fill=shape.fill)


def _clean(value: str | None, limit: int, *, one_line: bool = False) -> str:
    text = clean_text(value or "")
    return (" ".join(text.split()) if one_line else text).strip()[:limit]


def render_frame(template: Template | str, *, width: int, height: int, params: dict | None,
                 title: str, text: str, index: int, total: int, out: Path,
                 background_image: Path | None = None) -> FrameLayout:
    """Draw one scene's frame as a `width` x `height` RGBA PNG at `out`.

    `params` are validated here too (cleaned ones pass unchanged). `index` counts from 1 to
    `total`. `background_image` is a local file the caller resolved from the `background`
    reference (see `background_reference`); when given it is drawn, scaled to cover the
    frame, whatever `background` says. Title and text are only ever drawn as text.
    """
    tpl, named = resolve_template(template) if isinstance(template, str) else (template, None)
    shape = _size_class(tpl, width, height)
    if named is not None and _size_class(tpl, *named) != shape:
        message = f"{template} is a {named[0]}x{named[1]} template, not {width}x{height}."
        raise TemplateError(message, fields={"size": [message]})
    p = validate_params(tpl, params)
    if not (isinstance(index, int) and isinstance(total, int) and 1 <= index <= total):
        raise TemplateError("index must count from 1 to total.",
                            fields={"index": ["Must be between 1 and total."]})
    ctx = _Ctx(width, height, p, f"{index} / {total}" if p["show_index"] else "")
    plan = tpl.plan(ctx)
    canvas = _background(p, plan, (width, height), background_image)
    draw = ImageDraw.Draw(canvas)
    _draw_shapes(draw, plan.under)
    if plan.window is not None:
        x, y, w, h = plan.window
        mask = None
        if plan.window_radius:
            mask = Image.new("L", (w, h), 0)
            ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), fill=255,
                                                   radius=plan.window_radius)
        canvas.paste((0, 0, 0, 0), (x, y, x + w, y + h), mask)
    _draw_shapes(draw, plan.over)
    values = {"title": _clean(title, MAX_TITLE_CHARS, one_line=True),
              "text": _clean(text, MAX_TEXT_CHARS)}
    values["credit"] = f"— {values['title']}" if values["title"] else ""
    boxes = {}
    for slot in plan.slots:
        scale = ctx.u * (1.0 if slot.role == "mark" else p["font_scale"])
        ink = _draw_slot(draw, values.get(slot.content, slot.content), slot, scale=scale,
                         unit=ctx.u)
        if ink is not None:
            boxes[slot.role] = ink
    canvas.save(out, format="PNG", compress_level=1)
    return FrameLayout(path=Path(out), window=plan.window, caption_safe=plan.caption_safe,
                       text_boxes=boxes)
