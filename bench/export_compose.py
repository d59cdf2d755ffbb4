"""Benchmark: project export through the composer (one filtergraph) against a naive pipeline
(re-encode per transition, then concat) and a single hand-written ffmpeg command.

10 shots of 5 s at 1080p with 0.5 s crossfades and a music bed. Prints wall time and peak
memory (the ffmpeg process's VmHWM) of each approach and the ratios.

    .venv/bin/python bench/export_compose.py [--shots 10] [--seconds 5] [--preset veryfast]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from media_tools.composer import AudioTrack, Clip, Timeline, build_command  # noqa: E402

W, H, FPS, XF = 1920, 1080, 24, 0.5


def run_measured(args: list[str]) -> tuple[float, float]:
    """Run ffmpeg; return (wall seconds, peak resident MB) sampled from /proc."""
    start = time.perf_counter()
    proc = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args])
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.05)
    if proc.returncode:
        raise SystemExit(f"ffmpeg failed: {args[-1]}")
    return time.perf_counter() - start, peak / 1024


def make_inputs(tmp: Path, shots: int, seconds: float) -> tuple[list[Path], Path]:
    clips = []
    for i in range(shots):
        path = tmp / f"shot{i}.mp4"
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", f"testsrc2=size={W}x{H}:rate={FPS}:duration={seconds},"
                              f"hue=h={i * 36}", "-f", "lavfi", "-i",
                        f"sine=frequency={300 + 40 * i}:duration={seconds}", "-c:v", "libx264",
                        "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                        str(path)], check=True)
        clips.append(path)
    music = tmp / "music.wav"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc=0.2*sin(2*PI*220*t)+0.1*sin(2*PI*330*t):d={seconds * shots}",
                    str(music)], check=True)
    return clips, music


def encode_args(preset: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "160k", "-ar", "48000"]


def hand_written(clips, music, seconds, out: Path, preset: str) -> list[str]:
    """What an engineer would type for these uniform inputs: xfade/acrossfade chain + music."""
    args = []
    for clip in clips:
        args += ["-i", str(clip)]
    args += ["-i", str(music)]
    graph, v, a, elapsed = [], "0:v", "0:a", seconds
    for i in range(1, len(clips)):
        graph.append(f"[{v}][{i}:v]xfade=transition=fade:duration={XF}:offset={elapsed - XF}"
                     f"[v{i}]")
        graph.append(f"[{a}][{i}:a]acrossfade=d={XF}[a{i}]")
        v, a, elapsed = f"v{i}", f"a{i}", elapsed + seconds - XF
    n = len(clips)
    graph.append(f"[{n}:a]volume=0.3,afade=t=out:st={elapsed - 2}:d=2[m]")
    graph.append(f"[{a}][m]amix=inputs=2:duration=first:normalize=0[aout]")
    return [*args, "-filter_complex", ";".join(graph), "-map", f"[{v}]", "-map", "[aout]",
            *encode_args(preset), "-t", f"{elapsed:.3f}", str(out)]


def naive(clips, music, seconds, tmp: Path, preset: str) -> tuple[float, float]:
    """Re-encode once per transition (the running result xfaded with the next shot), then a
    final pass to lay the music under it."""
    total_time, peak = 0.0, 0.0
    current, length = clips[0], seconds
    for i, clip in enumerate(clips[1:], start=1):
        out = tmp / f"naive{i}.mp4"
        wall, mem = run_measured([
            "-i", str(current), "-i", str(clip), "-filter_complex",
            f"[0:v][1:v]xfade=transition=fade:duration={XF}:offset={length - XF}[v];"
            f"[0:a][1:a]acrossfade=d={XF}[a]", "-map", "[v]", "-map", "[a]",
            *encode_args(preset), str(out)])
        total_time, peak = total_time + wall, max(peak, mem)
        current, length = out, length + seconds - XF
    wall, mem = run_measured([
        "-i", str(current), "-i", str(music), "-filter_complex",
        f"[1:a]volume=0.3,afade=t=out:st={length - 2}:d=2[m];[0:a][m]amix=inputs=2:"
        "duration=first:normalize=0[a]", "-map", "0:v", "-map", "[a]", *encode_args(preset),
        str(tmp / "naive-final.mp4")])
    return total_time + wall, max(peak, mem)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        clips, music = make_inputs(tmp, args.shots, args.seconds)
        timeline = Timeline(width=W, height=H, fps=FPS, clips=[
            Clip(path, duration=args.seconds, transition="crossfade", transition_duration=XF)
            for path in clips], audio=[AudioTrack(music, role="music", volume=0.3)])
        composer_args, duration = build_command(timeline, tmp / "composer.mp4",
                                                preset=args.preset)
        composer = run_measured(composer_args)
        hand = run_measured(hand_written(clips, music, args.seconds, tmp / "hand.mp4",
                                         args.preset))
        chained = naive(clips, music, args.seconds, tmp, args.preset)
    print(f"export: {args.shots} shots x {args.seconds:g} s at {W}x{H}, {XF} s crossfades, "
          f"music bed, x264 {args.preset}; output {duration:.1f} s")
    print(f"composer (one filtergraph): {composer[0]:.1f} s wall, peak {composer[1]:.0f} MB")
    print(f"hand-written single command: {hand[0]:.1f} s wall, peak {hand[1]:.0f} MB")
    print(f"naive (re-encode per transition): {chained[0]:.1f} s wall, peak {chained[1]:.0f} MB")
    print(f"composer / hand-written: {composer[0] / hand[0]:.2f}x (target <= 1.2x); "
          f"naive / composer: {chained[0] / composer[0]:.1f}x")


if __name__ == "__main__":
    main()
