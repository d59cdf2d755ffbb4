"""The composer: a timeline of clips, overlays and audio tracks -> one video, encoded once.

Everything happens in a single ffmpeg filtergraph: each clip is trimmed, scaled and padded to
the output size, resampled to the output frame rate, and given a silent track when it has no
audio; clips are joined by cuts (concat) or transitions (xfade + acrossfade); captions are
drawn with drawtext from server-written text files (`expansion=none`, so user text is never
interpreted); image overlays are composited; narration and music are mixed, the music ducked
under the narration with a sidechain compressor and faded out at the end.

Pure: `build_command` takes paths and plain values and returns an argument list; `compose`
runs it through the one ffmpeg runner. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engines.ffmpeg import escape_filter_text, font_path, input_args, run_ffmpeg

# Our transition names -> ffmpeg xfade transitions. "cut" joins with concat instead.
XFADE = {"fade": "fadeblack", "crossfade": "fade", "wipe": "wipeleft", "slide": "slideleft"}
SAMPLE_RATE = 48000


@dataclass
class Clip:
    path: Path
    start: float = 0.0  # in-point in the source, seconds
    end: float | None = None  # out-point; None = the source's end (then `duration` must be set)
    duration: float | None = None  # the source's length, needed when end is None
    has_audio: bool = True
    transition: str = "cut"  # to the next clip: cut, fade, crossfade, wipe, slide
    transition_duration: float = 0.5
    volume: float = 1.0

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
    role: str = "music"  # music or narration
    start: float = 0.0  # where it begins on the timeline
    volume: float = 1.0
    loop: bool = False  # music: repeat to cover the whole video
    fade_out: float = 2.0


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
        args += input_args(clip.path)
        end = f":end={clip.start + clip.length:.3f}"
        graph.append(
            f"[{index}:v]trim=start={clip.start:.3f}{end},setpts=PTS-STARTPTS,"
            f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={timeline.background},setsar=1,"
            f"fps={fps},format=yuv420p[v{n}]")
        if clip.has_audio:
            graph.append(
                f"[{index}:a]atrim=start={clip.start:.3f}{end},asetpts=PTS-STARTPTS,"
                f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                f"apad=whole_dur={clip.length:.3f},volume={clip.volume:.3f}[a{n}]")
        else:
            graph.append(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=duration={clip.length:.3f},"
                         f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{n}]")
        index += 1

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

    # Overlays: images, then captions on top.
    for k, overlay in enumerate(timeline.overlays):
        # One frame is enough: overlay repeats the last frame of a finished input.
        args += input_args(overlay.path)
        graph.append(f"[{index}:v]scale={int(overlay.width)}:-2,format=rgba,"
                     f"colorchannelmixer=aa={overlay.opacity:.2f}[ov{k}]")
        graph.append(f"[{video}][ov{k}]overlay=x={overlay.x}:y={overlay.y}:"
                     f"enable='between(t,{overlay.start:.3f},{overlay.end:.3f})'[ovd{k}]")
        video = f"ovd{k}"
        index += 1
    if timeline.captions:
        graph.append(f"[{video}]" + ",".join(_caption_filter(c, height=h)
                                             for c in timeline.captions) + "[vcap]")
        video = "vcap"

    # Audio tracks: narration on top of the clips' sound, music under both (ducked).
    narration, music = [], []
    for track in timeline.audio:
        args += input_args(track.path, options=("-stream_loop", "-1") if track.loop else ())
        delay = int(track.start * 1000)
        label = f"t{index}"
        chain = (f"[{index}:a]aresample={SAMPLE_RATE},"
                 f"aformat=sample_fmts=fltp:channel_layouts=stereo,"
                 f"atrim=duration={max(0.0, total - track.start):.3f},asetpts=PTS-STARTPTS,"
                 f"adelay={delay}|{delay},volume={track.volume:.3f}")
        if track.role == "music" and track.fade_out > 0:
            fade = min(track.fade_out, total)
            chain += f",afade=t=out:st={total - fade:.3f}:d={fade:.3f}"
        graph.append(chain + f"[{label}]")
        (narration if track.role == "narration" else music).append(label)
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
        graph.append("[nar]asplit=2[nar_mix][nar_key]")
        graph.append("[mus][nar_key]sidechaincompress=threshold=0.03:ratio=8:attack=20:"
                     "release=400[duck]")
        mix += ["nar_mix", "duck"]
    else:
        mix += (["nar"] if narration else []) + (["mus"] if music else [])
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
