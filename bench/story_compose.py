"""Benchmark: a story render through the composer against one hand-written ffmpeg command.

The story: six 1920x1080 30 fps clips with sound, cover-fitted to a 1080x1920 30 fps frame
and joined by cuts, narration (espeak-ng when installed, else a tone), a music bed looped,
ducked under the narration and faded out, and ten caption cues written by
`media_tools.captions.write_ass` (classic look) burned in with libass; one libx264 encode with
the composer's settings. Both renders go through the same ffmpeg runner; each runs in a forked
child so that its ffmpeg's peak resident memory (RUSAGE_CHILDREN's ru_maxrss) is its own.
Inputs are made once under var/bench-story. On a shared machine the times are noisy: run it
twice before trusting a ratio.

    .venv/bin/python bench/story_compose.py [--quick] [--seconds 8] [--repeat 3]
"""

import argparse
import itertools
import os
import resource
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engines.ffmpeg import font_path, probe, run_ffmpeg  # noqa: E402
from media_tools.captions import spread_words, write_ass  # noqa: E402
from media_tools.composer import AudioTrack, Clip, Timeline, build_command, compose  # noqa: E402

W, H, FPS, CLIPS, CUES = 1080, 1920, 30, 6, 10
MUSIC_VOLUME, FADE_OUT = 0.25, 2.0
PRESET, CRF = "veryfast", 20  # the composer's defaults
NARRATION = (
    "Every great city began as a crossing. A river narrow enough to ford, a hill high enough "
    "to watch from, a harbour deep enough for ships. People came to trade, and some of them "
    "stayed. Over the centuries the markets became streets, the streets became districts, and "
    "the districts grew into the places we know today. Next time you walk downtown, look for "
    "the old crossing. It is usually still there, hiding in plain sight, under a bridge, a "
    "square or a street name that nobody thinks about any more, waiting to be noticed again."
)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
                   check=True)


