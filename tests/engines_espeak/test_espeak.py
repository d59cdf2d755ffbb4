import json
import subprocess

import pytest

from engines.base import EngineError
from engines.espeak import VOICES, synthesize


def duration(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "json", str(path)], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout)["format"]["duration"])


@pytest.mark.parametrize("voice", sorted(VOICES))
def test_each_contract_voice_speaks(tmp_path, voice):
    path = synthesize("The quick brown fox jumps over the lazy dog.", voice=voice,
                      target=tmp_path / f"{voice}.wav")
    assert 1.0 < duration(path) < 6.0


def test_speed_changes_the_length(tmp_path):
    text = "Reelforge turns scripts into narrated videos on your own machines."
    slow = duration(synthesize(text, voice="en_us_female", target=tmp_path / "s.wav", speed=0.7))
    fast = duration(synthesize(text, voice="en_us_female", target=tmp_path / "f.wav", speed=1.6))
    assert slow > fast * 1.6


def test_text_is_never_an_option(tmp_path):
    path = synthesize("--version -w /tmp/pwned.wav", voice="en_gb_male",
                      target=tmp_path / "x.wav")
    assert duration(path) > 0.5


@pytest.mark.parametrize("text,voice", [("", "en_gb_male"), ("   ", "en_gb_male"),
                                        ("hello", "klingon"), ("x" * 20_001, "en_gb_male")])
def test_bad_requests_are_refused(tmp_path, text, voice):
    with pytest.raises(EngineError):
        synthesize(text, voice=voice, target=tmp_path / "x.wav")
