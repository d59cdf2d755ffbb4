"""Real media for the fake ComfyUI server: what a save node would have written, made with
ffmpeg at the size, length and rate the submitted graph asks for."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

FFMPEG = "/usr/bin/ffmpeg" if Path("/usr/bin/ffmpeg").exists() else "ffmpeg"
FFPROBE = "/usr/bin/ffprobe" if Path("/usr/bin/ffprobe").exists() else "ffprobe"

_WIDTH_KEYS = ("width",)
_FRAME_KEYS = ("length", "num_frames", "video_frames", "frames")
_FPS_KEYS = ("fps", "frame_rate")
_SECONDS_KEYS = ("seconds", "duration")


@dataclass
class MediaSpec:
    width: int = 512
    height: int = 512
    frames: int = 1
    fps: float = 16.0
    seconds: float = 2.0
    with_audio: bool = False


def probe(path: Path) -> dict:
    """ffprobe's streams and format of `path`."""
    out = subprocess.run([FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json",
                          str(path)], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def _upstream(graph: dict, node_id: str) -> list[str]:
    """Nodes feeding `node_id`, nearest first (breadth-first over links)."""
    seen, order, frontier = {node_id}, [], [node_id]
    while frontier:
        nxt = []
        for nid in frontier:
            for value in (graph.get(nid) or {}).get("inputs", {}).values():
                if isinstance(value, list) and len(value) == 2 and str(value[0]) in graph:
                    src = str(value[0])
                    if src not in seen:
                        seen.add(src)
                        order.append(src)
                        nxt.append(src)
        frontier = nxt
    return order


def _first_literal(graph: dict, nodes: list[str], keys: tuple[str, ...]) -> float | None:
    for nid in nodes:
        inputs = graph[nid].get("inputs", {})
        for key in keys:
            value = inputs.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
    return None


def media_spec(graph: dict, output_id: str, input_file: callable) -> MediaSpec:
    """Read the output's size, frame count, rate and duration off the graph: the nearest
    literal `width`/`height`, `length`/`num_frames`/..., `fps`/`frame_rate`, `seconds`; an
    input image or video where the graph takes its size from one; an ESRGAN-style upscale
    (`..._x2`, `x4`) multiplies the size."""
    spec = MediaSpec()
    nodes = [output_id, *_upstream(graph, output_id)]
    width = _first_literal(graph, nodes, _WIDTH_KEYS)
    height = _first_literal(graph, nodes, ("height",))
    if width and height:
        spec.width, spec.height = int(width), int(height)
    else:
        for nid in nodes:
            node = graph[nid]
            name = node.get("inputs", {}).get("image") or node.get("inputs", {}).get("file")
            if node["class_type"] in ("LoadImage", "LoadVideo") and isinstance(name, str):
                path = input_file(name)
                if path is not None:
                    stream = next(s for s in probe(path)["streams"]
                                  if s["codec_type"] == "video")
                    spec.width, spec.height = int(stream["width"]), int(stream["height"])
                    break
    frames = _first_literal(graph, nodes, _FRAME_KEYS)
    batch = _first_literal(graph, nodes, ("batch_size",))
    spec.frames = int(frames or batch or _input_video_frames(graph, nodes, input_file) or 1)
    spec.fps = float(_first_literal(graph, nodes, _FPS_KEYS) or 16.0)
    seconds = _first_literal(graph, nodes, _SECONDS_KEYS)
    spec.seconds = float(seconds) if seconds else max(spec.frames / spec.fps, 0.5)
    for nid in nodes:
        if graph[nid]["class_type"] == "UpscaleModelLoader":
            factor = re.search(r"x(\d)", str(graph[nid]["inputs"].get("model_name", "")))
            if factor:
                spec.width *= int(factor.group(1))
                spec.height *= int(factor.group(1))
    spec.with_audio = any(graph[nid]["class_type"] == "CreateVideo" and
                          isinstance(graph[nid]["inputs"].get("audio"), list) for nid in nodes) or (
        graph[output_id]["class_type"] == "VHS_VideoCombine"
        and isinstance(graph[output_id]["inputs"].get("audio"), list))
    return spec


def _input_video_frames(graph: dict, nodes: list[str], input_file: callable) -> int | None:
    """A graph that takes a video (tools, LivePortrait) makes as many frames as it has."""
    for nid in nodes:
        name = graph[nid].get("inputs", {}).get("file")
        if graph[nid]["class_type"] == "LoadVideo" and isinstance(name, str):
            path = input_file(name)
            if path is not None:
                stream = next(s for s in probe(path)["streams"] if s["codec_type"] == "video")
                return int(stream.get("nb_frames") or 0) or None
    return None


def _run(args: list[str]) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args],
                   capture_output=True, timeout=120, check=True)


def make_video(path: Path, spec: MediaSpec) -> None:
    """An H.264 MP4 (or VP9 WebM, by extension) with exactly `spec.frames` frames."""
    video = ["-f", "lavfi", "-i",
             f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps:g}"]
    audio = (["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
             if spec.with_audio else [])
    codec = (["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
             if path.suffix == ".webm" else
             ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
    acodec = (["-c:a", "libopus" if path.suffix == ".webm" else "aac",
               "-t", f"{spec.frames / spec.fps:.3f}"] if spec.with_audio else [])
    _run([*video, *audio, "-frames:v", str(spec.frames), *codec, *acodec, str(path)])


def make_image(path: Path, spec: MediaSpec) -> None:
    _run(["-f", "lavfi", "-i", f"testsrc2=size={spec.width}x{spec.height}:rate=1",
          "-frames:v", "1", str(path)])


def make_audio(path: Path, spec: MediaSpec) -> None:
    _run(["-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=44100:duration={spec.seconds:g}",
          str(path)])


def make_glb(path: Path) -> None:
    """The smallest valid binary glTF: a header and an empty-scene JSON chunk."""
    doc = json.dumps({"asset": {"version": "2.0"}, "scenes": [{}], "scene": 0}).encode()
    doc += b" " * (-len(doc) % 4)
    body = struct.pack("<II", len(doc), 0x4E4F534A) + doc
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body)
