import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import assert_error

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_unknown_api_path_is_a_json_404(api):
    assert_error(api.get("/api/does-not-exist"), 404, "not_found")


def test_wrong_method_is_a_json_405(owner_api):
    assert_error(owner_api.put("/api/credits", {}, format="json"), 405, "method_not_allowed")


def test_malformed_json_is_a_400(api):
    r = api.generic("POST", "/api/login", "{not json", content_type="application/json")
    assert_error(r, 400, "parse_error")


def test_unhandled_api_errors_are_a_json_500_without_internals(api, settings):
    settings.ROOT_URLCONF = "tests.core.urls_boom"
    api.raise_request_exception = False
    body = assert_error(api.get("/api/boom"), 500, "server_error")
    assert "passwd" not in str(body)
    body = assert_error(api.get("/api/boom-plain"), 500, "server_error")


def test_oversized_bodies_are_413(owner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = owner_api.post("/api/profile", {"bio": "x" * 5000}, format="json")
    assert_error(r, 413, "request_too_large")


def test_every_response_carries_a_request_id(api):
    r = api.get("/api/pricing")
    assert len(r["X-Request-ID"]) == 32
    r = api.get("/api/pricing", HTTP_X_REQUEST_ID="client-trace-12345")
    assert r["X-Request-ID"] == "client-trace-12345"
    r = api.get("/api/pricing", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert r["X-Request-ID"] != "bad id\nwith newline"
    assert api.get("/api/nope")["X-Request-ID"]


def test_openapi_schema_is_valid_and_lists_the_endpoints(api):
    from drf_spectacular.validation import validate_schema

    r = api.get("/api/schema/")
    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    validate_schema(schema)
    paths = set(schema["paths"])
    for expected in ["/api/signup", "/api/login", "/api/auth/login", "/api/auth/register",
                     "/api/auth/refresh", "/api/keys", "/api/keys/{key_id}", "/api/credits",
                     "/api/credits/history", "/api/pricing", "/api/auth/check",
                     "/api/profile", "/api/profile/avatar", "/api/settings/theme"]:
        assert expected in paths
    assert {"apiKeyAuth", "jwtAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_uses_only_local_assets(api):
    r = api.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_healthz_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


def _production_check(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": "video.example.com"})
    env.update(extra_env)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_settings_pass_the_deploy_checks():
    result = _production_check({})
    assert result.returncode == 0, result.stderr


def test_production_refuses_a_wildcard_host():
    result = _production_check({"DJANGO_ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_refuses_to_boot_without_a_secret_key():
    result = _production_check({"DJANGO_SECRET_KEY": None})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(50) + "\n")
    result = _production_check({"DJANGO_SECRET_KEY": None, "DJANGO_SECRET_KEY_FILE": str(secret)})
    assert result.returncode == 0, result.stderr
