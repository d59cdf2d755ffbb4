"""The composer: a timeline of clips, overlays and audio tracks -> one video, encoded once.

Everything happens in a single ffmpeg filtergraph: each clip is trimmed, fitted to the output
size (`contain`: scaled and padded; `cover`: scaled up and centre-cropped), resampled to the
output frame rate, and given a silent track when it has no audio; clips are joined by cuts
(concat) or transitions (xfade + acrossfade); captions are drawn with drawtext from
server-written text files (`expansion=none`, so user text is never interpreted); image
overlays are composited, then a server-written .ass file is burned in with libass; narration,
music and sound effects are mixed, the music ducked under the narration with a sidechain
compressor and faded out at the end.

Clips may also be still images with slow camera motion (`kind="image"`, `motion=`), and may be
placed in a window of a template frame (`window=`, `frame=`). A clip whose probed size and rate
already match the output skips the scaling, padding and frame-rate steps.

Pure: `build_command` takes paths and plain values and returns an argument list; `compose`
runs it through the one ffmpeg runner. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engines.ffmpeg import (
    IMAGE_DEMUXERS,
    escape_filter_text,
    font_path,
    input_args,
    probe,
    run_ffmpeg,
)

# How long a transition overlaps the two clips it joins, unless a clip says otherwise.
TRANSITION = 0.5
# Our transition names -> ffmpeg xfade transitions. "cut" joins with concat instead.
XFADE = {"fade": "fadeblack", "crossfade": "fade", "wipe": "wipeleft", "slide": "slideleft"}
SAMPLE_RATE = 48000
FITS = ("contain", "cover")
MOTIONS = ("none", "zoom_in", "zoom_out", "pan_left", "pan_right")
# How far a still's camera moves over the clip: zoom 1 -> 1.15, pans travel 15% of the width.
MOTION_AMOUNT = 0.15


@dataclass
class Clip:
    path: Path
    start: float = 0.0  # in-point in the source, seconds
    end: float | None = None  # out-point; None = the source's end (then `duration` must be set)
    duration: float | None = None  # the source's length, needed when end is None
    has_audio: bool = True
    transition: str = "cut"  # to the next clip: cut, fade, crossfade, wipe, slide
    transition_duration: float = TRANSITION
    volume: float = 1.0
    kind: str = "video"  # video, or image: a still shown for `duration` seconds
    fit: str = "contain"  # contain (scale + pad) or cover (scale up + centre-crop)
    motion: str = "none"  # images: none, zoom_in, zoom_out, pan_left, pan_right
    window: tuple[int, int, int, int] | None = None  # x, y, w, h on the output canvas
    frame: Path | None = None  # RGBA PNG of the output size, laid over the whole clip
    loop: bool = False  # videos: repeat the source, so an in/out range may pass its end
    # Probe hints: when they match the output, the clip is passed through unscaled.
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def length(self) -> float:
        end = self.end if self.end is not None else self.duration
        if end is None:
            raise ValueError(f"clip {self.path} needs an end or a duration")
        return max(0.0, end - self.start)


@dataclass
class Caption:
    text_file: Path  # written by the server; the text is never put in the filtergraph
    start: float
    end: float
    font_size: int = 42
    color: str = "white"
    box: bool = True
    box_color: str = "black@0.55"
    position: str = "bottom"  # top, center, bottom
    border: int = 3


@dataclass
class ImageOverlay:
    path: Path
    start: float
    end: float
    x: str = "W-w-24"
    y: str = "24"
    width: int = 160
    opacity: float = 1.0


@dataclass
class AudioTrack:
    path: Path
    role: str = "music"  # music (ducked under narration), narration, or sfx (mixed on top)
    start: float = 0.0  # where it begins on the timeline
    volume: float = 1.0
    loop: bool = False  # music: repeat to cover the whole video
    fade_out: float = 2.0
    length: float | None = None  # cut after this many seconds (None: runs to the video's end)


# A soundtrack's fade at the end of the video, in seconds.
MUSIC_FADE = 2.0


def music_track(path: Path, *, volume: float) -> AudioTrack:
    """A soundtrack under the whole video: looped or cut to its length, ducked under the
    narration (Timeline.duck_music) and faded out at the end."""
    return AudioTrack(path=path, role="music", loop=True, volume=volume, fade_out=MUSIC_FADE)


@dataclass
class Timeline:
    width: int
    height: int
    fps: int
    clips: list[Clip]
    captions: list[Caption] = field(default_factory=list)
    overlays: list[ImageOverlay] = field(default_factory=list)
    audio: list[AudioTrack] = field(default_factory=list)
    duck_music: bool = True
    background: str = "black"
    subtitles: Path | None = None  # a server-written .ass file, burned in after the overlays


def _xfade_duration(a: Clip, b: Clip) -> float:
    """A transition may not be longer than either clip it joins."""
    if a.transition == "cut":
        return 0.0
    return max(0.04, min(a.transition_duration, a.length / 2, b.length / 2))


def timeline_duration(timeline: Timeline) -> float:
    """The output length: the clips' lengths minus the transitions' overlaps."""
    total = sum(c.length for c in timeline.clips)
    for a, b in zip(timeline.clips, timeline.clips[1:], strict=False):
        total -= _xfade_duration(a, b)
    return total


def clip_starts(timeline: Timeline) -> list[float]:
    """Where each clip begins on the output timeline: a transition starts the next clip
    before the previous one ends."""
    starts, elapsed = [], 0.0
    for n, clip in enumerate(timeline.clips):
        if n:
            elapsed -= _xfade_duration(timeline.clips[n - 1], clip)
        starts.append(elapsed)
        elapsed += clip.length
    return starts


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _check_clip(clip: Clip, *, width: int, height: int) -> None:
    if clip.kind not in ("video", "image"):
        raise ValueError(f"clip kind must be video or image, not {clip.kind!r}")
    if clip.fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}")
    if clip.motion not in MOTIONS:
        raise ValueError(f"motion must be one of {', '.join(MOTIONS)}")
    if clip.motion != "none" and clip.kind != "image":
        raise ValueError("camera motion is for still images")
    if clip.window is not None:
        x, y, w, h = clip.window
        if x < 0 or y < 0 or w < 2 or h < 2 or x + w > width or y + h > height:
            raise ValueError(f"window {clip.window} is not inside the {width}x{height} frame")


def passes_through(clip: Clip, timeline: Timeline) -> bool:
    """True when the clip's probed picture already is the output's: same size and frame rate,
    and no window or motion. Its scaling, padding and frame-rate steps are then skipped (fit
    changes nothing at the same size). Both paths reset the sample aspect ratio to 1 without
    touching the pixels, so a clip's SAR does not change the result."""
    return (clip.kind == "video" and clip.window is None
            and clip.width == timeline.width and clip.height == timeline.height
            and clip.fps is not None and abs(clip.fps - timeline.fps) < 0.01)


