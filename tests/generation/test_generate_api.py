from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import CreditAccount, LedgerEntry, Tier
from billing.services import tier_set
from generation.models import Generation
from jobs.models import Job
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_models_list_the_contract_catalogue_with_engine_and_costs(api):
    models = {m["id"]: m for m in api.get("/api/models").json()["models"]}
    assert len(models) == 23
    assert models["wan-t2v"]["engine"] == "preview"
    assert models["wan-t2v"]["frame_rule"] == "4n+1"
    assert models["wan-i2v"]["inputs"] == ["image"]
    assert models["wan-flf"]["inputs"] == ["image", "last_image"]
    assert models["wan-s2v"]["inputs"] == ["image", "audio"]
    assert models["wan-t2v"]["default_cost"] == 21
    images = {m["id"]: m for m in api.get("/api/image-models").json()["models"]}
    assert {k: v["credit_cost"] for k, v in images.items()} == {
        "sd15": 2, "flux": 5, "flux-dev": 8, "flux-edit": 6}


@pytest.mark.parametrize("query,credits", [
    ("model=wan-t2v&frames=41&steps=4", 21), ("model=ltx-t2v&frames=41&steps=4", 16),
    ("model=flux", 5), ("model=hunyuan3d&steps=4", 24),
])
def test_generation_cost_quotes(api, query, credits):
    assert api.get(f"/api/generation-cost?{query}").json()["credits"] == credits


def test_generation_cost_validates(api):
    assert "model" in assert_error(api.get("/api/generation-cost?model=nope"), 400)["fields"]


def test_generate_queues_a_job_reserves_credits_and_names_the_engine(owner_api, world):
    r = owner_api.post("/api/generate", {"prompt": "A red fox in snow", "frames": 41,
                                         "steps": 4, "seed": 7}, format="json")
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "queued" and body["cost"] == 21 and body["engine"] == "preview"
    assert body["model"] == "wan-t2v" and body["queue_position"] == 1
    job = Job.objects.get(public_id=body["job_id"])
    assert job.params["seed"] == 7 and job.params["width"] == 832 and job.queue == "gpu"
    assert CreditAccount.objects.get(user=world.owner).balance == 150 - 21
    gen = Generation.objects.get(pk=body["generation_id"])
    assert gen.prompt == "A red fox in snow" and gen.engine == "preview"


def test_seed_minus_one_is_replaced_by_a_concrete_seed(owner_api):
    body = owner_api.post("/api/generate", {"prompt": "x", "seed": -1}, format="json").json()
    assert Job.objects.get(public_id=body["job_id"]).params["seed"] >= 0


@pytest.mark.parametrize("payload,field,fragment", [
    ({}, "prompt", "required"),
    ({"prompt": "x" * 2001}, "prompt", "2000"),
    ({"prompt": "x", "model": "nope"}, "model", "valid choice"),
    ({"prompt": "x", "frames": 42}, "frames", "4n+1"),
    ({"prompt": "x", "model": "ltx-t2v", "frames": 42}, "frames", "8n+1"),
    ({"prompt": "x", "width": 833}, "width", "multiple of 16"),
    ({"prompt": "x", "model": "svd-i2v", "frames": 33, "image_filename": "x.png"}, "frames",
     "at most 25"),
    ({"prompt": "x", "seed": -2}, "seed", ""),
    ({"prompt": "x", "steps": 0}, "steps", ""),
    ({"prompt": "x", "model": "wan-i2v"}, "image_filename", "needs an image"),
    ({"prompt": "x", "image_filename": "a.png"}, "image_filename", "does not take"),
    ({"prompt": "x", "model": "wan-i2v", "image_filename": "a.png",
      "image_url": "https://example.com/a.png"}, "image_url", "not both"),
])
def test_generate_rejects_bad_parameters_with_field_errors(owner_api, world, payload, field,
                                                           fragment):
    body = assert_error(owner_api.post("/api/generate", payload, format="json"), 400)
    assert field in body["fields"], body
    assert fragment in " ".join(body["fields"][field])
    assert not Job.objects.exists()
    assert CreditAccount.objects.get(user=world.owner).balance == 150


def test_plan_frame_limit_is_403_with_the_plan_that_allows_it(owner_api, world):
    body = assert_error(owner_api.post("/api/generate", {"prompt": "x", "frames": 121},
                                       format="json"), 403, "tier_required")
    assert body["required_tier"] == "starter" and "frames" in body["fields"]
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    assert owner_api.post("/api/generate", {"prompt": "x", "frames": 121},
                          format="json").status_code == 202


def test_plan_resolution_limit_is_403(owner_api):
    body = assert_error(owner_api.post("/api/generate", {"prompt": "x", "width": 1280,
                                                         "height": 720}, format="json"),
                        403, "tier_required")
    assert body["required_tier"] == "starter"


def test_short_balance_is_402_with_required_credits(owner_api, world):
    tier_set(user=world.owner, tier=Tier.objects.get(slug="enterprise"))
    body = assert_error(owner_api.post("/api/generate", {"prompt": "x", "frames": 801,
                                                         "steps": 40}, format="json"),
                        402, "insufficient_credits")
    assert body["required_credits"] == 191 and body["balance"] == 150
    assert not Job.objects.exists()


