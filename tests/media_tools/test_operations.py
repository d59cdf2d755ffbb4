"""The editing, tool, audio and subtitle operations on real media made with ffmpeg."""

import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from engines.base import Canceled, EngineError
from engines.ffmpeg import probe
from media_tools import audio, operations, subtitles
from media_tools.operations import Runner
from tests.engines.media import ffmpeg, frame_rgb, make_audio, make_video


@pytest.fixture
def clip(tmp_path) -> Path:
    return make_video(tmp_path / "clip.mp4", seconds=2.0, rate=24)


def mean_color(image: Image.Image) -> list[float]:
    return ImageStat.Stat(image.convert("RGB")).mean


def run() -> Runner:
    return Runner()


def test_trim_from_the_start_copies_the_streams(tmp_path, clip):
    out = tmp_path / "out.mp4"
    result = operations.trim(clip, out, start=0, end=1.0, runner=run())
    info = probe(out)
    assert result["method"] == "stream_copy"
    assert abs(info.duration - 1.0) < 0.1 and info.has_audio and info.width == 160


def test_trim_inside_the_clip_reencodes_frame_accurately(tmp_path, clip):
    out = tmp_path / "out.mp4"
    result = operations.trim(clip, out, start=0.5, end=1.5, runner=run())
    info = probe(out)
    assert result["method"] == "reencode"
    assert abs(info.duration - 1.0) < 0.08 and info.has_audio
    assert info.frame_count == 24


def test_trim_starting_on_a_keyframe_copies_the_streams_from_that_frame(tmp_path):
    # A keyframe every second: a cut at 2 s needs no decoding, one at 2.5 s does.
    src = make_video(tmp_path / "gop.mp4", seconds=4.0, rate=24,
                     extra=("-g", "24", "-keyint_min", "24", "-sc_threshold", "0"))
    out = tmp_path / "out.mp4"
    result = operations.trim(src, out, start=2.0, end=3.5, runner=run())
    assert (result["method"], result["reason"]) == ("stream_copy", "keyframe_start")
    info = probe(out)
    assert abs(info.duration - 1.5) < 0.1 and info.has_audio
    # testsrc draws a different picture every frame: the cut's first frame is source frame 48.
    first, expected = frame_rgb(out, 0), frame_rgb(src, 48)
    assert max(abs(a - b) for a, b in zip(mean_color(first), mean_color(expected),
                                          strict=True)) < 1.0
    assert first.tobytes() != frame_rgb(src, 47).tobytes()
    off = operations.trim(src, tmp_path / "off.mp4", start=2.5, end=3.5, runner=run())
    assert (off["method"], off["reason"]) == ("reencode", "frame_accurate_start")


@pytest.mark.parametrize(("name", "codecs"), [
    ("vp8.webm", ("-c:v", "libvpx", "-b:v", "200k", "-c:a", "libvorbis")),
    ("pcm.mov", ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le")),
    ("prores.mov", ("-c:v", "prores_ks", "-c:a", "pcm_s16le")),
])
def test_inputs_whose_codecs_mp4_cannot_carry_are_reencoded_not_refused(tmp_path, name,
                                                                         codecs):
    src = tmp_path / name
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=160x96:r=24", "-f", "lavfi", "-i",
           "sine=f=440:r=44100", "-t", "1.5", *codecs, str(src))
    trimmed = operations.trim(src, tmp_path / "trim.mp4", start=0, end=1.0, runner=run())
    assert (trimmed["method"], trimmed["reason"]) == ("reencode", "codec")
    operations.crop(src, tmp_path / "crop.mp4", x=0, y=0, width=80, height=48, runner=run())
    audio.add_audio(src, make_audio(tmp_path / "a.wav", seconds=1.0), tmp_path / "mix.mp4",
                    runner=run())
    for made in ("trim.mp4", "crop.mp4", "mix.mp4"):
        info = probe(tmp_path / made)
        assert (info.video_codec, info.audio_codec) == ("h264", "aac"), made
        assert info.duration > 0.9


