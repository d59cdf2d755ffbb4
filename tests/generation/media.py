"""Small real media files for tests, made with Pillow and ffmpeg."""

import subprocess
import tempfile
from pathlib import Path

from PIL import Image


def make_png(size=(64, 48), color=(200, 40, 40)) -> Path:
    path = Path(tempfile.mkdtemp()) / "image.png"
    Image.new("RGB", size, color).save(path)
    return path


def make_mp4(*, seconds=1.0, size="160x96", fps=12, audio=True) -> Path:
    path = Path(tempfile.mkdtemp()) / "clip.mp4"
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", str(path)]
    subprocess.run(args, check=True, timeout=60)
    return path


def make_wav(*, seconds=1.0) -> Path:
    path = Path(tempfile.mkdtemp()) / "tone.wav"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=330:duration={seconds}", str(path)], check=True, timeout=60)
    return path
