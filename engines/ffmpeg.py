"""The one place that runs ffmpeg and ffprobe.

Everything here is an argument list handed to `subprocess` (never a shell), and every input
that reaches ffmpeg goes through `input_args`, which pins the protocols and demuxers allowed to
open it. User text reaches a filtergraph only through `escape_filter_text` or a server-written
file (`write_text_file`) read by drawtext with `expansion=none`.

Facts about Debian's ffmpeg 5.1 this module relies on (checked by tests/engines):

- `-format_whitelist` is an AVFormatContext option, so both ffmpeg and ffprobe accept it as a
  per-input option placed before `-i`. After probing, libavformat matches the chosen demuxer's
  name against the list with `av_match_list`, which splits *both* sides on commas: the mov
  demuxer, named "mov,mp4,m4a,3gp,3g2,mj2", is accepted by a list holding any one of those.
  A text file named `.mp4` probes as "hls" and is refused with "Format not on whitelist"
  before the playlist is read, so no segment is ever fetched.
- Still images given as files probe as `png_pipe`, `jpeg_pipe`, `webp_pipe` (not `image2`).
- `-max_pixels` is a decoder option; ffprobe applies it to the decoders it opens while
  reading stream parameters. A 12000x12000 PNG then reports width 0 and exits 0, with
  "exceeds specified max pixel count" on stderr: `probe` treats that as a refusal.
- `-progress` prints `out_time_ms` equal to `out_time_us` (microseconds, a known misnomer).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from engines.base import Canceled, CancelFn, EngineError, EngineUnavailableError, ProgressFn

# Demuxers we let open files, by ffmpeg's own names (`ffmpeg -demuxers`). Never a playlist or
# anything that opens further URLs: hls, dash, concat, webm_dash_manifest, tee, image2 with
# user-chosen patterns.
MOV_DEMUXERS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")
MATROSKA_DEMUXERS = ("matroska", "webm")
AUDIO_DEMUXERS = ("mp3", "wav", "ogg", "flac", "aac")
IMAGE_DEMUXERS = ("png_pipe", "jpeg_pipe", "webp_pipe")
VIDEO_DEMUXERS = MOV_DEMUXERS + MATROSKA_DEMUXERS
MEDIA_DEMUXERS = VIDEO_DEMUXERS + AUDIO_DEMUXERS + IMAGE_DEMUXERS + ("gif",)
# Sources that only our own code names: lavfi graphs we build, image2 frame sequences we
# wrote into a job's scratch directory. Kept apart so that no user file is opened with them.
GENERATED_DEMUXERS = ("lavfi", "image2")
_ALLOWED_DEMUXERS = frozenset(MEDIA_DEMUXERS + GENERATED_DEMUXERS)
PROTOCOL_WHITELIST = "file,pipe"

DEFAULT_MAX_PIXELS = 8192 * 8192
STDERR_TAIL_LINES = 20
_POLL_INTERVAL = 0.1  # how often cancel, the deadline and progress are looked at
_TERM_GRACE = 2.0  # seconds between SIGTERM and SIGKILL

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


# --- binaries ---------------------------------------------------------------------------------

def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EngineUnavailableError(f"{name} is not installed on this worker.",
                                     detail={"binary": name})
    return path


def font_path() -> Path:
    """The TrueType font drawtext uses (DejaVu Sans, Debian's fonts-dejavu-core)."""
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise EngineUnavailableError("The DejaVu Sans font is not installed on this worker.",
                                 detail={"package": "fonts-dejavu-core"})


# --- inputs and outputs -----------------------------------------------------------------------

def media_url(path: Path | str) -> str:
    """An absolute `file:` URL, so that a name like `http:x` or `-y` is only ever a file name."""
    return "file:" + str(Path(path).resolve())


def input_args(path: Path | str, *, formats: tuple[str, ...] = MEDIA_DEMUXERS,
               options: tuple[str, ...] = ()) -> list[str]:
    """`-i` for one input file, guarded: only the `file` and `pipe` protocols and only the
    named demuxers may open it. `options` go between the guards and `-i` (e.g. `-stream_loop`).
    """
    unknown = [name for name in formats if name not in _ALLOWED_DEMUXERS]
    if not formats or unknown:
        raise ValueError(f"demuxers not allowed: {unknown or formats!r}")
    return ["-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", ",".join(formats),
            *options, "-i", media_url(path)]


def lavfi_input(graph: str) -> list[str]:
    """`-i` for a source filtergraph we built ourselves (user text only through the escaper)."""
    return ["-format_whitelist", "lavfi", "-f", "lavfi", "-i", graph]


def frame_sequence_input(pattern: Path, *, fps: Fraction) -> list[str]:
    """`-i` for numbered frames (`%05d.png`) that our own code wrote into a scratch dir."""
    return ["-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", "image2",
            "-f", "image2", "-framerate", str(fps), "-i", media_url(pattern)]


def bitexact_args() -> list[str]:
    """Output flags that keep encoder versions, dates and metadata out of the file, so the
    same inputs give the same bytes (libx264 is deterministic for a fixed thread count)."""
    return ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
            "-flags:a", "+bitexact"]


