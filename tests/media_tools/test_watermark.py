import json
import subprocess

from PIL import Image

from media_tools.watermark import watermark_image, watermark_video
from tests.generation.media import make_mp4, make_png


def test_watermarked_video_keeps_size_length_and_audio(tmp_path):
    source = make_mp4(seconds=1.0, size="320x192", fps=12, audio=True)
    out = watermark_video(source, tmp_path / "wm.mp4", duration=1.0)
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format",
                                      "-of", "json", str(out)], capture_output=True, text=True,
                                     check=True).stdout)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (320, 192)
    assert any(s["codec_type"] == "audio" for s in info["streams"])
    assert abs(float(info["format"]["duration"]) - 1.0) < 0.15


def test_watermarked_image_changes_only_the_corner(tmp_path):
    source = make_png((400, 240), (20, 60, 200))
    out = watermark_image(source, tmp_path / "wm.png")
    with Image.open(out) as img:
        assert img.size == (400, 240)
        assert img.getpixel((10, 230)) == (20, 60, 200)  # bottom left untouched
        corner = img.crop((200, 0, 400, 40)).getcolors(100_000)
        assert len(corner) > 1  # text drawn in the top right
