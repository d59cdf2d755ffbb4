"""Test-only endpoints: a job-creating call with the daily quota, and one view per feature
gate, attached the way the jobs and generation apps attach them."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from billing.permissions import TierFeaturePermission
from billing.quotas import DailyApiQuotaThrottle
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as base

GATE_CODES = ["stock_media", "tts", "hosting", "orgs", "brand_kits", "subtitle_translation",
              "upscale", "face_swap"]


class CreateJobApi(APIView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, DailyApiQuotaThrottle]

    def post(self, request):
        return Response({"job_id": "test"}, status=202)


def gated(code: str):
    class GatedApi(APIView):
        permission_classes = [IsAuthenticated, TierFeaturePermission.for_(code)]

        def post(self, request):
            return Response({"feature": code})

    return GatedApi.as_view()


urlpatterns = [
    path("api/test/create-job", CreateJobApi.as_view()),
    *[path(f"api/test/gated/{code}", gated(code)) for code in GATE_CODES],
    *base,
]