# --- user text in filtergraphs ----------------------------------------------------------------

_FILTERGRAPH_SPECIALS = frozenset("\\'[],;")


def clean_text(text: str) -> str:
    """User text without control characters (NUL cannot even be an argument); newlines and
    tabs stay, tabs as spaces. Unicode is kept as it is."""
    out = []
    for char in text.replace("\r\n", "\n").replace("\t", " "):
        if char == "\n" or unicodedata.category(char) not in ("Cc", "Cs"):
            out.append(char)
    return "".join(out)


def escape_filter_text(text: str) -> str:
    """THE escaper for a literal value (text, a path) inside a filtergraph argument.

    Two levels, innermost first. (1) The filter's option parser: the value is wrapped in single
    quotes, inside which `:`, `=` and `\\` are plain; a quote is written as `'\\''`. (2) The
    filtergraph parser, which consumes one level of `\\` and quotes before the filter sees the
    arguments: every `\\ ' [ ] , ;` of the level-1 string gets a backslash. The result is used
    as `text=<result>` in `-vf`/`-filter_complex`. drawtext must still get `expansion=none`,
    or `%{...}` in the value is expanded by drawtext itself.
    """
    quoted = "'" + clean_text(text).replace("'", "'\\''") + "'"
    return "".join("\\" + char if char in _FILTERGRAPH_SPECIALS else char for char in quoted)


def write_text_file(directory: Path, name: str, text: str) -> Path:
    """Write user text for drawtext's `textfile=` (UTF-8, cleaned). The file name is ours;
    pass the returned path through `escape_filter_text` and use `expansion=none`."""
    if "/" in name or name.startswith("."):
        raise ValueError(f"bad text file name: {name!r}")
    path = directory / name
    path.write_text(clean_text(text), encoding="utf-8")
    return path


# --- running ffmpeg ---------------------------------------------------------------------------

def _spawn(cmd: list[str], *, stdout, stderr) -> subprocess.Popen:
    """Start `cmd` in its own session (so its whole process group can be killed) and, where
    util-linux's setpriv exists, with a parent-death signal: if our worker process is killed
    (Celery's hard time limit, the OOM killer) ffmpeg gets SIGKILL instead of running on as
    an orphan. setpriv execs ffmpeg in place, so the pid we hold is ffmpeg's."""
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        cmd = [setpriv, "--pdeathsig", "KILL", "--", *cmd]
    return subprocess.Popen(  # noqa: S603 - an argument list of our own, no shell
        cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True,
        close_fds=True)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it is still there. Only while the
    child is unreaped: its pid, and so the group id, cannot have been reused yet."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, _TERM_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