def make_inputs(var: Path, seconds: float, quick: bool) -> dict:
    """The reference inputs, made once per length and kept for the next run."""
    var.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(CLIPS):
        path = var / f"clip{i}-{seconds:g}s.mp4"
        if not path.exists():
            ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds},"
                   f"hue=h={i * 60}", "-f", "lavfi", "-i",
                   f"sine=frequency={300 + 50 * i}:duration={seconds}:sample_rate=48000",
                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                   "-c:a", "aac", "-shortest", str(path))
        clips.append(path)
    text = NARRATION if not quick else NARRATION.split(". Over")[0] + "."
    narration = var / f"narration-{len(text)}.wav"
    if not narration.exists():
        if shutil.which("espeak-ng"):
            subprocess.run(["espeak-ng", "-w", str(narration), "--stdin"], input=text.encode(),
                           check=True)
        else:
            ffmpeg("-f", "lavfi", "-i", f"sine=frequency=220:duration={30 if not quick else 8}",
                   str(narration))
    music = var / "music.wav"
    if not music.exists():
        ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*196*t)+0.2*sin(2*PI*247*t)"
               "+0.15*sin(2*PI*294*t):d=60:s=48000", str(music))
    spoken = probe(narration).duration or 1.0
    words = spread_words(text, 0.5, 0.5 + spoken)
    bounds = [len(words) * k // CUES for k in range(CUES + 1)]
    groups = [words[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    captions = write_ass(groups, var / "captions.ass", style="classic", width=W, height=H)
    return {"clips": clips, "narration": narration, "music": music, "captions": captions,
            "cues": len(groups), "spoken": spoken}


def timeline(inputs: dict, seconds: float) -> Timeline:
    return Timeline(
        width=W, height=H, fps=FPS,
        clips=[Clip(path, duration=seconds, fit="cover") for path in inputs["clips"]],
        audio=[AudioTrack(inputs["narration"], role="narration", start=0.5),
               AudioTrack(inputs["music"], role="music", loop=True, volume=MUSIC_VOLUME,
                          fade_out=FADE_OUT)],
        subtitles=inputs["captions"])


def hand_written(inputs: dict, seconds: float, out: Path) -> list[str]:
    """What an engineer would type for these inputs, with the composer's encoder settings."""
    args, graph = [], []
    for n, path in enumerate(inputs["clips"]):
        args += ["-i", str(path)]
        graph.append(f"[{n}:v]scale={W}:{H}:force_original_aspect_ratio=increase,"
                     f"crop={W}:{H},setsar=1[v{n}]")
    n = len(inputs["clips"])
    args += ["-i", str(inputs["narration"]), "-stream_loop", "-1", "-i", str(inputs["music"])]
    total = seconds * n
    pairs = "".join(f"[v{i}][{i}:a]" for i in range(n))
    graph += [
        f"{pairs}concat=n={n}:v=1:a=1[cat][sound]",
        f"[cat]ass=filename={inputs['captions']}:fontsdir={font_path().parent}[vout]",
        f"[{n}:a]aresample=48000,adelay=500:all=1,asplit=2[nar][key]",
        f"[{n + 1}:a]atrim=duration={total},volume={MUSIC_VOLUME},"
        f"afade=t=out:st={total - FADE_OUT}:d={FADE_OUT}[music]",
        "[music][key]sidechaincompress=threshold=0.03:ratio=8:attack=20:release=400[duck]",
        "[sound][nar][duck]amix=inputs=3:duration=first:normalize=0[aout]",
    ]
    return [*args, "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
            "-r", str(FPS), "-c:a", "aac", "-b:a", "160k", "-ar", "48000",
            "-movflags", "+faststart", "-t", f"{total:.3f}", str(out)]


def measured(render) -> tuple[float, float]:
    """Run `render` in a forked child; (wall seconds, peak MB of its ffmpeg)."""
    read, write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            render()
        except BaseException:
            traceback.print_exc()
            code = 1
        os.write(write, str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss).encode())
        os._exit(code)
    os.close(write)
    _pid, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - started
    peak_kb = int(os.read(read, 64) or 0)
    os.close(read)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("a render failed")
    return wall, peak_kb / 1024


def describe(path: Path) -> str:
    info = probe(path)
    return (f"{info.width}x{info.height} {info.fps:g} fps, {info.duration:.2f} s, "
            f"{path.stat().st_size / 1e6:.1f} MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2 s clips, a short narration")
    parser.add_argument("--seconds", type=float, default=None, help="length of each clip")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    options = parser.parse_args()
    seconds = options.seconds or (2.0 if options.quick else 8.0)
    var = ROOT / "var" / "bench-story"
    inputs = make_inputs(var, seconds, options.quick)
    story = timeline(inputs, seconds)
    ours_out, hand_out = var / "ours.mp4", var / "hand.mp4"
    _args, total = build_command(story, ours_out)
    hand_args = hand_written(inputs, seconds, hand_out)
    runs = {"ours": [], "hand": []}
    for _ in range(options.repeat):  # alternated, so that a busy spell hits both
        runs["ours"].append(measured(lambda: compose(story, ours_out, timeout=3600)))
        runs["hand"].append(measured(lambda: run_ffmpeg(hand_args, timeout=3600)))
    ours, hand = (min(runs[k]) for k in ("ours", "hand"))
    print(f"story: {CLIPS} clips x {seconds:g} s 1920x1080 -> {W}x{H} {FPS} fps cover, "
          f"{inputs['spoken']:.1f} s narration, ducked music, {inputs['cues']} ASS cues, "
          f"x264 {PRESET} crf {CRF}; output {total:.1f} s")
    print(f"composer compose(): {ours[0]:6.1f} s wall, ffmpeg peak {ours[1]:5.0f} MB;"
          f" output {describe(ours_out)}")
    print(f"hand-written ffmpeg: {hand[0]:6.1f} s wall, ffmpeg peak {hand[1]:5.0f} MB;"
          f" output {describe(hand_out)}")
    if options.repeat > 1:
        print("all walls: " + "; ".join(
            f"{k} " + " ".join(f"{wall:.1f}" for wall, _peak in v) for k, v in runs.items()))
    print(f"composer / hand-written: {ours[0] / hand[0]:.2f}x wall (target <= 1.2x), "
          f"{ours[1] / hand[1]:.2f}x memory. Shared machine: times are noisy.")


if __name__ == "__main__":
    main()
