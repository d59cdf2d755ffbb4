"""The worker that `make run` starts: a real process on the configured broker (the embedded
filesystem broker, or Redis when REDIS_URL is set), answering control commands and running
tasks against the same database."""

import pytest
import time_machine

from billing.models import LedgerEntry
from billing.services import credit_account_get
from billing.tasks import grant_monthly_credits
from tests.factories import UserFactory

pytestmark = [pytest.mark.live_worker]


def test_worker_answers_inspect_ping(live_worker):
    replies = live_worker.app.control.ping(destination=[live_worker.name], timeout=5)
    assert replies and live_worker.name in replies[0]


def test_worker_runs_a_task_against_the_test_database(live_worker):
    user = UserFactory()
    credit_account_get(user=user)
    LedgerEntry.objects.filter(kind="grant").delete()  # as if this month were not granted yet
    grant_monthly_credits.delay()
    entry = live_worker.wait_for(
        lambda: LedgerEntry.objects.filter(kind="grant", account__user=user).first())
    assert entry.amount == 150


def test_beat_schedule_names_registered_tasks():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_monthly_grant_task_is_idempotent(db):
    user = UserFactory()
    credit_account_get(user=user)
    with time_machine.travel("2099-03-02"):
        grant_monthly_credits()
        grant_monthly_credits()
    assert LedgerEntry.objects.filter(kind="grant", account__user=user).count() == 2
