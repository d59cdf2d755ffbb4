"""Upload validation: sniffing, images, audio and video, and the limits checked before decoding."""

import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from engines.base import EngineError
from engines.ffmpeg import probe
from engines.validation import sniff, validate_image, validate_media
from tests.engines.media import ROOT, make_audio, make_image, make_video

MB = 1024 * 1024
VIDEO_LIMITS = {"max_bytes": 50 * MB, "max_duration": 60.0, "max_pixels": 4096 * 4096}
AUDIO_LIMITS = {"max_bytes": 50 * MB, "max_duration": 60.0}
IMAGE_LIMITS = {"max_bytes": 20 * MB, "max_pixels": 40_000_000}


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(EngineError) as info:
        call(*args, **kwargs)
    return info.value.code


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """One small file of each kind we accept, made once for the module."""
    d = tmp_path_factory.mktemp("media")
    return {
        "mp4": make_video(d / "clip.mp4"),
        "mov": make_video(d / "clip.mov", audio=False),
        "webm": make_video(d / "clip.webm", audio=False, extra=("-c:v", "libvpx")),
        "mkv": make_video(d / "clip.mkv", audio=False),
        "wav": make_audio(d / "tone.wav"),
        "mp3": make_audio(d / "tone.mp3"),
        "mp3_bare": make_audio(d / "bare.mp3", extra=("-id3v2_version", "0")),
        "m4a": make_audio(d / "tone.m4a", extra=("-c:a", "aac")),
        "ogg": make_audio(d / "tone.ogg", extra=("-c:a", "libopus")),
        "flac": make_audio(d / "tone.flac"),
        "png": make_image(d / "pic.png"),
        "jpeg": make_image(d / "pic.jpg"),
        "webp": make_image(d / "pic.webp"),
        "gif": make_image(d / "pic.gif"),
    }


def hls_playlist(path: Path) -> Path:
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
                    "http://127.0.0.1:9/secret.ts\n#EXT-X-ENDLIST\n")
    return path


# --- sniffing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("mp4", "mp4"), ("mov", "mov"), ("webm", "webm"), ("mkv", "mkv"), ("wav", "wav"),
    ("mp3", "mp3"), ("mp3_bare", "mp3"), ("m4a", "m4a"), ("ogg", "ogg"), ("flac", "flac"),
    ("png", "png"), ("jpeg", "jpeg"), ("webp", "webp"), ("gif", "gif"),
])
def test_sniff_recognises_what_we_accept_by_content(media, name, expected):
    assert sniff(media[name]) == expected


@pytest.mark.parametrize("content", [
    b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/secret.ts\n",
    b"ffconcat version 1.0\nfile /etc/passwd\n",
    b"<?xml version='1.0'?><MPD></MPD>",
    b"hello, just text",
    b"",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
    b"\xff\xf1\x50\x80\x02\x1f\xfc",  # ADTS AAC, not MPEG layer 3
    bytes(range(256)),
])
def test_sniff_refuses_text_playlists_and_unknown_bytes(tmp_path, content):
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    assert sniff(path) is None


def test_the_name_does_not_matter(media, tmp_path):
    renamed = tmp_path / "song.mp3"
    renamed.write_bytes(media["png"].read_bytes())
    assert sniff(renamed) == "png"


# --- images -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["png", "jpeg", "webp"])
def test_png_jpeg_and_webp_images_are_accepted(media, name):
    info = validate_image(media[name], **IMAGE_LIMITS)
    assert (info.format, info.width, info.height) == (name, 160, 96)
    assert info.size == media[name].stat().st_size


def test_gif_and_video_are_not_images(media):
    assert code_of(validate_image, media["gif"], **IMAGE_LIMITS) == "unsupported_media"
    assert code_of(validate_image, media["mp4"], **IMAGE_LIMITS) == "unsupported_media"


def test_an_image_over_the_byte_limit_is_file_too_large(media):
    limits = {**IMAGE_LIMITS, "max_bytes": 100}
    assert code_of(validate_image, media["png"], **limits) == "file_too_large"