def _box(clip: Clip, timeline: Timeline) -> tuple[int, int, int, int]:
    """Where the clip's picture goes: its window (even-sized), or the whole frame."""
    if clip.window is None:
        return 0, 0, timeline.width, timeline.height
    x, y, w, h = clip.window
    return int(x), int(y), _even(w), _even(h)


def _place(clip: Clip, timeline: Timeline) -> str:
    """Pads the fitted picture onto the canvas, centred in its box; empty when it already
    covers the whole frame."""
    x, y, bw, bh = _box(clip, timeline)
    w, h, color = timeline.width, timeline.height, timeline.background
    if clip.window is None:
        if clip.fit == "cover":
            return ""
        return f",pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={color}"
    return f",pad={w}:{h}:{x}+({bw}-iw)/2:{y}+({bh}-ih)/2:color={color}"


def _fit(fit: str, width: int, height: int) -> str:
    if fit == "cover":
        return (f"scale={width}:{height}:force_original_aspect_ratio=increase,"
                f"crop={width}:{height}")
    return f"scale={width}:{height}:force_original_aspect_ratio=decrease"


def _video_chain(clip: Clip, timeline: Timeline, *, crossfaded: bool) -> str:
    end = f":end={clip.start + clip.length:.3f}"
    trim = f"trim=start={clip.start:.3f}{end},setpts=PTS-STARTPTS"
    if passes_through(clip, timeline):
        # xfade wants the same frame rate and time base on both sides: only the fps filter
        # sets both for certain; a cut needs neither.
        rate = f"fps={timeline.fps}" if crossfaded else f"settb=1/{timeline.fps}"
        return f"{trim},{rate},setsar=1,format=yuv420p"
    _x, _y, bw, bh = _box(clip, timeline)
    return (f"{trim},{_fit(clip.fit, bw, bh)}{_place(clip, timeline)},setsar=1,"
            f"fps={timeline.fps},format=yuv420p")


