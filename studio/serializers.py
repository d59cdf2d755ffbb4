from rest_framework import serializers

from core.http import base_url
from generation.serializers import VIDEO_IDS
from jobs.serializers import asset_url
from studio.models import Comment, Element, Project, Shot


def _base(context) -> str:
    request = context.get("request")
    return base_url(request)


class ProjectWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    model = serializers.ChoiceField(choices=VIDEO_IDS, required=False)
    music = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="An audio file you own (filename) played under the whole export, ducked "
                  "under the shots' sound; empty removes it.")
    music_volume = serializers.FloatField(required=False, min_value=0, max_value=1,
                                          help_text="0 to 1, default 0.3.")


class ProjectUpdateSerializer(ProjectWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)


class ShotWriteSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    duration = serializers.FloatField(required=False, min_value=0.5, max_value=120)
    shot_type = serializers.ChoiceField(choices=Shot.ShotType.choices, required=False)
    camera_move = serializers.ChoiceField(choices=Shot.CameraMove.choices, required=False)
    transition = serializers.ChoiceField(choices=Shot.Transition.choices, required=False)
    filename = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                     help_text="Link a video you own; empty unlinks.")
    audio = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="An audio file you own (e.g. the shot's narration line), placed at the "
                  "shot's start in exports and cut at its end; empty unlinks.")
    audio_volume = serializers.FloatField(required=False, min_value=0, max_value=2,
                                          help_text="0 to 2, default 1.")
    video_start = serializers.FloatField(
        required=False, min_value=0,
        help_text="Seconds into the linked video where the shot begins (default 0); before "
                  "the video's end. A shot that runs past the video's end loops it.")


class ReorderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500)


class ShotSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(source="asset.name", default=None)
    audio = serializers.CharField(source="audio.name", default=None)
    audio_url = serializers.SerializerMethodField()
    video_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    generation_id = serializers.IntegerField(source="generation.pk", default=None)
    job_id = serializers.UUIDField(source="generation.job.public_id", default=None)
    generation_status = serializers.CharField(source="generation.job.status", default=None)

    class Meta:
        model = Shot
        fields = ["id", "position", "prompt", "notes", "duration", "shot_type", "camera_move",
                  "transition", "filename", "video_url", "thumbnail_url", "video_start",
                  "audio", "audio_volume", "audio_url", "generation_id", "job_id",
                  "generation_status", "created_at", "updated_at"]

    def get_audio_url(self, obj) -> str | None:
        return asset_url(obj.audio, base_url=_base(self.context)) if obj.audio_id else None

    def get_video_url(self, obj) -> str | None:
        return asset_url(obj.asset, base_url=_base(self.context)) if obj.asset_id else None

    def get_thumbnail_url(self, obj) -> str | None:
        if not obj.asset_id or not obj.asset.thumbnail_id:
            return None
        return asset_url(obj.asset.thumbnail, base_url=_base(self.context))


class ElementSerializer(serializers.ModelSerializer):
    reference_image = serializers.CharField(source="reference_image.name", default=None)

    class Meta:
        model = Element
        fields = ["id", "kind", "name", "description", "reference_image", "created_at"]


class ElementWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Element.Kind.choices, required=False)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    reference_image = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                            help_text="An image you uploaded (filename).")


class ElementUpdateSerializer(ElementWriteSerializer):
    name = serializers.CharField(max_length=100, required=False)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Comment
        fields = ["id", "text", "shot_id", "author", "created_at"]


class CommentWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    shot_id = serializers.IntegerField(required=False, allow_null=True)


class ProjectListSerializer(serializers.ModelSerializer):
    shot_count = serializers.IntegerField()
    cover = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "model", "shot_count", "cover", "created_at",
                  "updated_at"]

    def get_cover(self, obj) -> str | None:
        shot = self.context.get("covers", {}).get(obj.pk)
        if shot is None:
            return None
        asset = shot.asset.thumbnail or shot.asset
        return asset_url(asset, base_url=_base(self.context))


class ProjectDetailSerializer(serializers.ModelSerializer):
    shots = ShotSerializer(many=True)
    elements = ElementSerializer(many=True)
    generations = serializers.SerializerMethodField()
    music = serializers.CharField(source="music.name", default=None)
    music_url = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "model", "music", "music_volume", "music_url",
                  "shots", "elements", "generations", "created_at", "updated_at"]

    def get_music_url(self, obj) -> str | None:
        return asset_url(obj.music, base_url=_base(self.context)) if obj.music_id else None

    def get_generations(self, obj) -> list[dict]:
        return [{"generation_id": s.generation_id, "shot_id": s.pk,
                 "job_id": str(s.generation.job.public_id), "status": s.generation.job.status}
                for s in obj.shots.all() if s.generation_id]


class ScriptToShotsSerializer(serializers.Serializer):
    script = serializers.CharField(max_length=20000)
    max_shots = serializers.IntegerField(min_value=1, max_value=50, default=12)
