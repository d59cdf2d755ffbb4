import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine

from jobs.models import WebhookDelivery
from jobs.services import job_submit
from jobs.webhooks import RETRY_DELAYS, webhook_secret_for, webhooks_deliver_due
from tests.conftest import assert_error
from tests.fakes.http_receiver import Receiver

pytestmark = pytest.mark.django_db


def verify_standard_webhook(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's side of Standard Webhooks, written from the specification."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected
               for sig in headers["webhook-signature"].split() if sig.startswith("v1,"))


def run_job_with_webhook(user, url, kind="test.echo", capture=None):
    with capture(execute=True):
        job, _ = job_submit(owner=user, kind=kind, params={"value": 1}, cost=5,
                            webhook_url=url)
    return job


def test_completed_job_sends_a_signed_event(world, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver runs on loopback
    with Receiver() as receiver:
        job = run_job_with_webhook(world.owner, receiver.url + "/hook",
                                   capture=django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert verify_standard_webhook(webhook_secret_for(user=world.owner), request["headers"],
                                   request["body"])
    event = json.loads(request["body"])
    assert event["type"] == "job.completed"
    assert event["data"]["job_id"] == str(job.public_id)
    delivery = WebhookDelivery.objects.get(job=job)
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_failed_job_event_and_a_tampered_body_does_not_verify(
        world, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        run_job_with_webhook(world.owner, receiver.url, kind="test.fail",
                             capture=django_capture_on_commit_callbacks)
    request = receiver.requests[0]
    assert json.loads(request["body"])["type"] == "job.failed"
    secret = webhook_secret_for(user=world.owner)
    assert not verify_standard_webhook(secret, request["headers"], request["body"] + b" ")


def test_a_500_is_retried_with_backoff_until_delivered(world, settings,
                                                       django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with Receiver(statuses=(500, 500, 200)) as receiver:
        job = run_job_with_webhook(world.owner, receiver.url,
                                   capture=django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get(job=job)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending", 1, 500)
        assert webhooks_deliver_due() == 0  # not due yet
        with time_machine.travel(timedelta(seconds=RETRY_DELAYS[0] + 1)):
            assert webhooks_deliver_due() == 1
        with time_machine.travel(timedelta(seconds=RETRY_DELAYS[0] + RETRY_DELAYS[1] + 2)):
            assert webhooks_deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert len(receiver.requests) == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # the same message id on every retry, so receivers can dedupe


def test_retries_span_more_than_a_day():
    assert sum(RETRY_DELAYS) > 24 * 3600


def test_private_addresses_are_refused_as_webhook_targets(world, settings,
                                                          django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with Receiver() as receiver:
        job = run_job_with_webhook(world.owner, receiver.url,
                                   capture=django_capture_on_commit_callbacks)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(job=job)
    assert delivery.status == "pending" and "private" in delivery.last_error


def test_webhook_secret_api(owner_api, other_api):
    first = owner_api.get("/api/webhooks/secret").json()["secret"]
    assert first.startswith("whsec_") and owner_api.get("/api/webhooks/secret").json() == {
        "secret": first}
    assert other_api.get("/api/webhooks/secret").json()["secret"] != first
    rotated = owner_api.post("/api/webhooks/secret").json()["secret"]
    assert rotated != first


def test_webhook_secret_needs_credentials(api):
    assert_error(api.get("/api/webhooks/secret"), 401)