def test_a_codec_off_the_whitelist_is_refused_before_any_work(tmp_path):
    src = tmp_path / "mjpeg.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=160x96:r=24", "-t", "1", "-c:v", "mjpeg", str(src))
    with pytest.raises(EngineError) as err:
        operations.crop(src, tmp_path / "out.mp4", x=0, y=0, width=80, height=48, runner=run())
    assert err.value.code == "unsupported_media"
    assert not (tmp_path / "out.mp4").exists()


def test_trim_outside_the_video_is_refused(tmp_path, clip):
    with pytest.raises(EngineError) as err:
        operations.trim(clip, tmp_path / "out.mp4", start=5, end=6, runner=run())
    assert err.value.code == "invalid_params"


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_speed_changes_duration_and_keeps_sound_in_sync(tmp_path, clip, factor):
    out = tmp_path / "out.mp4"
    operations.speed(clip, out, factor=factor, runner=run())
    info = probe(out)
    assert abs(info.duration - 2.0 / factor) < 0.1
    assert info.has_audio and abs(info.fps - 24) < 0.01


def test_atempo_chains_stay_within_the_filters_range():
    assert operations.atempo_chain(4.0) == "atempo=2.000000,atempo=2.000000"
    assert operations.atempo_chain(0.25) == "atempo=0.500000,atempo=0.500000"
    assert operations.atempo_chain(1.5) == "atempo=1.500000"


def test_crop_takes_the_region_asked_for(tmp_path):
    # Left half red, right half blue: a crop of the right half is blue.
    src = tmp_path / "split.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=160x96:d=1:r=12", "-f", "lavfi", "-i",
           "color=c=blue:s=80x96:d=1:r=12", "-filter_complex", "[0][1]overlay=x=80",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src))
    out = tmp_path / "out.mp4"
    operations.crop(src, out, x=84, y=8, width=64, height=80, runner=run())
    info = probe(out)
    assert (info.width, info.height) == (64, 80) and not info.has_audio
    r, _g, b = mean_color(frame_rgb(out, 0))
    assert b > 200 and r < 40


def test_crop_outside_the_frame_is_refused(tmp_path, clip):
    with pytest.raises(EngineError):
        operations.crop(clip, tmp_path / "out.mp4", x=100, y=0, width=100, height=50,
                        runner=run())


def test_resize_pads_to_keep_the_aspect(tmp_path, clip):
    out = tmp_path / "out.mp4"
    operations.resize(clip, out, width=160, height=160, runner=run())
    info = probe(out)
    assert (info.width, info.height) == (160, 160) and info.has_audio
    top = frame_rgb(out, 0).crop((0, 0, 160, 20))
    assert max(mean_color(top)) < 20  # a black bar above the picture


HOSTILE = "It's 50%: %{localtime} \\ 'quoted' \"double\" [x];y,z\nsecond line ✓ 🎬"


