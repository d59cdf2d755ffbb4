"""The Free plan's watermark, burned into outputs by the job pipeline."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engines.ffmpeg import escape_filter_text, font_path, input_args, run_ffmpeg, write_text_file

TEXT = "Made with Reelforge"


def watermark_video(source: Path, target: Path, *, text: str = TEXT, is_canceled=None,
                    progress=None, duration: float | None = None) -> Path:
    """Re-encode `source` with `text` in the top right corner (captions live at the bottom);
    audio is copied."""
    text_file = write_text_file(target.parent, f"{target.stem}-watermark.txt", text)
    draw = ":".join([
        f"fontfile={escape_filter_text(str(font_path()))}",
        f"textfile={escape_filter_text(str(text_file))}", "expansion=none",
        "fontsize=h/22", "fontcolor=white@0.75", "borderw=2", "bordercolor=black@0.5",
        "x=w-text_w-h/40", "y=h/40"])
    run_ffmpeg([*input_args(source), "-vf", f"drawtext={draw}", "-c:v", "libx264",
                "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "copy",
                "-movflags", "+faststart", str(target)],
               timeout=max(120.0, (duration or 60) * 10), progress=progress,
               duration_hint=duration, is_canceled=is_canceled, stage="watermark")
    return target


def watermark_image(source: Path, target: Path, *, text: str = TEXT) -> Path:
    with Image.open(source) as img:
        img = img.convert("RGBA")
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        size = max(10, img.height // 22)
        font = ImageFont.truetype(str(font_path()), size)
        draw = ImageDraw.Draw(layer)
        left, top, right, _bottom = draw.textbbox((0, 0), text, font=font)
        margin = max(4, img.height // 40)
        position = (img.width - (right - left) - margin, margin - top)
        draw.text(position, text, font=font, fill=(255, 255, 255, 190),
                  stroke_width=max(1, size // 14), stroke_fill=(0, 0, 0, 128))
        Image.alpha_composite(img, layer).convert("RGB").save(target, format="PNG")
    return target
