import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from accounts.services import api_key_create
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_create_returns_the_full_key_once_and_stores_only_its_hash(owner_api, world):
    r = owner_api.post("/api/keys", {"name": "My App"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    raw = body["key"]
    assert raw.startswith("rf_live_") and len(raw) > 40
    assert body["api_key"] == raw
    assert body["prefix"] == raw[:14]
    key = ApiKey.objects.get(pk=body["id"])
    assert key.key_hash == ApiKey.hash(raw)
    assert raw not in {key.prefix, key.key_hash, key.name}
    listed = owner_api.get("/api/keys").json()
    assert {"id", "prefix", "name", "created_at", "last_used", "is_active"} <= set(listed[0])
    assert all("key" not in item and "key_hash" not in item for item in listed)


def test_a_new_key_authenticates_and_records_last_use(api, world):
    key, raw = api_key_create(user=world.owner, name="script")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/profile").json()["username"] == "owner"
    key.refresh_from_db()
    assert key.last_used is not None


def test_revoked_key_stops_working_at_once(api, world):
    key, raw = api_key_create(user=world.owner, name="script")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/credits").status_code == 200
    r = api.delete(f"/api/keys/{key.pk}")
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert_error(api.get("/api/credits"), 401, "authentication_failed")


def test_a_key_of_a_deactivated_user_stops_working(api, world):
    _key, raw = api_key_create(user=world.owner, name="script")
    world.owner.is_active = False
    world.owner.save()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(api.get("/api/credits"), 401)


def test_outsider_cannot_see_or_revoke_someone_elses_key(owner_api, other_api, world):
    theirs, _raw = api_key_create(user=world.owner, name="private")
    assert_error(other_api.delete(f"/api/keys/{theirs.pk}"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.is_active
    assert all(k["id"] != theirs.pk for k in other_api.get("/api/keys").json())


def test_unknown_key_id_is_404(owner_api):
    assert_error(owner_api.delete("/api/keys/999999"), 404)


def test_keys_need_credentials(api):
    assert_error(api.get("/api/keys"), 401)
    assert_error(api.post("/api/keys", {"name": "x"}, format="json"), 401)
    assert_error(api.delete("/api/keys/1"), 401)


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}])
def test_create_validates_the_name(owner_api, payload):
    body = assert_error(owner_api.post("/api/keys", payload, format="json"), 400, "invalid")
    assert "name" in body["fields"]


def test_owner_field_cannot_be_mass_assigned(owner_api, world):
    r = owner_api.post("/api/keys", {"name": "x", "user": world.other.pk, "user_id":
                                     world.other.pk, "is_active": False}, format="json")
    key = ApiKey.objects.get(pk=r.json()["id"])
    assert key.user == world.owner and key.is_active


def test_number_of_active_keys_is_capped(owner_api, world, settings):
    settings.API_KEYS_PER_USER = 2
    # owner_api already holds one key
    assert owner_api.post("/api/keys", {"name": "a"}, format="json").status_code == 201
    assert_error(owner_api.post("/api/keys", {"name": "b"}, format="json"), 409,
                 "too_many_api_keys")


def test_garbled_keys_are_401_and_never_echoed(api, world):
    for raw in ["rf_live_", "rf_live_" + "A" * 43, "rf_live_" + "x" * 200]:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        body = assert_error(api.get("/api/credits"), 401)
        assert raw not in str(body)


def test_key_list_query_count_does_not_grow_with_keys(owner_api, world):
    for i in range(5):
        api_key_create(user=world.owner, name=f"k{i}")
    owner_api.get("/api/keys")  # the first use of the key records last_used (one UPDATE)
    with CaptureQueriesContext(connection) as queries:
        r = owner_api.get("/api/keys")
    assert r.status_code == 200 and len(r.json()) == 6
    # 2 queries: the API key with its user (authentication), the user's keys.
    assert len(queries) == 2, [q["sql"] for q in queries]
