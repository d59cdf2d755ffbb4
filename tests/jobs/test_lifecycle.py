import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import CreditAccount, LedgerEntry
from billing.services import credit_account_get
from core.errors import ApplicationError, Conflict, InsufficientCredits
from jobs.models import Job
from jobs.services import job_cancel, job_claim, job_complete, job_submit, jobs_reap
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def kinds(job) -> list[str]:
    return sorted(LedgerEntry.objects.filter(reference=job.credit_reference)
                  .values_list("kind", flat=True))


def submit(user, kind="test.echo", cost=10, **kw):
    return job_submit(owner=user, kind=kind, params={"value": 42}, cost=cost, **kw)[0]


def test_a_job_runs_completes_and_is_charged_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner)
    job.refresh_from_db()
    assert job.status == "completed" and job.progress == 1.0
    assert job.result == {"echo": 42} and job.credits_charged == 10
    assert job.attempts == 1 and job.started_at and job.finished_at
    assert kinds(job) == ["charge", "reserve"]
    assert balance(world.owner) == 140


def test_submission_reserves_before_the_job_runs(world):
    job = submit(world.owner)  # on_commit not run: still queued
    assert job.status == "queued"
    assert kinds(job) == ["reserve"] and balance(world.owner) == 140


def test_a_failing_job_is_refunded_with_its_error(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner, kind="test.fail")
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "engine_rejected")
    assert kinds(job) == ["release", "reserve"] and balance(world.owner) == 150


def test_a_crashing_handler_fails_the_job_and_refunds(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner, kind="test.crash")
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "internal_error")
    assert "RuntimeError" not in job.error_message
    assert balance(world.owner) == 150


def test_short_balance_creates_no_job(world):
    with pytest.raises(InsufficientCredits):
        submit(world.owner, cost=151)
    assert not Job.objects.exists()


def test_cancel_while_queued_refunds_at_once(world):
    job = submit(world.owner)
    job_cancel(job=job)
    assert job.status == "canceled" and kinds(job) == ["release", "reserve"]
    assert balance(world.owner) == 150
    with pytest.raises(Conflict):
        job_cancel(job=job)
    assert balance(world.owner) == 150


def test_cancel_while_running_refunds_and_the_result_is_dropped(
        world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner, kind="test.cancel_midway")
    job.refresh_from_db()
    assert job.status == "canceled" and job.result == {}
    assert kinds(job) == ["release", "reserve"] and balance(world.owner) == 150


def test_completion_racing_a_cancel_ends_in_exactly_one_state(world):
    job = submit(world.owner)
    job = job_claim(job_id=job.pk, worker="w1")
    job_cancel(job=Job.objects.get(pk=job.pk))
    assert job_complete(job=job, result={}) is False
    job.refresh_from_db()
    assert job.status == "canceled" and kinds(job) == ["release", "reserve"]


def test_a_second_runner_cannot_claim_a_running_job(world):
    job = submit(world.owner)
    assert job_claim(job_id=job.pk, worker="w1") is not None
    assert job_claim(job_id=job.pk, worker="w2") is None


def test_idempotency_key_replays_and_refuses_a_different_body(world):
    first = submit(world.owner, idempotency_key="k1", request_hash="a")
    again, created = job_submit(owner=world.owner, kind="test.echo", params={}, cost=10,
                                idempotency_key="k1", request_hash="a")
    assert again.pk == first.pk and created is False
    with pytest.raises(ApplicationError) as exc:
        job_submit(owner=world.owner, kind="test.echo", params={}, cost=10,
                   idempotency_key="k1", request_hash="b")
    assert exc.value.status_code == 422
    assert balance(world.owner) == 140  # reserved once
    other = submit(world.other, idempotency_key="k1", request_hash="a")  # keys are per user
    assert other.pk != first.pk


def test_reaper_requeues_a_job_whose_worker_vanished(world, settings):
    job = submit(world.owner)
    job_claim(job_id=job.pk, worker="dead")
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 5))
    assert jobs_reap()["requeued"] == 1  # re-queued and (eager Celery) run again at once
    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 2
    assert kinds(job) == ["charge", "reserve"] and balance(world.owner) == 140


def test_reaper_fails_and_refunds_after_too_many_attempts(world, settings):
    job = submit(world.owner)
    job_claim(job_id=job.pk, worker="dead")
    Job.objects.filter(pk=job.pk).update(
        attempts=settings.JOB_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 5))
    assert jobs_reap()["failed"] == 1
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "worker_lost")
    assert balance(world.owner) == 150
    assert jobs_reap() == {"requeued": 0, "failed": 0, "resent": 0}
    assert balance(world.owner) == 150


def test_reaper_resends_queued_jobs_no_worker_took(world, settings,
                                                   django_capture_on_commit_callbacks):
    job = submit(world.owner)
    Job.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER + 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap()["resent"] == 1  # eager: runs now
    job.refresh_from_db()
    assert job.status == "completed"


# --- the status API ------------------------------------------------------------------------

def test_status_by_query_and_path(owner_api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner)
    for url in (f"/api/status?job_id={job.public_id}", f"/api/status/{job.public_id}"):
        body = owner_api.get(url).json()
        assert body["status"] == "completed" and body["job_id"] == str(job.public_id)
        assert body["credits"] == {"reserved": 10, "charged": 10, "refunded": 0}
        assert body["queue_position"] is None and body["progress"] == 1.0


