"""Generation end to end with real Celery workers and the preview engine: submit, run,
download, cancel, and the crash paths of RELIABILITY.md rules 1-6."""

import json
import os
import shutil
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from billing.models import CreditAccount, LedgerEntry, Tier
from billing.services import tier_set
from jobs.models import Job
from jobs.services import jobs_reap
from tests.conftest import bearer
from tests.factories import UserFactory

pytestmark = [pytest.mark.live_worker]


@pytest.fixture
def user(transactional_db):
    from billing.services import credits_grant

    user = UserFactory()
    tier_set(user=user, tier=Tier.objects.get(slug="enterprise"))
    credits_grant(user=user, amount=5000, reference=f"test-topup:{user.pk}", kind="topup")
    return user


@pytest.fixture
def client(user):
    from rest_framework.test import APIClient

    return bearer(APIClient(), user)


def wait_status(client, job_id, statuses, timeout=60.0):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = client.get(f"/api/status/{job_id}").json()
        if body["status"] in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job never reached {statuses}: {body}")


def ffprobe(data: bytes, tmp_path: Path) -> dict:
    path = tmp_path / "download.mp4"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ledger_kinds(job_id) -> list[str]:
    return sorted(LedgerEntry.objects.filter(reference=f"job:{job_id}")
                  .values_list("kind", flat=True))


def ffmpeg_running_for(job_id) -> bool:
    out = subprocess.run(["pgrep", "-f", f"job-{job_id}"], capture_output=True, text=True)
    return bool(out.stdout.strip())


def test_submit_run_and_download_with_a_real_worker(job_workers, client, user, tmp_path):
    job_workers()
    r = client.post("/api/generate", {"prompt": "A paper boat on a pond", "model": "wan-t2v",
                                      "width": 320, "height": 192, "frames": 25, "steps": 4,
                                      "frame_rate": 12, "seed": 11}, format="json")
    assert r.status_code == 202, r.content
    job_id = r.json()["job_id"]
    body = wait_status(client, job_id, {"completed", "failed"})
    assert body["status"] == "completed", body
    assert body["engine"] == "preview" and body["progress"] == 1.0
    output = body["outputs"][0]
    assert (output["width"], output["height"], output["frames"]) == (320, 192, 25)
    download = client.get(output["url"].replace("http://testserver", ""))
    stream = next(s for s in ffprobe(b"".join(download.streaming_content), tmp_path)["streams"]
                  if s["codec_type"] == "video")
    assert (stream["width"], stream["height"]) == (320, 192)
    assert int(stream["nb_read_frames"]) == 25 and stream["avg_frame_rate"] == "12/1"
    assert ledger_kinds(job_id) == ["charge", "reserve"]
    assert output["thumbnail_url"]


def test_cancel_while_queued_refunds_without_running(job_workers, client, user):
    # No worker is started: the job stays queued.
    r = client.post("/api/generate", {"prompt": "x", "width": 320, "height": 192,
                                      "frames": 9}, format="json")
    job_id = r.json()["job_id"]
    before = CreditAccount.objects.get(user=user).balance
    assert client.post("/api/cancel", {"job_id": job_id}, format="json").json()["status"] == (
        "canceled")
    assert CreditAccount.objects.get(user=user).balance == before + r.json()["cost"]
    assert ledger_kinds(job_id) == ["release", "reserve"]


def long_job(client) -> str:
    r = client.post("/api/generate", {"prompt": "A long take", "model": "wan-t2v",
                                      "width": 832, "height": 480, "frames": 961,
                                      "frame_rate": 24, "seed": 3}, format="json")
    assert r.status_code == 202, r.content
    return r.json()["job_id"]


