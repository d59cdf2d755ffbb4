"""Runs one claimed job: heartbeat, handler, outputs, settlement, scratch directory."""

import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from engines.base import Canceled, EngineError, EngineUnavailableError
from jobs.models import Job
from jobs.registry import handler_for
from jobs.services import job_claim, job_complete, job_fail, job_heartbeat, job_progress

logger = logging.getLogger(__name__)


class JobContext:
    """What a handler gets besides the job: a scratch directory, progress reporting and a
    cancel flag that turns true when the job is canceled (seen by heartbeat or progress)."""

    def __init__(self, job: Job, workdir: Path):
        self.job = job
        self.workdir = workdir
        self._canceled = threading.Event()
        self._last_write = 0.0
        self._last_fraction = -1.0
        self._last_stage = ""

    def progress(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        # Write at most every half second unless the stage changes or the work is done.
        if (stage == self._last_stage and fraction < 1.0 and now - self._last_write < 0.5
                and fraction - self._last_fraction < 0.05):
            return
        self._last_write, self._last_fraction, self._last_stage = now, fraction, stage
        if not job_progress(job_id=self.job.pk, fraction=fraction, stage=stage):
            self._canceled.set()

    def is_canceled(self) -> bool:
        return self._canceled.is_set()

    def mark_canceled(self) -> None:
        self._canceled.set()


def _heartbeat_loop(ctx: JobContext, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_INTERVAL):
            if not job_heartbeat(job_id=ctx.job.pk):
                ctx.mark_canceled()
                return
    finally:
        connection.close()


def job_run(*, job_id: int, worker: str) -> str:
    """Claim and run a job. Returns what happened (for logs and tests)."""
    job = job_claim(job_id=job_id, worker=worker)
    if job is None:
        return "not-claimed"
    handler = handler_for(job.kind)
    workdir = Path(tempfile.mkdtemp(prefix=f"job-{job.public_id}-",
                                    dir=settings.JOB_SCRATCH_DIR))
    ctx = JobContext(job, workdir)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat_loop, args=(ctx, stop), daemon=True)
    beat.start()
    try:
        result = handler.run(job, ctx)
        if ctx.is_canceled():
            raise Canceled("The job was canceled.")
        return "completed" if job_complete(job=job, result=result or {}) else "canceled"
    except Canceled:
        return "canceled"
    except EngineUnavailableError as exc:
        job_fail(job=job, code=exc.code, message=exc.message)
        return "failed"
    except EngineError as exc:
        job_fail(job=job, code=exc.code, message=exc.message)
        return "failed"
    except Exception:
        logger.exception("job %s crashed", job.public_id)
        job_fail(job=job, code="internal_error",
                 message="The job failed unexpectedly; your credits were refunded.")
        return "failed"
    finally:
        stop.set()
        beat.join(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)
