"""Validation of uploaded files: what the bytes are, and whether we accept them.

Order matters and is the point of this module: size from the file system first, then the
magic bytes (a text file, whatever its name, stops here and never reaches ffmpeg), then the
header (pixel count read without decoding), and only then a decoder, capped.

Refusals are EngineError with a code the app maps to a status: `file_too_large` (413),
`unsupported_media` (415), `image_too_large` and `media_too_long` (both 400-class limits).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from engines.base import EngineError
from engines.ffmpeg import (
    DEFAULT_MAX_PIXELS,
    MATROSKA_DEMUXERS,
    MOV_DEMUXERS,
    MediaInfo,
    check_readable,
    probe,
)

# Pillow refuses (DecompressionBombError) above twice this and only warns above it; the
# warning is made an error in validate_image. Set once for the process, so that any later
# Image.open anywhere is capped too.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}  # Pillow name -> ours
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "prores"})
AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "vorbis", "flac"})  # and every pcm_*

# Sniffed container -> the demuxers ffprobe may use for it: the magic bytes decide.
_CONTAINER_DEMUXERS: dict[str, tuple[str, ...]] = {
    "mp4": MOV_DEMUXERS, "mov": MOV_DEMUXERS, "m4a": MOV_DEMUXERS,
    "webm": MATROSKA_DEMUXERS, "mkv": MATROSKA_DEMUXERS,
    "mp3": ("mp3",), "wav": ("wav",), "ogg": ("ogg",), "flac": ("flac",),
}
_KIND_CONTAINERS = {
    "video": frozenset({"mp4", "mov", "webm", "mkv"}),
    # Audio from a video container is fine (browser recordings are audio-only webm).
    "audio": frozenset({"mp3", "wav", "ogg", "flac", "m4a", "mp4", "mov", "webm", "mkv"}),
}
# ftyp brands that are still images or camera raw, not movies.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs",
                           b"mif1", b"msf1", b"avif", b"avis", b"crx "})
_SNIFF_BYTES = 64


@dataclass(frozen=True)
class ImageInfo:
    format: str  # png | jpeg | webp
    width: int
    height: int
    mode: str
    size: int


# --- sniffing ---------------------------------------------------------------------------------

def sniff(path: Path | str) -> str | None:
    """The file's type from its first bytes, or None for anything we do not accept (text,
    playlists, scripts, unknown binaries). One of: png, jpeg, webp, gif, mp4, mov, m4a, webm,
    mkv, mp3, wav, ogg, flac. The name and the client's content type are never consulted."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    return _sniff_bytes(head)