def _picture_size(clip: Clip, width: int, height: int) -> tuple[int, int]:
    """The size of a still once fitted into a width x height box; contain needs the image's
    own size (the hints, else a guarded probe)."""
    if clip.fit == "cover":
        return width, height
    iw, ih = clip.width, clip.height
    if not iw or not ih:
        info = probe(clip.path, formats=IMAGE_DEMUXERS)
        iw, ih = info.width, info.height
    scale = min(width / iw, height / ih)
    return min(width, _even(round(iw * scale))), min(height, _even(round(ih * scale)))


def _image_chain(clip: Clip, timeline: Timeline) -> str:
    """A still held for the clip's length: scaled once, repeated with the loop filter, then
    moved. Zooms rescale each frame to an even size that grows (or shrinks) by two pixels at a
    time and crop the centre, which keeps every edge moving one way; zoompan rounds its crop
    position and size separately and made edges step back by up to 1 px (measured at
    1080x1920). Pans slide a crop window across a wider copy of the picture."""
    fps = timeline.fps
    frames = max(1, round(clip.length * fps))
    last = max(1, frames - 1)
    _x, _y, bw, bh = _box(clip, timeline)
    hold = (f"setsar=1,format=yuv420p,loop=loop={frames - 1}:size=1:start=0,"
            f"setpts=N/{fps}/TB,fps={fps}")
    if clip.motion == "none":
        return f"{_fit(clip.fit, bw, bh)},{hold}{_place(clip, timeline)},setsar=1"
    pw, ph = _picture_size(clip, bw, bh)
    amount = MOTION_AMOUNT
    if clip.motion in ("zoom_in", "zoom_out"):
        progress = f"n/{last}" if clip.motion == "zoom_in" else f"(1-n/{last})"
        width = f"2*trunc({pw}*(1+{amount}*{progress})/2)"
        height = f"2*trunc({ph}*(1+{amount}*{progress})/2)"
        source = _fit("cover", _even(pw * (1 + amount)), _even(ph * (1 + amount)))
        move = (f"scale=w='{width}':h='{height}':eval=frame,"
                f"crop=w={pw}:h={ph}:x='({width}-{pw})/2':y='({height}-{ph})/2':exact=1")
    else:
        wide = _even(pw * (1 + amount))
        # pan_right: the view travels to the right, the picture slides left.
        progress = f"n/{last}" if clip.motion == "pan_right" else f"(1-n/{last})"
        source = _fit("cover", wide, ph)
        move = f"crop=w={pw}:h={ph}:x='{wide - pw}*{progress}':y=0:exact=1"
    return f"{source},{hold},{move}{_place(clip, timeline)},setsar=1"