def test_text_overlay_draws_hostile_text_literally(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:d=1:r=12", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))
    out = tmp_path / "out.mp4"
    operations.text_overlay(src, out, text=HOSTILE, workdir=tmp_path, position="center",
                            font_size=20, color="0xFFFF00", start=0, end=1, runner=run())
    written = (tmp_path / "overlay.txt").read_text()
    assert "%{localtime}" in written and "'quoted'" in written  # not expanded, not altered
    assert probe(out).duration == pytest.approx(1.0, abs=0.1)
    r, g, b = mean_color(frame_rgb(out, 3))
    assert r > 3 and g > 3 and b < r  # yellow text is on the black frame


def test_text_overlay_draws_other_scripts_with_their_glyphs(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x120:d=0.5:r=4", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))

    def overlay(text: str) -> bytes:
        out = tmp_path / f"{len(list(tmp_path.iterdir()))}.mp4"
        operations.text_overlay(src, out, text=text, workdir=tmp_path, position="center",
                                font_size=40, start=0, end=1, runner=run())
        return frame_rgb(out, 1).tobytes()

    # Empty boxes would look alike whatever the characters are.
    assert overlay("你好世界") != overlay("世界你好")
    assert overlay("안녕 세상") != overlay("세상 안녕")


def test_text_overlay_respects_its_time_window(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=160x96:d=2:r=10", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))
    out = tmp_path / "out.mp4"
    operations.text_overlay(src, out, text="HELLO", workdir=tmp_path, position="top",
                            font_size=30, color="white", start=1.0, end=2.0, runner=run())
    assert max(mean_color(frame_rgb(out, 2))) < 3
    assert max(mean_color(frame_rgb(out, 15))) > 5


def test_merge_normalises_sizes_rates_and_missing_sound(tmp_path):
    a = make_video(tmp_path / "a.mp4", size="160x96", rate=24, seconds=1.0)
    b = make_video(tmp_path / "b.mp4", size="96x160", rate=12, seconds=1.5, audio=False)
    c = make_video(tmp_path / "c.mp4", size="320x180", rate=30, seconds=0.5)
    out = tmp_path / "out.mp4"
    result = operations.merge([a, b, c], out, runner=run())
    info = probe(out)
    assert (info.width, info.height) == (160, 96) and info.has_audio
    assert result["fps"] == 30 and abs(info.fps - 30) < 0.01
    assert abs(info.duration - 3.0) < 0.12


def test_merge_refuses_one_or_twenty_one_videos(tmp_path, clip):
    for sources in ([clip], [clip] * 21):
        with pytest.raises(EngineError):
            operations.merge(sources, tmp_path / "out.mp4", runner=run())


@pytest.mark.parametrize("mode", ["first", "middle", "last"])
def test_extract_one_frame(tmp_path, clip, mode):
    (path,) = operations.extract_frames(clip, tmp_path, mode=mode, runner=run())
    with Image.open(path) as image:
        assert image.size == (160, 96)


def test_extract_one_frame_per_second_into_a_zip(tmp_path, clip):
    (archive,) = operations.extract_frames(clip, tmp_path, mode="all_1fps", runner=run())
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["frame_00001.png", "frame_00002.png"]


def test_gif_uses_the_width_and_rate(tmp_path, clip):
    out = tmp_path / "out.gif"
    operations.video_to_gif(clip, out, width=80, fps=8, runner=run())
    with Image.open(out) as image:
        assert image.format == "GIF" and image.size == (80, 48)
        assert image.n_frames in (15, 16, 17)


def test_text_watermark(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:d=1:r=10", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))
    out = tmp_path / "out.mp4"
    operations.watermark_text(src, out, text="© Reelforge: 100%", workdir=tmp_path,
                              position="bottom-right", opacity=0.8, runner=run())
    frame = frame_rgb(out, 0)
    assert max(mean_color(frame.crop((160, 120, 320, 180)))) > 3
    assert max(mean_color(frame.crop((0, 0, 160, 60)))) < 2


def test_image_watermark_with_opacity(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:d=1:r=10", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(logo)
    out = tmp_path / "out.mp4"
    operations.watermark_image(src, out, image=logo, position="top-left", opacity=0.5,
                               runner=run())
    r, _g, _b = mean_color(frame_rgb(out, 0).crop((30, 30, 80, 80)))
    assert 90 < r < 170  # white at half opacity over black


def test_upscale_with_lanczos(tmp_path, clip):
    out = tmp_path / "out.mp4"
    result = operations.upscale(clip, out, factor=2, runner=run())
    info = probe(out)
    assert result["method"] == "ffmpeg_lanczos" and (info.width, info.height) == (320, 192)


def test_a_playlist_named_mp4_is_refused_before_anything_is_read(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n")
    with pytest.raises(EngineError) as err:
        operations.trim(fake, tmp_path / "out.mp4", start=0, end=1, runner=run())
    assert err.value.code == "unsupported_media"


def test_a_ten_hour_video_is_refused_by_the_caps_before_decoding(tmp_path):
    # Three frames five hours apart: a 1.6 KB file that says it lasts ten hours.
    src = tmp_path / "ten-hours.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=s=16x16:r=1:d=3", "-vf", "setpts=PTS*18000",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src))
    assert probe(src).duration > 10 * 3600
    with pytest.raises(EngineError) as err:
        operations.crop(src, tmp_path / "out.mp4", x=0, y=0, width=16, height=16,
                        runner=run())
    assert err.value.code == "media_too_long"


def test_cancel_stops_the_operation(tmp_path):
    src = make_video(tmp_path / "long.mp4", seconds=20, size="320x180")
    with pytest.raises(Canceled):
        operations.resize(src, tmp_path / "out.mp4", width=1280, height=720,
                          runner=Runner(is_canceled=lambda: True))


def test_add_audio_mixes_or_replaces_and_loops_the_track(tmp_path, clip):
    track = make_audio(tmp_path / "short.wav", seconds=0.5)
    for mode in ("mix", "replace"):
        out = tmp_path / f"{mode}.mp4"
        result = audio.add_audio(clip, track, out, mode=mode, volume=0.5, runner=run())
        info = probe(out)
        assert result["mode"] == mode and info.has_audio
        assert abs(info.duration - 2.0) < 0.1


def test_add_audio_to_a_silent_video(tmp_path):
    silent = make_video(tmp_path / "silent.mp4", seconds=1.0, audio=False)
    track = make_audio(tmp_path / "long.wav", seconds=3)
    out = tmp_path / "out.mp4"
    result = audio.add_audio(silent, track, out, runner=run())
    info = probe(out)
    assert result["mode"] == "replace" and info.has_audio and abs(info.duration - 1.0) < 0.1


def test_add_voice_ducks_the_original_sound(tmp_path, clip):
    voice = make_audio(tmp_path / "voice.wav", seconds=0.5)
    out = tmp_path / "out.mp4"
    result = audio.add_voice(clip, voice, out, offset=0.5, volume=1.0, runner=run())
    assert result["ducked"] and probe(out).has_audio
    assert abs(probe(out).duration - 2.0) < 0.1


SRT = """1
00:00:00,000 --> 00:00:00,900
{\\an8}<b>Hello</b>, world

2
00:00:01,000 --> 00:00:01,900
Second: 100% {\\fs80}line
"""


def test_srt_round_trip_strips_markup():
    cues = subtitles.parse_srt(SRT)
    assert [c.text for c in cues] == ["Hello, world", "Second: 100% line"]
    assert cues[1].start == 1.0 and cues[1].end == 1.9
    assert subtitles.parse_srt(subtitles.format_srt(cues)) == cues


def test_srt_without_cues_is_refused():
    with pytest.raises(EngineError):
        subtitles.parse_srt("just some text")


def test_transcript_segments_become_short_cues():
    cues = subtitles.cues_from_transcript([{"start": 0, "end": 4, "text": "word " * 40}],
                                          max_chars=42)
    assert len(cues) > 1 and cues[0].start == 0 and abs(cues[-1].end - 4) < 1e-6
    assert all(len(c.text) <= 42 for c in cues)


def test_burn_subtitles_in_each_style(tmp_path):
    src = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:d=1:r=10", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(src))
    cues = [subtitles.Cue(0, 1, "It's 'quoted': 100% \\ done")]
    out = tmp_path / "out.mp4"
    subtitles.burn(src, out, cues=cues, style="bold-yellow", workdir=tmp_path, runner=run())
    r, g, b = mean_color(frame_rgb(out, 5).crop((0, 120, 320, 180)))
    assert r > 5 and g > 5 and b < r  # yellow text near the bottom
