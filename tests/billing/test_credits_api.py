import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import FeatureGate, Tier
from billing.pricing import duration_cost, per_clip_cost, video_generation_cost
from billing.services import credits_grant, credits_reserve, tier_set
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_credits_shows_balance_tier_allowance_and_expiry(owner_api, world):
    credits_grant(user=world.owner, amount=300, reference="topup:t", kind="topup")
    body = owner_api.get("/api/credits").json()
    expiry = body["buckets"][0]["expires_at"]
    assert body == {
        "balance": 450, "tier": "free", "tier_name": "Free", "monthly_allowance": 150,
        "debt": 0, "buckets": [{"credits": 150, "expires_at": expiry},
                               {"credits": 300, "expires_at": None}]}
    assert expiry.endswith("-01T00:00:00Z")  # the first instant of next month


def test_credit_history_shows_when_granted_credits_expire(owner_api, world):
    credits_grant(user=world.owner, amount=300, reference="topup:t", kind="topup")
    credits_reserve(user=world.owner, amount=5, reference="job:1")
    entries = owner_api.get("/api/credits/history").json()["results"]
    assert [(e["kind"], e["expires_at"] is None) for e in entries] == [
        ("reserve", True), ("topup", True), ("grant", False)]


def test_credit_history_is_paginated_newest_first(owner_api, world):
    for i in range(5):
        credits_reserve(user=world.owner, amount=1, reference=f"job:{i}")
    page = owner_api.get("/api/credits/history?limit=2").json()
    assert page["count"] == 6 and page["limit"] == 2 and page["offset"] == 0
    assert [e["reference"] for e in page["results"]] == ["job:4", "job:3"]
    assert page["next"] and page["previous"] is None
    last = owner_api.get("/api/credits/history?limit=2&offset=4").json()
    assert [e["kind"] for e in last["results"]] == ["reserve", "grant"]
    assert last["results"][-1]["amount"] == 150


def test_credit_history_limit_is_capped_at_200(owner_api):
    assert owner_api.get("/api/credits/history?limit=5000").json()["limit"] == 200


def test_credit_history_shows_only_your_own_entries(owner_api, other_api, world):
    credits_reserve(user=world.other, amount=7, reference="job:theirs")
    refs = [e["reference"] for e in owner_api.get("/api/credits/history").json()["results"]]
    assert "job:theirs" not in refs


def test_credit_history_query_count_is_flat(owner_api, world):
    for i in range(20):
        credits_reserve(user=world.owner, amount=1, reference=f"job:{i}")
    owner_api.get("/api/credits/history")  # first use of the key writes last_used
    with CaptureQueriesContext(connection) as queries:
        owner_api.get("/api/credits/history")
    # 3 queries: API key + user, count, page of entries.
    assert len(queries) == 3, [q["sql"] for q in queries]


@pytest.mark.parametrize("url", ["/api/credits", "/api/credits/history"])
def test_credits_need_credentials(api, url):
    assert_error(api.get(url), 401)


def test_auth_check_for_a_visitor_is_a_plain_200(api):
    assert api.get("/api/auth/check").json() == {"authenticated": False}


def test_auth_check_reports_tier_limits_and_features(owner_api, world):
    tier_set(user=world.owner, tier=Tier.objects.get(slug="creator"))
    body = owner_api.get("/api/auth/check").json()
    assert body["tier"] == "creator"
    assert body["limits"]["max_resolution"] == "4K"
    assert body["limits"]["max_frames"] == 201
    assert set(body["limits"]["features"]) == {"stock_media", "tts", "upscale"}
    assert body["limits"]["daily_api_calls"] == 500


def test_pricing_is_public_and_lists_the_contract_tiers(api):
    body = api.get("/api/pricing").json()
    tiers = {t["slug"]: t for t in body["tiers"]}
    assert [t["slug"] for t in body["tiers"]] == ["free", "starter", "creator", "pro",
                                                  "studio", "enterprise"]
    assert [(t["monthly_credits"], t["max_resolution"], t["max_frames"], t["watermark"])
            for t in tiers.values()] == [
        (150, "480p", 81, True), (500, "1080p", 121, False), (1500, "4K", 201, False),
        (5000, "4K", 301, False), (15000, "4K", 301, False), (50000, "4K", 999, False)]
    assert body["feature_gates"]["face_swap"]["min_tier"] == "pro"
    assert body["feature_gates"]["tts"]["min_tier"] == "creator"
    assert "face_swap" in tiers["pro"]["features"]
    assert "face_swap" not in tiers["creator"]["features"]
    assert body["costs"]["video_models"]["wan-t2v"] == {"base": 10.0, "per_frame": 0.2,
                                                        "per_step": 0.5}


def test_operators_change_gates_as_data(api):
    FeatureGate.objects.filter(code="tts").update(min_tier=Tier.objects.get(slug="starter"))
    assert api.get("/api/pricing").json()["feature_gates"]["tts"]["min_tier"] == "starter"


@pytest.mark.parametrize("model,expected", [
    ("wan-t2v", 21), ("ltx-t2v", 16), ("ltx-quality", 27), ("hunyuan-t2v", 22),
    ("hunyuan15-t2v", 22), ("hunyuan15-i2v", 28), ("ltx-i2v", 22), ("cogvideo-t2v", 22),
    ("animatediff", 12), ("svd-i2v", 18), ("wan-i2v", 23), ("ltx-flf", 20), ("wan-s2v", 28),
    ("wan-flf", 23), ("ltx-camera", 18), ("ltx-control", 20), ("wan-vace", 28),
    ("wan-animate", 33), ("liveportrait", 13), ("hunyuan3d", 24), ("dreamidv", 25),
    ("echomimic", 20), ("v2v", 3),
])
def test_video_costs_follow_the_contracts_formula_at_41_frames_and_4_steps(model, expected):
    # The contract's "Example (41 frames, 4 steps)" column agrees except where its own
    # arithmetic slips: ltx-flf, ltx-control and echomimic are 12 + 41*0.15 + 4*0.3 = 19.35
    # (it prints 18.55), and animatediff's 8.8 is 6 + 16*0.10 + 4*0.3, i.e. 16 frames.
    assert video_generation_cost(model=model, frames=41, steps=4) == expected


def test_animatediff_example_of_the_contract_is_for_16_frames():
    assert video_generation_cost(model="animatediff", frames=16, steps=4) == 9


def test_duration_and_clip_costs():
    assert duration_cost(operation="audio_generation", seconds=30) == 8
    assert duration_cost(operation="audio_generation", seconds=45) == 12
    assert duration_cost(operation="tts", seconds=30) == 3
    assert duration_cost(operation="upscale_video", seconds=5) == 2
    assert duration_cost(operation="upscale_video", seconds=25) == 6
    assert duration_cost(operation="video_to_video", seconds=1) == 3
    assert per_clip_cost(operation="project_export", clips=1) == 3
    assert per_clip_cost(operation="merge_videos", clips=5) == 10
