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


@pytest.mark.parametrize(("kind", "text"), [
    ("prose", "Bees visit flowers all day long, and they carry pollen from plant to plant. "
              "Without them many fruits would never grow. " * 3),
    ("no spaces", ",".join(["hello"] * 120)),
    ("digits", " ".join(str(123456789 + i) for i in range(15))),
    ("chinese", "蜜蜂整天采花，把花粉从一株植物带到另一株植物。"),
    ("long words", "internationalization characterization " * 12),
])
def test_the_estimate_reserved_before_speaking_is_never_below_the_speech(tmp_path, kind, text):
    from engines.espeak import estimate_seconds

    for speed in (1.0, 1.5):
        spoken = duration(synthesize(text, voice="en_us_male", target=tmp_path / "s.wav",
                                     speed=speed))
        estimate = estimate_seconds(text, speed=speed)
        assert spoken <= estimate, kind
        if kind == "prose":  # close enough that ordinary text does not reserve far too much
            assert estimate < spoken * 1.5