def _audio_chain(clip: Clip, index: int, n: int) -> str:
    if clip.kind == "image" or not clip.has_audio:
        return (f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=duration={clip.length:.3f},"
                f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{n}]")
    trim = (f"[{index}:a]atrim=start={clip.start:.3f}:end={clip.start + clip.length:.3f},"
            f"asetpts=PTS-STARTPTS")
    pad = f"apad=whole_dur={clip.length:.3f}"
    if clip.sample_rate == SAMPLE_RATE and clip.channels == 2:
        # Already 48 kHz stereo: no resampler. aformat still pins the format, so wrong
        # hints only cost an automatic conversion.
        volume = f",volume={clip.volume:.3f}" if clip.volume != 1.0 else ""
        return (f"{trim},aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:"
                f"channel_layouts=stereo,{pad}{volume}[a{n}]")
    return (f"{trim},aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"{pad},volume={clip.volume:.3f}[a{n}]")


def _caption_filter(caption: Caption, *, height: int) -> str:
    y = {"top": "h*0.06", "center": "(h-text_h)/2", "bottom": "h-text_h-h*0.08"}[caption.position]
    parts = [f"fontfile={escape_filter_text(str(font_path()))}",
             f"textfile={escape_filter_text(str(caption.text_file))}", "expansion=none",
             f"fontsize={int(caption.font_size)}", f"fontcolor={caption.color}",
             "x=(w-text_w)/2", f"y={y}", f"borderw={int(caption.border)}", "bordercolor=black",
             f"enable='between(t,{caption.start:.3f},{caption.end:.3f})'"]
    if caption.box:
        parts += ["box=1", f"boxcolor={caption.box_color}", "boxborderw=12"]
    return "drawtext=" + ":".join(parts)


def build_command(timeline: Timeline, output: Path, *, crf: int = 20,
                  preset: str = "veryfast") -> tuple[list[str], float]:
    """The ffmpeg arguments (without the leading `ffmpeg`) and the output duration. Every
    input goes through the ffmpeg layer's guarded `input_args`."""
    if not timeline.clips:
        raise ValueError("a timeline needs at least one clip")
    w, h, fps = timeline.width, timeline.height, timeline.fps
    if w % 2 or h % 2:
        raise ValueError("width and height must be even")
    args: list[str] = []
    graph: list[str] = []
    index = 0

    # Clips: normalised video and audio streams of exactly the clip's length.
    for n, clip in enumerate(timeline.clips):
        _check_clip(clip, width=w, height=h)
        if clip.kind == "image":
            args += input_args(clip.path, formats=IMAGE_DEMUXERS)
            chain = _image_chain(clip, timeline)
        else:
            args += input_args(clip.path, options=("-stream_loop", "-1") if clip.loop else ())
            crossfaded = clip.transition != "cut" or (
                n > 0 and timeline.clips[n - 1].transition != "cut")
            chain = _video_chain(clip, timeline, crossfaded=crossfaded)
        clip_index = index
        index += 1
        if clip.frame is None:
            graph.append(f"[{clip_index}:v]{chain}[v{n}]")
        else:
            args += input_args(clip.frame, formats=IMAGE_DEMUXERS)
            graph.append(f"[{clip_index}:v]{chain}[vb{n}]")
            graph.append(f"[{index}:v]scale={w}:{h},format=rgba[fr{n}]")
            # One frame is enough: overlay repeats the last frame of a finished input.
            graph.append(f"[vb{n}][fr{n}]overlay=x=0:y=0,format=yuv420p[v{n}]")
            index += 1
        graph.append(_audio_chain(clip, clip_index, n))

    # Joins: cuts concatenate, transitions overlap the two clips.
    video, audio, elapsed = "v0", "a0", timeline.clips[0].length
    for n in range(1, len(timeline.clips)):
        prev, clip = timeline.clips[n - 1], timeline.clips[n]
        overlap = _xfade_duration(prev, clip)
        if overlap == 0:
            graph.append(f"[{video}][{audio}][v{n}][a{n}]concat=n=2:v=1:a=1[jv{n}][ja{n}]")
            elapsed += clip.length
        else:
            offset = elapsed - overlap
            graph.append(f"[{video}][v{n}]xfade=transition={XFADE[prev.transition]}:"
                         f"duration={overlap:.3f}:offset={offset:.3f}[jv{n}]")
            graph.append(f"[{audio}][a{n}]acrossfade=d={overlap:.3f}[ja{n}]")
            elapsed += clip.length - overlap
        video, audio = f"jv{n}", f"ja{n}"
    total = elapsed

    # Overlays: images, then the burned subtitles, then drawtext captions on top.
    for k, overlay in enumerate(timeline.overlays):
        # One frame is enough: overlay repeats the last frame of a finished input.
        args += input_args(overlay.path)
        graph.append(f"[{index}:v]scale={int(overlay.width)}:-2,format=rgba,"
                     f"colorchannelmixer=aa={overlay.opacity:.2f}[ov{k}]")
        graph.append(f"[{video}][ov{k}]overlay=x={overlay.x}:y={overlay.y}:"
                     f"enable='between(t,{overlay.start:.3f},{overlay.end:.3f})'[ovd{k}]")
        video = f"ovd{k}"
        index += 1
    if timeline.subtitles is not None:
        graph.append(f"[{video}]ass=filename={escape_filter_text(str(timeline.subtitles))}:"
                     f"fontsdir={escape_filter_text(str(font_path().parent))}[vsub]")
        video = "vsub"
    if timeline.captions:
        graph.append(f"[{video}]" + ",".join(_caption_filter(c, height=h)
                                             for c in timeline.captions) + "[vcap]")
        video = "vcap"

    # Audio tracks: narration on top of the clips' sound, music under both (ducked), sound
    # effects on top of everything, never looped or ducked.
    narration, music, effects = [], [], []
    for track in timeline.audio:
        loop = track.loop and track.role != "sfx"
        args += input_args(track.path, options=("-stream_loop", "-1") if loop else ())
        delay = int(track.start * 1000)
        label = f"t{index}"
        span = max(0.0, total - track.start)
        if track.length is not None:
            span = min(span, max(0.0, track.length))
        chain = (f"[{index}:a]aresample={SAMPLE_RATE},"
                 f"aformat=sample_fmts=fltp:channel_layouts=stereo,"
                 f"atrim=duration={span:.3f},asetpts=PTS-STARTPTS,"
                 f"adelay={delay}|{delay},volume={track.volume:.3f}")
        if track.role == "music" and track.fade_out > 0:
            fade = min(track.fade_out, total)
            chain += f",afade=t=out:st={total - fade:.3f}:d={fade:.3f}"
        graph.append(chain + f"[{label}]")
        {"narration": narration, "sfx": effects}.get(track.role, music).append(label)
        index += 1
    mix = [audio]
    if narration:
        if len(narration) > 1:
            graph.append("".join(f"[{x}]" for x in narration) +
                         f"amix=inputs={len(narration)}:duration=longest:normalize=0[nar]")
        else:
            graph.append(f"[{narration[0]}]anull[nar]")
    if music:
        if len(music) > 1:
            graph.append("".join(f"[{x}]" for x in music) +
                         f"amix=inputs={len(music)}:duration=longest:normalize=0[mus]")
        else:
            graph.append(f"[{music[0]}]anull[mus]")
    if narration and music and timeline.duck_music:
        # The music drops whenever the narration speaks.
        # The key is padded to the whole length: sidechaincompress stops when either input
        # ends, and the music must go on after the last words.
        graph.append(f"[nar]apad=whole_dur={total:.3f},asplit=2[nar_mix][nar_key]")
        graph.append("[mus][nar_key]sidechaincompress=threshold=0.03:ratio=8:attack=20:"
                     "release=400[duck]")
        mix += ["nar_mix", "duck"]
    else:
        mix += (["nar"] if narration else []) + (["mus"] if music else [])
    mix += effects
    if len(mix) > 1:
        graph.append("".join(f"[{x}]" for x in mix) +
                     f"amix=inputs={len(mix)}:duration=first:normalize=0[aout]")
    else:
        graph.append(f"[{audio}]anull[aout]")

    args += ["-filter_complex", ";".join(graph), "-map", f"[{video}]", "-map", "[aout]",
             "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
             "-r", str(fps), "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE),
             "-movflags", "+faststart", "-t", f"{total:.3f}", str(output)]
    return args, total


def compose(timeline: Timeline, output: Path, *, progress=None, is_canceled=None,
            timeout: float | None = None) -> float:
    """Render the timeline to `output` through the ffmpeg layer; returns the duration."""
    args, total = build_command(timeline, output)
    run_ffmpeg(args, timeout=timeout or max(120.0, total * 20), progress=progress,
               duration_hint=total, is_canceled=is_canceled, stage="compose")
    return total
