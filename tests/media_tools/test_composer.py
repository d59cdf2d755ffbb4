import itertools
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


# --- stories: cover fit, stills with motion, template frames, sound effects, pass-through ---

def frame_rgb(video: Path, seconds: float) -> tuple[bytes, int, int]:
    """The whole frame shown at `seconds` as RGB bytes, with its width and height."""
    info = next(s for s in probe(video)["streams"] if s["codec_type"] == "video")
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", f"{seconds}",
                          "-i", str(video), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True, timeout=60).stdout
    return raw, info["width"], info["height"]


def rgb_at(frame: tuple[bytes, int, int], x: int, y: int) -> tuple[int, int, int]:
    raw, width, _height = frame
    at = (y * width + x) * 3
    return raw[at], raw[at + 1], raw[at + 2]


def lavfi_file(path: Path, *sources: str, seconds: float | None = None) -> Path:
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    for source in sources:
        args += ["-f", "lavfi", "-i", source]
    if any(s.startswith(("testsrc", "color")) for s in sources):
        args += ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if seconds is not None:
        args += ["-t", str(seconds)]
    subprocess.run([*args, str(path)], check=True, timeout=60)
    return path


def rms(video: Path, start: float, end: float, *, lowpass: int | None = None) -> float:
    """The RMS level (0-1) of the sound between start and end, optionally low-passed so that
    only a low tone counts; decoded by ffmpeg to 16-bit mono and measured here."""
    import array
    import math

    chain = "aformat=channel_layouts=mono"
    if lowpass:
        chain = f"lowpass=f={lowpass},lowpass=f={lowpass},lowpass=f={lowpass}," + chain
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(video),
                          "-vn", "-af", chain, "-ar", "8000", "-f", "s16le", "-"],
                         capture_output=True, check=True, timeout=60).stdout
    samples = array.array("h", raw)
    window = samples[int(start * 8000):int(end * 8000)]
    return math.sqrt(sum(s * s for s in window) / max(1, len(window))) / 32768


def test_cover_fills_a_portrait_frame_where_contain_leaves_bars(tmp_path):
    wide = lavfi_file(tmp_path / "wide.mp4", "color=c=0x2060e0:size=320x180:rate=24:d=1")
    for fit in ("cover", "contain"):
        timeline = Timeline(width=180, height=320, fps=24, clips=[
            Clip(wide, duration=1.0, has_audio=False, fit=fit)])
        compose(timeline, tmp_path / f"{fit}.mp4")
        frame = frame_rgb(tmp_path / f"{fit}.mp4", 0.5)
        assert frame[1:] == (180, 320)
        top = rgb_at(frame, 90, 10)
        if fit == "cover":
            assert top[2] > 180  # the footage reaches the top edge
        else:
            assert max(top) < 30  # a black bar above the letterboxed footage


