"""Job webhooks in the Standard Webhooks format: `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with a per-user secret.
Failed deliveries are retried with exponential backoff for more than a day; every attempt is
recorded on the delivery row."""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.netguard import UnsafeUrl, safe_request
from jobs.models import Job, WebhookDelivery, WebhookSecret

logger = logging.getLogger(__name__)

# Seconds to wait after attempt N fails: 30 s doubling to 12 h; the last retry is ~31 h in.
RETRY_DELAYS = [30, 60, 120, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 43200]


def webhook_secret_for(*, user) -> str:
    """The user's signing secret (`whsec_...`), created on first use."""
    row = WebhookSecret.objects.filter(user=user).first()
    if row is None:
        try:
            with transaction.atomic():
                row = WebhookSecret.objects.create(
                    user=user, secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode())
        except IntegrityError:
            row = WebhookSecret.objects.get(user=user)
    return row.secret


def webhook_secret_rotate(*, user) -> str:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    WebhookSecret.objects.update_or_create(user=user, defaults={"secret": secret})
    return secret


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_schedule(*, job_id: int) -> WebhookDelivery | None:
    """After a job ends: record the delivery of its event and send it now."""
    from jobs.serializers import job_status_payload
    from jobs.tasks import deliver_webhook

    job = Job.objects.select_related("owner").get(pk=job_id)
    if not job.webhook_url or job.status == Job.Status.CANCELED:
        return None
    event = "job.completed" if job.status == Job.Status.COMPLETED else "job.failed"
    payload = {"type": event, "timestamp": timezone.now().isoformat(),
               "data": job_status_payload(job, base_url=settings.SITE_URL)}
    try:
        delivery, created = WebhookDelivery.objects.get_or_create(
            job=job, event=event,
            defaults={"message_id": f"msg_{secrets.token_hex(12)}", "url": job.webhook_url,
                      "payload": payload, "next_attempt_at": timezone.now()})
    except IntegrityError:
        return None
    if created:
        transaction.on_commit(lambda: deliver_webhook.apply_async(args=[delivery.pk],
                                                                  queue="default"))
    return delivery


def webhook_deliver(*, delivery_id: int) -> str:
    """One delivery attempt; on failure the next one is scheduled with backoff."""
    delivery = WebhookDelivery.objects.select_related("job__owner").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery.status
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    secret = webhook_secret_for(user=delivery.job.owner)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Reelforge-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, message_id=delivery.message_id,
                                  timestamp=timestamp, body=body),
    }
    status_code, error = None, ""
    try:
        response = safe_request("POST", delivery.url, body=body, headers=headers,
                                timeout=settings.WEBHOOK_TIMEOUT, max_bytes=64 * 1024,
                                allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        status_code = response.status
        ok = 200 <= response.status < 300
        if not ok:
            error = f"HTTP {response.status}"
    except UnsafeUrl as exc:
        ok, error = False, exc.message
    except (OSError, TimeoutError) as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    attempts = delivery.attempts + 1
    if ok:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, attempts=attempts, delivered_at=now,
            last_status_code=status_code, last_error="", next_attempt_at=None, updated_at=now)
        return "delivered"
    if attempts > len(RETRY_DELAYS):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, attempts=attempts, last_status_code=status_code,
            last_error=error, next_attempt_at=None, updated_at=now)
        return "failed"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts, last_status_code=status_code, last_error=error,
        next_attempt_at=now + timedelta(seconds=RETRY_DELAYS[attempts - 1]), updated_at=now)
    return "retry"


def webhooks_deliver_due(*, now=None) -> int:
    """Beat: attempt every pending delivery whose retry time has come."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                              next_attempt_at__lte=now)
               .values_list("pk", flat=True)[:500])
    for delivery_id in due:
        webhook_deliver(delivery_id=delivery_id)
    return len(due)
