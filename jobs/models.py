import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Job(TimeStampedModel):
    """Every asynchronous operation. Terminal states never change."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    TERMINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="jobs")
    kind = models.CharField(max_length=40)
    model = models.CharField(max_length=60, blank=True)
    engine = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict)
    queue = models.CharField(max_length=20, default="default")
    priority = models.PositiveSmallIntegerField(default=0, help_text="Higher runs first.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=32, blank=True)
    cost = models.PositiveIntegerField(default=0, help_text="Credits reserved at submission.")
    credits_charged = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # NULL, not "", when absent: the unique constraint must ignore jobs without a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    request_hash = models.CharField(max_length=64, blank=True)
    webhook_url = models.URLField(max_length=2000, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    result = models.JSONField(default=dict, blank=True)
    # The body of the 202 answer, returned again for an idempotent replay.
    submit_response = models.JSONField(default=dict, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False),
                                    name="jobs_job_one_per_idempotency_key"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1),
                                   name="jobs_job_progress_in_range"),
        ]
        indexes = [
            # Queue position and the reaper: queued/processing jobs of a queue in order.
            models.Index(fields=["status", "queue", "-priority", "created_at"],
                         name="jobs_status_queue_order"),
            # The owner's job history.
            models.Index(fields=["owner", "-created_at"], name="jobs_owner_recent"),
            # Measured durations for the ETA.
            models.Index(fields=["kind", "status", "-finished_at"], name="jobs_kind_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def credit_reference(self) -> str:
        return f"job:{self.public_id}"


class WebhookDelivery(TimeStampedModel):
    """One attempt series to deliver one event of one job to its webhook URL."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    message_id = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "event"], name="jobs_delivery_one_per_event"),
        ]


class WebhookSecret(models.Model):
    """The key a user's webhook receivers verify signatures with."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="webhook_secret")
    secret = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"webhook secret of {self.user}"
