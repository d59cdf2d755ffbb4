"""Editing and tool operations: paths and options in, one output file out.

Pure functions over `engines.ffmpeg` (no Django): every input is opened through `input_args`
(protocol and demuxer whitelists) after `probe` has checked it against the caps; user text
reaches a filtergraph only through a server-written file read with `expansion=none`. Each
operation takes a `Runner`, which carries the job's progress callback, cancel flag and the
time limit, and returns a small dict describing what was done.

Operations that make pictures take `mark`: the Free plan's watermark, drawn as the last step
of the operation's own filtergraph (no second encode); its layer is written beside the output.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from engines import ffmpeg, validation
from engines.base import CancelFn, EngineError, ProgressFn
from engines.fonts import font_for_text
from media_tools.watermark import watermark_image as draw_mark_on_image
from media_tools.watermark import watermark_patch, watermark_timeline

# Caps on what an operation accepts and produces. Uploads are already held to tighter limits;
# these also guard files made by other jobs.
MAX_INPUT_SECONDS = 2 * 3600
MAX_INPUT_PIXELS = 4096 * 2304
MAX_OUTPUT_PIXELS = 3840 * 2160
MAX_OUTPUT_BYTES = 4 * 1024**3
MAX_GIF_SECONDS = 30
MAX_FRAMES_1FPS = 600

VIDEO_CODEC = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
AUDIO_CODEC = ["-c:a", "aac", "-b:a", "160k", "-ar", "48000"]
# What an MP4 output can carry as it is; other accepted codecs (VP8, ProRes, PCM, FLAC,
# Vorbis, ...) are re-encoded when an operation would otherwise copy them.
MP4_VIDEO_COPY = frozenset({"h264", "hevc", "mpeg4", "av1"})
MP4_AUDIO_COPY = frozenset({"aac", "mp3"})
MP4 = ["-movflags", "+faststart", "-fs", str(MAX_OUTPUT_BYTES)]
POSITIONS = ("top", "center", "bottom")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right", "center")


@dataclass
class Runner:
    """How the ffmpeg runs of one operation report and stop."""

    progress: ProgressFn | None = None
    is_canceled: CancelFn | None = None
    speed_factor: float = 10.0  # time limit: this many times the media's length, plus a minute

    def run(self, args: list[str], *, duration: float, stage: str) -> None:
        ffmpeg.run_ffmpeg(args, timeout=60 + duration * self.speed_factor,
                          progress=self.progress, duration_hint=duration,
                          is_canceled=self.is_canceled, stage=stage)


def probe_input(path: Path, *, video: bool = True) -> ffmpeg.MediaInfo:
    """Probe an input under the caps; a video must have a picture, audio a sound track."""
    info = ffmpeg.probe(path, max_pixels=MAX_INPUT_PIXELS, max_duration=MAX_INPUT_SECONDS,
                        formats=ffmpeg.VIDEO_DEMUXERS if video else ffmpeg.AUDIO_DEMUXERS
                        + ffmpeg.VIDEO_DEMUXERS)
    if video and not info.has_video:
        raise EngineError("The file has no video stream.", code="unsupported_media")
    if not video and not info.has_audio:
        raise EngineError("The file has no audio stream.", code="unsupported_media")
    if not info.duration:
        raise EngineError("The media has no duration.", code="unsupported_media")
    validation.check_codecs(info)  # files made by other jobs too, not only uploads
    return info


def audio_out(info: ffmpeg.MediaInfo) -> list[str]:
    """Codec arguments for the input's sound in an MP4: copied when MP4 carries its codec,
    re-encoded to AAC otherwise."""
    return ["-c:a", "copy"] if info.audio_codec in MP4_AUDIO_COPY else AUDIO_CODEC


def video_copyable(info: ffmpeg.MediaInfo) -> bool:
    return info.video_codec in MP4_VIDEO_COPY


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _video_in(path: Path, *options: str) -> list[str]:
    return ffmpeg.input_args(path, formats=ffmpeg.VIDEO_DEMUXERS, options=options)


def output_picture(chain: str, *, mark: bool, out: Path, width: int, height: int, index: int,
                   source: str = "0:v") -> tuple[list[str], str]:
    """Filtergraph text that makes the output picture `[v]`: `chain` over `source`, then, with
    `mark`, the Free plan's watermark in the top right corner of the width x height result.
    Returns the extra input the mark needs (it becomes input `index`) and the graph."""
    chain = chain or "null"
    if not mark:
        return [], f"[{source}]{chain}[v]"
    layer = out.with_name(f"{out.stem}-mark.png")
    left, top = watermark_patch(width, height, layer)
    # A single picture is enough: overlay repeats the last frame of a finished input. Placed
    # from the right edge, so the mark stays in the corner of whatever size comes out.
    return ([*ffmpeg.input_args(layer, formats=ffmpeg.IMAGE_DEMUXERS)],
            f"[{source}]{chain}[pic];[pic][{index}:v]overlay=x=W-{width - left}:y={top}"
            f":format=auto[v]")


def _text_filter(text: str, text_file: Path, *, size: int, color: str, x: str, y: str,
                 alpha: float = 1.0, enable: tuple[float, float] | None = None,
                 box: bool = False) -> str:
    """drawtext reading `text` (already written to `text_file`) in a font that has its
    characters (engines.fonts: DejaVu Sans, or a CJK/Noto font for other scripts)."""
    parts = [f"fontfile={ffmpeg.escape_filter_text(str(font_for_text(text)))}",
             f"textfile={ffmpeg.escape_filter_text(str(text_file))}", "expansion=none",
             f"fontsize={int(size)}", f"fontcolor={color}", f"alpha={alpha:.3f}",
             f"x={x}", f"y={y}", "borderw=2", "bordercolor=black@0.6", "line_spacing=4"]
    if box:
        parts += ["box=1", "boxcolor=black@0.4", "boxborderw=8"]
    if enable is not None:
        parts.append(f"enable='between(t,{enable[0]:.3f},{enable[1]:.3f})'")
    return "drawtext=" + ":".join(parts)


# --- edits ------------------------------------------------------------------------------------

def trim(src: Path, out: Path, *, start: float, end: float, runner: Runner,
         mark: bool = False) -> dict:
    """Keep [start, end). When the cut starts at the beginning or on a keyframe, the streams
    are copied (no decoding); any other start is re-encoded so that the first frame is exactly
    at `start` (a copied stream can only begin on a keyframe). The streams are re-encoded too
    when MP4 cannot carry their codec, or with `mark` (a copied stream cannot carry the
    watermark). The result says which, and why."""
    info = probe_input(src)
    end = min(end, info.duration)
    if not 0 <= start < end:
        raise EngineError("The cut is outside the video.", code="invalid_params")
    length = end - start
    reason = _copy_refused(src, info, start=start, mark=mark)
    if reason is None:
        seek = ("-ss", f"{start:.6f}") if start else ()
        runner.run([*_video_in(src, *seek), "-t", f"{length:.3f}", "-map", "0:v:0",
                    "-map", "0:a:0?", "-c", "copy", "-avoid_negative_ts", "make_zero", *MP4,
                    str(out)], duration=length, stage="trim")
        return {"method": "stream_copy", "duration": length,
                "reason": "keyframe_start" if start else "from_start"}
    extra, graph = output_picture("", mark=mark, out=out, width=info.width, height=info.height,
                                  index=1)
    seek = ("-ss", f"{start:.3f}") if start else ()
    runner.run([*_video_in(src, *seek), *extra, "-filter_complex", graph, "-t", f"{length:.3f}",
                "-map", "[v]", "-map", "0:a:0?", *VIDEO_CODEC, *AUDIO_CODEC, *MP4, str(out)],
               duration=length, stage="trim")
    return {"method": "reencode", "duration": length, "reason": reason}


def _copy_refused(src: Path, info: ffmpeg.MediaInfo, *, start: float, mark: bool) -> str | None:
    """Why the cut cannot be a stream copy, or None when it can."""
    if mark:
        return "watermark"
    if not video_copyable(info) or (info.has_audio and info.audio_codec not in MP4_AUDIO_COPY):
        return "codec"
    if start == 0:
        return None
    tolerance = 0.5 / (info.fps or 25)  # half a frame
    keyframes = ffmpeg.keyframe_times(src, around=start, formats=ffmpeg.VIDEO_DEMUXERS)
    if any(abs(k - start) <= tolerance for k in keyframes):
        return None
    return "frame_accurate_start"


def atempo_chain(factor: float) -> str:
    """atempo filters whose product is `factor`, each within the 0.5-2.0 that keeps pitch
    processing clean."""
    steps = []
    while factor > 2.0:
        steps.append(2.0)
        factor /= 2.0
    while factor < 0.5:
        steps.append(0.5)
        factor /= 0.5
    steps.append(factor)
    return ",".join(f"atempo={s:.6f}" for s in steps)


def speed(src: Path, out: Path, *, factor: float, runner: Runner, mark: bool = False) -> dict:
    """Play `factor` times faster (0.25-4.0): pictures retimed, sound tempo-changed with the
    same factor so it stays in sync; the frame rate of the source is kept."""
    if not 0.25 <= factor <= 4.0:
        raise EngineError("speed_factor must be between 0.25 and 4.", code="invalid_params")
    info = probe_input(src)
    fps = info.fps or 25
    length = info.duration / factor
    extra, graph = output_picture(f"setpts=PTS/{factor:.6f},fps={fps:.6f}", mark=mark, out=out,
                                  width=info.width, height=info.height, index=1)
    maps = ["-map", "[v]"]
    if info.has_audio:
        graph += f";[0:a]{atempo_chain(factor)}[a]"
        maps += ["-map", "[a]", *AUDIO_CODEC]
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, *maps, *VIDEO_CODEC, *MP4,
                "-t", f"{length:.3f}", str(out)], duration=length, stage="speed")
    return {"duration": length, "speed_factor": factor}


def crop(src: Path, out: Path, *, x: int, y: int, width: int, height: int,
         runner: Runner, mark: bool = False) -> dict:
    """Cut out a region; width and height are rounded down to even numbers for H.264."""
    info = probe_input(src)
    if x < 0 or y < 0 or x + width > info.width or y + height > info.height:
        raise EngineError("The region is outside the frame.", code="invalid_params")
    width, height = _even(width), _even(height)
    extra, graph = output_picture(f"crop={width}:{height}:{x}:{y},setsar=1", mark=mark, out=out,
                                  width=width, height=height, index=1)
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, "-map", "[v]",
                "-map", "0:a:0?", *VIDEO_CODEC, *audio_out(info), *MP4, str(out)],
               duration=info.duration, stage="crop")
    return {"width": width, "height": height}


def resize(src: Path, out: Path, *, width: int, height: int, runner: Runner,
           mark: bool = False) -> dict:
    """Fit into width x height keeping the aspect ratio, padded with black bars."""
    info = probe_input(src)
    width, height = _even(width), _even(height)
    if width * height > MAX_OUTPUT_PIXELS:
        raise EngineError("The output size is too large.", code="invalid_params")
    graph = (f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
             f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")
    extra, graph = output_picture(graph, mark=mark, out=out, width=width, height=height, index=1)
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, "-map", "[v]",
                "-map", "0:a:0?", *VIDEO_CODEC, *audio_out(info), *MP4, str(out)],
               duration=info.duration, stage="resize")
    return {"width": width, "height": height}


def text_overlay(src: Path, out: Path, *, text: str, workdir: Path, position: str = "bottom",
                 font_size: int = 48, color: str = "white", start: float = 0.0,
                 end: float | None = None, runner: Runner, mark: bool = False) -> dict:
    """Burn `text` (any Unicode, several lines) onto the picture between start and end.
    The text is written to a file that drawtext reads with expansion off: quotes, colons,
    backslashes and `%{...}` are shown as they are and never interpreted."""
    if position not in POSITIONS:
        raise EngineError(f"position must be one of {', '.join(POSITIONS)}.",
                          code="invalid_params")
    info = probe_input(src)
    end = info.duration if end is None else min(end, info.duration)
    text_file = ffmpeg.write_text_file(workdir, "overlay.txt", text)
    y = {"top": "h*0.06", "center": "(h-text_h)/2", "bottom": "h-text_h-h*0.08"}[position]
    draw = _text_filter(text, text_file, size=font_size, color=color, x="(w-text_w)/2", y=y,
                        enable=(start, end), box=True)
    extra, graph = output_picture(draw, mark=mark, out=out, width=info.width, height=info.height,
                                  index=1)
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, "-map", "[v]",
                "-map", "0:a:0?", *VIDEO_CODEC, *audio_out(info), *MP4, str(out)],
               duration=info.duration, stage="overlay")
    return {"start_time": start, "end_time": end}


def merge(sources: list[Path], out: Path, *, runner: Runner, mark: bool = False) -> dict:
    """Join videos end to end into one: each is scaled and padded to the first one's frame,
    resampled to the highest frame rate among them (at most 60), and given silence when it
    has no sound. One composition pass (media_tools.composer); the probed sizes and rates go
    along as hints, so clips that already match the output are not rescaled."""
    from media_tools.composer import Clip, Timeline, compose

    if not 2 <= len(sources) <= 20:
        raise EngineError("Merge takes 2 to 20 videos.", code="invalid_params")
    infos = [probe_input(path) for path in sources]
    first = infos[0]
    fps = min(60, round(max(info.fps or 25 for info in infos)))
    clips = [Clip(path=path, duration=info.duration, has_audio=info.has_audio,
                  width=info.width, height=info.height, fps=info.fps,
                  sample_rate=info.sample_rate, channels=info.channels)
             for path, info in zip(sources, infos, strict=True)]
    timeline = Timeline(width=_even(first.width), height=_even(first.height), fps=fps,
                        clips=clips)
    if mark:
        watermark_timeline(timeline, out.with_name(f"{out.stem}-mark.png"))
    total = compose(timeline, out, progress=runner.progress, is_canceled=runner.is_canceled,
                    timeout=60 + sum(c.length for c in clips) * runner.speed_factor)
    return {"duration": total, "clips": len(sources), "width": timeline.width,
            "height": timeline.height, "fps": fps}


# --- tools ------------------------------------------------------------------------------------

def _mark_frame(path: Path) -> None:
    marked = path.with_name(f"{path.stem}-mark.png")
    draw_mark_on_image(path, marked)
    marked.replace(path)


def extract_frames(src: Path, outdir: Path, *, mode: str, runner: Runner,
                   mark: bool = False) -> list[Path]:
    """PNG frames: the first, the middle or the last one, or one per second (`all_1fps`, at
    most 600) collected in a zip archive. Returns the files to keep. With `mark`, each
    picture gets the watermark before it is kept or archived."""
    info = probe_input(src)
    if mode == "all_1fps":
        frames = outdir / "frames"
        frames.mkdir()
        runner.run([*_video_in(src), "-vf", "fps=1", "-frames:v", str(MAX_FRAMES_1FPS),
                    "-an", str(frames / "frame_%05d.png")], duration=info.duration,
                   stage="frames")
        files = sorted(frames.glob("frame_*.png"))
        if not files:
            raise EngineError("No frame could be read from the video.",
                              code="frame_extract_failed")
        if mark:
            for path in files:
                _mark_frame(path)
        archive = outdir / "frames.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
            for path in files:
                zf.write(path, arcname=path.name)
        return [archive]
    target = outdir / f"frame-{mode}.png"
    if mode == "first":
        args = [*_video_in(src), "-frames:v", "1"]
    elif mode == "middle":
        args = [*_video_in(src, "-ss", f"{info.duration / 2:.3f}"), "-frames:v", "1"]
    elif mode == "last":
        # Decode the final second, overwriting one file: it ends holding the last frame.
        args = [*_video_in(src, "-sseof", f"-{min(1.0, info.duration):.3f}"), "-update", "1"]
    else:
        raise EngineError("mode must be first, last, middle or all_1fps.",
                          code="invalid_params")
    runner.run([*args, "-an", str(target)], duration=1.0, stage="frames")
    if not target.exists():
        raise EngineError("No frame could be read from the video.", code="frame_extract_failed")
    if mark:
        _mark_frame(target)
    return [target]


def video_to_gif(src: Path, out: Path, *, width: int, fps: int, runner: Runner,
                 mark: bool = False) -> dict:
    """An animated GIF through a palette made for this clip (palettegen + paletteuse), the
    first 30 seconds at most. The mark goes on before the palette is made, so that its
    colours are in it."""
    info = probe_input(src)
    length = min(info.duration, MAX_GIF_SECONDS)
    width = _even(width)
    # What `scale=W:-2` gives: the source's aspect, rounded to the nearest even height.
    height = max(2, (width * info.height + info.width) // (2 * info.width) * 2)
    extra, graph = output_picture(f"fps={int(fps)},scale={width}:{height}:flags=lanczos", mark=mark,
                                  out=out, width=width, height=height, index=1)
    graph += (";[v]split[a][b];[a]palettegen=stats_mode=diff[p];"
              "[b][p]paletteuse=dither=bayer:bayer_scale=4")
    # The limit is an input option: palettegen waits for the end of its input, so cutting
    # only the output would still decode (and analyse) the whole clip.
    runner.run([*_video_in(src, "-t", f"{length:.3f}"), *extra, "-filter_complex", graph, "-an",
                "-loop", "0", "-fs", str(MAX_OUTPUT_BYTES), "-f", "gif", str(out)],
               duration=length, stage="gif")
    return {"duration": length, "width": width, "fps": int(fps)}


def _corner(position: str, margin: str = "24") -> tuple[str, str]:
    return {
        "top-left": (margin, margin), "top-right": (f"W-w-{margin}", margin),
        "bottom-left": (margin, f"H-h-{margin}"),
        "bottom-right": (f"W-w-{margin}", f"H-h-{margin}"),
        "center": ("(W-w)/2", "(H-h)/2"),
    }[position]


def watermark_text(src: Path, out: Path, *, text: str, workdir: Path, position: str,
                   opacity: float, runner: Runner, mark: bool = False) -> dict:
    if position not in CORNERS:
        raise EngineError(f"position must be one of {', '.join(CORNERS)}.",
                          code="invalid_params")
    info = probe_input(src)
    text_file = ffmpeg.write_text_file(workdir, "watermark.txt", text)
    x, y = _corner(position)
    # drawtext names the frame W/H as w/h and the text as text_w/text_h.
    x = x.replace("W-w", "w-text_w").replace("(W-w)", "(w-text_w)")
    y = y.replace("H-h", "h-text_h").replace("(H-h)", "(h-text_h)")
    size = max(12, info.height // 18)
    draw = _text_filter(text, text_file, size=size, color="white", x=x, y=y, alpha=opacity)
    extra, graph = output_picture(draw, mark=mark, out=out, width=info.width, height=info.height,
                                  index=1)
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, "-map", "[v]",
                "-map", "0:a:0?", *VIDEO_CODEC, *audio_out(info), *MP4, str(out)],
               duration=info.duration, stage="watermark")
    return {"type": "text", "position": position, "opacity": opacity}


def watermark_image(src: Path, out: Path, *, image: Path, position: str, opacity: float,
                    runner: Runner, mark: bool = False) -> dict:
    """Overlay an image, scaled to a fifth of the video's width, with the given opacity."""
    if position not in CORNERS:
        raise EngineError(f"position must be one of {', '.join(CORNERS)}.",
                          code="invalid_params")
    info = probe_input(src)
    ffmpeg.probe(image, max_pixels=ffmpeg.DEFAULT_MAX_PIXELS, formats=ffmpeg.IMAGE_DEMUXERS)
    mark_width = _even(max(16, info.width / 5))
    x, y = _corner(position)
    extra, picture = output_picture("format=yuv420p", mark=mark, out=out, width=info.width,
                                    height=info.height, index=2, source="own")
    graph = (f"[1:v]scale={mark_width}:-2,format=rgba,colorchannelmixer=aa={opacity:.3f}[wm];"
             f"[0:v][wm]overlay=x={x}:y={y}:format=auto[own];{picture}")
    runner.run([*_video_in(src), *ffmpeg.input_args(image, formats=ffmpeg.IMAGE_DEMUXERS),
                *extra, "-filter_complex", graph, "-map", "[v]", "-map", "0:a:0?", *VIDEO_CODEC,
                *audio_out(info), *MP4, str(out)], duration=info.duration, stage="watermark")
    return {"type": "image", "position": position, "opacity": opacity}


