import uuid

from django.core.cache import cache
from django.db.models import Avg, F, Q, QuerySet

from core.errors import NotFound
from jobs.models import Job

S = Job.Status


def job_get_for_user(*, user, job_id) -> Job:
    """The user's job by public id; someone else's (or a malformed id) is a 404."""
    try:
        public_id = uuid.UUID(str(job_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound("Job not found.") from None
    job = Job.objects.filter(owner=user, public_id=public_id).first()
    if job is None:
        raise NotFound("Job not found.")
    return job


def job_queue_position(*, job: Job) -> int | None:
    """1 for the next job to start in its queue; None when not queued."""
    if job.status != S.QUEUED:
        return None
    ahead = Job.objects.filter(status=S.QUEUED, queue=job.queue).filter(
        Q(priority__gt=job.priority)
        | Q(priority=job.priority, created_at__lt=job.created_at)
        | Q(priority=job.priority, created_at=job.created_at, pk__lt=job.pk)).count()
    return ahead + 1


def job_mean_duration(*, kind: str) -> float:
    """Mean run time of the last 50 completed jobs of this kind, measured, cached 60 s."""
    key = f"jobs:mean-duration:{kind}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    recent = (Job.objects.filter(kind=kind, status=S.COMPLETED, started_at__isnull=False)
              .order_by("-finished_at").values_list("pk", flat=True)[:50])
    mean = (Job.objects.filter(pk__in=list(recent))
            .aggregate(d=Avg(F("finished_at") - F("started_at")))["d"])
    seconds = mean.total_seconds() if mean is not None else 30.0
    cache.set(key, seconds, 60)
    return seconds


def job_estimated_wait(*, job: Job, position: int | None) -> int | None:
    """Seconds until the job is likely finished, from measured durations; None when ended."""
    if job.is_terminal:
        return None
    mean = job_mean_duration(kind=job.kind)
    if job.status == S.PROCESSING:
        return max(0, round(mean * (1 - job.progress)))
    return round(mean * (position or 1))


def job_list_active_for_user(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user, status__in=[S.QUEUED, S.PROCESSING]).order_by(
        "created_at")


def queue_stats() -> dict:
    counts = Job.objects.filter(status__in=[S.QUEUED, S.PROCESSING]).values_list("status")
    queued = sum(1 for (s,) in counts if s == S.QUEUED)
    return {"total_pending": queued, "currently_processing": len(counts) - queued}
