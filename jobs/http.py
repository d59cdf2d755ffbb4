"""What every job-creating endpoint shares: the Idempotency-Key header and the 202 answer.

Used by generation, media tools and studio alike, so it lives with the jobs they create.
"""

import hashlib
import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from core.errors import ApplicationError
from jobs.models import Job
from jobs.selectors import job_estimated_wait, job_queue_position

IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                               required=False, description="Replays return the first answer")


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 255:
        raise ApplicationError("Idempotency-Key is too long (255 characters at most).",
                               code="invalid", fields={"Idempotency-Key": ["Too long."]})
    return key or None


def request_fingerprint(data: dict) -> str:
    """Stable hash of a request body, to tell an idempotent replay from a reused key."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def job_accepted_body(request, job: Job, **extra) -> tuple[dict, bool]:
    """The 202 body; for a replay, the body first returned. Returns (body, replayed)."""
    if job.submit_response:
        return job.submit_response, True
    position = job_queue_position(job=job)
    body = {
        "job_id": str(job.public_id), **extra, "status": job.status,
        "queue_position": position,
        "estimated_wait_seconds": job_estimated_wait(job=job, position=position),
        "cost": job.cost, "model": job.model, "engine": job.engine,
        "status_url": request.build_absolute_uri(f"/api/status/{job.public_id}"),
    }
    Job.objects.filter(pk=job.pk).update(submit_response=body)
    return body, False


def job_accepted(request, job: Job, **extra) -> Response:
    body, replayed = job_accepted_body(request, job, **extra)
    response = Response(body, status=status.HTTP_202_ACCEPTED)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