def still_to_clip(image: Path, out: Path, *, runner: Runner) -> Path:
    """A one-frame, one-second H.264 clip of a picture, for tools that only take video."""
    ffmpeg.probe(image, max_pixels=MAX_INPUT_PIXELS, formats=ffmpeg.IMAGE_DEMUXERS)
    runner.run([*ffmpeg.input_args(image, formats=ffmpeg.IMAGE_DEMUXERS), "-frames:v", "1",
                "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1", "-r", "1",
                *VIDEO_CODEC, str(out)], duration=1.0, stage="prepare")
    return out


def upscale(src: Path, out: Path, *, factor: int, runner: Runner, mark: bool = False) -> dict:
    """Scale by 2-4 with the lanczos filter: a good classical upscale, not an AI one."""
    info = probe_input(src)
    width, height = _even(info.width * factor), _even(info.height * factor)
    if width * height > MAX_OUTPUT_PIXELS:
        raise EngineError("The upscaled video would be larger than 4K.", code="invalid_params")
    extra, graph = output_picture(f"scale={width}:{height}:flags=lanczos,setsar=1", mark=mark,
                                  out=out, width=width, height=height, index=1)
    runner.run([*_video_in(src), *extra, "-filter_complex", graph, "-map", "[v]",
                "-map", "0:a:0?", *VIDEO_CODEC, *audio_out(info), *MP4, str(out)],
               duration=info.duration, stage="upscale")
    return {"method": "ffmpeg_lanczos", "width": width, "height": height,
            "scale_factor": factor}