def test_an_empty_image_is_unsupported(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert code_of(validate_image, empty, **IMAGE_LIMITS) == "unsupported_media"


@pytest.mark.parametrize("name,keep", [("png", 0.6), ("jpeg", 0.5), ("webp", 0.5)])
def test_a_truncated_image_is_unsupported(media, tmp_path, name, keep):
    data = media[name].read_bytes()
    cut = tmp_path / f"cut.{name}"
    cut.write_bytes(data[: int(len(data) * keep)])
    assert code_of(validate_image, cut, **IMAGE_LIMITS) == "unsupported_media"


def test_pixels_over_the_limit_are_image_too_large(media):
    limits = {**IMAGE_LIMITS, "max_pixels": 160 * 96 - 1}
    assert code_of(validate_image, media["png"], **limits) == "image_too_large"


@pytest.fixture(scope="module")
def pixel_bomb(tmp_path_factory) -> Path:
    """A 12000x12000 PNG that is small on disk (1 bit per pixel, all zero)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    Image.new("1", (12000, 12000)).save(path)
    assert path.stat().st_size < 100_000
    return path


MEASURE = """
import json, resource, sys, time
from engines.base import EngineError
from engines.ffmpeg import probe
from engines.validation import validate_image
started = time.monotonic()
try:
    if sys.argv[2] == "image":
        validate_image(sys.argv[1], max_bytes=10**8, max_pixels=40_000_000)
    else:
        probe(sys.argv[1], max_pixels=40_000_000)
    code = None
except EngineError as exc:
    code = exc.code
# VmHWM is this process's own peak; ru_maxrss of RUSAGE_SELF would include the peak of the
# pytest process that spawned it (Linux carries it across vfork and exec).
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"code": code, "seconds": time.monotonic() - started,
                  "self_kb": int(peak.split()[1]),
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measure(path: Path, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), what], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         check=True, timeout=60).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def rgb_pixel_bomb(tmp_path_factory) -> Path:
    """The 421 KB, 12000x12000 RGB PNG of RELIABILITY.md: 432 MB once decoded. Written row
    by row through zlib, so making it takes no memory either."""
    path = tmp_path_factory.mktemp("bomb") / "rgb-bomb.png"
    write_blank_png(path, 12000, 12000)
    assert path.stat().st_size < 500_000
    return path


def write_blank_png(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("bomb", ["pixel_bomb", "rgb_pixel_bomb"])
def test_a_12000x12000_png_is_refused_by_pillow_without_decoding(request, bomb):
    # Decoding would take 144 to 432 MB; reading the header takes almost nothing.
    result = measure(request.getfixturevalue(bomb), "image")
    assert result["code"] == "image_too_large"
    assert result["self_kb"] < 100 * 1024
    assert result["seconds"] < 5


def test_a_12000x12000_png_is_refused_by_ffprobe_without_decoding(rgb_pixel_bomb):
    # Without -max_pixels ffprobe peaks near 474 MB on this file; with it, near 54 MB.
    result = measure(rgb_pixel_bomb, "probe")
    assert result["code"] == "image_too_large"
    assert result["children_kb"] < 120 * 1024


def test_pillow_pixel_limit_is_set_for_the_whole_process():
    assert 0 < Image.MAX_IMAGE_PIXELS <= 8192 * 8192


# --- audio and video --------------------------------------------------------------------------

def test_a_real_short_mp4_is_accepted_with_its_properties(media):
    info = validate_media(media["mp4"], kind="video", **VIDEO_LIMITS)
    assert (info.width, info.height, info.fps, info.frame_count) == (160, 96, 24.0, 24)
    assert info.has_video and info.has_audio
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert "mp4" in info.format_name


@pytest.mark.parametrize("name", ["mov", "webm", "mkv"])
def test_other_video_containers_are_accepted(media, name):
    info = validate_media(media[name], kind="video", **VIDEO_LIMITS)
    assert (info.width, info.height, info.has_audio) == (160, 96, False)
    assert info.frame_count == 24


@pytest.mark.parametrize("name,codec", [
    ("wav", "pcm_s16le"), ("mp3", "mp3"), ("mp3_bare", "mp3"), ("m4a", "aac"),
    ("ogg", "opus"), ("flac", "flac"), ("mp4", "aac"),
])
def test_audio_files_are_accepted(media, name, codec):
    info = validate_media(media[name], kind="audio", **AUDIO_LIMITS)
    assert info.has_audio and info.audio_codec == codec
    assert info.duration == pytest.approx(1.0, abs=0.1)


def test_an_hls_playlist_named_mp4_is_unsupported_media(tmp_path):
    evil = hls_playlist(tmp_path / "clip.mp4")
    assert code_of(validate_media, evil, kind="video", **VIDEO_LIMITS) == "unsupported_media"
    assert code_of(validate_media, evil, kind="audio", **AUDIO_LIMITS) == "unsupported_media"
    assert code_of(validate_image, evil, **IMAGE_LIMITS) == "unsupported_media"


def test_a_playlist_behind_a_real_mp4_header_still_cannot_reach_the_network(tmp_path):
    """Magic bytes of an mp4, then a playlist: sniffing passes, the mov demuxer refuses it."""
    evil = tmp_path / "clip.mp4"
    evil.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
                     + hls_playlist(tmp_path / "p.m3u8").read_bytes())
    assert code_of(validate_media, evil, kind="video", **VIDEO_LIMITS) == "unsupported_media"


