"""Benchmark: media tool jobs against the same operation as one hand-written ffmpeg command.

For trim, speed, crop, resize, text overlay, merge and gif on a generated 1080p clip, prints
our job's wall time (submission, claim, the operation, storing the output with its thumbnail,
settlement: everything but the broker hop) next to one `ffmpeg` command doing the same work
with the same encoder settings on the same file, and their ratio; then trim by stream copy
against trim by re-encoding. Uses its own SQLite database and files under var/bench-media.

    .venv/bin/python bench/media_tools.py [--seconds 60] [--repeat 2] [--only crop,merge]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]


def setup_django(var_dir: Path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["REELFORGE_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ffmpeg(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", *args],
                   check=True)
    return time.perf_counter() - started


def make_clip(path: Path, seconds: int) -> Path:
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={seconds}", "-f", "lavfi",
               "-i", f"sine=f=440:d={seconds}", *X264, "-c:a", "aac", "-shortest", str(path))
    return path


def job_seconds(user, submit, data: dict) -> float:
    from jobs.runner import job_run

    started = time.perf_counter()
    job = submit(user=user, data=data)
    outcome = job_run(job_id=job.pk, worker="bench")
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    if outcome != "completed":
        raise SystemExit(f"{job.kind} {outcome}: {job.error_code} {job.error_message}")
    if job.result.get("watermark"):
        # The hand-written commands draw no mark: a marked job would not be the same work.
        raise SystemExit(f"{job.kind} was watermarked: the bench user must be on a paid plan")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--only", default="", help="comma-separated operation name prefixes")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each side")
    args = parser.parse_args()
    var_dir = ROOT / "var" / "bench-media"
    shutil.rmtree(var_dir / "media", ignore_errors=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    setup_django(var_dir)

    from accounts.models import User
    from accounts.services import user_create
    from assets.services import asset_create_from_path
    from billing.models import Tier
    from billing.services import credits_adjust, tier_set
    from engines.ffmpeg import probe
    from media_tools import services

    user = User.objects.filter(username="bench").first() or user_create(
        username="bench", email="bench@example.com", password="bench-password-123")
    tier_set(user=user, tier=Tier.objects.get(slug="enterprise"))
    credits_adjust(user=user, amount=10_000, reason="bench")
    src = make_clip(var_dir / f"clip-{args.seconds}.mp4", args.seconds)
    video = asset_create_from_path(owner=user, path=src, kind="video", extension="mp4",
                                   origin="upload", info=probe(src))
    half = args.seconds / 2
    out = var_dir / "hand.mp4"
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    text_file = var_dir / "text.txt"
    text_file.write_text("Reelforge benchmark")
    v = {"video_filename": video.name}
    cases = [
        ("trim (re-encode)", services.edit_trim_submit,
         {**v, "start_seconds": 1, "end_seconds": half},
         ["-ss", "1", "-i", str(src), "-t", f"{half - 1}", *X264, "-c:a", "aac", str(out)]),
        ("speed 2x", services.edit_speed_submit, {**v, "speed_factor": 2},
         ["-i", str(src), "-filter_complex", "[0:v]setpts=PTS/2,fps=30[v];[0:a]atempo=2[a]",
          "-map", "[v]", "-map", "[a]", *X264, "-c:a", "aac", str(out)]),
        ("crop", services.edit_crop_submit, {**v, "x": 100, "y": 100, "width": 1280,
                                             "height": 720},
         ["-i", str(src), "-vf", "crop=1280:720:100:100", *X264, "-c:a", "copy", str(out)]),
        ("resize 720p", services.edit_resize_submit, {**v, "preset": "720p"},
         ["-i", str(src), "-vf", "scale=1280:720:force_original_aspect_ratio=decrease:"
          "flags=lanczos,pad=1280:720:(ow-iw)/2:(oh-ih)/2", *X264, "-c:a", "copy", str(out)]),
        ("text overlay", services.edit_text_overlay_submit,
         {**v, "text": "Reelforge benchmark", "position": "bottom", "font_size": 48,
          "color": "white", "start_time": 0},
         ["-i", str(src), "-vf", f"drawtext=fontfile={font}:textfile={text_file}:"
          "expansion=none:fontsize=48:fontcolor=white:x=(w-text_w)/2:y=h-text_h-h*0.08:"
          "borderw=2:bordercolor=black@0.6:box=1:boxcolor=black@0.4:boxborderw=8:"
          f"enable='between(t,0,{args.seconds})'", *X264, "-c:a", "copy", str(out)]),
        ("merge 2 clips", services.edit_merge_submit,
         {"video_filenames": [video.name, video.name]},
         ["-i", str(src), "-i", str(src), "-filter_complex",
          "[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]", "-map", "[v]", "-map", "[a]",
          *X264, "-c:a", "aac", str(out)]),
        ("gif 480px 10fps", services.tool_video_to_gif_submit, {**v, "width": 480, "fps": 10},
         ["-t", "30", "-i", str(src), "-filter_complex",
          "[0:v]fps=10,scale=480:-2:flags=lanczos,split[a][b];[a]palettegen=stats_mode=diff[p];"
          "[b][p]paletteuse=dither=bayer:bayer_scale=4", "-an", str(var_dir / "hand.gif")]),
    ]
    print(f"clip: 1920x1080, 30 fps, {args.seconds} s, with sound; {os.cpu_count()} cores")
    print(f"{'operation':<18}{'job s':>8}{'ffmpeg s':>10}{'ratio':>8}")
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    for name, submit, data, hand in cases:
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        # Alternate the two sides so that a busy moment on a shared machine hits both.
        runs = [(job_seconds(user, submit, data), ffmpeg(*hand)) for _ in range(args.repeat)]
        ours, theirs = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{name:<18}{ours:>8.2f}{theirs:>10.2f}{ours / theirs:>8.2f}")
    if wanted:
        return
    copy = job_seconds(user, services.edit_trim_submit,
                       {**v, "start_seconds": 0, "end_seconds": half})
    encode = job_seconds(user, services.edit_trim_submit,
                         {**v, "start_seconds": 0.5, "end_seconds": half})
    print(f"trim to {half:g} s: stream copy {copy:.2f} s, re-encode {encode:.2f} s "
          f"({encode / copy:.0f}x)")


if __name__ == "__main__":
    main()
