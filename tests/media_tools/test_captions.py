import itertools
import re
import subprocess
from pathlib import Path

import pytest

from media_tools.captions import (
    STYLES,
    Word,
    escape_ass_text,
    group_lines,
    join_words,
    spread_words,
    tokens,
    write_ass,
    write_srt,
)
from media_tools.composer import Clip, Timeline, compose
from media_tools.subtitles import parse_srt

HOSTILE = "{\\pos(0,0)\\fs200}hi \\N x\\\\y {}"
OUR_TAGS = re.compile(r"\{\\1c&H00FFFF&\}|\{\\r\}|\{\\blur\d+\}")


def dialogues(path: Path) -> list[list[str]]:
    """The Dialogue lines of an ASS file, split into their ten fields."""
    return [line.split(": ", 1)[1].split(",", 9)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("Dialogue:")]


def seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_spread_words_fill_the_line_in_order_with_more_time_for_longer_words():
    words = spread_words("a extraordinary day", 1.0, 4.0)
    assert [w.text for w in words] == ["a", "extraordinary", "day"]
    assert words[0].start == 1.0 and words[-1].end == 4.0
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))
    durations = [w.end - w.start for w in words]
    assert durations[1] > durations[2] > durations[0] > 0


def test_punctuation_leaves_a_pause_and_a_sentence_end_a_longer_one():
    words = spread_words("One, two. three four", 0.0, 10.0)
    after_comma = words[1].start - words[0].end
    after_period = words[2].start - words[1].end
    assert words[3].start - words[2].end == pytest.approx(0.0, abs=1e-9)
    assert after_period > after_comma > 0


def test_spread_words_of_blank_text_is_empty_and_a_reversed_span_is_refused():
    assert spread_words("   \n ", 0.0, 1.0) == []
    with pytest.raises(ValueError):
        spread_words("hello", 2.0, 2.0)


def test_groups_break_at_sentence_ends_and_before_going_over_max_chars():
    words = spread_words("Short one. This sentence is a little longer than that", 0.0, 8.0)
    groups = [" ".join(w.text for w in g) for g in group_lines(words, 16)]
    assert groups == ["Short one.", "This sentence is", "a little longer", "than that"]
    assert all(len(g) <= 16 for g in groups)


def test_a_word_longer_than_max_chars_is_a_group_of_its_own():
    words = [Word("hi", 0, 1), Word("supercalifragilistic", 1, 2), Word("yo", 2, 3)]
    assert [[w.text for w in g] for g in group_lines(words, 8)] == [
        ["hi"], ["supercalifragilistic"], ["yo"]]


@pytest.mark.parametrize("style", STYLES)
def test_the_ass_file_is_sized_to_the_output_and_uses_dejavu(tmp_path, style):
    groups = group_lines(spread_words("Hello there world. Second line here", 0.5, 4.0), 20)
    path = write_ass(groups, tmp_path / "c.ass", style=style, width=1080, height=1920)
    text = path.read_text(encoding="utf-8")
    assert "PlayResX: 1080" in text and "PlayResY: 1920" in text
    assert "Style: Default,DejaVu Sans," in text
    events = dialogues(path)
    assert events and seconds(events[0][1]) == 0.5
    assert max(seconds(e[2]) for e in events) == pytest.approx(4.0, abs=0.01)


def test_the_three_styles_have_their_own_look(tmp_path):
    words = spread_words("one two three four five six", 0.0, 3.0)
    files = {s: write_ass([words], tmp_path / f"{s}.ass", style=s, width=1080, height=1920)
             for s in STYLES}
    classic, clonevest, segnals = (dialogues(files[s]) for s in STYLES)
    assert len(classic) == 1 and classic[0][9] == "one two three four five six"
    # clonevest: the whole phrase once per word, the spoken word in yellow.
    assert len(clonevest) == 6
    assert clonevest[2][9] == "one two {\\1c&H00FFFF&}three{\\r} four five six"
    # segnals: three words at a time, an opaque box layer (BorderStyle 3) under the text.
    box = next(line for line in files["segnals"].read_text().splitlines()
               if line.startswith("Style: Box,"))
    assert box.split(",")[15] == "3"
    texts = [e[9] for e in segnals if e[3] == "Default"]
    assert texts == ["one two three", "four five six"]
    assert {e[0] for e in segnals} == {"0", "1"}


