"""Text in any script is drawn with a font that has its characters, not as empty boxes."""

import subprocess

import pytest

from engines.ffmpeg import escape_filter_text, font_path
from engines.fonts import font_for_text


def drawn(text: str, font) -> bytes:
    """Raw grey pixels of `text` drawn by ffmpeg's drawtext with `font`."""
    graph = (f"color=c=black:s=320x64:r=1,drawtext=fontfile={escape_filter_text(str(font))}"
             f":text={escape_filter_text(text)}:expansion=none:fontsize=40:fontcolor=white:x=4:y=8")
    return subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", graph, "-frames:v", "1",
                           "-pix_fmt", "gray", "-f", "rawvideo", "-"],
                          capture_output=True, check=True).stdout


def test_latin_text_keeps_dejavu_sans():
    assert font_for_text('Quotes "x", colons: 100% and ümlauts') == font_path()


@pytest.mark.parametrize("pair", [("日本語", "本日語"), ("한국어", "국한어"), ("नमस्ते", "स्तेनम")])
def test_other_scripts_get_a_font_with_their_characters(pair):
    first, second = pair
    font = font_for_text(first)
    assert font != font_path()
    # Empty boxes look alike whatever the character; real glyphs differ.
    assert drawn(first, font) != drawn(second, font)
    assert drawn(first, font_path()) == drawn(second, font_path())  # what DejaVu alone draws


def test_mixed_text_gets_one_font_drawing_all_of_it():
    font = font_for_text("Episode 3: 东京")
    assert drawn("Episode 3: 东京", font) != drawn("Episode 3: 京东", font)
