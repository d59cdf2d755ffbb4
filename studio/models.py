from django.conf import settings
from django.db import models

from assets.models import Asset
from core.models import TimeStampedModel
from generation.models import Generation


class Project(TimeStampedModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    model = models.CharField(max_length=60, default="wan-t2v",
                             help_text="The video model new shots are generated with.")
    music = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+",
                              help_text="A soundtrack under the whole export (an audio file), "
                                        "looped or cut to its length, ducked under the shots' "
                                        "sound and faded out at the end.")
    music_volume = models.FloatField(default=0.3)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="studio_project_recent")]
        constraints = [
            models.CheckConstraint(condition=models.Q(music_volume__gte=0) &
                                   models.Q(music_volume__lte=1),
                                   name="studio_project_music_volume_range"),
        ]

    def __str__(self) -> str:
        return self.name


class Shot(TimeStampedModel):
    class ShotType(models.TextChoices):
        ESTABLISHING = "establishing", "Establishing"
        WIDE = "wide", "Wide"
        MEDIUM = "medium", "Medium"
        CLOSE_UP = "close_up", "Close-up"
        EXTREME_CLOSE_UP = "extreme_close_up", "Extreme close-up"
        OVER_THE_SHOULDER = "over_the_shoulder", "Over the shoulder"
        POV = "pov", "Point of view"
        AERIAL = "aerial", "Aerial"

    class CameraMove(models.TextChoices):
        STATIC = "static", "Static"
        PAN_LEFT = "pan_left", "Pan left"
        PAN_RIGHT = "pan_right", "Pan right"
        TILT_UP = "tilt_up", "Tilt up"
        TILT_DOWN = "tilt_down", "Tilt down"
        DOLLY_IN = "dolly_in", "Dolly in"
        DOLLY_OUT = "dolly_out", "Dolly out"
        ORBIT = "orbit", "Orbit"
        HANDHELD = "handheld", "Handheld"
        CRANE = "crane", "Crane"

    class Transition(models.TextChoices):
        CUT = "cut", "Cut"
        FADE = "fade", "Fade"
        CROSSFADE = "crossfade", "Crossfade"
        WIPE = "wipe", "Wipe"
        SLIDE = "slide", "Slide"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="shots")
    position = models.PositiveIntegerField(default=0)
    prompt = models.TextField(max_length=2000, blank=True)
    notes = models.TextField(max_length=5000, blank=True)
    duration = models.FloatField(default=4.0)
    shot_type = models.CharField(max_length=24, choices=ShotType.choices, default=ShotType.MEDIUM)
    camera_move = models.CharField(max_length=16, choices=CameraMove.choices,
                                   default=CameraMove.STATIC)
    transition = models.CharField(max_length=12, choices=Transition.choices,
                                  default=Transition.CUT)
    generation = models.ForeignKey(Generation, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The video linked to the shot.")
    audio = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+",
                              help_text="The shot's own sound (e.g. its narration line): starts "
                                        "with the shot in exports, cut at its end.")
    audio_volume = models.FloatField(default=1.0)
    video_start = models.FloatField(
        default=0.0, help_text="Seconds into the linked video where the shot begins (a "
                               "story's scenes continue one background this way).")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration__gt=0) &
                                   models.Q(duration__lte=120),
                                   name="studio_shot_duration_range"),
            models.CheckConstraint(condition=models.Q(audio_volume__gte=0) &
                                   models.Q(audio_volume__lte=2),
                                   name="studio_shot_audio_volume_range"),
            models.CheckConstraint(condition=models.Q(video_start__gte=0),
                                   name="studio_shot_video_start_range"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.prompt[:40]}"


class Element(TimeStampedModel):
    class Kind(models.TextChoices):
        CHARACTER = "character", "Character"
        PROP = "prop", "Prop"
        LOCATION = "location", "Location"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="elements")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CHARACTER)
    name = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, blank=True)
    reference_image = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Comment(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    shot = models.ForeignKey(Shot, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="comments")
    text = models.TextField(max_length=5000)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Story(TimeStampedModel):
    """A narrated video made from a topic or a script (POST /api/stories).

    The story is also a studio project (a shot per scene), so it can be edited there. Every
    intermediate (script, scenes, narration, visuals, word timings) is stored as it is made, so
    a failed or interrupted story resumes from the step that failed and one scene can be
    regenerated without redoing the others.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="stories")
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="story")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", help_text="The latest job working on the story.")
    title = models.CharField(max_length=200, blank=True)
    prompt = models.TextField(max_length=20_000)
    options = models.JSONField(default=dict, help_text="The validated request.")
    script = models.TextField(max_length=20_000, blank=True)
    script_method = models.CharField(max_length=16, blank=True,
                                     help_text="llm, fixed, transcript or split")
    narration = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", help_text="An uploaded narration track.")
    video = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    subtitles = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    details = models.JSONField(default=dict, blank=True,
                               help_text="Titles, description, caption and hashtags.")
    duration = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "stories"
        indexes = [
            # The story list: one user's stories, newest first.
            models.Index(fields=["owner", "-created_at"], name="studio_story_recent"),
        ]

    def __str__(self) -> str:
        return self.title or self.prompt[:40]


class StoryScene(TimeStampedModel):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="scenes")
    index = models.PositiveIntegerField(help_text="1-based position in the story.")
    text = models.TextField(max_length=5000, help_text="What the narrator says.")
    visual_prompt = models.TextField(max_length=2000, blank=True)
    voice = models.CharField(max_length=60, blank=True, help_text="Overrides the story's voice.")
    shot = models.OneToOneField(Shot, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="story_scene")
    speech = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", help_text="This scene's narration.")
    speech_start = models.FloatField(default=0.0, help_text="Offset in an uploaded narration.")
    speech_duration = models.FloatField(null=True, blank=True)
    words = models.JSONField(default=list, blank=True,
                             help_text="[[word, start, end], ...] relative to the scene.")
    words_source = models.CharField(max_length=16, blank=True, help_text="engine or spread")
    visual = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    visual_source = models.CharField(max_length=60, blank=True)
    visual_start = models.FloatField(default=0.0, help_text="In-point in the visual (loops).")
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["index", "id"]
        constraints = [
            models.UniqueConstraint(fields=["story", "index"], name="studio_story_scene_index"),
        ]

    def __str__(self) -> str:
        return f"{self.index}. {self.text[:40]}"
