from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from assets.models import Asset
from core.models import TimeStampedModel
from jobs.models import Job


class AudioGeneration(TimeStampedModel):
    """One generated music or sound-effect track: the request, its job and, once done, the
    file (GET /api/audio-generations)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="audio_generations")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="audio_generation")
    prompt = models.TextField(max_length=2000)
    tags = models.CharField(max_length=500, blank=True)
    duration_seconds = models.FloatField()
    engine = models.CharField(max_length=40)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The history page: one user's tracks, newest first.
            models.Index(fields=["owner", "-created_at"], name="audiogen_owner_recent"),
        ]

    def __str__(self) -> str:
        return self.prompt[:40]


def library_upload_to(instance: "LibraryItem", filename: str) -> str:
    return f"library/{instance.kind}/{filename}"


class LibraryItem(TimeStampedModel):
    """A clip, background loop, music track or sound effect that an operator put in the shared
    library (not owned by any user). Rows are written by `media_tools.library.library_item_create`,
    which probes the file first."""

    class Kind(models.TextChoices):
        STOCK_VIDEO = "stock_video", "Stock video"
        BACKGROUND_YOUTUBE = "background_youtube", "Background: YouTube-style"
        BACKGROUND_MINECRAFT = "background_minecraft", "Background: Minecraft-style"
        BACKGROUND_SUBWAY = "background_subway", "Background: subway-runner-style"
        MUSIC = "music", "Music"
        SOUND_EFFECT = "sound_effect", "Sound effect"

    class SfxRole(models.TextChoices):
        TRANSITION = "transition", "Transition"
        EMPHASIS = "emphasis", "Emphasis"

    class Origin(models.TextChoices):
        OPERATOR = "operator", "Operator"
        STARTER = "starter", "Starter (generated)"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    tags = models.CharField(max_length=500, blank=True,
                            help_text="Comma-separated words, matched against story scenes.")
    mood = models.CharField(max_length=40, blank=True,
                            help_text="Music only: calm, upbeat, dramatic, inspiring, dark...")
    sfx_role = models.CharField(max_length=20, choices=SfxRole.choices, blank=True)
    file = models.FileField(upload_to=library_upload_to, max_length=255)
    duration = models.FloatField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.OPERATOR)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "title", "id"]
        indexes = [
            # library_search / library_has: the enabled items of one kind.
            models.Index(fields=["kind", "enabled"], name="library_kind_enabled"),
            # library_music: enabled music of one mood.
            models.Index(fields=["kind", "mood"], name="library_kind_mood"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="sound_effect") | models.Q(sfx_role=""),
                name="library_sfx_role_only_on_sound_effects"),
            models.CheckConstraint(condition=models.Q(duration__gt=0),
                                   name="library_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    def clean(self) -> None:
        self.tags = normalise_tags(self.tags)
        self.mood = " ".join(self.mood.lower().split())
        if self.kind == self.Kind.SOUND_EFFECT and not self.sfx_role:
            raise ValidationError({"sfx_role": "A sound effect needs a role."})
        if self.kind != self.Kind.SOUND_EFFECT and self.sfx_role:
            raise ValidationError({"sfx_role": "Only sound effects have a role."})
        if self.mood and self.kind != self.Kind.MUSIC:
            raise ValidationError({"mood": "Only music has a mood."})


def normalise_tags(tags) -> str:
    """Tags as stored: lower-case, single-spaced, without duplicates or empties, in the given
    order, joined by ", ". Accepts a comma-separated string or a list of strings."""
    parts = tags.split(",") if isinstance(tags, str) else list(tags or ())
    seen: list[str] = []
    for part in parts:
        tag = " ".join(str(part).lower().split())
        if tag and tag not in seen:
            seen.append(tag)
    return ", ".join(seen)
