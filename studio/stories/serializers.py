import json

from rest_framework import serializers

from studio.models import Shot, Story, StoryScene
from studio.stories import options as o


class _JSONObjectField(serializers.JSONField):
    """A JSON object, given as an object (JSON bodies) or as a JSON string (multipart)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                raise serializers.ValidationError("Give a JSON object.") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("Give a JSON object.")
        return data


class _NamesField(serializers.ListField):
    """A list of filenames, also accepted as one comma-separated string (multipart)."""

    child = serializers.CharField(max_length=64)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [part.strip() for part in data.split(",") if part.strip()]
        return super().to_internal_value(data)


class StoryRequestSerializer(serializers.Serializer):
    audio_source_type = serializers.ChoiceField(["generate", "upload"], default="generate")
    prompt = serializers.CharField(max_length=20_000, required=False, allow_blank=True,
                                   default="", help_text="A topic, or the script itself")
    mode = serializers.ChoiceField(["generate", "fixed"], default="generate",
                                   help_text="generate: the language model writes the script; "
                                             "fixed: the prompt is the script")
    script = serializers.CharField(max_length=20_000, required=False, allow_blank=True,
                                   default="", help_text="With an uploaded narration: its text")
    mp3_file = serializers.FileField(required=False, help_text="Uploaded narration (audio)")
    narration_filename = serializers.CharField(max_length=64, required=False,
                                               help_text="An audio file you own, instead of "
                                                         "mp3_file")
    n_scenes = serializers.IntegerField(min_value=1, max_value=o.MAX_SCENES, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=16, default="en")
    video_format = serializers.ChoiceField(list(o.FORMATS), default="9:16")
    resolution = serializers.ChoiceField(list(o.RESOLUTIONS), required=False,
                                         help_text="Default: the highest your plan allows, "
                                                   "up to 1080p")
    video_source = serializers.ChoiceField(o.SOURCES, default="stock")
    ai_scenery_prompt = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                              default="", help_text="The visual style; "
                                                                    "required for ai_scenery")
    image_model = serializers.CharField(max_length=40, default="flux")
    video_model = serializers.CharField(max_length=40, default="wan-t2v")
    visual_filenames = _NamesField(required=False, max_length=40,
                                   help_text="Your images or videos, for video_source=assets")
    voice = serializers.CharField(max_length=40, default="en_us_female")
    voice_speed = serializers.FloatField(min_value=0.5, max_value=2.0, default=1.0)
    burn_captions = serializers.BooleanField(default=False)
    caption_style = serializers.ChoiceField([*o.CAPTION_STYLES, "default"], default="classic")
    text_transform = serializers.ChoiceField(["standard", "uppercase"], default="standard")
    caption_position = serializers.ChoiceField(o.CAPTION_POSITIONS, default="bottom")
    add_music = serializers.BooleanField(default=False)
    music_mood = serializers.ChoiceField(o.MOODS, required=False)
    music_filename = serializers.CharField(max_length=64, required=False,
                                           help_text="Your own audio file as the music")
    bgm_volume = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.3)
    add_sound_effects = serializers.BooleanField(default=False)
    transition = serializers.ChoiceField(Shot.Transition.choices, default="crossfade")
    frame_template = serializers.CharField(max_length=120, required=False, allow_blank=True,
                                           default="")
    template_params = _JSONObjectField(required=False, default=dict)
    webhook = serializers.URLField(required=False, max_length=2000)


class SceneRegenerateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, required=False,
                                 help_text="New narration for the scene")
    visual_prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                          help_text="New picture for the scene")
    visual = serializers.BooleanField(default=False,
                                      help_text="Make a new picture with the same prompt")
    voice = serializers.CharField(max_length=40, required=False)
    webhook = serializers.URLField(required=False, max_length=2000)


class StorySceneSerializer(serializers.ModelSerializer):
    speech_filename = serializers.CharField(source="speech.name", default=None)
    visual_filename = serializers.CharField(source="visual.name", default=None)
    shot_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = StoryScene
        fields = ["index", "text", "visual_prompt", "voice", "speech_filename",
                  "speech_duration", "words_source", "visual_filename", "visual_source",
                  "revision", "shot_id"]


class StorySerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(source="job.public_id", default=None)
    status = serializers.CharField(source="job.status", default=None)
    stage = serializers.CharField(source="job.stage", default=None)
    project_id = serializers.IntegerField()
    video_filename = serializers.CharField(source="video.name", default=None)
    srt_filename = serializers.CharField(source="subtitles.name", default=None)
    scenes = StorySceneSerializer(many=True, read_only=True)

    class Meta:
        model = Story
        fields = ["id", "title", "prompt", "job_id", "status", "stage", "project_id",
                  "script", "script_method", "options", "video_filename", "srt_filename",
                  "duration", "details", "scenes", "created_at", "updated_at"]


class StoryListSerializer(StorySerializer):
    class Meta(StorySerializer.Meta):
        fields = ["id", "title", "prompt", "job_id", "status", "project_id", "video_filename",
                  "duration", "created_at"]