def wait_rendering(client, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/status/{job_id}").json()
        if body["status"] == "processing" and ffmpeg_running_for(job_id):
            return body
        assert body["status"] in ("queued", "processing"), body
        time.sleep(0.1)
    raise AssertionError("the job never started rendering")


def test_cancel_while_running_stops_ffmpeg_and_refunds(job_workers, client, user):
    job_workers()
    job_id = long_job(client)
    wait_rendering(client, job_id)
    body = client.post("/api/cancel", {"job_id": job_id}, format="json").json()
    assert body["status"] == "canceled"
    deadline = time.monotonic() + 15
    while ffmpeg_running_for(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ffmpeg_running_for(job_id), "ffmpeg outlived the canceled job"
    time.sleep(1)
    assert ledger_kinds(job_id) == ["release", "reserve"]
    assert Job.objects.get(public_id=job_id).status == "canceled"


def _stale_reap():
    return jobs_reap(now=timezone.now() + timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 1))


def test_a_killed_pool_child_leaves_no_orphan_and_the_job_is_rerun(job_workers, client, user):
    worker = job_workers()
    job_id = long_job(client)
    wait_rendering(client, job_id)
    for pid in worker.pool_children():
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while ffmpeg_running_for(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ffmpeg_running_for(job_id), "ffmpeg survived its killed worker process"
    # The heartbeat stops; the reaper puts the job back and a worker runs it again.
    Job.objects.filter(public_id=job_id).update(params={**Job.objects.get(
        public_id=job_id).params, "frames": 25, "width": 320, "height": 192})
    assert _stale_reap()["requeued"] == 1
    body = wait_status(client, job_id, {"completed", "failed"}, timeout=90)
    assert body["status"] == "completed", body
    assert Job.objects.get(public_id=job_id).attempts >= 2
    assert ledger_kinds(job_id) == ["charge", "reserve"]


def test_a_killed_worker_is_recovered_by_the_reaper(job_workers, client, user):
    worker = job_workers()
    job_id = long_job(client)
    wait_rendering(client, job_id)
    worker.kill()
    deadline = time.monotonic() + 15
    while ffmpeg_running_for(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ffmpeg_running_for(job_id)
    assert Job.objects.get(public_id=job_id).status == "processing"  # until the reaper runs
    Job.objects.filter(public_id=job_id).update(params={**Job.objects.get(
        public_id=job_id).params, "frames": 25, "width": 320, "height": 192})
    job_workers()
    assert _stale_reap()["requeued"] == 1
    body = wait_status(client, job_id, {"completed", "failed"}, timeout=90)
    assert body["status"] == "completed", body
    assert ledger_kinds(job_id) == ["charge", "reserve"]


def test_a_job_that_keeps_losing_its_worker_is_failed_and_refunded_once(job_workers, client,
                                                                        user):
    job_id = long_job(client)
    Job.objects.filter(public_id=job_id).update(
        status="processing", attempts=settings.JOB_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs_reap()["failed"] == 1
    assert jobs_reap()["failed"] == 0
    assert ledger_kinds(job_id) == ["release", "reserve"]


def _drop_broker_messages():
    """What a broker restart without persistence does: every queued message is gone."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    else:
        queue_dir = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        shutil.rmtree(queue_dir, ignore_errors=True)
        queue_dir.mkdir(parents=True)


def test_jobs_whose_messages_the_broker_lost_are_sent_again(job_workers, client, user):
    ids = []
    for seed in range(3):
        r = client.post("/api/generate", {"prompt": "x", "width": 320, "height": 192,
                                          "frames": 9, "seed": seed}, format="json")
        ids.append(r.json()["job_id"])
    _drop_broker_messages()
    job_workers()
    time.sleep(2)
    assert all(Job.objects.get(public_id=i).status == "queued" for i in ids)
    result = jobs_reap(now=timezone.now() + timedelta(seconds=settings.JOB_REQUEUE_AFTER + 1))
    assert result["resent"] == 3
    for job_id in ids:
        assert wait_status(client, job_id, {"completed", "failed"})["status"] == "completed"
        assert ledger_kinds(job_id) == ["charge", "reserve"]
