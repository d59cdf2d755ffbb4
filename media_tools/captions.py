"""Word-timed captions for stories: word timings, caption groups, and subtitle files.

`spread_words` times the words of a line when the speech engine gives no word timings;
`group_lines` cuts the words into caption groups; `write_ass` writes them as an ASS file that
the composer burns in with libass (`Timeline.subtitles`), `write_srt` as an SRT file to
download. Pure: paths and plain values, no Django.

The three looks (`style=`):

- ``classic``: white DejaVu Sans with a thin black outline, one phrase at a time, in the lower
  third. Quiet and readable over any footage.
- ``clonevest``: big bold white text with a thick black outline and a drop shadow. The whole
  phrase stays on screen while the word being spoken is drawn in yellow, moving word by word.
  Written as one Dialogue line per word interval, each with the phrase and a colour override
  on the current word: karaoke ``\\k`` tags would leave every word already spoken highlighted
  too.
- ``segnals``: one to three words at a time, bold, in an accent colour (cyan) on an opaque
  near-black box (BorderStyle 3) whose edges are softened by a light blur, so the box reads as
  rounded. Horizontally centred like the others; ``position="center"`` puts it mid-frame.

Every look scales with the output: ``PlayResX``/``PlayResY`` are the output size and font
sizes, outlines and margins are fractions of it. ``text_transform="uppercase"`` upper-cases
the text; ``position`` is ``top``, ``center`` or ``bottom``.

User text cannot steer the renderer: control characters and line breaks become spaces, and
``{``, ``}`` and ``\\`` are neutralised (libass's ``\\{`` / ``\\}`` escapes for braces; a word
joiner after each backslash, so ``\\N``, ``\\n`` and ``\\h`` are shown as typed). Only the
override tags written here reach libass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engines.ffmpeg import clean_text
from media_tools.subtitles import Cue, clean_cue_text, format_srt

STYLES = ("classic", "clonevest", "segnals")
POSITIONS = ("top", "center", "bottom")
TEXT_TRANSFORMS = ("standard", "uppercase")

# Word timing weights, in "characters": every word costs its length plus a constant (short
# words still take time to say); punctuation adds a pause after the word.
WORD_WEIGHT = 2.0
CLAUSE_PAUSE = 3.0  # after , ; : and dashes
SENTENCE_PAUSE = 6.0  # after . ! ? and ellipses
_SENTENCE_END = ("...", ".", "!", "?", "…", "。", "！", "？")
_CLAUSE_END = (",", ";", ":", "—", "–", "-", "，", "、")
# A group's caption stays up over a gap shorter than this, instead of blinking off.
HOLD_GAP = 0.6
SEGNALS_WORDS = 3

# ASS colours are &HAABBGGRR.
WHITE, BLACK = "&H00FFFFFF", "&H00000000"
HIGHLIGHT_TAG = "&H00FFFF&"  # yellow, as an override value (&HBBGGRR&)
ACCENT = "&H00FFD800"  # cyan (#00D8FF)
BOX = "&H00141414"
_WORD_JOINER = "\u2060"
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x85\u2028\u2029]+")


# Chinese and Japanese are written without spaces: each character is a word for timing and
# highlighting, and no space is put back between them (Korean separates its words by spaces).
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f"
                       r"\uff01-\uff60]")
_UNSPACED_PUNCTUATION = "。、，！？：；」』）〕】》〉・…ー〜"


def tokens(text: str) -> list[str]:
    """The words of `text`: split at spaces, and each Chinese or Japanese character a word of
    its own (with the punctuation that follows it)."""
    words: list[str] = []
    for chunk in text.split():
        run = ""
        for char in chunk:
            unspaced = bool(_UNSPACED.match(char))
            if unspaced and char not in _UNSPACED_PUNCTUATION:
                if run:
                    words.append(run)
                run = char
            elif unspaced:  # punctuation stays with what it follows
                run += char
            else:
                if run and _UNSPACED.match(run[-1]):
                    words.append(run)
                    run = ""
                run += char
        if run:
            words.append(run)
    return words


def _separator(before: str, after: str) -> str:
    return "" if _UNSPACED.match(before[-1:]) and _UNSPACED.match(after[:1]) else " "


def join_words(texts: list[str], shown: list[str] | None = None) -> str:
    """`shown` (default: `texts`) joined as the text reads: spaces between words, none
    between two Chinese or Japanese characters. The spacing is decided on `texts`, so `shown` may
    carry markup."""
    shown = texts if shown is None else shown
    if not shown:
        return ""
    parts = [shown[0]]
    for i in range(1, len(shown)):
        parts += [_separator(texts[i - 1], texts[i]), shown[i]]
    return "".join(parts)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


def spread_words(text: str, start: float, end: float) -> list[Word]:
    """The words of `text` with timings spread over [start, end]: each word gets time in
    proportion to its length plus WORD_WEIGHT, and a word ending a clause or a sentence is
    followed by a silent pause. The first word starts at `start`, the last ends at `end`."""
    if end <= start:
        raise ValueError("a line needs end > start")
    parts = tokens(text)
    if not parts:
        return []
    pauses = [_pause_after(token) for token in parts[:-1]] + [0.0]
    total = sum(len(t) + WORD_WEIGHT for t in parts) + sum(pauses)
    unit = (end - start) / total
    words, at = [], start
    for token, pause in zip(parts, pauses, strict=True):
        length = (len(token) + WORD_WEIGHT) * unit
        words.append(Word(token, at, at + length))
        at += length + pause * unit
    # Float sums drift by a few ulps; the contract is that the last word ends at `end`.
    words[-1] = Word(words[-1].text, words[-1].start, end)
    return words


def _pause_after(token: str) -> float:
    if token.endswith(_SENTENCE_END):
        return SENTENCE_PAUSE
    if token.endswith(_CLAUSE_END):
        return CLAUSE_PAUSE
    return 0.0


def group_lines(words: list[Word], max_chars: int) -> list[list[Word]]:
    """Caption groups: words in order, a new group after each sentence end and before a word
    that would make the group's text (words joined by spaces) longer than `max_chars`. A word
    longer than `max_chars` is a group of its own."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    groups: list[list[Word]] = []
    current: list[Word] = []
    length = 0
    for word in words:
        if current and length + 1 + len(word.text) > max_chars:
            groups.append(current)
            current, length = [], 0
        length += len(word.text) + (1 if current else 0)
        current.append(word)
        if word.text.endswith(_SENTENCE_END):
            groups.append(current)
            current, length = [], 0
    if current:
        groups.append(current)
    return groups


