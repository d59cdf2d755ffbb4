import json
import subprocess

from PIL import Image, ImageChops

from media_tools.watermark import (
    watermark_image,
    watermark_layer,
    watermark_patch,
    watermark_video,
)
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


def test_a_transparent_picture_keeps_its_transparency_with_the_mark(tmp_path):
    # A removed background: a red square on nothing.
    source = tmp_path / "cutout.png"
    picture = Image.new("RGBA", (400, 240), (0, 0, 0, 0))
    picture.paste((200, 20, 20, 255), (150, 100, 250, 200))
    picture.save(source)
    out = watermark_image(source, tmp_path / "wm.png")
    with Image.open(out) as img:
        assert img.mode == "RGBA"
        assert img.getpixel((10, 230))[3] == 0  # still see-through away from the mark
        assert img.getpixel((200, 150)) == (200, 20, 20, 255)
        assert img.crop((200, 0, 400, 40)).getchannel("A").getextrema()[1] > 100


def test_the_mark_patch_is_the_layer_where_it_covers_anything(tmp_path):
    left, top = watermark_patch(320, 192, tmp_path / "patch.png")
    assert left % 2 == 0 and top % 2 == 0 and left > 160  # in the top right corner
    with (Image.open(watermark_layer(320, 192, tmp_path / "layer.png")) as layer,
          Image.open(tmp_path / "patch.png") as patch):
        rebuilt = Image.new("RGBA", layer.size, (0, 0, 0, 0))
        rebuilt.paste(patch, (left, top))
        assert ImageChops.difference(rebuilt, layer).getbbox(alpha_only=False) is None
