"""Helpers for the engines tests: small real media made with ffmpeg and Pillow, and checks
on processes and pictures. Nothing here uses the database."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", *args],
                   check=True, timeout=60)


def make_video(path: Path, *, size: str = "160x96", rate: int = 24, seconds: float = 1.0,
               audio: bool = True, extra: tuple[str, ...] = ()) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc=s={size}:r={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=f=440:r=44100"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
             "yuv420p"]
    args += ["-c:a", "aac"] if audio else []
    ffmpeg(*args, *extra, str(path))
    return path


def make_audio(path: Path, *, seconds: float = 1.0, extra: tuple[str, ...] = ()) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=f=440:r=44100:d={seconds}", *extra, str(path))
    return path


def make_image(path: Path, *, size: tuple[int, int] = (160, 96),
               color: tuple[int, int, int] = (200, 30, 20), fmt: str | None = None) -> Path:
    image = Image.new("RGB", size, color)
    # A small contrasting square, so the picture is not uniform.
    image.paste((20, 20, 200), (size[0] // 8, size[1] // 8, size[0] // 4, size[1] // 4))
    image.save(path, format=fmt)
    return path


def ffprobe_json(path: Path, *extra: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format",
                          "-show_streams", *extra, str(path)],
                         check=True, capture_output=True, timeout=60).stdout
    return json.loads(out)


def video_stream(path: Path) -> dict:
    """The first video stream, with frames counted by decoding (nb_read_frames)."""
    data = ffprobe_json(path, "-count_frames")
    return next(s for s in data["streams"] if s["codec_type"] == "video")


def frame_rgb(path: Path, index: int) -> Image.Image:
    """Decode frame `index` of a video into a Pillow image."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})",
         "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
        check=True, capture_output=True, timeout=60).stdout
    from io import BytesIO

    return Image.open(BytesIO(out)).convert("RGB")


def mean_color(image: Image.Image) -> tuple[float, float, float]:
    return tuple(ImageStat.Stat(image.convert("RGB")).mean)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- processes --------------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces; the fields after it are space separated
    return text[text.rindex(")") + 2:].split()


def process_identity(pid: int) -> tuple[int, str] | None:
    """(pid, start time): tells a process apart from a later one that reuses its pid."""
    fields = _stat(pid)
    return None if fields is None else (pid, fields[19])


def is_running(identity: tuple[int, str]) -> bool:
    """True while that very process exists and is not a zombie."""
    pid, started = identity
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] != "Z"


def ffmpeg_children(parent: int | None = None) -> list[int]:
    """pids of ffmpeg processes whose parent is `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = _stat(int(entry.name))
        if comm == "ffmpeg" and fields is not None and int(fields[1]) == parent:
            found.append(int(entry.name))
    return found
