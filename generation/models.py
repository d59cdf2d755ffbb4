from django.conf import settings
from django.db import models

from assets.models import Asset
from core.models import TimeStampedModel
from jobs.models import Job


class Generation(TimeStampedModel):
    """One generated video or image: the request, its job and, once done, its file."""

    class Output(models.TextChoices):
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="generations")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="generation")
    output_type = models.CharField(max_length=8, choices=Output.choices)
    model = models.CharField(max_length=60)
    engine = models.CharField(max_length=40)
    prompt = models.TextField(max_length=2000)
    negative_prompt = models.TextField(max_length=2000, blank=True)
    params = models.JSONField(default=dict)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    is_favorite = models.BooleanField(default=False)
    is_public = models.BooleanField(default=False)
    project_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # History pages: one user's videos or images, newest first.
            models.Index(fields=["owner", "output_type", "-created_at"],
                         name="gen_owner_type_recent"),
            # The community gallery.
            models.Index(fields=["is_public", "output_type", "-created_at"],
                         name="gen_public_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.prompt[:40]}"


class ModelOverride(models.Model):
    """An operator's per-model choice, over the settings: engine, on/off, workflow, servers."""

    model_id = models.CharField(max_length=60, unique=True)
    enabled = models.BooleanField(default=True)
    engine = models.CharField(max_length=40, blank=True,
                              help_text="Empty: GENERATION_MODEL_ENGINES or the default engine.")
    workflow = models.CharField(max_length=200, blank=True,
                                help_text="ComfyUI workflow file to use instead of the model's "
                                          "own (engines/comfyui/workflows/).")
    servers = models.JSONField(default=list, blank=True,
                               help_text="ComfyUI server URLs for this model (empty: all).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id"]

    def __str__(self) -> str:
        return self.model_id
