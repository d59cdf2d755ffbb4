"""Audio operations: a track onto a video (mixed or replacing), a voice onto a video (the
existing sound ducked under it), speech encoding and audio for transcription. Pure, like
media_tools.operations: paths in, a file out, through engines.ffmpeg only."""

from __future__ import annotations

from pathlib import Path

from engines import ffmpeg
from engines.base import EngineError
from media_tools.operations import (
    AUDIO_CODEC,
    MP4,
    VIDEO_CODEC,
    Runner,
    output_picture,
    probe_input,
    video_copyable,
)

SAMPLE_RATE = 48000
_FORMAT = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
AUDIO_INPUTS = ffmpeg.AUDIO_DEMUXERS + ffmpeg.VIDEO_DEMUXERS


def _audio_in(path: Path, *options: str) -> list[str]:
    return ffmpeg.input_args(path, formats=AUDIO_INPUTS, options=options)


def _video_in(path: Path) -> list[str]:
    return ffmpeg.input_args(path, formats=ffmpeg.VIDEO_DEMUXERS)


def _picture(info: ffmpeg.MediaInfo, out: Path, *, mark: bool,
             index: int) -> tuple[list[str], str, list[str]]:
    """The picture of a video whose sound is being changed: copied as it is, or re-encoded
    with the mark (a copied stream cannot carry it) or when MP4 cannot carry its codec.
    Returns the extra input, the graph to append (empty when copied) and the video's map and
    codec arguments."""
    if not mark and video_copyable(info):
        return [], "", ["-map", "0:v:0", "-c:v", "copy"]
    extra, graph = output_picture("", mark=mark, out=out, width=info.width,
                                  height=info.height, index=index)
    return extra, f";{graph}", ["-map", "[v]", *VIDEO_CODEC]


def add_audio(video: Path, audio: Path, out: Path, *, mode: str = "mix", volume: float = 1.0,
              runner: Runner, mark: bool = False) -> dict:
    """Put a track under a video: `mix` keeps the video's sound, `replace` drops it. The track
    is looped when shorter than the video and cut when longer; the picture is copied (with
    `mark`, re-encoded with the watermark)."""
    if mode not in ("mix", "replace"):
        raise EngineError("mode must be mix or replace.", code="invalid_params")
    info = probe_input(video)
    probe_input(audio, video=False)
    length = info.duration
    track = f"[1:a]{_FORMAT},volume={volume:.3f},atrim=duration={length:.3f}"
    if mode == "mix" and info.has_audio:
        graph = (f"{track}[t];[0:a]{_FORMAT}[o];"
                 f"[o][t]amix=inputs=2:duration=first:normalize=0[a]")
    else:
        graph = f"{track},apad=whole_dur={length:.3f}[a]"
    extra, picture, video_args = _picture(info, out, mark=mark, index=2)
    runner.run([*_video_in(video), *_audio_in(audio, "-stream_loop", "-1"), *extra,
                "-filter_complex", graph + picture, *video_args, "-map", "[a]",
                *AUDIO_CODEC, "-t", f"{length:.3f}", *MP4, str(out)],
               duration=length, stage="mix")
    return {"mode": mode if info.has_audio else "replace", "duration": length,
            "volume": volume}


def add_voice(video: Path, voice: Path, out: Path, *, offset: float = 0.0, volume: float = 1.0,
              runner: Runner, mark: bool = False) -> dict:
    """Lay a voice over a video from `offset` seconds; while it speaks, the video's own sound
    drops (sidechain compression keyed on the voice). Cut at the video's end. The picture is
    copied (with `mark`, re-encoded with the watermark)."""
    info = probe_input(video)
    probe_input(voice, video=False)
    length = info.duration
    if not 0 <= offset < length:
        raise EngineError("offset_seconds is past the end of the video.", code="invalid_params")
    delay = round(offset * 1000)
    voice_chain = (f"[1:a]{_FORMAT},volume={volume:.3f},adelay={delay}|{delay},"
                   f"apad=whole_dur={length:.3f},atrim=duration={length:.3f}")
    if info.has_audio:
        graph = (f"{voice_chain},asplit=2[vm][vk];[0:a]{_FORMAT}[o];"
                 f"[o][vk]sidechaincompress=threshold=0.03:ratio=8:attack=20:release=400[d];"
                 f"[d][vm]amix=inputs=2:duration=first:normalize=0[a]")
    else:
        graph = f"{voice_chain}[a]"
    extra, picture, video_args = _picture(info, out, mark=mark, index=2)
    runner.run([*_video_in(video), *_audio_in(voice), *extra, "-filter_complex",
                graph + picture, *video_args, "-map", "[a]", *AUDIO_CODEC,
                "-t", f"{length:.3f}", *MP4, str(out)], duration=length, stage="mix")
    return {"duration": length, "offset_seconds": offset, "ducked": info.has_audio}


def encode_mp3(src: Path, out: Path, *, runner: Runner) -> float:
    """Speech or music as MP3 (what browsers and the other seeds expect); its length."""
    info = probe_input(src, video=False)
    runner.run([*_audio_in(src), "-vn", "-c:a", "libmp3lame", "-b:a", "128k", str(out)],
               duration=info.duration, stage="encode")
    return ffmpeg.probe(out).duration or info.duration


def audio_for_transcription(video: Path, out: Path, *, runner: Runner) -> float:
    """The sound of a video as 16 kHz mono MP3: small enough to upload, all speech needs."""
    info = probe_input(video)
    if not info.has_audio:
        raise EngineError("The video has no sound to transcribe.", code="invalid_params")
    runner.run([*_video_in(video), "-vn", "-ac", "1", "-ar", "16000", "-c:a", "libmp3lame",
                "-b:a", "48k", str(out)], duration=info.duration, stage="audio")
    return info.duration


def cut_audio(src: Path, out: Path, *, start: float, length: float, runner: Runner) -> float:
    """A stretch of an audio track as its own MP3 (e.g. one scene of an uploaded narration);
    its length."""
    runner.run([*_audio_in(src, "-ss", f"{max(0.0, start):.3f}"), "-t", f"{length:.3f}",
                "-vn", "-c:a", "libmp3lame", "-b:a", "128k", str(out)],
               duration=length, stage="audio")
    return ffmpeg.probe(out).duration or length
