"""A media job in a real Celery worker: canceling it ends its ffmpeg and refunds it."""

import tempfile
from pathlib import Path

import pytest

from billing.models import CreditAccount
from jobs.models import Job
from jobs.services import job_cancel
from media_tools.services import edit_resize_submit
from tests.engines.media import make_video
from tests.factories import UserFactory
from tests.media_tools.conftest import stored

pytestmark = [pytest.mark.live_worker]


def ffmpeg_of_job(job: Job) -> list[int]:
    """pids of ffmpeg processes working in this job's scratch directory."""
    marker = f"job-{job.public_id}-".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if b"ffmpeg" in cmdline and marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_canceling_a_running_edit_kills_its_ffmpeg_and_refunds(job_workers, tmp_path):
    worker = job_workers()
    user = UserFactory()
    video = stored(user, make_video(tmp_path / "long.mp4", seconds=30, size="320x180"),
                   "video")
    job = edit_resize_submit(user=user, data={"video_filename": video.name, "width": 416,
                                              "height": 416})
    worker.wait_for(lambda: ffmpeg_of_job(job), timeout=60, interval=0.05)
    job_cancel(job=job)
    worker.wait_for(lambda: not ffmpeg_of_job(job), timeout=15)
    job.refresh_from_db()
    assert job.status == "canceled"
    assert CreditAccount.objects.get(user=user).balance == 150
    # The scratch directory goes with the job (removed by the worker once ffmpeg has exited,
    # so it may outlive the process by a moment on a busy machine).
    worker.wait_for(lambda: not list(Path(tempfile.gettempdir()).glob(f"job-{job.public_id}-*")),
                    timeout=15)
