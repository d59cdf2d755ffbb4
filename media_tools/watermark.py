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
        "fontsize=min(w\\,h)/22", "fontcolor=white@0.75", "borderw=2",
        "bordercolor=black@0.5", "x=w-text_w-min(w\\,h)/40", "y=min(w\\,h)/40"])
    run_ffmpeg([*input_args(source), "-vf", f"drawtext={draw}", "-c:v", "libx264",
                "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "copy",
                "-movflags", "+faststart", str(target)],
               timeout=max(120.0, (duration or 60) * 10), progress=progress,
               duration_hint=duration, is_canceled=is_canceled, stage="watermark")
    return target


def _draw_mark(layer: Image.Image, text: str) -> Image.Image:
    """The mark in the top right corner of a transparent RGBA layer, sized to the frame's
    shorter side (so a portrait frame's mark is no bigger than a landscape one's and stays
    clear of a title at the top)."""
    width, height = layer.size
    short = min(width, height)
    size = max(10, short // 22)
    font = ImageFont.truetype(str(font_path()), size)
    draw = ImageDraw.Draw(layer)
    left, top, right, _bottom = draw.textbbox((0, 0), text, font=font)
    margin = max(4, short // 40)
    draw.text((width - (right - left) - margin, margin - top), text, font=font,
              fill=(255, 255, 255, 190), stroke_width=max(1, size // 14),
              stroke_fill=(0, 0, 0, 128))
    return layer


def watermark_image(source: Path, target: Path, *, text: str = TEXT) -> Path:
    """`source` with the mark in its top right corner, as a PNG. A picture with transparency
    (a removed background) keeps it; the mark is opaque where it is drawn."""
    with Image.open(source) as img:
        keeps_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        img = img.convert("RGBA")
        layer = _draw_mark(Image.new("RGBA", img.size, (0, 0, 0, 0)), text)
        marked = Image.alpha_composite(img, layer)
    (marked if keeps_alpha else marked.convert("RGB")).save(target, format="PNG")
    return target


def watermark_layer(width: int, height: int, target: Path, *, text: str = TEXT) -> Path:
    """The watermark alone on a transparent frame of the output size, for compositions that
    overlay it in their own single encode (stories) instead of re-encoding afterwards."""
    _draw_mark(Image.new("RGBA", (width, height), (0, 0, 0, 0)), text).save(target, format="PNG")
    return target


def watermark_patch(width: int, height: int, target: Path, *, text: str = TEXT) -> tuple[int, int]:
    """The part of `watermark_layer(width, height)` that the mark covers, saved to `target`;
    returns where its top left corner goes in the frame. Overlaying this patch gives the same
    picture as overlaying the whole layer, for a fraction of the work per frame. The corner
    is on even pixels, so that chroma-subsampled video places it exactly."""
    layer = _draw_mark(Image.new("RGBA", (width, height), (0, 0, 0, 0)), text)
    left, top, right, bottom = layer.getbbox() or (width - 2, 0, width, 2)
    left, top = left // 2 * 2, top // 2 * 2
    layer.crop((left, top, right, bottom)).save(target, format="PNG")
    return left, top


def watermark_timeline(timeline, target: Path):
    """Add the watermark to a composer timeline as an overlay over its whole length, so that
    it is drawn in the composition's own encode (no second pass); its layer is drawn into
    `target` (a PNG)."""
    from media_tools.composer import ImageOverlay, timeline_duration

    layer = watermark_layer(timeline.width, timeline.height, target)
    timeline.overlays.append(ImageOverlay(path=layer, start=0.0,
                                          end=timeline_duration(timeline) + 1.0, x="0", y="0",
                                          width=timeline.width))
    return timeline
