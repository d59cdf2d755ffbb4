"""Job lifecycle: submit, claim, progress, complete, fail, cancel, reap.

Every state change is a conditional UPDATE on the current status (RELIABILITY rule 3), so a
cancel racing a completion ends in exactly one of "charged" or "refunded"; the ledger's
unique references make each credit movement happen at most once even if a step is retried.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.services import credit_account_get, credits_charge, credits_release, credits_reserve
from core.errors import ApplicationError, Conflict
from jobs.models import Job
from jobs.registry import handler_for

logger = logging.getLogger(__name__)
S = Job.Status


def job_submit(*, owner, kind: str, params: dict, cost: int, model: str = "", engine: str = "",
               idempotency_key: str | None = None, request_hash: str = "",
               webhook_url: str = "", parent: Job | None = None) -> tuple[Job, bool]:
    """Reserve the credits and create the job in one transaction, then enqueue it.

    Returns (job, created). With an `idempotency_key` already used for the same request, the
    first job comes back (created=False); used for a different request, it is a 422.
    """
    if idempotency_key:
        existing = job_for_idempotency_key(owner=owner, key=idempotency_key,
                                           request_hash=request_hash)
        if existing is not None:
            return existing, False
    handler = handler_for(kind)
    priority = credit_account_get(user=owner).tier.rank
    try:
        with transaction.atomic():
            job = Job(owner=owner, kind=kind, model=model, engine=engine, params=params,
                      queue=handler.queue, priority=priority, cost=cost,
                      idempotency_key=idempotency_key or None, request_hash=request_hash,
                      webhook_url=webhook_url, parent=parent, enqueued_at=timezone.now())
            job.save()
            if cost:
                credits_reserve(user=owner, amount=cost, reference=job.credit_reference,
                                description=f"{kind} {model}".strip())
            transaction.on_commit(lambda: job_enqueue(job=job))
    except IntegrityError:
        # Lost a race with the same idempotency key; the winner's job is the answer.
        existing = job_for_idempotency_key(owner=owner, key=idempotency_key or "",
                                           request_hash=request_hash)
        if existing is None:
            raise
        return existing, False
    return job, True


def job_for_idempotency_key(*, owner, key: str, request_hash: str) -> Job | None:
    job = Job.objects.filter(owner=owner, idempotency_key=key).first()
    if job is not None and job.request_hash != request_hash:
        raise ApplicationError(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused", status=422)
    return job


def job_enqueue(*, job: Job) -> None:
    """Send the job to its queue. The database is the truth; the message is only a hint, so
    sending twice is harmless (the claim admits one runner)."""
    from jobs.tasks import run_job

    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    run_job.apply_async(args=[job.pk], queue=job.queue, priority=min(job.priority, 9))


def job_claim(*, job_id: int, worker: str) -> Job | None:
    """Take a queued job for this worker; None if another runner has it or it has ended."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=S.QUEUED).update(
        status=S.PROCESSING, started_at=now, heartbeat_at=now, worker=worker[:200],
        attempts=F("attempts") + 1, stage="start", updated_at=now)
    if not claimed:
        return None
    return Job.objects.select_related("owner").get(pk=job_id)


def job_heartbeat(*, job_id: int) -> bool:
    """Record that the runner is alive; False once the job is no longer processing (canceled)."""
    return bool(Job.objects.filter(pk=job_id, status=S.PROCESSING).update(
        heartbeat_at=timezone.now()))


def job_progress(*, job_id: int, fraction: float, stage: str) -> bool:
    """Move progress forward (never back) and record the stage. False if no longer running."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    now = timezone.now()
    return bool(Job.objects.filter(pk=job_id, status=S.PROCESSING).update(
        progress=Greatest(F("progress"), fraction), stage=stage[:32], heartbeat_at=now,
        updated_at=now))


def job_complete(*, job: Job, result: dict) -> bool:
    """processing -> completed, then charge the reservation. False if the job was canceled
    (or reaped) meanwhile: its credits were released and it keeps that state.

    A handler that measured its work may report `credits_used` in its result (a whole number
    below the reservation, e.g. speech priced on its real length): only that is charged and
    the rest goes back. It can never charge more than was reserved."""
    now = timezone.now()
    used = result.get("credits_used")
    charge = used if isinstance(used, int) and 0 <= used < job.cost else job.cost
    # The transition and the charge commit together: a crash between them must not leave a
    # completed job whose reservation is never settled.
    with transaction.atomic():
        done = Job.objects.filter(pk=job.pk, status=S.PROCESSING).update(
            status=S.COMPLETED, progress=1.0, stage="done", finished_at=now, result=result,
            credits_charged=charge, updated_at=now)
        if not done:
            return False
        if job.cost:
            credits_charge(reference=job.credit_reference, amount=charge)
        _after_terminal(job.pk)
    return True


def job_fail(*, job: Job, code: str, message: str,
             from_statuses: tuple = (S.PROCESSING,)) -> bool:
    """-> failed, then release the reservation (the refund). Once only."""
    now = timezone.now()
    with transaction.atomic():
        done = Job.objects.filter(pk=job.pk, status__in=from_statuses).update(
            status=S.FAILED, error_code=code[:64], error_message=message[:2000],
            finished_at=now, updated_at=now)
        if not done:
            return False
        if job.cost:
            credits_release(reference=job.credit_reference, description=f"Refund: {code}")
        _after_terminal(job.pk)
    return True


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued or running job and refund it. A running job's worker notices on its
    next heartbeat or progress report and stops its engine (ComfyUI interrupt, ffmpeg kill)."""
    now = timezone.now()
    with transaction.atomic():
        done = Job.objects.filter(pk=job.pk, status__in=[S.QUEUED, S.PROCESSING]).update(
            status=S.CANCELED, finished_at=now, error_code="canceled",
            error_message="Canceled by the user.", updated_at=now)
        if done and job.cost:
            credits_release(reference=job.credit_reference, description="Refund: canceled")
        if done:
            _after_terminal(job.pk)
    job.refresh_from_db()
    if not done:
        raise Conflict(f"The job has already {job.status}.", code="job_finished",
                       status_value=job.status)
    return job


def _after_terminal(job_id: int) -> None:
    from jobs.webhooks import webhook_schedule

    transaction.on_commit(lambda: webhook_schedule(job_id=job_id))


def jobs_reap(*, now=None) -> dict:
    """The reaper (Celery beat). Processing jobs whose heartbeat stopped are re-queued, or
    failed and refunded after too many attempts; queued jobs that no worker took are sent
    again. A crashed worker or a lost broker message never leaves a job stuck."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    requeued = failed = resent = 0
    for job in Job.objects.filter(status=S.PROCESSING, heartbeat_at__lt=stale):
        if job.attempts < settings.JOB_MAX_ATTEMPTS:
            if Job.objects.filter(pk=job.pk, status=S.PROCESSING, heartbeat_at__lt=stale).update(
                    status=S.QUEUED, stage="requeued", worker="", updated_at=now):
                logger.warning("job %s lost its worker; re-queued", job.public_id)
                job_enqueue(job=job)
                requeued += 1
        elif job_fail(job=job, code="worker_lost",
                      message="The worker running this job stopped responding."):
            failed += 1
    unsent = now - timedelta(seconds=settings.JOB_REQUEUE_AFTER)
    for job in Job.objects.filter(status=S.QUEUED, enqueued_at__lt=unsent):
        job_enqueue(job=job)
        resent += 1
    return {"requeued": requeued, "failed": failed, "resent": resent}