def escape_ass_text(text: str) -> str:
    """User text as literal ASS dialogue text: one line, no override blocks, no escapes."""
    text = _LINE_BREAKS.sub(" ", clean_text(text))
    text = text.replace("\\", "\\" + _WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}")


# --- ASS ---------------------------------------------------------------------------------------

_STYLE_FIELDS = ("Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
                 "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
                 "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, "
                 "Encoding")
_EVENT_FIELDS = "Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"


def _ass_time(seconds: float) -> str:
    centis = max(0, round(seconds * 100))
    h, rest = divmod(centis, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _style_lines(style: str, *, width: int, height: int, position: str,
                 band: tuple[int, int] | None = None) -> list[str]:
    base = min(width, height)
    alignment = {"top": 8, "center": 5, "bottom": 2}[position]
    margin_v = {"top": round(height * 0.10), "center": 0,
                "bottom": round(height * 0.14)}[position]
    if band is not None:  # sit on the band's lower edge (a frame template's free space)
        alignment, margin_v = 2, max(0, height - band[1])
    margin_h = round(width * 0.06)

    def line(name, size, primary, outline, back, bold, border, thickness, shadow) -> str:
        fields = [name, "DejaVu Sans", size, primary, primary, outline, back,
                  -1 if bold else 0, 0, 0, 0, 100, 100, 0, 0, border, thickness, shadow,
                  alignment, margin_h, margin_h, margin_v, 1]
        return "Style: " + ",".join(str(f) for f in fields)

    if style == "classic":
        size = round(base * 0.065)
        return [line("Default", size, WHITE, BLACK, "&H80000000", False, 1,
                     max(1, round(size * 0.08)), 0)]
    if style == "clonevest":
        size = round(base * 0.09)
        return [line("Default", size, WHITE, BLACK, "&HA0000000", True, 1,
                     max(2, round(size * 0.12)), max(1, round(size * 0.05)))]
    # segnals: the box (text drawn transparent, edges blurred) under crisp text.
    size = round(base * 0.08)
    return [line("Box", size, "&HFF000000", BOX, BOX, True, 3, max(2, round(size * 0.3)), 0),
            line("Default", size, ACCENT, BLACK, BLACK, True, 1, 0, 0)]


def _spans(groups: list[list[Word]]) -> list[tuple[float, float]]:
    """When each group is on screen: its words' span, held over a short gap to the next."""
    spans = []
    for n, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        if n + 1 < len(groups):
            following = groups[n + 1][0].start
            if 0 <= following - end < HOLD_GAP:
                end = following
        spans.append((start, max(end, start + 0.04)))
    return spans


def _dialogue(start: float, end: float, text: str, *, layer: int = 1,
              style: str = "Default") -> str:
    return f"Dialogue: {layer},{_ass_time(start)},{_ass_time(end)},{style},,0,0,0,,{text}"


def _events(style: str, groups: list[list[Word]], texts: list[list[str]], *,
            blur: int) -> list[str]:
    lines = []
    for (start, end), words, shown in zip(_spans(groups), groups, texts, strict=True):
        raw = [w.text for w in words]
        if style == "classic":
            lines.append(_dialogue(start, end, join_words(raw, shown)))
        elif style == "clonevest":
            for i in range(len(words)):
                at = start if i == 0 else words[i].start
                until = end if i + 1 == len(words) else words[i + 1].start
                phrase = [f"{{\\1c{HIGHLIGHT_TAG}}}{t}{{\\r}}" if k == i else t
                          for k, t in enumerate(shown)]
                lines.append(_dialogue(at, max(until, at + 0.01), join_words(raw, phrase)))
        else:
            for i in range(0, len(words), SEGNALS_WORDS):
                at = start if i == 0 else words[i].start
                nxt = i + SEGNALS_WORDS
                until = end if nxt >= len(words) else words[nxt].start
                text = join_words(raw[i:nxt], shown[i:nxt])
                until = max(until, at + 0.01)
                lines.append(_dialogue(at, until, f"{{\\blur{blur}}}{text}", layer=0,
                                       style="Box"))
                lines.append(_dialogue(at, until, text))
    return lines


def write_ass(groups: list[list[Word]], path: Path, *, style: str, width: int, height: int,
              text_transform: str = "standard", position: str = "bottom",
              band: tuple[int, int] | None = None) -> Path:
    """Write the caption groups as an ASS file in one of STYLES (see the module docstring)
    for a width x height video; returns `path`. `band` (top, bottom pixel rows), when given,
    replaces `position`: the captions sit on its lower edge. Word texts are escaped with
    `escape_ass_text`; empty groups are skipped. ValueError for an unknown style, position or
    text transform."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    if position not in POSITIONS:
        raise ValueError(f"position must be one of {', '.join(POSITIONS)}")
    if text_transform not in TEXT_TRANSFORMS:
        raise ValueError(f"text_transform must be one of {', '.join(TEXT_TRANSFORMS)}")
    groups = [group for group in groups if group]
    texts = [[escape_ass_text(w.text.upper() if text_transform == "uppercase" else w.text)
              for w in group] for group in groups]
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 0", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]", f"Format: {_STYLE_FIELDS}",
        *_style_lines(style, width=width, height=height, position=position, band=band), "",
        "[Events]", f"Format: {_EVENT_FIELDS}",
    ]
    blur = max(1, round(min(width, height) * 0.006))
    events = _events(style, groups, texts, blur=blur)
    path.write_text("\n".join(header + events) + "\n", encoding="utf-8")
    return path


def write_srt(groups: list[list[Word]], path: Path) -> Path:
    """Write the caption groups as SRT cues (one per group, shown as in the ASS file);
    returns `path`."""
    groups = [group for group in groups if group]
    cues = [Cue(start, end, clean_cue_text(join_words([w.text for w in group])))
            for (start, end), group in zip(_spans(groups), groups, strict=True)]
    path.write_text(format_srt([cue for cue in cues if cue.text]), encoding="utf-8")
    return path
