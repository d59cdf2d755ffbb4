"""Local text-to-speech with espeak-ng: the default voices, no network, no GPU.

The four contract voices map to espeak-ng voices with a male or female variant. Speech is
written as WAV by espeak-ng (text on stdin, never on the command line) and then encoded by
the caller. Word timings are not available from espeak-ng; callers spread captions over the
measured speech instead.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engines.base import EngineError, EngineUnavailableError


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    language: str
    espeak: str  # espeak-ng voice with variant


VOICES = {
    "en_gb_male": Voice("en_gb_male", "British English — Male", "en-GB", "en-gb+m3"),
    "en_gb_female": Voice("en_gb_female", "British English — Female", "en-GB", "en-gb+f3"),
    "en_us_male": Voice("en_us_male", "American English — Male", "en-US", "en-us+m3"),
    "en_us_female": Voice("en_us_female", "American English — Female", "en-US", "en-us+f3"),
}
BASE_WPM = 165
MAX_CHARS = 20_000


def estimate_seconds(text: str, *, speed: float = 1.0) -> float:
    """An upper bound on how long `text` takes to speak, for reserving credits before the
    speech exists (the job then charges the measured length). Counted per character, since word
    counts miss text without spaces: about 11 Latin letters a second, up to 0.6 s a digit (long
    numbers are read as words), about 0.7 s a character of other scripts (CJK, ...); measured
    on espeak-ng at the base rate, with a tenth added."""
    seconds = 0.0
    for char in text:
        if char.isspace():
            continue
        if char.isdigit():
            seconds += 0.6
        elif char.isascii():
            seconds += 1 / 11 if char.isalpha() else 0.05
        else:
            seconds += 0.7 if char.isalpha() else 0.05
    return max(1.0, seconds * 1.1 / max(0.25, speed))


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, *, voice: str, target: Path, speed: float = 1.0,
               timeout: float = 120.0) -> Path:
    """Speak `text` into a WAV file at `target`; speed 0.5-2.0 scales the words per minute."""
    if not available():
        raise EngineUnavailableError("espeak-ng is not installed on this server.",
                                     code="engine_unavailable")
    if voice not in VOICES:
        raise EngineError(f"Unknown voice {voice!r}.", code="invalid_params")
    text = (text or "").strip()
    if not text:
        raise EngineError("There is no text to speak.", code="invalid_params")
    if len(text) > MAX_CHARS:
        raise EngineError(f"The text is longer than {MAX_CHARS} characters.",
                          code="invalid_params")
    speed = min(2.0, max(0.5, float(speed)))
    args = ["espeak-ng", "-v", VOICES[voice].espeak, "-s", str(round(BASE_WPM * speed)),
            "-w", str(target), "--stdin"]
    try:
        proc = subprocess.run(args, input=text.encode("utf-8"), capture_output=True,  # noqa: S603
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:  # run() has already killed espeak-ng
        raise EngineError("Speech synthesis took too long.", code="tts_timeout") from None
    if proc.returncode != 0 or not target.exists() or target.stat().st_size <= 44:
        raise EngineError("Speech synthesis failed: "
                          + proc.stderr.decode(errors="replace")[-300:], code="tts_failed")
    return target