def test_status_of_a_queued_job_has_position_and_wait(owner_api, world):
    first = submit(world.owner)
    second = submit(world.owner)
    body = owner_api.get(f"/api/status/{second.public_id}").json()
    assert body["status"] == "queued" and body["queue_position"] == 2
    assert body["estimated_wait_seconds"] > 0
    assert owner_api.get(f"/api/status/{first.public_id}").json()["queue_position"] == 1


def test_status_of_someone_elses_job_is_404(other_api, world):
    job = submit(world.owner)
    assert_error(other_api.get(f"/api/status/{job.public_id}"), 404)
    assert_error(other_api.post("/api/cancel", {"job_id": str(job.public_id)}, format="json"),
                 404)
    job.refresh_from_db()
    assert job.status == "queued"


@pytest.mark.parametrize("job_id", ["nope", "1", "../../etc/passwd", str(uuid.uuid4())])
def test_status_of_unknown_or_malformed_ids_is_404(owner_api, job_id):
    assert_error(owner_api.get("/api/status", {"job_id": job_id}), 404)


def test_status_needs_a_job_id_and_credentials(owner_api, api):
    assert "job_id" in assert_error(owner_api.get("/api/status"), 400)["fields"]
    assert_error(api.get(f"/api/status/{uuid.uuid4()}"), 401)


def test_status_query_count_does_not_grow_with_jobs(owner_api, world):
    for _ in range(10):
        submit(world.owner, cost=1)
    job = submit(world.owner, cost=1)
    owner_api.get(f"/api/status/{job.public_id}")
    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get(f"/api/status/{job.public_id}").status_code == 200
    # 1 query: the API key, its owner, the job and its queue position together (fast path).
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_status_query_count_with_a_jwt(api, world):
    from accounts.services import jwt_pair_issue

    for _ in range(10):
        submit(world.owner, cost=1)
    job = submit(world.owner, cost=1)
    api.credentials(HTTP_AUTHORIZATION="Bearer " + jwt_pair_issue(user=world.owner)[
        "access_token"])
    api.get(f"/api/status/{job.public_id}")
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"/api/status/{job.public_id}").status_code == 200
    # 3 queries: the user (token), the job, its queue position.
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_fast_path_and_regular_view_answer_the_same(owner_api, client, world,
                                                    django_capture_on_commit_callbacks):
    from tests.factories import PASSWORD

    queued = submit(world.owner)
    with django_capture_on_commit_callbacks(execute=True):
        done = submit(world.owner)
    client.login(username="owner", password=PASSWORD)  # session: the regular DRF view
    for job in (queued, done):
        fast = owner_api.get(f"/api/status/{job.public_id}")
        regular = client.get(f"/api/status/{job.public_id}")
        assert "ETag" in fast and "ETag" not in regular
        assert fast.json() == regular.json()


def test_status_etag_gives_304(owner_api, world):
    job = submit(world.owner)
    first = owner_api.get(f"/api/status/{job.public_id}")
    again = owner_api.get(f"/api/status/{job.public_id}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    job_cancel(job=job)
    changed = owner_api.get(f"/api/status/{job.public_id}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["status"] == "canceled"


def test_fast_path_refuses_revoked_keys_and_inactive_owners(api, world):
    from accounts.services import api_key_create, api_key_revoke

    job = submit(world.owner)
    key, raw = api_key_create(user=world.owner, name="poller")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/status/{job.public_id}").status_code == 200
    api_key_revoke(key=key)
    assert_error(api.get(f"/api/status/{job.public_id}"), 401, "authentication_failed")
    _key2, raw2 = api_key_create(user=world.owner, name="poller2")
    world.owner.is_active = False
    world.owner.save()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw2}")
    assert_error(api.get(f"/api/status/{job.public_id}"), 401)


def test_fast_path_applies_the_request_rate_limit(owner_api, world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "3/min"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    api_settings.reload()
    UserRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        job = submit(world.owner)
        codes = [owner_api.get(f"/api/status/{job.public_id}").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                                   "DEFAULT_THROTTLE_RATES": {"anon": "10000/min",
                                                              "user": "10000/min"}}
        api_settings.reload()
        UserRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def test_cancel_api_refunds_and_refuses_twice(owner_api, world):
    job = submit(world.owner)
    body = owner_api.post("/api/cancel", {"job_id": str(job.public_id)}, format="json").json()
    assert body["status"] == "canceled" and body["credits"]["refunded"] == 10
    assert_error(owner_api.post("/api/cancel", {"job_id": str(job.public_id)}, format="json"),
                 409, "job_finished")
    assert credit_account_get(user=world.owner).balance == 150


def test_queue_lists_your_active_jobs(owner_api, other_api, world):
    mine = submit(world.owner)
    submit(world.other)
    body = owner_api.get("/api/queue").json()
    assert body["queue_length"] == 2
    assert [j["job_id"] for j in body["jobs"]] == [str(mine.public_id)]
    assert body["jobs"][0]["queue_position"] == 1


def test_events_stream_ends_with_the_terminal_state(owner_api, world,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(world.owner)
    response = owner_api.get(f"/api/jobs/{job.public_id}/events",
                             HTTP_ACCEPT="text/event-stream")
    assert response["Content-Type"].startswith("text/event-stream")
    text = b"".join(response.streaming_content).decode()
    assert "event: status" in text and '"status": "completed"' in text
    assert text.rstrip().endswith("event: end\ndata: {}")


def test_events_of_someone_elses_job_is_404(other_api, world):
    job = submit(world.owner)
    assert_error(other_api.get(f"/api/jobs/{job.public_id}/events"), 404)