def test_uppercase_and_position_change_the_text_and_the_alignment(tmp_path):
    words = spread_words("quiet words", 0.0, 1.0)
    path = write_ass([words], tmp_path / "c.ass", style="classic", width=320, height=568,
                     text_transform="uppercase", position="top")
    style = next(line for line in path.read_text().splitlines() if line.startswith("Style:"))
    assert style.split(",")[18] == "8"  # top centre
    assert dialogues(path)[0][9] == "QUIET WORDS"
    centre = write_ass([words], tmp_path / "m.ass", style="classic", width=320, height=568,
                       position="center")
    style = next(line for line in centre.read_text().splitlines() if line.startswith("Style:"))
    assert style.split(",")[18] == "5"


def test_unknown_style_position_or_transform_is_refused(tmp_path):
    words = [spread_words("x", 0, 1)]
    for bad in ({"style": "comic"}, {"style": "classic", "position": "left"},
                {"style": "classic", "text_transform": "leet"}):
        with pytest.raises(ValueError):
            write_ass(words, tmp_path / "x.ass", width=320, height=568, **bad)


def test_escaped_text_has_no_override_block_and_no_escape_sequence():
    escaped = escape_ass_text(HOSTILE + "\nnext\r\nline\u2028end")
    assert "\n" not in escaped and "\r" not in escaped and "\u2028" not in escaped
    assert not re.search(r"(?<!\\)[{}]", escaped)  # every brace is \{ or \}
    assert not re.search(r"\\[Nnh]", escaped)
    assert "pos(0,0)" in escaped and "x" in escaped


