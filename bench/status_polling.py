"""Benchmark: job status polling under gunicorn, load generator (wrk) on the same machine.

Prints requests/s, p50/p99 latency and errors at 64 connections, and the SQL queries per
status request with 10 and with 5,000 jobs in the database. Uses its own database under
var/bench (SQLite) unless DATABASE_URL is set, in which case that database is used and the
bench rows are left in it.

    .venv/bin/python bench/status_polling.py [--connections 64] [--seconds 15] [--workers 4]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(var_dir: Path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["REELFORGE_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_world(jobs: int, state: str = "processing"):
    from accounts.models import User
    from accounts.services import api_key_create, user_create
    from jobs.models import Job

    user = User.objects.filter(username="bench").first() or user_create(
        username="bench", email="bench@example.com", password="bench-password-123")
    user.api_keys.update(is_active=False)  # keys of earlier runs
    _, raw = api_key_create(user=user, name=f"bench-{time.time()}")
    existing = Job.objects.filter(owner=user).count()
    Job.objects.bulk_create([
        Job(owner=user, kind="generate_video", model="wan-t2v", engine="preview",
            queue="gpu", params={"prompt": "bench"}, cost=0)
        for _ in range(max(0, jobs - existing))
    ], batch_size=1000)
    job = Job.objects.filter(owner=user).order_by("-id").first()
    if state == "processing":
        from django.utils import timezone

        Job.objects.filter(pk=job.pk).update(status="processing", progress=0.5, stage="render",
                                             started_at=timezone.now())
    else:
        Job.objects.filter(pk=job.pk).update(status="queued", progress=0, stage="")
    job.refresh_from_db()
    return raw, job


def queries_per_request(raw_key: str, job) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}", HTTP_HOST="127.0.0.1")
    url = f"/api/status/{job.public_id}"
    client.get(url)  # the first use of a key records last_used once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def parse_wrk(output: str) -> dict:
    def latency(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not m:
            return None
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "none"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn sync workers (default: one per core)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--state", choices=["processing", "queued"], default="processing",
                        help="the polled job: running, or queued behind all the others")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    setup_django(var_dir)

    raw, job = make_world(10, args.state)
    small = queries_per_request(raw, job)
    raw, job = make_world(5000, args.state)
    large = queries_per_request(raw, job)
    print(f"SQL queries per status request: {small} with 10 jobs, {large} with 5,000 jobs")

    port = free_port()
    env = dict(os.environ)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}/api/status/{job.public_id}"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        header = f"Authorization: Bearer {raw}"
        subprocess.run(["wrk", "-t2", "-c8", "-d2s", "-H", header, url],
                       capture_output=True, check=True)  # warm-up
        out = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
             "--latency", "-H", header, url],
            capture_output=True, text=True, check=True).stdout
        result = parse_wrk(out)
        print(f"gunicorn {args.workers} sync workers, wrk {args.connections} connections, "
              f"{args.seconds}s, database {env.get('DATABASE_URL') or 'SQLite'}, "
              f"polled job {args.state} among 5,000")
        print(f"requests/s: {result['rps']:.0f}")
        print(f"latency p50: {result['p50_ms']:.1f} ms   p99: {result['p99_ms']:.1f} ms")
        print(f"errors: non-2xx {result['non_2xx']}, socket {result['socket_errors']}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
