"""POST /api/stories and its companions: the story, its resume and per-scene regeneration."""

import re
import time

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.quotas import job_creating_throttles
from core.http import base_url
from core.pagination import LimitOffsetPagination
from jobs.http import IDEMPOTENCY, idempotency_key, job_accepted, job_accepted_body
from jobs.models import Job
from jobs.serializers import job_status_payload
from studio.stories import selectors, services
from studio.stories import serializers as s

TAGS = ["stories"]
PREFER = OpenApiParameter(
    "Prefer", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="wait=N: hold the answer up to N seconds (at most STORY_MAX_WAIT) and answer "
                "200 with the finished job when it is done in time")
TERMINAL = (Job.Status.COMPLETED, Job.Status.FAILED, Job.Status.CANCELED)


def _wait_seconds(request) -> float:
    match = re.search(r"(?:^|[,;\s])wait\s*=\s*(\d+)", request.headers.get("Prefer", ""))
    return min(float(match.group(1)), settings.STORY_MAX_WAIT) if match else 0.0


def _accepted(request, job: Job, story) -> Response:
    """202 with the job; with `Prefer: wait=N`, 200 with its status once it ends in time."""
    wait = _wait_seconds(request)
    deadline = time.monotonic() + wait
    while wait and time.monotonic() < deadline:
        current = Job.objects.get(pk=job.pk)
        if current.status in TERMINAL:
            body = job_status_payload(current, base_url=base_url(request))
            response = Response({**body, "story_id": story.pk}, status=status.HTTP_200_OK)
            response["Preference-Applied"] = f"wait={int(wait)}"
            return response
        time.sleep(0.25)
    body, replayed = job_accepted_body(request, job, story_id=story.pk)
    response = Response(body, status=status.HTTP_202_ACCEPTED)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class StoryListApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_throttles(self):
        if self.request.method == "POST":
            return [throttle() for throttle in job_creating_throttles()]
        return super().get_throttles()

    @extend_schema(responses={200: s.StoryListSerializer(many=True)}, tags=TAGS,
                   summary="Your stories, newest first (?limit=&offset=)")
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.story_list_for_user(user=request.user),
                                           request, view=self)
        return paginator.get_paginated_response(s.StoryListSerializer(page, many=True).data)

    @extend_schema(
        request={"application/json": s.StoryRequestSerializer,
                 "multipart/form-data": s.StoryRequestSerializer},
        responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        parameters=[IDEMPOTENCY, PREFER], tags=TAGS, operation_id="story_create",
        summary="Make a narrated, captioned, scored video from a topic, a script or an "
                "uploaded narration")
    def post(self, request):
        data = s.StoryRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        story = services.story_submit(user=request.user, data=data.validated_data,
                                      idempotency_key=idempotency_key(request))
        return _accepted(request, story.job, story)


class StoryDetailApi(APIView):
    @extend_schema(responses={200: s.StorySerializer}, tags=TAGS,
                   summary="A story: its script, scenes, files and details")
    def get(self, request, story_id: int):
        story = selectors.story_get_for_user(user=request.user, story_id=story_id)
        return Response(s.StorySerializer(story).data)

    @extend_schema(responses={204: None}, tags=TAGS,
                   summary="Delete a story, its project and the files its jobs made (409 while "
                           "it is being worked on)")
    def delete(self, request, story_id: int):
        story = selectors.story_get_for_user(user=request.user, story_id=story_id)
        services.story_delete(story=story)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StoryResumeApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT}, tags=TAGS,
                   parameters=[IDEMPOTENCY],
                   summary="Run a failed or canceled story again from the step that failed")
    def post(self, request, story_id: int):
        story = selectors.story_get_for_user(user=request.user, story_id=story_id)
        story = services.story_resume(story=story, idempotency_key=idempotency_key(request))
        return job_accepted(request, story.job, story_id=story.pk)


class SceneRegenerateApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=s.SceneRegenerateSerializer, responses={202: OpenApiTypes.OBJECT},
                   tags=TAGS, parameters=[IDEMPOTENCY],
                   summary="New text, picture or voice for one scene, then the video is "
                           "recomposed; the other scenes are kept as they are")
    def post(self, request, story_id: int, index: int):
        story = selectors.story_get_for_user(user=request.user, story_id=story_id)
        data = s.SceneRegenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.story_scene_regenerate(story=story, index=index,
                                              data=data.validated_data,
                                              idempotency_key=idempotency_key(request))
        return job_accepted(request, job, story_id=story.pk, scene=index)


class FrameTemplatesApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=TAGS,
                   summary="The frame templates, their sizes and parameters")
    def get(self, request):
        from media_tools import frames

        return Response({"templates": [frames.describe_template(t)
                                       for _name, t in sorted(frames.TEMPLATES.items())]})
