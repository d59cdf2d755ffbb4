import time
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create, api_key_revoke, jwt_pair_issue
from tests.conftest import assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_creates_an_account_logs_in_and_grants_free_credits(
        api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/signup", {"username": "Newbie", "email": "New@Example.com",
                                     "password": "a-long-passphrase"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["username"] == "Newbie"
    assert "password" not in r.json()
    check = api.get("/api/auth/check").json()
    assert check["authenticated"] is True
    assert check["tier"] == "free"
    assert check["credits"] == 150
    assert check["limits"]["max_frames"] == 81
    assert check["limits"]["max_resolution"] == "480p"
    assert check["limits"]["watermark"] is True


@pytest.mark.parametrize("payload,field", [
    ({"username": "x", "email": "not-an-email", "password": "a-long-passphrase"}, "email"),
    ({"username": "x", "email": "x@example.com", "password": "short"}, "password"),
    ({"username": "x", "email": "x@example.com", "password": "12345678901"}, "password"),
    ({"username": "bad name!", "email": "x@example.com", "password": "a-long-passphrase"},
     "username"),
    ({"email": "x@example.com", "password": "a-long-passphrase"}, "username"),
])
def test_signup_rejects_bad_input_with_field_errors(api, payload, field):
    body = assert_error(api.post("/api/signup", payload, format="json"), 400, "invalid")
    assert field in body["fields"]
    assert not User.objects.filter(email__iexact="x@example.com").exists()


def test_signup_refuses_names_and_emails_taken_in_another_case(api, world):
    body = assert_error(api.post("/api/signup", {"username": "OWNER", "email": "a@b.co",
                                                 "password": "a-long-passphrase"},
                                 format="json"), 400)
    assert "username" in body["fields"]
    body = assert_error(api.post("/api/signup", {"username": "fresh",
                                                 "email": "OWNER@example.com",
                                                 "password": "a-long-passphrase"},
                                 format="json"), 400)
    assert "email" in body["fields"]


def test_signup_accepts_only_json_so_cross_site_forms_cannot_post(api):
    r = api.post("/api/signup", {"username": "x", "email": "x@example.com",
                                 "password": "a-long-passphrase"})  # multipart
    assert_error(r, 415)


@pytest.mark.parametrize("identifier", ["owner", "OWNER", "owner@example.com",
                                        "Owner@Example.COM"])
def test_session_login_accepts_username_or_email_in_any_case(api, world, identifier):
    r = api.post("/api/login", {"username": identifier, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["username"] == "owner"
    assert api.get("/api/credits").status_code == 200


def test_wrong_password_is_401_and_says_nothing_about_which_part_was_wrong(api, world):
    wrong_pw = assert_error(api.post("/api/login", {"username": "owner", "password": "nope"},
                                     format="json"), 401, "invalid_credentials")
    no_user = assert_error(api.post("/api/login", {"username": "ghost", "password": "nope"},
                                    format="json"), 401, "invalid_credentials")
    assert wrong_pw["error"] == no_user["error"]


def test_failed_logins_are_throttled_with_429_and_retry_after(api, world):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api.post("/api/login", {"username": "owner", "password": "wrong"}, format="json")
    r = api.post("/api/login", {"username": "owner", "password": PASSWORD}, format="json")
    body = assert_error(r, 429, "too_many_login_attempts")
    assert int(r["Retry-After"]) > 0
    assert body["retry_after"] == int(r["Retry-After"])
    # The JWT login shares the same counter.
    assert_error(api.post("/api/auth/login", {"identifier": "owner", "password": PASSWORD},
                          format="json"), 429)


def test_deactivated_user_cannot_log_in(api, world):
    world.owner.is_active = False
    world.owner.save()
    assert_error(api.post("/api/login", {"username": "owner", "password": PASSWORD},
                          format="json"), 401)


def test_logout_ends_the_session(api, world):
    api.post("/api/login", {"username": "owner", "password": PASSWORD}, format="json")
    assert api.post("/api/logout").status_code == 200
    assert_error(api.get("/api/credits"), 401, "not_authenticated")
    assert api.get("/api/auth/check").json() == {"authenticated": False}


def test_session_api_writes_need_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="owner", password=PASSWORD)
    body = assert_error(client.post("/api/settings/theme", {"theme": "light"}, format="json"),
                        403)
    assert "CSRF" in body["error"]


# --- JWT -----------------------------------------------------------------------------------

def test_register_returns_a_jwt_pair_that_authenticates(api):
    r = api.post("/api/auth/register", {"username": "jwtuser", "email": "j@example.com",
                                        "password": "a-long-passphrase"}, format="json")
    assert r.status_code == 201, r.content
    tokens = r.json()
    assert set(tokens) == {"access_token", "refresh_token"}
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert api.get("/api/profile").json()["username"] == "jwtuser"


def test_login_with_identifier_and_password_returns_tokens(api, world):
    r = api.post("/api/auth/login", {"identifier": "owner@example.com", "password": PASSWORD},
                 format="json")
    assert r.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access_token']}")
    assert api.get("/api/credits").status_code == 200


def test_login_with_api_key_returns_tokens_that_die_with_the_key(api, world):
    key, raw = api_key_create(user=world.owner, name="ci")
    r = api.post("/api/auth/login", {"api_key": raw}, format="json")
    assert r.status_code == 200, r.content
    tokens = r.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert api.get("/api/credits").status_code == 200
    api_key_revoke(key=key)
    assert_error(api.get("/api/credits"), 401, "token_not_valid")
    api.credentials()
    assert_error(api.post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]},
                          format="json"), 401, "token_not_valid")