def test_inputs_must_be_your_own_files(owner_api, other_api, world):
    from assets.services import asset_create_from_path
    from tests.generation.media import make_png

    theirs = asset_create_from_path(owner=world.other, path=make_png(), kind="image",
                                    extension="png", origin="upload")
    assert_error(owner_api.post("/api/generate", {"prompt": "x", "model": "wan-i2v",
                                                  "image_filename": theirs.name},
                                format="json"), 404)
    for name in ["../../etc/passwd", "/etc/passwd", "x" * 64]:
        assert_error(owner_api.post("/api/generate", {"prompt": "x", "model": "wan-i2v",
                                                      "image_filename": name},
                                    format="json"), 404)


def test_private_urls_are_refused_as_inputs(owner_api):
    body = assert_error(owner_api.post("/api/generate", {
        "prompt": "x", "model": "wan-i2v", "image_url": "http://169.254.169.254/latest"},
        format="json"), 400, "unsafe_url")
    assert "private" in body["error"]


def test_idempotent_replay_returns_the_first_answer(owner_api, world):
    payload = {"prompt": "same", "seed": 3}
    first = owner_api.post("/api/generate", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = owner_api.post("/api/generate", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Job.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="reserve").count() == 1
    other = owner_api.post("/api/generate", {"prompt": "different"}, format="json",
                           HTTP_IDEMPOTENCY_KEY="abc")
    assert_error(other, 422, "idempotency_key_reused")


def test_generate_image_makes_one_job_per_image(owner_api, world):
    r = owner_api.post("/api/generate-image", {"prompt": "a cat", "model": "sd15",
                                               "num_images": 3, "seed": 10}, format="json")
    assert r.status_code == 202, r.content
    ids = r.json()["job_ids"]
    assert len(ids) == 3
    seeds = sorted(Job.objects.filter(public_id__in=ids).values_list("params__seed", flat=True))
    assert seeds == [10, 11, 12]
    assert CreditAccount.objects.get(user=world.owner).balance == 150 - 6


def test_generate_needs_credentials(api):
    assert_error(api.post("/api/generate", {"prompt": "x"}, format="json"), 401)
    assert_error(api.post("/api/generate-image", {"prompt": "x"}, format="json"), 401)


def test_engine_status_reports_preview_as_what_it_is(owner_api):
    body = owner_api.get("/api/comfyui/status").json()
    assert body["online"] is False
    assert body["engines"]["preview"]["ai"] is False
    assert body["engines"]["comfyui"]["configured"] is False
    assert body["models"]["wan-t2v"] == "preview"


def test_a_model_mapped_to_an_unconfigured_engine_is_503(owner_api, world, settings):
    settings.GENERATION_MODEL_ENGINES = {"wan-t2v": "comfyui"}
    body = assert_error(owner_api.post("/api/generate", {"prompt": "x"}, format="json"), 503,
                        "engine_unavailable")
    assert body["engine"] == "comfyui" and "configure" in body["error"]
    assert not Job.objects.exists()
    assert CreditAccount.objects.get(user=world.owner).balance == 150


def test_default_sizes_are_fitted_to_the_plan(owner_api, world):
    body = owner_api.post("/api/generate", {"prompt": "x", "model": "ltx-t2v"},
                          format="json").json()
    job = Job.objects.get(public_id=body["job_id"])
    assert (job.params["width"], job.params["height"]) == (720, 480)
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    body = owner_api.post("/api/generate", {"prompt": "x", "model": "ltx-t2v"},
                          format="json").json()
    job = Job.objects.get(public_id=body["job_id"])
    assert (job.params["width"], job.params["height"]) == (768, 512)


def test_the_daily_quota_applies_to_job_creating_calls(owner_api, world):
    import time_machine

    for n in range(10):
        r = owner_api.post("/api/generate", {"prompt": f"p{n}", "frames": 9, "width": 320,
                                             "height": 192}, format="json")
        assert r.status_code in (202, 402), r.content
        assert r["RateLimit-Limit"] == "10" and r["RateLimit-Remaining"] == str(9 - n)
    r = owner_api.post("/api/generate", {"prompt": "eleventh"}, format="json")
    body = assert_error(r, 429, "daily_quota_exceeded")
    assert int(r["Retry-After"]) > 0 and body["retry_after"] == int(r["Retry-After"])
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert owner_api.post("/api/generate-image", {"prompt": "next day", "model": "sd15"},
                              format="json").status_code == 202


def test_operators_switch_models_off_and_map_engines_in_admin(owner_api, world, client):
    from generation.models import ModelOverride
    from tests.factories import UserFactory

    UserFactory(username="op", is_staff=True, is_superuser=True)
    client.login(username="op", password="correct-horse-battery")
    r = client.post("/admin/generation/modeloverride/add/", {
        "model_id": "ltx-t2v", "enabled": "", "engine": "", "workflow": "", "servers": "[]"})
    assert r.status_code == 302, r.content
    body = assert_error(owner_api.post("/api/generate", {"prompt": "x", "model": "ltx-t2v"},
                                       format="json"), 400, "model_disabled")
    assert "model" in body["fields"]
    models = {m["id"]: m for m in owner_api.get("/api/models").json()["models"]}
    assert models["ltx-t2v"]["enabled"] is False
    override = ModelOverride.objects.get(model_id="ltx-t2v")
    client.post(f"/admin/generation/modeloverride/{override.pk}/change/", {
        "model_id": "ltx-t2v", "enabled": "on", "engine": "comfyui", "workflow": "",
        "servers": "[]"})
    assert_error(owner_api.post("/api/generate", {"prompt": "x", "model": "ltx-t2v"},
                                format="json"), 503, "engine_unavailable")
