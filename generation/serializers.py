from rest_framework import serializers

from core.http import base_url
from generation.catalogue import (
    DEFAULT_IMAGE_MODEL,
    DEFAULT_VIDEO_MODEL,
    IMAGE_MODELS,
    VIDEO_MODELS,
)
from generation.models import Generation

VIDEO_IDS = [m.id for m in VIDEO_MODELS]
IMAGE_IDS = [m.id for m in IMAGE_MODELS]
ALL_IDS = VIDEO_IDS + IMAGE_IDS


class _Common(serializers.Serializer):
    prompt = serializers.CharField(max_length=2000, trim_whitespace=True)
    negative_prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                            default="")
    width = serializers.IntegerField(required=False, min_value=64, max_value=4096)
    height = serializers.IntegerField(required=False, min_value=64, max_value=4096)
    steps = serializers.IntegerField(required=False, min_value=1, max_value=150)
    cfg = serializers.FloatField(required=False, min_value=0, max_value=30)
    seed = serializers.IntegerField(required=False, min_value=-1, max_value=2**32 - 1,
                                    default=-1, help_text="-1 for random")
    sampler = serializers.RegexField(r"^[a-z0-9_]{1,40}$", required=False)
    scheduler = serializers.RegexField(r"^[a-z0-9_]{1,40}$", required=False)
    webhook = serializers.URLField(required=False, max_length=2000,
                                   help_text="Called with job.completed / job.failed")


class GenerateVideoSerializer(_Common):
    model = serializers.ChoiceField(choices=VIDEO_IDS, required=False,
                                    default=DEFAULT_VIDEO_MODEL)
    frames = serializers.IntegerField(required=False, min_value=1, max_value=999)
    shift = serializers.FloatField(required=False, min_value=0, max_value=20)
    frame_rate = serializers.IntegerField(required=False, min_value=1, max_value=60)
    project_id = serializers.IntegerField(required=False, min_value=1)
    strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    camera_move = serializers.CharField(required=False, max_length=20)
    # Inputs: a filename from /api/upload-image (or a generated image/video/audio you own),
    # or a public URL fetched through the server. One of the two per input, never both.
    image_filename = serializers.CharField(required=False, max_length=64)
    image_url = serializers.URLField(required=False, max_length=2000)
    last_image_filename = serializers.CharField(required=False, max_length=64)
    last_image_url = serializers.URLField(required=False, max_length=2000)
    audio_filename = serializers.CharField(required=False, max_length=64)
    audio_url = serializers.URLField(required=False, max_length=2000)
    video_filename = serializers.CharField(required=False, max_length=64)
    video_url = serializers.URLField(required=False, max_length=2000)


class GenerateImageSerializer(_Common):
    model = serializers.ChoiceField(choices=IMAGE_IDS, required=False,
                                    default=DEFAULT_IMAGE_MODEL)
    num_images = serializers.IntegerField(required=False, min_value=1, max_value=4, default=1)
    image_filename = serializers.CharField(required=False, max_length=64)
    image_url = serializers.URLField(required=False, max_length=2000)


class CostQuerySerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=ALL_IDS)
    frames = serializers.IntegerField(required=False, min_value=1, max_value=999)
    steps = serializers.IntegerField(required=False, min_value=1, max_value=150)


class ExtendSerializer(serializers.Serializer):
    video_filename = serializers.CharField(max_length=64, required=False)
    generation_id = serializers.IntegerField(required=False, min_value=1)
    prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    model = serializers.ChoiceField(choices=[m.id for m in VIDEO_MODELS if m.task == "i2v"],
                                    required=False, default="wan-i2v")
    frames = serializers.IntegerField(required=False, min_value=1, max_value=999)
    steps = serializers.IntegerField(required=False, min_value=1, max_value=150)
    seed = serializers.IntegerField(required=False, min_value=-1, max_value=2**32 - 1, default=-1)
    webhook = serializers.URLField(required=False, max_length=2000)

    def validate(self, attrs):
        if not attrs.get("video_filename") and not attrs.get("generation_id"):
            raise serializers.ValidationError(
                {"video_filename": ["Give video_filename or generation_id."]})
        return attrs


class V2VSerializer(serializers.Serializer):
    video_filename = serializers.CharField(max_length=64)
    prompt = serializers.CharField(max_length=2000)
    strength = serializers.FloatField(min_value=0, max_value=1, default=0.6)
    seed = serializers.IntegerField(required=False, min_value=-1, max_value=2**32 - 1, default=-1)
    webhook = serializers.URLField(required=False, max_length=2000)


class UploadImageSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG, JPEG or WebP, up to 10 MB")


class GenerationSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="job.public_id")
    status = serializers.CharField(source="job.status")
    progress = serializers.FloatField(source="job.progress")
    filename = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    width = serializers.IntegerField(source="asset.width", default=None)
    height = serializers.IntegerField(source="asset.height", default=None)
    duration = serializers.FloatField(source="asset.duration", default=None)
    fps = serializers.FloatField(source="asset.fps", default=None)
    frames = serializers.IntegerField(source="asset.frame_count", default=None)
    size = serializers.IntegerField(source="asset.size", default=None)
    credits = serializers.IntegerField(source="job.cost")
    error = serializers.CharField(source="job.error_message")

    class Meta:
        model = Generation
        fields = ["id", "job_id", "status", "progress", "output_type", "model", "engine",
                  "prompt", "negative_prompt", "params", "filename", "url", "thumbnail_url",
                  "width", "height", "duration", "fps", "frames", "size", "credits",
                  "is_favorite", "is_public", "project_id", "error", "created_at"]

    def _url(self, asset) -> str | None:
        from jobs.serializers import asset_url

        request = self.context.get("request")
        base = base_url(request)
        return asset_url(asset, base_url=base) if asset is not None else None

    def get_filename(self, obj) -> str | None:
        return obj.asset.name if obj.asset_id else None

    def get_url(self, obj) -> str | None:
        return self._url(obj.asset) if obj.asset_id else None

    def get_thumbnail_url(self, obj) -> str | None:
        if not obj.asset_id or not obj.asset.thumbnail_id:
            return None
        return self._url(obj.asset.thumbnail)


class PublicGenerationSerializer(GenerationSerializer):
    creator = serializers.CharField(source="owner.public_name")

    class Meta(GenerationSerializer.Meta):
        fields = ["id", "output_type", "model", "engine", "prompt", "url", "thumbnail_url",
                  "width", "height", "duration", "fps", "frames", "creator", "created_at"]