def still(path: Path, size=(480, 360)) -> Path:
    """A dim gradient picture with dark rings round its centre and one bright vertical line
    at three quarters of its width."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size)
    image.putdata([(x * 120 // width, y * 120 // height, 60) for y in range(height)
                   for x in range(width)])
    draw = ImageDraw.Draw(image)
    for r in range(8, min(size) // 2, 16):
        draw.ellipse([width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r],
                     outline=(0, 0, 0), width=3)
    x = width * 3 // 4
    draw.rectangle([x, 0, x + 3, height], fill=(255, 255, 255))
    image.save(path)
    return path


@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out", "pan_left", "pan_right"])
def test_a_still_with_camera_motion_moves_for_exactly_its_duration(tmp_path, motion):
    timeline = Timeline(width=180, height=320, fps=24, clips=[
        Clip(still(tmp_path / "still.png"), kind="image", duration=1.5, motion=motion,
             fit="cover")])
    total = compose(timeline, tmp_path / "still.mp4")
    info = probe(tmp_path / "still.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (180, 320)
    assert total == 1.5 and float(info["format"]["duration"]) == pytest.approx(1.5, abs=0.1)
    assert frame_rgb(tmp_path / "still.mp4", 0)[0] != frame_rgb(tmp_path / "still.mp4", 1.45)[0]


def line_positions(video: Path, *, width: int, row: int) -> list[float]:
    """Per frame, the brightness-weighted x of the light line in one row."""
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(video),
                          "-vf", f"format=gray,crop={width}:2:0:{row}", "-f", "rawvideo",
                          "-"], capture_output=True, check=True, timeout=60).stdout
    positions = []
    for start in range(0, len(raw), 2 * width):
        values = [v if v > 128 else 0 for v in raw[start:start + width]]
        positions.append(sum(i * v for i, v in enumerate(values)) / max(1, sum(values)))
    return positions


def test_a_slow_zoom_moves_every_edge_one_way_without_jitter(tmp_path):
    timeline = Timeline(width=360, height=640, fps=24, clips=[
        Clip(still(tmp_path / "still.png", size=(720, 1280)), kind="image", duration=2.0,
             motion="zoom_in", fit="cover")])
    compose(timeline, tmp_path / "zoom.mp4")
    xs = line_positions(tmp_path / "zoom.mp4", width=360, row=320)
    assert len(xs) == 48 and xs[-1] - xs[0] > 5
    # Compression noise moves the centroid by a few hundredths; a rounding jitter by ~1 px.
    assert all(b - a > -0.2 for a, b in itertools.pairwise(xs))


def test_a_clip_in_a_template_window_sits_under_the_frame(tmp_path):
    from PIL import Image, ImageDraw

    frame = tmp_path / "frame.png"
    image = Image.new("RGBA", (180, 320), (220, 30, 30, 255))
    ImageDraw.Draw(image).rectangle([20, 40, 159, 199], fill=(0, 0, 0, 0))
    image.save(frame)
    blue = lavfi_file(tmp_path / "blue.mp4", "color=c=0x2040ff:size=320x180:rate=24:d=1")
    timeline = Timeline(width=180, height=320, fps=24, clips=[
        Clip(blue, duration=1.0, has_audio=False, fit="cover", window=(20, 40, 140, 160),
             frame=frame)])
    compose(timeline, tmp_path / "framed.mp4")
    shot = frame_rgb(tmp_path / "framed.mp4", 0.5)
    inside, outside = rgb_at(shot, 90, 120), rgb_at(shot, 90, 260)
    assert inside[2] > 200 and inside[0] < 80  # the clip shows through the window
    assert outside[0] > 180 and outside[2] < 80  # the frame covers the rest


def test_a_window_outside_the_frame_is_refused(tmp_path):
    timeline = Timeline(width=180, height=320, fps=24, clips=[
        Clip(Path("a.mp4"), duration=1.0, window=(100, 0, 100, 100))])
    with pytest.raises(ValueError):
        build_command(timeline, tmp_path / "x.mp4")


def test_a_sound_effect_plays_from_its_start_and_not_before(tmp_path):
    silent = lavfi_file(tmp_path / "grey.mp4", "color=c=gray:size=64x48:rate=24:d=2")
    beep = lavfi_file(tmp_path / "beep.wav", "sine=frequency=1000:duration=0.4")
    timeline = Timeline(width=64, height=48, fps=24, clips=[
        Clip(silent, duration=2.0, has_audio=False)],
        audio=[AudioTrack(beep, role="sfx", start=1.0, volume=1.0, loop=True)])
    compose(timeline, tmp_path / "sfx.mp4")
    assert rms(tmp_path / "sfx.mp4", 0.1, 0.9) < 0.005
    assert rms(tmp_path / "sfx.mp4", 1.05, 1.35) > 0.05
    assert rms(tmp_path / "sfx.mp4", 1.6, 1.95) < 0.005  # not looped


def test_music_is_pushed_down_under_narration_and_comes_back_in_pauses(tmp_path):
    silent = lavfi_file(tmp_path / "grey.mp4", "color=c=gray:size=64x48:rate=24:d=4")
    # Narration: a 1 kHz "voice" for one second, then a second of silence, twice.
    voice = lavfi_file(tmp_path / "voice.wav",
                       "aevalsrc=0.5*sin(2*PI*1000*t)*lt(mod(t\\,2)\\,1):d=4:s=48000")
    music = lavfi_file(tmp_path / "music.wav", "sine=frequency=150:duration=1.5")
    timeline = Timeline(width=64, height=48, fps=24, clips=[
        Clip(silent, duration=4.0, has_audio=False)], audio=[
        AudioTrack(voice, role="narration"),
        AudioTrack(music, role="music", loop=True, volume=1.0, fade_out=0.2)])
    compose(timeline, tmp_path / "ducked.mp4")
    under_speech = rms(tmp_path / "ducked.mp4", 0.4, 0.9, lowpass=300)
    in_pause = rms(tmp_path / "ducked.mp4", 1.55, 1.95, lowpass=300)
    assert in_pause > 0.03  # audible between sentences
    assert in_pause > 2 * under_speech


def test_clips_that_match_the_output_skip_scaling_and_keep_size_and_length(tmp_path):
    stereo = "sine=frequency=440:duration={}:sample_rate=48000,pan=stereo|c0=c0|c1=c0"
    a = lavfi_file(tmp_path / "a.mp4", "testsrc2=size=320x180:rate=30:d=1.5", stereo.format(1.5))
    b = lavfi_file(tmp_path / "b.mp4", "testsrc2=size=320x180:rate=30:d=1", stereo.format(1))
    hints = {"width": 320, "height": 180, "fps": 30.0, "sample_rate": 48000, "channels": 2}
    hinted = [Clip(a, duration=1.5, transition="crossfade", **hints),
              Clip(b, duration=1.0, **hints)]
    args, _total = build_command(Timeline(width=320, height=180, fps=30, clips=hinted),
                                 tmp_path / "fast.mp4")
    graph = args[args.index("-filter_complex") + 1]
    assert "scale=" not in graph and ",pad=" not in graph and "aresample" not in graph
    plain = [Clip(a, duration=1.5, transition="crossfade"), Clip(b, duration=1.0)]
    for name, clips in (("fast", hinted), ("plain", plain)):
        compose(Timeline(width=320, height=180, fps=30, clips=clips), tmp_path / f"{name}.mp4")
    fast, slow = probe(tmp_path / "fast.mp4"), probe(tmp_path / "plain.mp4")
    for info in (fast, slow):
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"], video["avg_frame_rate"]) == (320, 180, "30/1")
    assert float(fast["format"]["duration"]) == pytest.approx(
        float(slow["format"]["duration"]), abs=0.03)
    assert float(fast["format"]["duration"]) == pytest.approx(2.0, abs=0.1)


def test_merge_passes_matching_videos_through_with_the_same_result(tmp_path):
    from media_tools.operations import Runner, merge

    clips = [lavfi_file(tmp_path / f"{n}.mp4", "testsrc2=size=320x180:rate=30:d=1",
                        "sine=frequency=440:duration=1") for n in "ab"]
    result = merge(clips, tmp_path / "merged.mp4", runner=Runner())
    info = probe(tmp_path / "merged.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], result["fps"]) == (320, 180, 30)
    assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.1)


def test_a_looped_clip_covers_a_range_longer_than_its_source(tmp_path):
    short = clip_file(tmp_path, "short", size="160x96", fps=12, seconds=1.0, audio=False)
    timeline = Timeline(width=160, height=96, fps=12, clips=[
        Clip(path=short, start=0.5, end=3.5, duration=1.0, has_audio=False, loop=True)])
    out = tmp_path / "looped.mp4"
    compose(timeline, out)
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert float(video["duration"]) == pytest.approx(3.0, abs=0.1)