class _ProgressReader(threading.Thread):
    """Reads ffmpeg's `-progress pipe:1` blocks and keeps the latest output time in seconds."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self._stream = stream
        self._lock = threading.Lock()
        self._out_time: float = 0.0

    def run(self) -> None:
        for raw in self._stream:
            key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
            # out_time_ms is microseconds too (a misnomer kept by ffmpeg 5.1). The final
            # "progress=end" needs no handling: the exit status is what counts.
            if key in ("out_time_us", "out_time_ms"):
                self._set_time(value)

    def _set_time(self, value: str) -> None:
        try:
            seconds = int(value) / 1_000_000
        except ValueError:  # "N/A" before the first frame
            return
        with self._lock:
            self._out_time = max(self._out_time, seconds)

    @property
    def out_time(self) -> float:
        with self._lock:
            return self._out_time


class _Reporter:
    """Calls progress(fraction, stage) with non-decreasing fractions; 1.0 only on success."""

    def __init__(self, progress: ProgressFn | None, stage: str):
        self._progress = progress
        self._stage = stage
        self._last = -1.0

    def report(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self._progress is not None and fraction > self._last:
            self._last = fraction
            self._progress(fraction, self._stage)


def _stderr_tail(handle, lines: int = STDERR_TAIL_LINES) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - 64 * 1024))
    text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def run_ffmpeg(args: list[str], *, timeout: float, progress: ProgressFn | None = None,
               duration_hint: float | None = None, is_canceled: CancelFn | None = None,
               stage: str = "encode") -> None:
    """Run `ffmpeg -hide_banner -nostdin -y -progress pipe:1 -nostats <args>` and wait.

    - progress(fraction, stage) is called from this thread: 0.0 at start, then the output time
      over `duration_hint` (capped below 1.0) as ffmpeg reports it, and 1.0 once ffmpeg has
      exited successfully. Fractions never decrease.
    - is_canceled() is polled about every 0.1 s; when true, ffmpeg's process group is killed
      (SIGTERM, then SIGKILL) and Canceled is raised.
    - Past `timeout` seconds of wall-clock time the group is killed and
      EngineError(code="ffmpeg_timeout") is raised.
    - A non-zero exit raises EngineError(code="ffmpeg_failed") with the last lines of stderr
      in `detail["stderr"]`. stderr goes to an unlinked temp file, so it can never block ffmpeg.
    Whatever happens (including an exception from a callback) no ffmpeg outlives this call.
    """
    cmd = [_binary("ffmpeg"), "-hide_banner", "-nostdin", "-y", "-loglevel", "warning",
           "-progress", "pipe:1", "-nostats", *args]
    reporter = _Reporter(progress, stage)
    with tempfile.TemporaryFile() as err:
        proc = _spawn(cmd, stdout=subprocess.PIPE, stderr=err)
        reader = _ProgressReader(proc.stdout)
        reader.start()
        try:
            returncode = _supervise(proc, reader, reporter, timeout=timeout,
                                    duration_hint=duration_hint, is_canceled=is_canceled)
        finally:
            _kill_group(proc)
            reader.join(timeout=5)
            proc.stdout.close()
        if returncode != 0:
            tail = _stderr_tail(err)
            raise EngineError("ffmpeg failed.", code="ffmpeg_failed",
                              detail={"returncode": returncode, "stderr": tail})
    reporter.report(1.0)


def _supervise(proc: subprocess.Popen, reader: _ProgressReader, reporter: _Reporter, *,
               timeout: float, duration_hint: float | None, is_canceled: CancelFn | None) -> int:
    deadline = time.monotonic() + timeout
    reporter.report(0.0)
    while True:
        try:
            returncode = proc.wait(timeout=_POLL_INTERVAL)
        except subprocess.TimeoutExpired:
            returncode = None
        if duration_hint and duration_hint > 0:
            # Below 1.0 until ffmpeg has exited 0: the trailer is still to be written.
            reporter.report(min(reader.out_time / duration_hint, 0.99))
        if returncode is not None:
            return returncode
        if is_canceled is not None and is_canceled():
            _kill_group(proc)
            raise Canceled("Canceled.")
        if time.monotonic() > deadline:
            _kill_group(proc)
            raise EngineError(f"ffmpeg ran past its time limit of {timeout:g} s.",
                              code="ffmpeg_timeout", detail={"timeout": timeout})


# --- probing ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    frame_count: int | None
    has_video: bool
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None
    size: int
    sample_rate: int | None = None
    channels: int | None = None


_PIXEL_LIMIT_MESSAGE = "exceeds specified max pixel count"
_STILL_CODECS = ("png", "mjpeg", "webp", "gif")


def _unsupported(message: str, **detail) -> EngineError:
    return EngineError(message, code="unsupported_media", detail=detail)


def _too_many_pixels(width: int | None, height: int | None, max_pixels: int) -> EngineError:
    return EngineError(f"The picture is larger than {max_pixels} pixels.", code="image_too_large",
                       detail={"width": width, "height": height, "max_pixels": max_pixels})


def _run_capture(cmd: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    """Run a short command to completion, capturing output; its group is killed on timeout."""
    proc = _spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise EngineError(f"{Path(cmd[0]).name} ran past its time limit of {timeout:g} s.",
                          code="ffmpeg_timeout", detail={"timeout": timeout}) from None
    finally:
        _kill_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def probe(path: Path | str, *, timeout: float = 30, max_pixels: int = DEFAULT_MAX_PIXELS,
          max_duration: float | None = None,
          formats: tuple[str, ...] = MEDIA_DEMUXERS) -> MediaInfo:
    """Describe a media file with ffprobe, opened under the same guards as every input.

    Refusals are EngineError: `unsupported_media` (empty, not a container we accept, no
    audio or video stream, unreadable), `image_too_large` (more than `max_pixels` per frame;
    ffprobe's decoders are capped with `-max_pixels` so a pixel bomb is never decoded) and
    `media_too_long` (longer than `max_duration` seconds, when given).
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise _unsupported("The file is empty.")
    cmd = [_binary("ffprobe"), "-hide_banner", "-v", "error", "-max_pixels", str(max_pixels),
           "-of", "json", "-show_format", "-show_streams", *input_args(path, formats=formats)]
    # ffprobe takes its input without -i; input_args ends with "-i <url>", which it accepts.
    result = _run_capture(cmd, timeout=timeout)
    stderr = result.stderr.decode("utf-8", "replace")
    if _PIXEL_LIMIT_MESSAGE in stderr:
        raise _too_many_pixels(None, None, max_pixels)
    if result.returncode != 0:
        # The server-side path is nobody's business: keep only the file's own name.
        stderr = stderr.replace(media_url(path), path.name)
        raise _unsupported("The file is not a media file we accept.",
                           stderr="\n".join(stderr.splitlines()[-STDERR_TAIL_LINES:]))
    try:
        data = json.loads(result.stdout or b"{}")
    except ValueError:
        raise _unsupported("ffprobe gave no readable description.") from None
    info = _media_info(data, size=size)
    _check_caps(info, max_pixels=max_pixels, max_duration=max_duration)
    return info


def keyframe_times(path: Path | str, *, around: float, window: float = 2.0,
                   formats: tuple[str, ...] = MEDIA_DEMUXERS, timeout: float = 30) -> list[float]:
    """The times of the first video stream's keyframes within `window` seconds of `around`,
    read from packet flags (nothing is decoded), under the input guards."""
    low, high = max(0.0, around - window), around + window
    cmd = [_binary("ffprobe"), "-hide_banner", "-v", "error", "-select_streams", "v:0",
           "-read_intervals", f"{low:.3f}%{high:.3f}", "-show_entries", "packet=pts_time,flags",
           "-of", "csv=p=0", *input_args(path, formats=formats)]
    result = _run_capture(cmd, timeout=timeout)
    if result.returncode != 0:
        return []
    times = []
    for line in result.stdout.decode("ascii", "replace").splitlines():
        when, _, flags = line.partition(",")
        if "K" in flags and (value := _number(when)) is not None:
            times.append(value)
    return sorted(times)


def check_readable(path: Path | str, *, formats: tuple[str, ...] = MEDIA_DEMUXERS,
                   timeout: float = 60) -> None:
    """Read every packet of the file without decoding (`-c copy -f null`), under the input
    guards; EngineError(code="unsupported_media") if the demuxer reports any error. This is
    what catches a truncated upload whose header is intact: ffprobe reads only the header
    of a faststart mp4 and reports the full duration.
    """
    path = Path(path)
    cmd = [_binary("ffmpeg"), "-hide_banner", "-nostdin", "-v", "error", "-xerror",
           *input_args(path, formats=formats), "-map", "0:v?", "-map", "0:a?", "-c", "copy",
           "-f", "null", "-"]
    result = _run_capture(cmd, timeout=timeout)
    stderr = result.stderr.decode("utf-8", "replace").replace(media_url(path), path.name)
    if result.returncode != 0 or stderr.strip():
        raise _unsupported("The file is truncated or corrupt.",
                           stderr="\n".join(stderr.splitlines()[-STDERR_TAIL_LINES:]))


def _media_info(data: dict, *, size: int) -> MediaInfo:
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    # Cover art in mp3/m4a is a video stream flagged attached_pic: not a video.
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if not fmt.get("format_name") or (video is None and audio is None):
        raise _unsupported("The file has no audio or video stream.")
    duration = _number(fmt.get("duration"))
    if duration is None:
        durations = [_number(s.get("duration")) for s in (video, audio) if s is not None]
        duration = max((d for d in durations if d is not None), default=None)
    still = video is not None and duration is None and video.get("codec_name") in _STILL_CODECS
    # An image demuxer reports a nominal 25 fps; a still has no frame rate.
    fps = _frame_rate(video) if video is not None and not still else None
    return MediaInfo(
        format_name=fmt["format_name"],
        duration=duration,
        width=int(video.get("width") or 0) if video is not None else None,
        height=int(video.get("height") or 0) if video is not None else None,
        fps=fps,
        frame_count=(1 if still else _frame_count(video, duration, fps)) if video else None,
        has_video=video is not None,
        has_audio=audio is not None,
        video_codec=video.get("codec_name") if video is not None else None,
        audio_codec=audio.get("codec_name") if audio is not None else None,
        size=size,
        sample_rate=int(_number(audio.get("sample_rate")) or 0) or None if audio else None,
        channels=int(audio.get("channels") or 0) or None if audio is not None else None,
    )


def _check_caps(info: MediaInfo, *, max_pixels: int, max_duration: float | None) -> None:
    if info.has_video:
        if not info.width or not info.height:
            raise _unsupported("The video stream has no picture size.")
        if info.width * info.height > max_pixels:
            raise _too_many_pixels(info.width, info.height, max_pixels)
    if max_duration is not None and info.duration is not None and info.duration > max_duration:
        raise EngineError(f"The media is longer than {max_duration:g} seconds.",
                          code="media_too_long",
                          detail={"duration": info.duration, "max_duration": max_duration})


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


_RATE = re.compile(r"^(\d+)/(\d+)$")


def _frame_rate(stream: dict) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        match = _RATE.match(str(stream.get(key) or ""))
        if match and int(match[2]) and int(match[1]):
            return int(match[1]) / int(match[2])
    return None


def _frame_count(stream: dict, duration: float | None, fps: float | None) -> int | None:
    frames = stream.get("nb_frames")
    if frames is not None and str(frames).isdigit() and int(frames) > 0:
        return int(frames)
    if duration is not None and fps:
        return max(1, round(duration * fps))
    return None
