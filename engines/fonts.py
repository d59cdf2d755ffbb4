"""Which installed font can draw a given text.

drawtext and Pillow draw with one font file, with no fallback: DejaVu Sans has no Chinese,
Japanese, Korean or Devanagari, so such text would come out as empty boxes. `font_for_text`
picks the installed font that covers the text (DejaVu Sans whenever it does), from
fontconfig's own list of each font's characters. libass (captions, subtitles) falls back
between fonts by itself. The Makefile installs fonts for CJK (WenQuanYi Micro Hei), most other
scripts (Noto) and symbols (Symbola).
"""

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engines.ffmpeg import font_path


@dataclass(frozen=True)
class _Font:
    path: Path
    style: str
    ranges: tuple[tuple[int, int], ...]

    def covers(self, code: int) -> bool:
        return any(low <= code <= high for low, high in self.ranges)


def _parse_charset(text: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in text.split():
        low, _, high = part.partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    return tuple(ranges)


@functools.cache
def _installed() -> tuple[_Font, ...]:
    """Every font fontconfig knows, sans-serif regular faces first."""
    if shutil.which("fc-list") is None:
        return ()
    listing = subprocess.run(["fc-list", "--format", r"%{file}\t%{style[0]}\t%{charset}\n"],  # noqa: S607
                             capture_output=True, text=True, timeout=30, check=False).stdout
    fonts = []
    for line in listing.splitlines():
        file, _, rest = line.partition("\t")
        style, _, charset = rest.partition("\t")
        if file.lower().endswith((".ttf", ".otf", ".ttc")) and charset:
            fonts.append(_Font(Path(file), style, _parse_charset(charset)))

    def rank(font: _Font) -> tuple:
        name = font.path.name.lower()
        return ("serif" in name and "sans" not in name, "mono" in name,
                font.style.lower() not in ("regular", "book", "medium"), name)

    return tuple(sorted(fonts, key=rank))


def _needed(text: str) -> frozenset[int]:
    return frozenset(ord(c) for c in text if not c.isspace() and ord(c) >= 0x20)


@functools.lru_cache(maxsize=256)
def _pick(codes: frozenset[int]) -> Path:
    default = font_path()
    fonts = _installed()
    own = next((f for f in fonts if f.path == default), None)
    if own is None or all(own.covers(c) for c in codes):
        return default
    # The font drawing the most of the text; DejaVu Sans on a tie, then the ranking order.
    best, best_count = default, sum(own.covers(c) for c in codes)
    for font in fonts:
        count = sum(font.covers(c) for c in codes)
        if count > best_count:
            best, best_count = font.path, count
            if count == len(codes):
                break
    return best


def font_for_text(text: str) -> Path:
    """A font file that draws every character of `text` (or the most of them)."""
    return _pick(_needed(text))