def test_zero_bytes_is_unsupported_media(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert code_of(validate_media, empty, kind="video", **VIDEO_LIMITS) == "unsupported_media"
    assert code_of(probe, empty) == "unsupported_media"


def test_a_truncated_mp4_is_unsupported_media(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", seconds=2)
    data = clip.read_bytes()
    for keep in (200, len(data) // 2):
        cut = tmp_path / f"cut{keep}.mp4"
        cut.write_bytes(data[:keep])
        assert code_of(validate_media, cut, kind="video", **VIDEO_LIMITS) == "unsupported_media"


def test_a_truncated_faststart_mp4_is_unsupported_media(tmp_path):
    """Its header is whole, so ffprobe reports the full duration; reading the packets fails."""
    clip = make_video(tmp_path / "clip.mp4", seconds=3, extra=("-movflags", "+faststart"))
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    assert probe(cut).duration == pytest.approx(3.0, abs=0.1)
    assert code_of(validate_media, cut, kind="video", **VIDEO_LIMITS) == "unsupported_media"


def test_audio_is_not_a_video_and_an_image_is_neither(media):
    assert code_of(validate_media, media["wav"], kind="video", **VIDEO_LIMITS) \
        == "unsupported_media"
    assert code_of(validate_media, media["png"], kind="video", **VIDEO_LIMITS) \
        == "unsupported_media"
    assert code_of(validate_media, media["mov"], kind="audio", **AUDIO_LIMITS) \
        == "unsupported_media"


def test_media_over_the_byte_limit_is_file_too_large(media):
    limits = {**VIDEO_LIMITS, "max_bytes": 1000}
    assert code_of(validate_media, media["mp4"], kind="video", **limits) == "file_too_large"


def test_media_over_the_duration_limit_is_media_too_long(media):
    limits = {**VIDEO_LIMITS, "max_duration": 0.5}
    assert code_of(validate_media, media["mp4"], kind="video", **limits) == "media_too_long"
    limits = {**AUDIO_LIMITS, "max_duration": 0.5}
    assert code_of(validate_media, media["wav"], kind="audio", **limits) == "media_too_long"


def test_video_over_the_pixel_limit_is_image_too_large(media):
    limits = {**VIDEO_LIMITS, "max_pixels": 160 * 96 - 1}
    assert code_of(validate_media, media["mp4"], kind="video", **limits) == "image_too_large"


def test_codecs_outside_the_whitelist_are_unsupported(tmp_path):
    mpeg2 = make_video(tmp_path / "old.mp4", audio=False, extra=("-c:v", "mpeg2video"))
    assert code_of(validate_media, mpeg2, kind="video", **VIDEO_LIMITS) == "unsupported_media"
    ac3 = make_video(tmp_path / "ac3.mp4", extra=("-c:a", "ac3"))
    assert code_of(validate_media, ac3, kind="video", **VIDEO_LIMITS) == "unsupported_media"


def test_validation_is_quick_on_small_files(media):
    started = time.monotonic()
    validate_media(media["mp4"], kind="video", **VIDEO_LIMITS)
    assert time.monotonic() - started < 5
