from rest_framework import serializers

from core.http import base_url
from engines.ffmpeg import clean_text
from media_tools.models import AudioGeneration
from media_tools.subtitles import STYLES

FILENAME = {"max_length": 64}
COLOR_NAMES = ("white", "black", "red", "green", "blue", "yellow", "cyan", "magenta",
               "orange", "pink", "purple", "gray", "grey")


class JobRequest(serializers.Serializer):
    webhook = serializers.URLField(required=False, max_length=2000,
                                   help_text="Called with job.completed / job.failed")


class VideoRequest(JobRequest):
    video_filename = serializers.CharField(**FILENAME)


class TrimSerializer(VideoRequest):
    start_seconds = serializers.FloatField(min_value=0)
    end_seconds = serializers.FloatField(min_value=0)


class ToolTrimSerializer(VideoRequest):
    start_time = serializers.FloatField(min_value=0)
    end_time = serializers.FloatField(min_value=0)


class SpeedSerializer(VideoRequest):
    speed_factor = serializers.FloatField(min_value=0.25, max_value=4.0)


class CropSerializer(VideoRequest):
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    width = serializers.IntegerField(min_value=16, max_value=8192)
    height = serializers.IntegerField(min_value=16, max_value=8192)


class ResizeSerializer(VideoRequest):
    preset = serializers.ChoiceField(choices=["1080p", "720p"], required=False)
    width = serializers.IntegerField(required=False, min_value=16, max_value=3840)
    height = serializers.IntegerField(required=False, min_value=16, max_value=3840)


def _color(value: str) -> str:
    """A colour name, or #RRGGBB / #RRGGBBAA written the way ffmpeg reads it."""
    value = value.strip().lower()
    if value in COLOR_NAMES:
        return value
    digits = value.removeprefix("#").removeprefix("0x")
    if len(digits) in (6, 8) and all(c in "0123456789abcdef" for c in digits):
        return "0x" + digits
    raise serializers.ValidationError(
        f"Use a colour name ({', '.join(COLOR_NAMES[:8])}...) or #RRGGBB.")


class TextOverlaySerializer(VideoRequest):
    text = serializers.CharField(max_length=500, trim_whitespace=False,
                                 help_text="Any Unicode text; shown exactly as written")
    position = serializers.ChoiceField(choices=["top", "center", "bottom"], default="bottom")
    font_size = serializers.IntegerField(min_value=8, max_value=200, default=48)
    color = serializers.CharField(max_length=12, default="white",
                                  help_text="A colour name or #RRGGBB")
    start_time = serializers.FloatField(min_value=0, default=0)
    end_time = serializers.FloatField(min_value=0, required=False,
                                      help_text="Default: the end of the video")

    def validate_text(self, value: str) -> str:
        if not clean_text(value).strip():
            raise serializers.ValidationError("The text is empty.")
        return value

    def validate_color(self, value: str) -> str:
        return _color(value)


class MergeSerializer(JobRequest):
    video_filenames = serializers.ListField(child=serializers.CharField(**FILENAME),
                                            min_length=2, max_length=20)


class ExtractFramesSerializer(VideoRequest):
    mode = serializers.ChoiceField(choices=["first", "last", "middle", "all_1fps"],
                                   default="first")


class GifSerializer(VideoRequest):
    width = serializers.IntegerField(min_value=32, max_value=1280, default=480)
    fps = serializers.IntegerField(min_value=1, max_value=30, default=10)


class WatermarkSerializer(VideoRequest):
    type = serializers.ChoiceField(choices=["text", "image"], default="text")
    text = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
    image = serializers.FileField(required=False, help_text="PNG, JPEG or WebP upload")
    image_filename = serializers.CharField(required=False, **FILENAME)
    position = serializers.ChoiceField(
        choices=["top-left", "top-right", "bottom-left", "bottom-right", "center"],
        default="bottom-right")
    opacity = serializers.FloatField(min_value=0.05, max_value=1.0, default=0.7)


class UpscaleSerializer(VideoRequest):
    scale_factor = serializers.IntegerField(min_value=2, max_value=4, default=2)


class RemoveBackgroundSerializer(JobRequest):
    image = serializers.FileField(required=False, help_text="PNG, JPEG or WebP upload")
    image_filename = serializers.CharField(required=False, **FILENAME)


class FaceSwapSerializer(JobRequest):
    source_image = serializers.FileField(required=False, help_text="The face to use")
    source_image_filename = serializers.CharField(required=False, **FILENAME)
    target_image = serializers.FileField(required=False, help_text="The picture to change")
    target_image_filename = serializers.CharField(required=False, **FILENAME)


class TtsSerializer(JobRequest):
    text = serializers.CharField(max_length=5000)
    voice_id = serializers.CharField(max_length=40, default="en_us_female")
    speed = serializers.FloatField(min_value=0.5, max_value=2.0, default=1.0)


class TtsToVideoSerializer(VideoRequest):
    tts_filename = serializers.CharField(**FILENAME)
    offset_seconds = serializers.FloatField(min_value=0, default=0)
    volume = serializers.FloatField(min_value=0, max_value=2.0, default=1.0)


class AddAudioSerializer(VideoRequest):
    audio_filename = serializers.CharField(**FILENAME)
    mode = serializers.ChoiceField(choices=["mix", "replace"], default="mix")
    volume = serializers.FloatField(min_value=0, max_value=2.0, default=1.0)


class GenerateAudioSerializer(JobRequest):
    prompt = serializers.CharField(max_length=2000)
    duration_seconds = serializers.FloatField(min_value=1, max_value=240, default=30)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                 max_length=20)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**32 - 1)

    def to_internal_value(self, data):
        # The contract's clients send tags as "a, b" as often as ["a", "b"].
        if (isinstance(data, dict) and not hasattr(data, "getlist")
                and isinstance(data.get("tags"), str)):
            data = {**data, "tags": [t.strip() for t in data["tags"].split(",") if t.strip()]}
        return super().to_internal_value(data)


class SubtitlesGenerateSerializer(VideoRequest):
    language = serializers.RegexField(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", max_length=10,
                                      default="en", help_text="ISO 639-1 code, e.g. en")


class SubtitlesBurnSerializer(VideoRequest):
    srt_filename = serializers.CharField(**FILENAME)
    style = serializers.ChoiceField(choices=list(STYLES), default="default")


class SubtitlesTranslateSerializer(JobRequest):
    srt_filename = serializers.CharField(**FILENAME)
    target_language = serializers.RegexField(r"^[A-Za-z][A-Za-z ()-]{1,34}$", max_length=35,
                                             help_text="A language name or code, e.g. "
                                                       "French or fr")


class VoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    voice_id = serializers.CharField(help_text="The same as id: the value to send as voice_id")
    name = serializers.CharField()
    description = serializers.CharField()
    language = serializers.CharField()
    engine = serializers.CharField()


class AudioGenerationSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="job.public_id")
    status = serializers.CharField(source="job.status")
    progress = serializers.FloatField(source="job.progress")
    credits = serializers.IntegerField(source="job.cost")
    filename = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = AudioGeneration
        fields = ["id", "job_id", "status", "progress", "prompt", "tags", "duration_seconds",
                  "engine", "filename", "url", "credits", "created_at"]

    def get_filename(self, obj) -> str | None:
        return obj.asset.name if obj.asset_id else None

    def get_url(self, obj) -> str | None:
        if not obj.asset_id:
            return None
        from jobs.serializers import asset_url

        request = self.context.get("request")
        base = base_url(request)
        return asset_url(obj.asset, base_url=base)
