"""Video and image generation API (the contract's "Video Generation" and "Image Generation")."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.selectors import asset_get_readable
from assets.services import asset_upload
from assets.serving import asset_response
from billing.quotas import job_creating_throttles
from core.errors import ApplicationError
from core.http import base_url
from generation import selectors, services
from generation.catalogue import IMAGE_MODELS, VIDEO_MODELS, model_payload
from generation.models import Generation
from generation.serializers import (
    CostQuerySerializer,
    ExtendSerializer,
    GenerateImageSerializer,
    GenerateVideoSerializer,
    GenerationSerializer,
    PublicGenerationSerializer,
    UploadImageSerializer,
    V2VSerializer,
)
from jobs.http import IDEMPOTENCY, job_accepted, job_accepted_body
from jobs.http import idempotency_key as _idempotency_key
from jobs.models import Job
from jobs.serializers import asset_payload

SUBMITTED = inline_serializer("Submitted", {
    "job_id": serializers.UUIDField(), "generation_id": serializers.IntegerField(),
    "status": serializers.CharField(), "queue_position": serializers.IntegerField(),
    "estimated_wait_seconds": serializers.IntegerField(), "cost": serializers.IntegerField(),
    "model": serializers.CharField(), "engine": serializers.CharField(),
    "status_url": serializers.CharField()})


def _submitted(request, generation: Generation) -> tuple[dict, bool]:
    return job_accepted_body(request, generation.job, generation_id=generation.pk)


def _respond(request, generation: Generation) -> Response:
    return job_accepted(request, generation.job, generation_id=generation.pk)


class ModelsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["generation"],
                   summary="Video models: defaults, limits, costs and the engine serving each")
    def get(self, request):
        return Response({"models": [model_payload(m) for m in VIDEO_MODELS]})


class ImageModelsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["generation"],
                   summary="Image models (id, name, defaults, credit_cost)")
    def get(self, request):
        return Response({"models": [model_payload(m) for m in IMAGE_MODELS]})


class GenerationCostApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[CostQuerySerializer], responses={200: OpenApiTypes.OBJECT},
                   tags=["generation"], summary="Quote the credit cost without generating")
    def get(self, request):
        data = CostQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(services.generation_quote(**{
            "model": data.validated_data["model"], "frames": data.validated_data.get("frames"),
            "steps": data.validated_data.get("steps")}))


class GenerateApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=GenerateVideoSerializer, responses={202: SUBMITTED},
                   parameters=[IDEMPOTENCY], tags=["generation"],
                   summary="Queue a video generation (text, image, first-last frame, sound...)")
    def post(self, request):
        data = GenerateVideoSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        generation = services.generation_submit(user=request.user, data=data.validated_data,
                                                idempotency_key=_idempotency_key(request))
        return _respond(request, generation)


class GenerateImageApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=GenerateImageSerializer,
                   responses={202: inline_serializer("ImagesSubmitted", {
                       "job_ids": serializers.ListField(child=serializers.UUIDField()),
                       "jobs": serializers.ListField(child=serializers.DictField())})},
                   parameters=[IDEMPOTENCY], tags=["generation"],
                   summary="Queue image generations: one job per image")
    def post(self, request):
        data = GenerateImageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        bodies = services.generation_submit_many(
            user=request.user, data=values, count=values.pop("num_images"),
            kind=services.IMAGE_JOB, idempotency_key=_idempotency_key(request))
        jobs = [_submitted(request, g)[0] for g in bodies]
        return Response({"job_ids": [j["job_id"] for j in jobs], "jobs": jobs},
                        status=status.HTTP_202_ACCEPTED)


class ExtendVideoApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=ExtendSerializer, responses={202: SUBMITTED},
                   parameters=[IDEMPOTENCY], tags=["generation"],
                   summary="Continue a video: its last frame starts an image-to-video job")
    def post(self, request):
        data = ExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        source = services.generation_last_frame_source(user=request.user, data=values)
        parent = Job.objects.filter(public_id=source.source_job_id, owner=request.user).first()
        prompt = values.get("prompt") or (parent.params.get("prompt", "") if parent else "")
        generation = services.generation_submit(
            user=request.user, idempotency_key=_idempotency_key(request), parent=parent,
            extend_from=source,
            data={"model": values["model"], "prompt": prompt or "Continue the scene.",
                  "frames": values.get("frames"), "steps": values.get("steps"),
                  "seed": values["seed"], "webhook": values.get("webhook", "")})
        return _respond(request, generation)


class GenerateV2VApi(APIView):
    throttle_classes = job_creating_throttles()

    @extend_schema(request=V2VSerializer, responses={202: SUBMITTED}, parameters=[IDEMPOTENCY],
                   tags=["generation"], summary="Video-to-video style transfer (strength 0..1)")
    def post(self, request):
        data = V2VSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        generation = services.generation_submit(
            user=request.user, idempotency_key=_idempotency_key(request),
            data={"model": "v2v", "prompt": values["prompt"], "strength": values["strength"],
                  "seed": values["seed"], "video_filename": values["video_filename"],
                  "webhook": values.get("webhook", "")})
        return _respond(request, generation)


@extend_schema(tags=["generation"], summary="Your video generations, newest first")
class GenerationListApi(ListAPIView):
    serializer_class = GenerationSerializer
    output_type = "video"

    def get_queryset(self):
        return selectors.generation_list_for_user(user=self.request.user,
                                                  output_type=self.output_type)


@extend_schema(tags=["generation"], summary="Your image generations, newest first")
class ImageGenerationListApi(GenerationListApi):
    output_type = "image"


class GenerationDetailApi(APIView):
    output_type = "video"

    @extend_schema(responses={204: None}, tags=["generation"],
                   summary="Delete a generation and its files (a running job is canceled)")
    def delete(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(
            user=request.user, generation_id=generation_id, output_type=self.output_type)
        services.generation_delete(generation=generation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageGenerationDetailApi(GenerationDetailApi):
    output_type = "image"


class FavoriteApi(APIView):
    @extend_schema(request=None, responses={200: inline_serializer("Favorite", {
        "is_favorite": serializers.BooleanField()})}, tags=["generation"],
        summary="Toggle favourite")
    def post(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(user=request.user,
                                                       generation_id=generation_id)
        generation = services.generation_toggle_favorite(generation=generation)
        return Response({"is_favorite": generation.is_favorite})


class PublicToggleApi(APIView):
    @extend_schema(request=None, responses={200: inline_serializer("Public", {
        "is_public": serializers.BooleanField()})}, tags=["generation"],
        summary="Toggle public gallery visibility")
    def post(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(user=request.user,
                                                       generation_id=generation_id)
        generation = services.generation_toggle_public(generation=generation)
        return Response({"is_public": generation.is_public})


class ShareApi(APIView):
    @extend_schema(request=None, responses={200: inline_serializer("Share", {
        "share_token": serializers.CharField(), "share_url": serializers.CharField(),
        "video_url": serializers.CharField()})}, tags=["generation"],
        summary="Create a share link")
    def post(self, request, generation_id: int):
        generation = selectors.generation_get_for_user(user=request.user,
                                                       generation_id=generation_id)
        token = services.generation_share(generation=generation)
        base = base_url(request)
        from jobs.serializers import asset_url

        return Response({
            "share_token": token, "share_url": f"{base}/api/share/{token}",
            "video_url": f"{asset_url(generation.asset, base_url=base)}?token={token}"})


class SharedApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["generation"],
                   summary="Public: metadata of a shared generation")
    def get(self, request, token: str):
        generation = selectors.generation_get_shared(token=token)
        base = base_url(request)
        body = PublicGenerationSerializer(generation, context={"request": request}).data
        body["url"] = f"{asset_payload(generation.asset, base_url=base)['url']}?token={token}"
        return Response(body)


@extend_schema(tags=["generation"], summary="Public: the community gallery")
class GalleryApi(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = PublicGenerationSerializer

    def get_queryset(self):
        return selectors.generation_list_public()


class UploadImageApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": UploadImageSerializer},
                   responses={201: OpenApiTypes.OBJECT}, tags=["generation"],
                   summary="Upload an input image (PNG/JPEG/WebP, up to 10 MB)")
    def post(self, request):
        data = UploadImageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = asset_upload(owner=request.user, upload=data.validated_data["image"],
                             kinds=("image",), field="image")
        base = base_url(request)
        body = asset_payload(asset, base_url=base)
        body["url"] = f"{base}/api/input-image/{asset.name}"
        return Response(body, status=status.HTTP_201_CREATED)


class DownloadApi(APIView):
    """Raw bytes of a file you own, or of a shared one with `?token=`. Supports Range."""

    permission_classes = [AllowAny]
    kinds: tuple[str, ...] = ()

    @extend_schema(parameters=[OpenApiParameter("token", OpenApiTypes.STR, required=False)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              (206, "application/octet-stream"): OpenApiTypes.BINARY},
                   tags=["files"], summary="Download a file (HTTP Range supported)")
    def get(self, request, filename: str):
        token = request.query_params.get("token")
        if not token and not request.user.is_authenticated:
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        asset = asset_get_readable(user=request.user, name=filename, token=token,
                                   kinds=self.kinds or None)
        return asset_response(request, asset)


class VideoDownloadApi(DownloadApi):
    kinds = ("video",)


class ImageDownloadApi(DownloadApi):
    kinds = ("image",)


class AudioDownloadApi(DownloadApi):
    kinds = ("audio",)



class GalleryMediaApi(APIView):
    """Public: the file (or poster) of a generation its owner published to the gallery."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   tags=["generation"], summary="Public: a gallery item's file or thumbnail")
    def get(self, request, generation_id: int, part: str = "media"):
        if part not in ("media", "thumbnail"):
            raise ApplicationError("Not found.", code="not_found", status=404)
        generation = selectors.generation_get_public(generation_id=generation_id)
        asset = generation.asset if part == "media" else generation.asset.thumbnail
        if asset is None:
            raise ApplicationError("No thumbnail.", code="not_found", status=404)
        return asset_response(request, asset)


class EnginesStatusApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["generation"],
                   summary="Engine health: GPU servers, queues, VRAM, and which engine serves "
                           "each model")
    def get(self, request):
        from engines.registry import engines_health
        from generation.catalogue import MODELS, engine_for

        health = engines_health()
        comfy = health.get("comfyui", {})
        return Response({
            "online": bool(comfy.get("online")),
            "engines": health,
            "models": {model_id: engine_for(model_id) for model_id in MODELS},
        })


class GeneratePromptSerializer(serializers.Serializer):
    idea = serializers.CharField(max_length=1000)
    style = serializers.CharField(max_length=200, required=False, allow_blank=True)
    model = serializers.CharField(max_length=60, required=False, allow_blank=True)


class GeneratePromptApi(APIView):
    @extend_schema(request=GeneratePromptSerializer,
                   responses={200: inline_serializer("GeneratedPrompt", {
                       "prompt": serializers.CharField(),
                       "negative_prompt": serializers.CharField(),
                       "engine": serializers.CharField()})},
                   tags=["generation"],
                   summary="Turn an idea into a full video prompt (needs an LLM; 503 without)")
    def post(self, request):
        from generation.prompts import prompt_generate

        data = GeneratePromptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(prompt_generate(**data.validated_data))


class UsageQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (default: 29 days ago)")
    end = serializers.DateField(required=False, help_text="Last day (default: today)")

    def validate(self, attrs):
        from generation.analytics import MAX_DAYS, default_range

        start, end = default_range()
        attrs.setdefault("end", end)
        attrs.setdefault("start", min(start, attrs["end"]))
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["start must not be after end."]})
        if (attrs["end"] - attrs["start"]).days >= MAX_DAYS:
            raise serializers.ValidationError({"start": [f"At most {MAX_DAYS} days at once."]})
        return attrs


class UsageApi(APIView):
    @extend_schema(parameters=[UsageQuerySerializer], responses={200: OpenApiTypes.OBJECT},
                   tags=["analytics"],
                   summary="Per-day completed generations by kind and credits spent")
    def get(self, request):
        from generation.analytics import usage_by_day

        data = UsageQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        start, end = data.validated_data["start"], data.validated_data["end"]
        return Response({"start": start.isoformat(), "end": end.isoformat(),
                         "days": usage_by_day(user=request.user, start=start, end=end)})


class SummaryApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["analytics"],
                   summary="Totals: generations, images, video minutes, favourite model")
    def get(self, request):
        from generation.analytics import usage_summary

        return Response(usage_summary(user=request.user))
