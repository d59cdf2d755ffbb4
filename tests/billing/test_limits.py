"""Daily API-call quotas, the account endpoint and tier gates."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import FeatureGate, Tier
from billing.services import tier_set
from tests.billing.urls_limits import GATE_CODES
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db
CREATE = "/api/test/create-job"


@pytest.fixture(autouse=True)
def _test_urls(settings):
    settings.ROOT_URLCONF = "tests.billing.urls_limits"


def test_the_eleventh_call_of_a_free_user_in_a_day_is_429_and_the_next_day_passes(owner_api):
    with time_machine.travel("2031-05-04 23:59:30+00:00", tick=False):
        for n in range(1, 11):
            r = owner_api.post(CREATE)
            assert r.status_code == 202, r.content
            assert r["RateLimit-Limit"] == "10"
            assert r["RateLimit-Remaining"] == str(10 - n)
            assert r["RateLimit-Reset"] == "30"
        r = owner_api.post(CREATE)
        body = assert_error(r, 429, "daily_quota_exceeded")
        assert r["Retry-After"] == "30" and r["RateLimit-Remaining"] == "0"
        assert r["RateLimit-Limit"] == "10" and r["RateLimit-Reset"] == "30"
        assert body["retry_after"] == 30 and body["limit"] == 10
        assert body["reset_time"] == "2031-05-05T00:00:00Z"
        assert "Free plan allows 10" in body["error"]
    with time_machine.travel("2031-05-05 00:00:01+00:00", tick=False):
        r = owner_api.post(CREATE)
        assert r.status_code == 202 and r["RateLimit-Remaining"] == "9"


def test_refused_calls_are_not_counted_and_each_user_has_their_own_quota(owner_api, other_api,
                                                                        world):
    for _ in range(12):
        owner_api.post(CREATE)
    assert other_api.post(CREATE)["RateLimit-Remaining"] == "9"
    info = owner_api.get("/api/account").json()["rate_limit_info"]
    assert (info["used"], info["remaining"]) == (10, 0)
    # An upgrade mid-day raises the limit at once.
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    r = owner_api.post(CREATE)
    assert r.status_code == 202 and r["RateLimit-Remaining"] == "89"


def test_quotas_are_editable_data_and_enterprise_is_unlimited(owner_api, world):
    Tier.objects.filter(slug="free").update(daily_api_calls=2)
    owner_api.post(CREATE)
    owner_api.post(CREATE)
    assert_error(owner_api.post(CREATE), 429, "daily_quota_exceeded")
    tier_set(user=world.owner, tier=Tier.objects.get(slug="enterprise"))
    for _ in range(30):
        r = owner_api.post(CREATE)
        assert r.status_code == 202 and "RateLimit-Limit" not in r
    info = owner_api.get("/api/account").json()["rate_limit_info"]
    assert (info["tier"], info["limit"], info["remaining"]) == ("enterprise", None, None)


def test_plan_defaults_follow_the_contract():
    assert dict(Tier.objects.values_list("slug", "daily_api_calls")) == {
        "free": 10, "starter": 100, "creator": 500, "pro": 1000, "studio": 5000,
        "enterprise": None}


def test_the_quota_needs_credentials(api):
    assert_error(api.post(CREATE), 401)


# --- GET /api/account -----------------------------------------------------------------------

def test_account_has_the_prompttovideo_shape(owner_api, world):
    with time_machine.travel("2031-05-04 10:00:00+00:00", tick=False):
        owner_api.post(CREATE)
        owner_api.post(CREATE)
        body = owner_api.get("/api/account").json()
    assert body == {
        "user_id": world.owner.pk, "email": "owner@example.com", "credits": 150,
        "subscription_tier": "free",
        "rate_limit_info": {"tier": "free", "limit": 10, "used": 2, "remaining": 8,
                            "reset_time": "2031-05-05T00:00:00Z"},
        "created_at": body["created_at"]}
    assert body["created_at"].endswith("Z")


def test_account_does_not_count_as_a_call_and_uses_few_queries(owner_api):
    owner_api.get("/api/account")  # first use of the key writes last_used
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert owner_api.get("/api/account").status_code == 200
    # 2 queries per call: API key + user, account + tier (the quota is in the cache).
    assert len(queries) == 6, [q["sql"] for q in queries]
    assert owner_api.get("/api/account").json()["rate_limit_info"]["used"] == 0


# --- tier gates -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", GATE_CODES)
def test_every_gate_answers_403_with_the_required_tier(owner_api, world, code):
    gate = FeatureGate.objects.select_related("min_tier").get(code=code)
    body = assert_error(owner_api.post(f"/api/test/gated/{code}"), 403, "tier_required")
    assert body["required_tier"] == gate.min_tier.slug
    assert body["current_tier"] == "free"
    assert gate.min_tier.name in body["error"]
    tier_set(user=world.owner, tier=gate.min_tier)
    assert owner_api.post(f"/api/test/gated/{code}").json() == {"feature": code}


def test_gates_follow_the_contract():
    assert dict(FeatureGate.objects.values_list("code", "min_tier__slug")) == {
        "stock_media": "creator", "tts": "creator", "hosting": "pro", "orgs": "pro",
        "brand_kits": "pro", "subtitle_translation": "pro", "upscale": "creator",
        "face_swap": "pro"}


def test_a_gate_below_the_plan_passes_and_gates_are_data(owner_api, world):
    tier_set(user=world.owner, tier=Tier.objects.get(slug="pro"))
    assert owner_api.post("/api/test/gated/tts").status_code == 200
    FeatureGate.objects.filter(code="tts").update(min_tier=Tier.objects.get(slug="studio"))
    body = assert_error(owner_api.post("/api/test/gated/tts"), 403, "tier_required")
    assert body["required_tier"] == "studio"


def test_a_gate_without_credentials_is_401(api):
    assert_error(api.post("/api/test/gated/tts"), 401)


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_pass_the_quota():
    """Real threads against the cache the settings name (Redis when REDIS_URL is set)."""
    from billing.quotas import api_quota_consume
    from core.errors import RateLimited
    from tests.billing.test_ledger import _run_threads
    from tests.factories import UserFactory

    user = UserFactory()
    results = _run_threads(16, lambda i: api_quota_consume(user=user))
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(refused) == 6, results
    assert sorted(r.used for r in results if not isinstance(r, RateLimited)) == list(
        range(1, 11))
