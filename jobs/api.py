import json
import time

from django.conf import settings
from django.db import close_old_connections
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.http import base_url
from jobs.fastpath import fast_status
from jobs.models import Job
from jobs.selectors import job_get_for_user, job_list_active_for_user, queue_stats
from jobs.serializers import CancelSerializer, JobStatusSerializer, job_status_payload
from jobs.services import job_cancel
from jobs.webhooks import webhook_secret_for, webhook_secret_rotate


class StatusApi(APIView):
    def dispatch(self, request, *args, **kwargs):
        # API-key polling is answered by the one-query fast path when it applies.
        response = fast_status(request, kwargs.get("job_id"))
        if response is not None:
            self.headers = {}
            return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("job_id", OpenApiTypes.UUID, required=False,
                                     description="The job id (or use /api/status/{job_id})")],
        responses={200: JobStatusSerializer}, tags=["jobs"],
        summary="Status, progress, queue position, outputs and credits of a job")
    def get(self, request, job_id=None):
        job_id = job_id or request.query_params.get("job_id")
        if not job_id:
            raise ApplicationError("job_id is required.", code="invalid",
                                   fields={"job_id": ["This field is required."]})
        job = job_get_for_user(user=request.user, job_id=job_id)
        return Response(job_status_payload(job, base_url=base_url(request)))


class CancelApi(APIView):
    @extend_schema(request=CancelSerializer, responses={200: JobStatusSerializer}, tags=["jobs"],
                   summary="Cancel a queued or running job; its credits are refunded")
    def post(self, request):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_get_for_user(user=request.user, job_id=data.validated_data["job_id"])
        job = job_cancel(job=job)
        return Response(job_status_payload(job, base_url=base_url(request)))


class QueueApi(APIView):
    @extend_schema(
        responses={200: inline_serializer("Queue", {
            "queue_length": serializers.IntegerField(),
            "queue_stats": serializers.DictField(),
            "jobs": JobStatusSerializer(many=True)})},
        tags=["jobs"], summary="Queue length and your active jobs with their positions")
    def get(self, request):
        stats = queue_stats()
        active = list(job_list_active_for_user(user=request.user)[:100])
        return Response({
            "queue_length": stats["total_pending"],
            "queue_stats": {**stats, "user_pending_count": len(active)},
            "jobs": [job_status_payload(j, base_url=base_url(request), outputs=[])
                     for j in active],
        })


class EventStreamRenderer(renderers.BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class JobEventsApi(APIView):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    @extend_schema(responses={(200, "text/event-stream"): OpenApiTypes.STR}, tags=["jobs"],
                   summary="Server-Sent Events: `status` events until the job ends")
    def get(self, request, job_id):
        job = job_get_for_user(user=request.user, job_id=job_id)
        root = base_url(request)

        def stream():
            last = None
            deadline = time.monotonic() + settings.JOB_EVENTS_MAX_SECONDS
            yield "retry: 2000\n\n"
            try:
                while time.monotonic() < deadline:
                    current = Job.objects.get(pk=job.pk)
                    payload = job_status_payload(current, base_url=root)
                    marker = (payload["status"], payload["progress"], payload["stage"],
                              payload["queue_position"])
                    if marker != last:
                        last = marker
                        yield f"event: status\ndata: {json.dumps(payload)}\n\n"
                    if current.is_terminal:
                        yield "event: end\ndata: {}\n\n"
                        return
                    time.sleep(0.5)
                yield ": stream time limit reached; reconnect to continue\n\n"
            finally:
                close_old_connections()

        response = StreamingHttpResponse(stream(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class WebhookSecretApi(APIView):
    @extend_schema(responses={200: inline_serializer("WebhookSecret", {
        "secret": serializers.CharField()})}, tags=["jobs"],
        summary="Your webhook signing secret (Standard Webhooks, whsec_...)")
    def get(self, request):
        return Response({"secret": webhook_secret_for(user=request.user)})

    @extend_schema(request=None, responses={200: inline_serializer("WebhookSecretRotated", {
        "secret": serializers.CharField()})}, tags=["jobs"],
        summary="Replace your webhook signing secret")
    def post(self, request):
        return Response({"secret": webhook_secret_rotate(user=request.user)})


class StatusDetailApi(StatusApi):
    @extend_schema(responses={200: JobStatusSerializer}, tags=["jobs"],
                   operation_id="status_detail",
                   summary="Status of a job, by id in the path")
    def get(self, request, job_id=None):
        return super().get(request, job_id=job_id)
