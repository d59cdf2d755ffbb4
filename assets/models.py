import secrets

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


def new_asset_name(extension: str) -> str:
    """An opaque, unguessable file name: what the API calls a `filename`."""
    return f"{secrets.token_urlsafe(18)}.{extension.lstrip('.').lower()}"


class Asset(TimeStampedModel):
    """A stored file: an upload or a job's output."""

    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        SUBTITLE = "subtitle", "Subtitle"
        ARCHIVE = "archive", "Archive"

    class Origin(models.TextChoices):
        UPLOAD = "upload", "Upload"
        OUTPUT = "output", "Job output"
        INPUT = "input", "Job input"
        THUMBNAIL = "thumbnail", "Thumbnail"
        INTERMEDIATE = "intermediate", "Intermediate (kept for resuming and editing)"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="assets")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.UPLOAD)
    name = models.CharField(max_length=64, unique=True, help_text="Opaque public file name.")
    file = models.FileField(upload_to="assets/", max_length=200)
    original_filename = models.CharField(max_length=255, blank=True)
    mime = models.CharField(max_length=100)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    thumbnail = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # The public id of the job that made this file. Not a foreign key: assets sits below jobs,
    # and the file outlives the job row's purpose.
    source_job_id = models.UUIDField(null=True, blank=True, db_index=True)
    # NULL, not "", when unshared: unique applies only to real tokens.
    share_token = models.CharField(max_length=64, null=True, blank=True,
                                   unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The owner's files of one kind, newest first: asset_list_for_user.
            models.Index(fields=["owner", "kind", "-created_at"], name="assets_owner_kind_recent"),
        ]

    def __str__(self) -> str:
        return self.name
