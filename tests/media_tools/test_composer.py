import json
import subprocess
from pathlib import Path

import pytest

from media_tools.composer import (
    AudioTrack,
    Caption,
    Clip,
    ImageOverlay,
    Timeline,
    build_command,
    compose,
    timeline_duration,
)
from tests.generation.media import make_png, make_wav


def clip_file(tmp: Path, name: str, *, size: str, fps: int, seconds: float, audio: bool) -> Path:
    path = tmp / f"{name}.mp4"
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=500:duration={seconds}"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", str(path)]
    subprocess.run(args, check=True, timeout=60)
    return path


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of",
                          "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run(args: list[str]) -> None:
    from engines.ffmpeg import run_ffmpeg

    run_ffmpeg(args, timeout=180)


@pytest.fixture
def clips(tmp_path):
    return [
        Clip(clip_file(tmp_path, "a", size="320x240", fps=25, seconds=2, audio=True),
             duration=2.0, transition="crossfade", transition_duration=0.5),
        Clip(clip_file(tmp_path, "b", size="640x360", fps=30, seconds=2, audio=False),
             duration=2.0, has_audio=False, transition="cut"),
        Clip(clip_file(tmp_path, "c", size="200x300", fps=12, seconds=3, audio=True),
             start=0.5, end=2.5, transition="wipe"),
    ]


def test_mixed_clips_become_one_file_of_the_expected_length(tmp_path, clips):
    timeline = Timeline(width=426, height=240, fps=24, clips=clips)
    args, total = build_command(timeline, tmp_path / "out.mp4")
    assert total == pytest.approx(2 + 2 + 2 - 0.5)
    run(args)
    info = probe(tmp_path / "out.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["width"], video["height"], video["avg_frame_rate"]) == (426, 240, "24/1")
    assert audio["sample_rate"] == "48000"
    assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.1)


@pytest.mark.parametrize("transition", ["cut", "fade", "crossfade", "wipe", "slide"])
def test_every_transition_renders(tmp_path, transition):
    a = clip_file(tmp_path, "a", size="160x120", fps=24, seconds=1.5, audio=True)
    b = clip_file(tmp_path, "b", size="160x120", fps=24, seconds=1.5, audio=True)
    timeline = Timeline(width=160, height=120, fps=24, clips=[
        Clip(a, duration=1.5, transition=transition, transition_duration=0.5),
        Clip(b, duration=1.5)])
    args, total = build_command(timeline, tmp_path / "t.mp4")
    run(args)
    assert float(probe(tmp_path / "t.mp4")["format"]["duration"]) == pytest.approx(total, abs=0.1)
    assert total == pytest.approx(3.0 if transition == "cut" else 2.5)


def test_captions_overlays_narration_and_ducked_music(tmp_path, clips):
    text = tmp_path / "caption.txt"
    text.write_text("It's 100% safe: 'quotes', \\backslashes\\, %{pts} and ünïcödé ✓")
    timeline = Timeline(
        width=320, height=240, fps=24, clips=clips,
        captions=[Caption(text_file=text, start=0.2, end=2.0, position="bottom")],
        overlays=[ImageOverlay(path=make_png((80, 40)), start=0, end=5.5, width=60)],
        audio=[AudioTrack(path=make_wav(seconds=2), role="narration", start=0.5),
               AudioTrack(path=make_wav(seconds=1), role="music", loop=True, volume=0.3)])
    args, total = build_command(timeline, tmp_path / "full.mp4")
    assert "%{pts}" not in " ".join(args)  # user text stays in the file, out of the graph
    run(args)
    assert float(probe(tmp_path / "full.mp4")["format"]["duration"]) == pytest.approx(
        total, abs=0.1)


def test_duration_accounts_for_each_overlap():
    clips = [Clip(Path("a"), duration=4, transition="crossfade", transition_duration=1),
             Clip(Path("b"), duration=4, transition="cut"),
             Clip(Path("c"), duration=0.6, transition="fade", transition_duration=1),
             Clip(Path("d"), duration=4)]
    # 4 + 4 + 0.6 + 4 - 1 (crossfade) - 0.3 (a fade can be at most half the shorter clip)
    assert timeline_duration(Timeline(width=2, height=2, fps=1, clips=clips)) == pytest.approx(
        11.3)


def test_odd_sizes_and_empty_timelines_are_refused(tmp_path):
    with pytest.raises(ValueError):
        build_command(Timeline(width=321, height=240, fps=24,
                               clips=[Clip(Path("a"), duration=1)]), tmp_path / "x.mp4")
    with pytest.raises(ValueError):
        build_command(Timeline(width=320, height=240, fps=24, clips=[]), tmp_path / "x.mp4")


def test_compose_reports_progress_to_the_end(tmp_path, clips):
    seen = []
    total = compose(Timeline(width=320, height=240, fps=24, clips=clips), tmp_path / "p.mp4",
                    progress=lambda fraction, stage: seen.append((fraction, stage)))
    assert seen and seen == sorted(seen) and seen[-1][0] == 1.0
    assert {stage for _, stage in seen} == {"compose"}
    assert float(probe(tmp_path / "p.mp4")["format"]["duration"]) == pytest.approx(total,
                                                                                   abs=0.1)


def solid_clip(tmp: Path, name: str, color: str, seconds: float = 2.0) -> Path:
    path = tmp / f"{name}.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c={color}:size=64x48:rate=24:duration={seconds}", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


def pixel_at(video: Path, seconds: float) -> tuple[int, int, int]:
    """The RGB colour at the centre of the frame shown at `seconds`."""
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", f"{seconds}",
                          "-i", str(video), "-frames:v", "1", "-vf", "crop=2:2:31:23",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True, timeout=60).stdout
    return raw[0], raw[1], raw[2]


def test_transitions_are_visible_where_expected(tmp_path):
    red, blue = solid_clip(tmp_path, "red", "red"), solid_clip(tmp_path, "blue", "blue")
    crossfade = Timeline(width=64, height=48, fps=24, clips=[
        Clip(red, duration=2.0, transition="crossfade", transition_duration=1.0,
             has_audio=False),
        Clip(blue, duration=2.0, has_audio=False)])
    compose(crossfade, tmp_path / "xf.mp4")
    # Red before the transition (1.0-2.0 s), a mix in its middle, blue after it.
    r, _g, b = pixel_at(tmp_path / "xf.mp4", 0.5)
    assert r > 200 and b < 60
    r, _g, b = pixel_at(tmp_path / "xf.mp4", 1.5)
    assert 60 < r < 200 and 60 < b < 200
    r, _g, b = pixel_at(tmp_path / "xf.mp4", 2.5)
    assert b > 200 and r < 60
    cut = Timeline(width=64, height=48, fps=24, clips=[Clip(red, duration=2.0, has_audio=False),
                                                       Clip(blue, duration=2.0,
                                                            has_audio=False)])
    compose(cut, tmp_path / "cut.mp4")
    assert pixel_at(tmp_path / "cut.mp4", 1.9)[0] > 200
    assert pixel_at(tmp_path / "cut.mp4", 2.1)[2] > 200
    fade = Timeline(width=64, height=48, fps=24, clips=[
        Clip(red, duration=2.0, transition="fade", transition_duration=1.0, has_audio=False),
        Clip(blue, duration=2.0, has_audio=False)])
    compose(fade, tmp_path / "fade.mp4")
    assert max(pixel_at(tmp_path / "fade.mp4", 1.5)) < 100  # through black, not a mix
