from django.conf import settings
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