@pytest.mark.parametrize("style", STYLES)
def test_hostile_text_cannot_add_tags_or_lines_to_the_file(tmp_path, style):
    words = spread_words(HOSTILE + "\nDialogue: 0,0:00:00.00,9:00:00.00,Default,,0,0,0,,owned",
                         0.0, 3.0)
    path = write_ass([words], tmp_path / "h.ass", style=style, width=320, height=568)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(line.startswith("Dialogue: 0,") or line.startswith("Dialogue: 1,")
               for line in lines if "Dialogue" in line)
    assert len([line for line in lines if line.startswith("Dialogue:")]) == {
        "classic": 1, "clonevest": len(words), "segnals": 2 * -(-len(words) // 3)}[style]
    for event in dialogues(path):
        text = OUR_TAGS.sub("", event[9])
        assert not re.search(r"(?<!\\)[{}]", text)
        assert not re.search(r"\\[Nnh]", text)


def test_any_unicode_survives_into_the_ass_and_srt_files(tmp_path):
    words = spread_words("Café über 中文 ✓", 0.0, 2.0)
    ass = write_ass([words], tmp_path / "u.ass", style="clonevest", width=320, height=568)
    assert "Café" in ass.read_text(encoding="utf-8")
    assert "中文" in ass.read_text(encoding="utf-8")
    srt = write_srt([words], tmp_path / "u.srt")
    (cue,) = parse_srt(srt.read_text(encoding="utf-8"))
    assert cue.text == "Café über 中文 ✓" and cue.start == 0.0 and cue.end == 2.0


def test_chinese_and_japanese_are_timed_and_highlighted_character_by_character(tmp_path):
    assert tokens("東京は眠らない街です。") == ["東", "京", "は", "眠", "ら", "な", "い", "街",
                                            "で", "す。"]
    assert tokens("Episode 3: 东京，夜晚！ OK") == ["Episode", "3:", "东", "京，", "夜", "晚！",
                                                "OK"]
    assert tokens("한국어 텍스트입니다.") == ["한국어", "텍스트입니다."]  # Korean uses spaces
    text = "東京は眠らない街です。"
    words = spread_words(text, 1.0, 3.0)
    assert len(words) == 10 and words[0].start == 1.0 and words[-1].end == 3.0
    assert join_words([w.text for w in words]) == text  # no spaces put in
    assert join_words(tokens("Episode 3: 东京，夜晚！ OK")) == "Episode 3: 东京，夜晚！ OK"
    write_srt([words], tmp_path / "c.srt")
    assert parse_srt((tmp_path / "c.srt").read_text())[0].text == text
    write_ass([words], tmp_path / "c.ass", style="clonevest", width=480, height=854)
    events = [line for line in (tmp_path / "c.ass").read_text().splitlines()
              if line.startswith("Dialogue:")]
    assert len(events) == 10  # one per character as it is spoken
    assert events[1].endswith("東{\\1c&H00FFFF&}京{\\r}は眠らない街です。")


def test_srt_has_one_cue_per_group_without_markup(tmp_path):
    groups = group_lines(spread_words("First part. {\\b1}Second part", 0.0, 4.0), 30)
    cues = parse_srt(write_srt(groups, tmp_path / "c.srt").read_text(encoding="utf-8"))
    assert [c.text for c in cues] == ["First part.", "Second part"]
    assert cues[0].end <= cues[1].start


# --- burned in by the composer -------------------------------------------------------------

W, H = 320, 568
BAND = range(int(H * 0.55), H)  # rows where bottom captions sit


@pytest.fixture(scope="module")
def dark_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "dark.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=0x181820:size={W}x{H}:rate=24:d=1.5", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


def render(clip: Path, out: Path, subtitles: Path | None) -> list[tuple[int, int, int]]:
    """Compose the dark clip (with the subtitles burned in) and return the caption band's
    pixels at 0.6 s."""
    compose(Timeline(width=W, height=H, fps=24, clips=[
        Clip(clip, duration=1.5, has_audio=False)], subtitles=subtitles), out)
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", "0.6", "-i",
                          str(out), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True, timeout=60).stdout
    start, end = BAND.start * W * 3, BAND.stop * W * 3
    band = raw[start:end]
    return [tuple(band[i:i + 3]) for i in range(0, len(band), 3)]


@pytest.fixture(scope="module")
def plain_band(dark_clip, tmp_path_factory):
    return render(dark_clip, tmp_path_factory.mktemp("plain") / "plain.mp4", None)


@pytest.mark.parametrize("style", STYLES)
def test_each_style_burns_visible_captions_into_the_lower_band(tmp_path, dark_clip,
                                                                plain_band, style):
    words = spread_words("Tiny bright words", 0.0, 1.5)
    ass = write_ass([words], tmp_path / "c.ass", style=style, width=W, height=H)
    band = render(dark_clip, tmp_path / "c.mp4", ass)
    changed = sum(1 for a, b in zip(band, plain_band, strict=True)
                  if max(abs(x - y) for x, y in zip(a, b, strict=True)) > 60)
    assert changed > 300
    yellow = sum(1 for r, g, b in band if r > 180 and g > 180 and b < 90)
    if style == "clonevest":
        assert yellow > 30  # the word being spoken
    else:
        assert yellow == 0


def test_hostile_text_renders_as_plain_text_of_normal_size(tmp_path, dark_clip, plain_band):
    ass = write_ass([spread_words(HOSTILE, 0.0, 1.5)], tmp_path / "h.ass", style="classic",
                    width=W, height=H)
    band = render(dark_clip, tmp_path / "h.mp4", ass)
    rows = {i // W for i, (a, b) in enumerate(zip(band, plain_band, strict=True))
            if max(abs(x - y) for x, y in zip(a, b, strict=True)) > 60}
    # \fs200 would draw letters taller than the band; \pos(0,0) would move them out of it.
    assert rows and max(rows) - min(rows) < 60


def test_text_without_glyphs_in_dejavu_still_renders(tmp_path, dark_clip):
    ass = write_ass([spread_words("中文 é ü", 0.0, 1.5)], tmp_path / "cjk.ass",
                    style="segnals", width=W, height=H)
    band = render(dark_clip, tmp_path / "cjk.mp4", ass)
    assert len(band) == len(BAND) * W