def _sniff_bytes(head: bytes) -> str | None:
    simple = (
        (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"),
        (b"GIF89a", "gif"), (b"OggS", "ogg"), (b"fLaC", "flac"), (b"ID3", "mp3"),
    )
    for magic, kind in simple:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        return "wav" if head[8:12] == b"WAVE" else "webp"
    if head[4:8] == b"ftyp":
        return _ftyp_kind(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    if _is_mpeg_audio_frame(head):
        return "mp3"
    return None


def _ftyp_kind(brand: bytes) -> str | None:
    if brand in _IMAGE_BRANDS:
        return None
    if brand == b"qt  ":
        return "mov"
    if brand in (b"M4A ", b"M4B "):
        return "m4a"
    return "mp4"


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then version, layer, bitrate and sample rate
    fields that are not their reserved values (which rules out ADTS AAC's layer 00)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


# --- images -----------------------------------------------------------------------------------

def _check_size(path: Path, max_bytes: int) -> int:
    size = path.stat().st_size
    if size > max_bytes:
        raise EngineError(f"The file is larger than {max_bytes} bytes.", code="file_too_large",
                          detail={"size": size, "max_bytes": max_bytes})
    if size == 0:
        raise EngineError("The file is empty.", code="unsupported_media")
    return size


def validate_image(path: Path | str, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Accept a PNG, JPEG or WebP image of at most `max_bytes` and `max_pixels`.

    The pixel count comes from the header (Image.open decodes nothing) and is checked before
    any decoding. Then the file is verified and fully decoded once, so a truncated or corrupt
    image is refused here rather than in the middle of a job.
    """
    path = Path(path)
    size = _check_size(path, max_bytes)
    if sniff(path) not in IMAGE_FORMATS.values():
        raise EngineError("Images must be PNG, JPEG or WebP.", code="unsupported_media")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                width, height = image.size
                fmt, mode = image.format, image.mode
                if fmt not in IMAGE_FORMATS:
                    raise EngineError("Images must be PNG, JPEG or WebP.",
                                      code="unsupported_media")
                _check_pixels(width, height, max_pixels)
                image.verify()
            with Image.open(path) as image:
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise EngineError("The image has too many pixels.", code="image_too_large",
                              detail={"max_pixels": max_pixels}) from None
        except (OSError, SyntaxError, ValueError) as exc:
            # Pillow reports broken files as OSError, SyntaxError (bad PNG chunks) or
            # ValueError; UnidentifiedImageError is an OSError.
            raise EngineError("The image could not be read.", code="unsupported_media",
                              detail={"reason": type(exc).__name__}) from None
    return ImageInfo(format=IMAGE_FORMATS[fmt], width=width, height=height, mode=mode, size=size)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise EngineError("The image has no size.", code="unsupported_media")
    if width * height > max_pixels:
        raise EngineError(f"The image is larger than {max_pixels} pixels.",
                          code="image_too_large",
                          detail={"width": width, "height": height, "max_pixels": max_pixels})


# --- audio and video --------------------------------------------------------------------------

def validate_media(path: Path | str, *, kind: Literal["video", "audio"], max_bytes: int,
                   max_duration: float, max_pixels: int = DEFAULT_MAX_PIXELS,
                   timeout: float = 30) -> MediaInfo:
    """Accept a video (kind="video") or an audio file (kind="audio").

    Checks, in order: size; magic bytes against the containers allowed for `kind`; ffprobe,
    restricted to the demuxers of the sniffed container (so the magic bytes and the demuxer
    agree) with decoders capped at `max_pixels`; duration; every audio and video stream's
    codec against the whitelist; and a read of every packet (no decoding), which refuses
    truncated files. A video must have a video stream, an audio file an audio stream.
    """
    path = Path(path)
    _check_size(path, max_bytes)
    container = sniff(path)
    if container not in _KIND_CONTAINERS[kind]:
        raise EngineError(f"This is not a {kind} format we accept.", code="unsupported_media",
                          detail={"detected": container})
    info = probe(path, timeout=timeout, max_pixels=max_pixels, max_duration=max_duration,
                 formats=_CONTAINER_DEMUXERS[container])
    if kind == "video" and not info.has_video:
        raise EngineError("The file has no video stream.", code="unsupported_media")
    if kind == "audio" and not info.has_audio:
        raise EngineError("The file has no audio stream.", code="unsupported_media")
    if info.duration is None or info.duration <= 0:
        raise EngineError("The media has no duration.", code="unsupported_media")
    check_codecs(info)
    check_readable(path, formats=_CONTAINER_DEMUXERS[container], timeout=timeout)
    return info


def check_codecs(info: MediaInfo) -> None:
    """Refuse streams whose codec is not on the whitelist (415 unsupported_media)."""
    if info.has_video and info.video_codec not in VIDEO_CODECS:
        raise EngineError(f"Video codec {info.video_codec} is not supported.",
                          code="unsupported_media", detail={"codec": info.video_codec})
    audio = info.audio_codec or ""
    if info.has_audio and not (audio in AUDIO_CODECS or audio.startswith("pcm_")):
        raise EngineError(f"Audio codec {audio} is not supported.", code="unsupported_media",
                          detail={"codec": audio})
