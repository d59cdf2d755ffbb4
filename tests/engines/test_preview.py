"""The preview engine: real, exact, seeded media from every kind of request."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines.base import Canceled, EngineError, RenderRequest
from engines.ffmpeg import probe
from engines.preview import PreviewEngine
from tests.engines.media import (
    ROOT,
    ffmpeg_children,
    ffprobe_json,
    frame_rgb,
    is_running,
    make_audio,
    make_image,
    make_video,
    mean_color,
    process_identity,
    sha256,
    video_stream,
)

SIZE = {"width": 160, "height": 96}
RED, BLUE = (200, 30, 20), (20, 40, 210)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    return {
        "image": make_image(d / "first.png", size=(320, 240), color=RED),
        "jpeg": make_image(d / "first.jpg", size=(200, 200), color=RED),
        "last_image": make_image(d / "last.png", size=(320, 240), color=BLUE),
        "audio": make_audio(d / "voice.wav", seconds=2.0),
        "short_audio": make_audio(d / "short.wav", seconds=0.3),
        "video": make_video(d / "clip.mp4", size="200x120", seconds=0.5),
    }


class Recorder:
    """progress and is_canceled callbacks that remember what they saw."""

    def __init__(self):
        self.seen: list[tuple[float, str]] = []

    def progress(self, fraction: float, stage: str) -> None:
        self.seen.append((fraction, stage))

    @staticmethod
    def is_canceled() -> bool:
        return False


def render(tmp_path: Path, task: str, model: str, *, inputs: dict | None = None,
           engine: PreviewEngine | None = None, workdir: str = "job", **params):
    """Render and return (output, recorder)."""
    request = RenderRequest(task=task, model=model,
                            params={**SIZE, "frames": 12, "fps": 24, "seed": 7,
                                    "prompt": "a lighthouse in a storm", **params},
                            workdir=tmp_path / workdir, inputs=inputs or {})
    recorder = Recorder()
    outputs = (engine or PreviewEngine(timeout=60)).render(
        request, progress=recorder.progress, is_canceled=recorder.is_canceled)
    assert len(outputs) == 1
    return outputs[0], recorder


def assert_exact_video(path: Path, *, width: int, height: int, frames: int, fps: str) -> dict:
    stream = video_stream(path)
    assert (stream["width"], stream["height"]) == (width, height)
    assert stream["nb_read_frames"] == str(frames)
    assert stream["avg_frame_rate"] == fps and stream["r_frame_rate"] == fps
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    return stream


def close(color, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected, strict=True))


# --- video ------------------------------------------------------------------------------------

@pytest.mark.parametrize("width,height,frames,fps", [
    (160, 96, 12, 24), (96, 160, 17, 30), (128, 72, 24, 12),
])
def test_t2v_has_exactly_the_requested_size_frames_and_rate(tmp_path, width, height, frames, fps):
    out, _ = render(tmp_path, "t2v", "wan-t2v", width=width, height=height, frames=frames,
                    fps=fps)
    assert (out.kind, out.mime, out.path) == ("video", "video/mp4", tmp_path / "job/preview.mp4")
    assert_exact_video(out.path, width=width, height=height, frames=frames, fps=f"{fps}/1")
    assert probe(out.path).duration == pytest.approx(frames / fps, abs=0.01)


def test_frame_rate_alias_and_ntsc_rates_are_honoured(tmp_path):
    out, _ = render(tmp_path, "t2v", "ltx-t2v", fps=None, frame_rate=30)
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="30/1")
    out, _ = render(tmp_path, "t2v", "ltx-t2v", fps=29.97, workdir="ntsc")
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="30000/1001")


def test_mp4_is_faststart(tmp_path):
    out, _ = render(tmp_path, "t2v", "wan-t2v")
    data = out.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")


@pytest.mark.parametrize("task,model,names", [
    ("t2v", "wan-t2v", ()),
    ("i2v", "ltx-i2v", ("image",)),
    ("flf", "wan-flf", ("image", "last_image")),
    ("s2v", "wan-s2v", ("image", "audio")),
    ("v2v", "v2v", ("video",)),
    ("specialised", "hunyuan3d", ()),
])
def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path, inputs, task,
                                                                  model, names):
    given = {name: inputs[name] for name in names}
    first, _ = render(tmp_path, task, model, inputs=given, workdir="a")
    again, _ = render(tmp_path, task, model, inputs=given, workdir="b")
    other, _ = render(tmp_path, task, model, inputs=given, workdir="c", seed=8)
    assert sha256(first.path) == sha256(again.path)
    assert sha256(first.path) != sha256(other.path)
    assert frame_rgb(first.path, 11).tobytes() != frame_rgb(other.path, 11).tobytes()


def test_the_prompt_is_drawn(tmp_path):
    plain, _ = render(tmp_path, "t2v", "wan-t2v", workdir="a", prompt="")
    worded, _ = render(tmp_path, "t2v", "wan-t2v", workdir="b", prompt="a lighthouse")
    other, _ = render(tmp_path, "t2v", "wan-t2v", workdir="c", prompt="a windmill")
    frames = [frame_rgb(o.path, 0).tobytes() for o in (plain, worded, other)]
    assert len(set(frames)) == 3


def test_i2v_starts_from_the_input_image(tmp_path, inputs):
    out, _ = render(tmp_path, "i2v", "ltx-i2v", inputs={"image": inputs["image"]})
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")
    first = frame_rgb(out.path, 0).crop((0, 20, 160, 60))  # below the label, above the prompt
    assert close(mean_color(first), RED, tolerance=60)


def test_i2v_accepts_a_jpeg_and_crops_it_to_the_frame(tmp_path, inputs):
    out, _ = render(tmp_path, "i2v", "wan-i2v", inputs={"image": inputs["jpeg"]},
                    width=96, height=160)
    assert_exact_video(out.path, width=96, height=160, frames=12, fps="24/1")


def test_flf_goes_from_the_first_image_to_the_last(tmp_path, inputs):
    out, _ = render(tmp_path, "flf", "wan-flf", frames=24,
                    inputs={"image": inputs["image"], "last_image": inputs["last_image"]})
    assert_exact_video(out.path, width=160, height=96, frames=24, fps="24/1")
    band = (0, 20, 160, 60)
    assert close(mean_color(frame_rgb(out.path, 0).crop(band)), RED)
    assert close(mean_color(frame_rgb(out.path, 23).crop(band)), BLUE)


def test_flf_mixes_png_and_jpeg(tmp_path, inputs):
    out, _ = render(tmp_path, "flf", "ltx-flf",
                    inputs={"image": inputs["jpeg"], "last_image": inputs["last_image"]})
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")


@pytest.mark.parametrize("task,model,audio", [
    ("s2v", "wan-s2v", "audio"), ("specialised", "echomimic", "audio"),
    ("s2v", "wan-s2v", "short_audio"),
])
def test_sound_to_video_carries_the_audio_for_exactly_the_clip(tmp_path, inputs, task, model,
                                                              audio):
    out, _ = render(tmp_path, task, model, frames=24,
                    inputs={"image": inputs["image"], "audio": inputs[audio]})
    assert_exact_video(out.path, width=160, height=96, frames=24, fps="24/1")
    streams = {s["codec_type"]: s for s in ffprobe_json(out.path)["streams"]}
    assert streams["audio"]["codec_name"] == "aac"
    assert float(streams["audio"]["duration"]) == pytest.approx(1.0, abs=0.05)


def test_s2v_without_an_image_uses_a_generated_picture(tmp_path, inputs):
    out, _ = render(tmp_path, "s2v", "wan-s2v", inputs={"audio": inputs["audio"]})
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")
    assert probe(out.path).has_audio


@pytest.mark.parametrize("frames", [6, 36])
def test_v2v_trims_or_loops_the_input_to_the_frames(tmp_path, inputs, frames):
    # The input has 12 frames at 24 fps: 6 cuts it, 36 loops it three times.
    out, _ = render(tmp_path, "v2v", "v2v", frames=frames, inputs={"video": inputs["video"]})
    assert_exact_video(out.path, width=160, height=96, frames=frames, fps="24/1")
    assert not probe(out.path).has_audio


def test_v2v_restyles_the_input(tmp_path, inputs):
    weak, _ = render(tmp_path, "v2v", "v2v", inputs={"video": inputs["video"]}, strength=0.0,
                     workdir="a", prompt="")
    strong, _ = render(tmp_path, "v2v", "v2v", inputs={"video": inputs["video"]}, strength=1.0,
                       workdir="b", prompt="")
    assert frame_rgb(weak.path, 3).tobytes() != frame_rgb(strong.path, 3).tobytes()


def test_liveportrait_animates_its_portrait(tmp_path, inputs):
    out, _ = render(tmp_path, "specialised", "liveportrait",
                    inputs={"image": inputs["image"], "video": inputs["video"]})
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")
    assert close(mean_color(frame_rgb(out.path, 0).crop((0, 20, 160, 60))), RED, tolerance=60)


def test_hunyuan3d_renders_a_turntable_video(tmp_path, inputs):
    out, recorder = render(tmp_path, "specialised", "hunyuan3d", frames=16,
                           inputs={"image": inputs["image"]})
    assert out.kind == "video"
    assert_exact_video(out.path, width=160, height=96, frames=16, fps="24/1")
    fractions = [f for f, _ in recorder.seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


# --- images and audio -------------------------------------------------------------------------

def test_t2i_is_a_png_of_the_requested_size(tmp_path):
    out, _ = render(tmp_path, "t2i", "flux", width=128, height=80)
    assert (out.kind, out.mime, out.path.name) == ("image", "image/png", "preview.png")
    info = probe(out.path)
    assert (info.format_name, info.width, info.height) == ("png_pipe", 128, 80)
    again, _ = render(tmp_path, "t2i", "flux", width=128, height=80, workdir="b")
    other, _ = render(tmp_path, "t2i", "flux", width=128, height=80, workdir="c", seed=99)
    assert sha256(out.path) == sha256(again.path) != sha256(other.path)


def test_i2i_derives_from_the_input_image(tmp_path, inputs):
    out, _ = render(tmp_path, "i2i", "flux-edit", inputs={"image": inputs["image"]},
                    strength=0.0, prompt="")
    assert probe(out.path).width == 160
    assert close(mean_color(frame_rgb(out.path, 0).crop((0, 20, 160, 96))), RED, tolerance=70)
    other, _ = render(tmp_path, "i2i", "flux-edit", inputs={"image": inputs["last_image"]},
                      strength=0.0, prompt="", workdir="b")
    assert sha256(out.path) != sha256(other.path)


def test_audio_is_a_seeded_wav_of_the_requested_length(tmp_path):
    out, recorder = render(tmp_path, "audio", "ace-step", duration_seconds=2.5)
    assert (out.kind, out.mime, out.path.name) == ("audio", "audio/wav", "preview.wav")
    info = probe(out.path)
    assert (info.audio_codec, info.has_video) == ("pcm_s16le", False)
    assert info.duration == pytest.approx(2.5, abs=0.001)
    stream = ffprobe_json(out.path)["streams"][0]
    assert (stream["sample_rate"], stream["channels"]) == ("44100", 2)
    again, _ = render(tmp_path, "audio", "ace-step", duration_seconds=2.5, workdir="b")
    other, _ = render(tmp_path, "audio", "ace-step", duration_seconds=2.5, workdir="c", seed=8)
    assert sha256(out.path) == sha256(again.path) != sha256(other.path)
    assert {stage for _, stage in recorder.seen} == {"render"}
    assert recorder.seen[-1][0] == 1.0


def test_audio_is_not_silent(tmp_path):
    out, _ = render(tmp_path, "audio", "ace-step", duration_seconds=2.0)
    stats = subprocess.run(["ffmpeg", "-v", "info", "-i", str(out.path), "-af", "volumedetect",
                            "-f", "null", "-"], capture_output=True, text=True,
                           check=True).stderr
    max_volume = float(stats.split("max_volume:")[1].split("dB")[0])
    assert -20 < max_volume <= 0


# --- progress, cancel, timeout, parameters ----------------------------------------------------

def test_progress_is_monotonic_in_stage_render_and_ends_at_one(tmp_path):
    _out, recorder = render(tmp_path, "t2v", "wan-t2v", frames=48)
    fractions = [f for f, _ in recorder.seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {stage for _, stage in recorder.seen} == {"render"}


def test_only_the_output_is_left_in_the_workdir(tmp_path, inputs):
    render(tmp_path, "s2v", "wan-s2v", inputs={"image": inputs["image"], "audio": inputs["audio"]})
    render(tmp_path, "specialised", "hunyuan3d", workdir="3d")
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == ["preview.mp4"]
    assert sorted(p.name for p in (tmp_path / "3d").iterdir()) == ["preview.mp4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3d", "job"]


def heavy_request(tmp_path: Path) -> RenderRequest:
    return RenderRequest(task="t2v", model="wan-t2v", workdir=tmp_path / "job",
                         params={"width": 1280, "height": 720, "frames": 999, "fps": 24,
                                 "seed": 1, "prompt": "long"})


def test_cancel_mid_render_kills_ffmpeg_and_leaves_no_output(tmp_path):
    seen = {}

    def is_canceled() -> bool:
        children = ffmpeg_children()
        if children and "ffmpeg" not in seen:
            seen["ffmpeg"] = process_identity(children[0])
            seen["at"] = time.monotonic()
        return "at" in seen and time.monotonic() - seen["at"] > 0.5

    started = time.monotonic()
    with pytest.raises(Canceled):
        PreviewEngine(timeout=120).render(heavy_request(tmp_path), progress=lambda f, s: None,
                                          is_canceled=is_canceled)
    assert time.monotonic() - started < 10
    assert not is_running(seen["ffmpeg"])
    assert ffmpeg_children() == []
    assert list((tmp_path / "job").iterdir()) == []


def test_cancel_while_drawing_turntable_frames(tmp_path):
    calls = []

    def is_canceled() -> bool:
        calls.append(1)
        return len(calls) > 3

    request = RenderRequest(task="specialised", model="hunyuan3d", workdir=tmp_path / "job",
                            params={**SIZE, "frames": 200, "seed": 1})
    with pytest.raises(Canceled):
        PreviewEngine().render(request, progress=lambda f, s: None, is_canceled=is_canceled)
    assert list((tmp_path / "job").iterdir()) == []


def test_an_already_canceled_job_starts_nothing(tmp_path):
    with pytest.raises(Canceled):
        PreviewEngine().render(heavy_request(tmp_path), progress=lambda f, s: None,
                               is_canceled=lambda: True)


def test_a_render_past_its_time_limit_is_ffmpeg_timeout(tmp_path):
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        PreviewEngine(timeout=0.5).render(heavy_request(tmp_path), progress=lambda f, s: None,
                                          is_canceled=lambda: False)
    assert info.value.code == "ffmpeg_timeout"
    assert time.monotonic() - started < 10
    assert ffmpeg_children() == []
    assert list((tmp_path / "job").iterdir()) == []


@pytest.mark.parametrize("params", [
    {"width": 161}, {"height": 95}, {"width": 0}, {"height": -2}, {"width": 8192},
    {"width": "160"}, {"frames": 0}, {"frames": 1000}, {"frames": 2.5}, {"fps": 0},
    {"fps": "fast"}, {"fps": 500}, {"strength": 2}, {"width": True},
    {"width": float("inf")}, {"frames": float("nan")}, {"fps": float("inf")},
    {"strength": float("nan")},
])
def test_bad_parameters_are_invalid_params(tmp_path, params):
    with pytest.raises(EngineError) as info:
        render(tmp_path, "t2v", "wan-t2v", **params)
    assert info.value.code == "invalid_params"


@pytest.mark.parametrize("task,model,names", [
    ("i2v", "ltx-i2v", ()), ("flf", "wan-flf", ("image",)), ("s2v", "wan-s2v", ("image",)),
    ("v2v", "v2v", ()), ("i2i", "flux-edit", ()), ("tts", "x", ()),
])
def test_missing_inputs_and_unknown_tasks_are_invalid_params(tmp_path, inputs, task, model,
                                                             names):
    with pytest.raises(EngineError) as info:
        render(tmp_path, task, model, inputs={n: inputs[n] for n in names})
    assert info.value.code == "invalid_params"


@pytest.mark.parametrize("duration", [0, -1, 601, "long"])
def test_bad_audio_durations_are_invalid_params(tmp_path, duration):
    with pytest.raises(EngineError) as info:
        render(tmp_path, "audio", "ace-step", duration_seconds=duration)
    assert info.value.code == "invalid_params"


# --- hostile text -----------------------------------------------------------------------------

def test_a_hostile_prompt_is_drawn_as_text(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET 1234")
    hostile = (f"it's a \"test\" \\ back: semi; comma, [in][out] %{{pts}} %{{e:1+1}}\n"
               f"x':textfile={secret}:y=' émoji 😀 中文")
    out, _ = render(tmp_path, "t2i", "flux", prompt=hostile)
    assert probe(out.path).width == 160
    # Had %{pts} been expanded, the prompt would equal the plain "0.000000".
    expanded, _ = render(tmp_path, "t2i", "flux", prompt="0.000000", workdir="b")
    literal, _ = render(tmp_path, "t2i", "flux", prompt="%{pts}", workdir="c")
    assert sha256(expanded.path) != sha256(literal.path)
    # Had the textfile option been honoured, the picture would show the secret.
    leaked, _ = render(tmp_path, "t2i", "flux", prompt=secret.read_text(), workdir="d")
    trick, _ = render(tmp_path, "t2i", "flux", prompt=f"x':textfile={secret}:y='", workdir="e")
    assert sha256(leaked.path) != sha256(trick.path)


def test_a_hostile_model_name_in_the_label_is_escaped(tmp_path):
    out, _ = render(tmp_path, "t2v", "evil':textfile=/etc/passwd:x='[a];%{pts}")
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")


def test_a_long_prompt_is_wrapped_and_cut(tmp_path):
    out, _ = render(tmp_path, "t2v", "wan-t2v", prompt="word " * 400 + "x" * 2000)
    assert_exact_video(out.path, width=160, height=96, frames=12, fps="24/1")


# --- the package --------------------------------------------------------------------------------

def test_engines_import_no_django():
    code = ("import sys, engines.preview, engines.validation, engines.ffmpeg; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "[]"


def test_health_says_preview_and_not_ai():
    health = PreviewEngine().health()
    assert health == {"engine": "preview", "online": True, "ai": False}
