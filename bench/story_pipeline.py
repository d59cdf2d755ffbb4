"""Benchmark: a whole story, from the script to the stored video, on the embedded default.

Runs the story job the way a worker does (claim, every step, settlement), with espeak-ng
narration and preview-engine pictures, and prints the time spent in each stage (from the
job's own progress reports) and in total. Uses its own SQLite database and files under
var/bench-story-pipeline.

    .venv/bin/python bench/story_pipeline.py [--scenes 6] [--format 9:16] [--resolution 1080p]
"""

import argparse
import itertools
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "Every great city began as a crossing, a river narrow enough to ford.",
    "People came to trade, and some of them stayed for good.",
    "Over the centuries the markets became streets and the streets became districts.",
    "Bridges, walls and towers followed the money and the people.",
    "Railways pulled the edges outward and the suburbs were born.",
    "Next time you walk downtown, look for the old crossing under your feet.",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--format", default="9:16")
    parser.add_argument("--resolution", default="1080p")
    parser.add_argument("--source", default="ai_scenery")
    args = parser.parse_args()
    var_dir = ROOT / "var" / "bench-story-pipeline"
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["REELFORGE_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.services import user_create
    from billing.models import Tier
    from billing.services import credits_adjust, tier_set
    from jobs import services as job_services
    from jobs.runner import job_run
    from studio.stories.services import story_submit

    user = user_create(username="bench", email="bench@example.com",
                       password="bench-password-123")
    tier_set(user=user, tier=Tier.objects.get(slug="enterprise"))
    credits_adjust(user=user, amount=10_000, reason="bench")
    script = "\n\n".join((SENTENCES * 4)[:args.scenes])
    data = {"audio_source_type": "generate", "mode": "fixed", "prompt": script,
            "video_format": args.format, "resolution": args.resolution,
            "video_source": args.source, "ai_scenery_prompt": "soft watercolour",
            "image_model": "flux", "video_model": "wan-t2v", "voice": "en_us_female",
            "voice_speed": 1.0, "burn_captions": True, "caption_style": "clonevest",
            "text_transform": "standard", "caption_position": "bottom", "add_music": True,
            "bgm_volume": 0.3, "add_sound_effects": False, "transition": "crossfade",
            "language": "en", "title": "", "script": "", "template_params": {},
            "frame_template": ""}

    stages: list[tuple[str, float]] = []
    original = job_services.job_progress

    def timed(*, job_id, fraction, stage):  # notes when each stage begins
        if not stages or stages[-1][0] != stage:
            stages.append((stage, time.perf_counter()))
        return original(job_id=job_id, fraction=fraction, stage=stage)

    job_services.job_progress = timed
    import jobs.runner

    jobs.runner.job_progress = timed
    started = time.perf_counter()
    story = story_submit(user=user, data=data)
    outcome = job_run(job_id=story.job_id, worker="bench")
    total = time.perf_counter() - started
    story.refresh_from_db()
    if outcome != "completed":
        job = story.job
        raise SystemExit(f"story {outcome}: {job.error_code} {job.error_message}")
    print(f"story: {args.scenes} scenes, {args.format} {args.resolution}, {args.source}, "
          f"espeak-ng narration, preview-engine pictures, clonevest captions, music; "
          f"{os.cpu_count()} cores")
    print(f"output: {story.video.width}x{story.video.height}, {story.duration:.1f} s of video")
    marks = [*stages, ("end", started + total)]
    for (stage, at), (_next, until) in itertools.pairwise(marks):
        print(f"  {stage:<10}{until - at:7.2f} s")
    print(f"total (submit to stored and settled): {total:.2f} s "
          f"({total / story.duration:.2f} s per second of video)")


if __name__ == "__main__":
    main()
