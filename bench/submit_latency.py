"""Benchmark: submit-to-start latency — from the API's commit of a job to a worker claiming it.

Starts a real Celery worker on the configured broker (Redis when REDIS_URL is set, which is
what the target is about; the embedded filesystem broker otherwise), submits jobs one after
another through the same service the API uses, and prints the median and p95 of
`started_at - created_at`. Uses its own SQLite database under var/bench-latency unless
DATABASE_URL is set.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/submit_latency.py --jobs 40
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    args = parser.parse_args()

    var_dir = ROOT / "var" / "bench-latency"
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.local",
                      REELFORGE_VAR_DIR=str(var_dir), DJANGO_DEBUG="false", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()

    from accounts.models import User
    from accounts.services import user_create
    from billing.services import credits_grant
    from generation.services import generation_submit
    from jobs.models import Job

    user = User.objects.filter(username="latency").first() or user_create(
        username="latency", email="latency@example.com", password="latency-password-123")
    credits_grant(user=user, amount=100_000, reference=f"bench:{time.time()}", kind="topup")

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,media,gpu",
         "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), start_new_session=True)
    try:
        from config.celery import app

        for _ in range(120):
            if app.control.ping(timeout=0.5):
                break
        job_ids = []
        for index in range(args.jobs):
            gen = generation_submit(user=user, data={
                "model": "sd15", "prompt": f"latency probe {index}", "width": 64, "height": 64,
                "seed": index}, kind="generate_image")
            job_ids.append(gen.job.pk)
            # One at a time: wait for the claim so queueing behind our own jobs is not measured.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if Job.objects.filter(pk=gen.job.pk, started_at__isnull=False).exists():
                    break
                time.sleep(0.005)
        delays = []
        for job in Job.objects.filter(pk__in=job_ids, started_at__isnull=False):
            delays.append((job.started_at - job.created_at).total_seconds() * 1000)
        delays.sort()
        broker = "Redis" if settings.REDIS_URL else "embedded filesystem broker"
        print(f"submit-to-start latency over {len(delays)} jobs ({broker}): "
              f"median {statistics.median(delays):.0f} ms, "
              f"p95 {delays[int(len(delays) * 0.95) - 1]:.0f} ms, max {delays[-1]:.0f} ms")
        # Let the last jobs finish before the warm shutdown.
        deadline = time.monotonic() + 60
        while (Job.objects.filter(pk__in=job_ids, status__in=["queued", "processing"]).exists()
               and time.monotonic() < deadline):
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)  # the main process: a warm shutdown
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