@pytest.mark.parametrize("payload", [
    {},
    {"identifier": "owner"},
    {"password": "x"},
    {"api_key": "rf_live_x", "identifier": "owner", "password": "x"},
])
def test_token_login_validates_its_input(api, world, payload):
    assert_error(api.post("/api/auth/login", payload, format="json"), 400, "invalid")


def test_token_login_with_unknown_api_key_is_401(api, world):
    assert_error(api.post("/api/auth/login", {"api_key": "rf_live_nope"}, format="json"), 401,
                 "invalid_credentials")


def test_refresh_gives_a_new_working_access_token(api, world):
    tokens = jwt_pair_issue(user=world.owner)
    r = api.post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert r.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access_token']}")
    assert api.get("/api/credits").status_code == 200


def test_a_refresh_token_is_not_an_access_token(api, world):
    tokens = jwt_pair_issue(user=world.owner)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}")
    assert_error(api.get("/api/credits"), 401, "token_not_valid")


def test_expired_access_token_is_401(api, world):
    tokens = jwt_pair_issue(user=world.owner)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    with time_machine.travel(timedelta(hours=2), tick=False):
        assert_error(api.get("/api/credits"), 401, "token_not_valid")


def _forge(claims: dict, key: str = "", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_tampered_unsigned_and_foreign_tokens_are_rejected(api, world):
    now = int(time.time())
    claims = {"token_type": "access", "user_id": world.owner.pk, "exp": now + 600,
              "iat": now, "jti": "x"}
    for token in [
        _forge(claims, "not-our-secret-but-long-enough-for-hs256!"),
        jwt.encode(claims, None, algorithm="none"),
        jwt_pair_issue(user=world.owner)["access_token"][:-3] + "abc",
        "garbage",
    ]:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        body = assert_error(api.get("/api/credits"), 401)
        assert token not in body["error"]


def test_token_of_a_deactivated_user_stops_working(api, world):
    tokens = jwt_pair_issue(user=world.owner)
    world.owner.is_active = False
    world.owner.save()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert_error(api.get("/api/credits"), 401)


def test_malformed_authorization_header_is_401(api, world):
    api.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert_error(api.get("/api/credits"), 401)


def test_no_credentials_is_401_with_a_bearer_challenge(api):
    r = api.get("/api/profile")
    assert_error(r, 401, "not_authenticated")
    assert r["WWW-Authenticate"].startswith("Bearer")


# --- password reset ------------------------------------------------------------------------

def test_password_reset_request_is_200_whether_or_not_the_account_exists(
        api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = api.post("/api/password-reset/request", {"username": "owner"}, format="json")
        unknown = api.post("/api/password-reset/request", {"username": "ghost"}, format="json")
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.com"]


def _reset_token_from_mail() -> str:
    body = mail.outbox[-1].body
    return body.split("POST /api/password-reset/reset:\n", 1)[1].split("\n", 1)[0].strip()


def test_password_reset_sets_a_new_password_once(api, world,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/password-reset/request", {"username": "owner@example.com"},
                 format="json")
    token = _reset_token_from_mail()
    r = api.post("/api/password-reset/reset", {"token": token,
                                               "new_password": "brand-new-secret"},
                 format="json")
    assert r.status_code == 200, r.content
    assert api.post("/api/login", {"username": "owner", "password": "brand-new-secret"},
                    format="json").status_code == 200
    again = api.post("/api/password-reset/reset", {"token": token,
                                                   "new_password": "another-secret-1"},
                     format="json")
    assert "token" in assert_error(again, 400)["fields"]


@pytest.mark.parametrize("token", ["", "nonsense", "MQ.abc-def", "x" * 300])
def test_password_reset_with_a_bad_token_is_400(api, world, token):
    assert_error(api.post("/api/password-reset/reset", {"token": token,
                                                        "new_password": "brand-new-secret"},
                          format="json"), 400)


def test_password_reset_token_expires(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/password-reset/request", {"username": "owner"}, format="json")
    token = _reset_token_from_mail()
    with time_machine.travel(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        assert_error(api.post("/api/password-reset/reset",
                              {"token": token, "new_password": "brand-new-secret"},
                              format="json"), 400)


def test_password_reset_rejects_a_weak_new_password(api, world,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/password-reset/request", {"username": "owner"}, format="json")
    body = assert_error(api.post("/api/password-reset/reset",
                                 {"token": _reset_token_from_mail(), "new_password": "short"},
                                 format="json"), 400)
    assert "new_password" in body["fields"]
