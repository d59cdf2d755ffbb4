from django.urls import reverse
from rest_framework import serializers

from assets.models import Asset
from jobs.models import Job
from jobs.selectors import job_estimated_wait, job_queue_position

_DOWNLOAD_ROUTE = {"video": "api-video", "image": "api-image", "audio": "api-audio"}


def asset_url(asset: Asset, *, base_url: str = "") -> str:
    route = _DOWNLOAD_ROUTE.get(asset.kind, "api-file")
    return base_url.rstrip("/") + reverse(route, args=[asset.name])


def asset_payload(asset: Asset, *, base_url: str = "") -> dict:
    return {
        "filename": asset.name, "kind": asset.kind, "url": asset_url(asset, base_url=base_url),
        "mime": asset.mime, "size": asset.size, "width": asset.width, "height": asset.height,
        "duration": asset.duration, "fps": asset.fps, "frames": asset.frame_count,
        "has_audio": asset.has_audio,
        "thumbnail_url": asset_url(asset.thumbnail, base_url=base_url)
        if asset.thumbnail_id else None,
    }


_UNSET = object()


def _public_result(result) -> dict:
    # "outputs" is already listed with URLs above.
    return {k: v for k, v in (result or {}).items() if k != "outputs"}


def job_status_payload(job: Job, *, base_url: str = "", outputs=None, position=_UNSET,
                       parent_public_id=_UNSET) -> dict:
    """The status document of GET /api/status, webhooks and the events stream.

    Queries: one for the queue position while queued and one for the outputs once completed,
    unless the caller already has them (`position`, `outputs`, `parent_public_id`).
    """
    if position is _UNSET:
        position = job_queue_position(job=job)
    if parent_public_id is _UNSET:
        parent_public_id = job.parent.public_id if job.parent_id else None
    if outputs is None:
        outputs = (list(Asset.objects.filter(source_job_id=job.public_id, origin="output")
                        .select_related("thumbnail").order_by("id"))
                   if job.status == Job.Status.COMPLETED else [])
    return {
        "job_id": str(job.public_id),
        "status": job.status,
        "kind": job.kind,
        "model": job.model,
        "engine": job.engine,
        "progress": round(job.progress, 4),
        "stage": job.stage,
        "queue_position": position,
        "estimated_wait_seconds": job_estimated_wait(job=job, position=position),
        "credits": {"reserved": job.cost, "charged": job.credits_charged,
                    "refunded": job.cost if job.status in (Job.Status.FAILED,
                                                           Job.Status.CANCELED)
                    else job.cost - job.credits_charged if job.status == Job.Status.COMPLETED
                    else 0},
        "outputs": [asset_payload(a, base_url=base_url) for a in outputs],
        # What the handler reported besides its files (e.g. a story's titles and scenes).
        "result": _public_result(job.result) if job.status == Job.Status.COMPLETED else None,
        "error": ({"code": job.error_code, "message": job.error_message}
                  if job.status in (Job.Status.FAILED, Job.Status.CANCELED) else None),
        "parent_job_id": str(parent_public_id) if parent_public_id else None,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


class JobStatusSerializer(serializers.Serializer):
    """Documents the status document for the OpenAPI schema."""

    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Job.Status.choices)
    kind = serializers.CharField()
    model = serializers.CharField()
    engine = serializers.CharField()
    progress = serializers.FloatField()
    stage = serializers.CharField()
    queue_position = serializers.IntegerField(allow_null=True)
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)
    credits = serializers.DictField()
    result = serializers.DictField(allow_null=True, help_text="The job's own report once "
                                   "completed: durations, counts, a story's details")
    outputs = serializers.ListField(child=serializers.DictField())
    error = serializers.DictField(allow_null=True)
    parent_job_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class CancelSerializer(serializers.Serializer):
    job_id = serializers.CharField(max_length=64)
