"""Subtitles: SRT in and out, cues from a transcript, and burning them into a video.

An SRT file is always parsed and written again by us before libass reads it, so what reaches
the renderer is cues we produced: no ASS override blocks (`{\\...}`), no markup, no file
names from users. The path of that file goes into the filtergraph through the escaper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engines import ffmpeg
from engines.base import EngineError
from media_tools.operations import (
    MP4,
    VIDEO_CODEC,
    Runner,
    audio_out,
    output_picture,
    probe_input,
)

MAX_CUES = 5000
MAX_CUE_CHARS = 500
# libass styles (ASS colours are &HAABBGGRR).
STYLES = {
    "default": "FontName=DejaVu Sans,FontSize=20,PrimaryColour=&H00FFFFFF,"
               "OutlineColour=&H00000000,BorderStyle=1,Outline=2,Shadow=0,MarginV=24",
    "bold-yellow": "FontName=DejaVu Sans,FontSize=24,Bold=1,PrimaryColour=&H0000FFFF,"
                   "OutlineColour=&H00000000,BorderStyle=1,Outline=3,Shadow=1,MarginV=28",
    "minimal": "FontName=DejaVu Sans,FontSize=16,PrimaryColour=&H00FFFFFF,"
               "BackColour=&H80000000,BorderStyle=3,Outline=1,Shadow=0,MarginV=16",
}

_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})")
_ARROW = re.compile(rf"^\s*{_TIME.pattern}\s*-->\s*{_TIME.pattern}")
_OVERRIDE = re.compile(r"\{[^}]*\}")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass
class Cue:
    start: float
    end: float
    text: str


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def clean_cue_text(text: str) -> str:
    """Plain text for a cue: control characters, ASS override blocks and HTML-like tags
    removed, at most 500 characters."""
    text = _TAG.sub("", _OVERRIDE.sub("", ffmpeg.clean_text(text)))
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)[:MAX_CUE_CHARS]


def parse_srt(content: str) -> list[Cue]:
    """The cues of an SRT document, in order; EngineError(invalid_params) when none."""
    cues: list[Cue] = []
    blocks = re.split(r"\n\s*\n", content.replace("\r\n", "\n").replace("\r", "\n").strip())
    for block in blocks:
        lines = block.split("\n")
        for index, line in enumerate(lines[:2]):
            match = _ARROW.match(line)
            if match:
                start = _seconds(*match.groups()[:4])
                end = _seconds(*match.groups()[4:])
                text = clean_cue_text("\n".join(lines[index + 1:]))
                if text and end > start:
                    cues.append(Cue(start, end, text))
                break
        if len(cues) > MAX_CUES:
            raise EngineError(f"More than {MAX_CUES} subtitles.", code="invalid_params")
    if not cues:
        raise EngineError("The file has no subtitles.", code="invalid_params")
    return cues


def format_srt(cues: list[Cue]) -> str:
    return "\n".join(f"{n}\n{timestamp(c.start)} --> {timestamp(c.end)}\n{c.text}\n"
                     for n, c in enumerate(cues, start=1))


def cues_from_transcript(segments: list[dict], *, max_chars: int = 84) -> list[Cue]:
    """Cues from transcription segments; long segments are split at word boundaries, with
    their time shared out by length, so that a cue fits on two short lines."""
    cues = []
    for segment in segments:
        text = clean_cue_text(segment.get("text", "")).replace("\n", " ")
        start, end = float(segment["start"]), float(segment["end"])
        if not text or end <= start:
            continue
        chunks, current = [], ""
        for word in text.split():
            if current and len(current) + 1 + len(word) > max_chars:
                chunks.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        chunks.append(current)
        total = sum(len(c) for c in chunks)
        at = start
        for chunk in chunks:
            span = (end - start) * len(chunk) / total
            cues.append(Cue(at, at + span, chunk))
            at += span
    return cues


def burn(src: Path, out: Path, *, cues: list[Cue], style: str, workdir: Path,
         runner: Runner, mark: bool = False) -> dict:
    """Render the cues onto the picture with libass in one of the named styles (then the
    watermark, with `mark`)."""
    if style not in STYLES:
        raise EngineError(f"style must be one of {', '.join(STYLES)}.", code="invalid_params")
    info = probe_input(src)
    srt = workdir / "burn.srt"
    srt.write_text(format_srt(cues), encoding="utf-8")
    graph = (f"subtitles=filename={ffmpeg.escape_filter_text(str(srt))}:charenc=UTF-8"
             f":force_style={ffmpeg.escape_filter_text(STYLES[style])}")
    extra, graph = output_picture(graph, mark=mark, out=out, width=info.width,
                                  height=info.height, index=1)
    runner.run([*ffmpeg.input_args(src, formats=ffmpeg.VIDEO_DEMUXERS), *extra,
                "-filter_complex", graph, "-map", "[v]", "-map", "0:a:0?", *VIDEO_CODEC,
                *audio_out(info), *MP4, str(out)], duration=info.duration, stage="burn")
    return {"style": style, "cues": len(cues)}
