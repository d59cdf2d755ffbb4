import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from billing.services import credits_reserve
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def test_visitor_sees_the_landing_page_and_only_public_links(client):
    html = client.get("/").content.decode()
    assert "Sign up" in html and "Log in" in html
    assert "/settings/" not in html and "/credits/" not in html


def test_private_pages_redirect_visitors_to_login(client):
    for url in ["/dashboard/", "/settings/", "/settings/api-keys/", "/credits/"]:
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next=")


def test_signup_form_creates_the_account_and_shows_the_dashboard(
        client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/signup/", {"username": "maker", "email": "maker@example.com",
                                     "password": "a-long-passphrase"}, follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and "Hello, maker" in html
    assert re.search(r'data-testid="balance">150<', html)


def test_signup_form_shows_field_errors(client, world):
    r = client.post("/signup/", {"username": "owner", "email": "bad", "password": "1"})
    html = r.content.decode()
    assert r.status_code == 400
    assert "Enter a valid email address." in html


def test_login_form_with_email_and_next(client, world):
    r = client.post("/login/", {"username": "OWNER@example.com", "password": PASSWORD,
                                "next": "/credits/"})
    assert r.status_code == 302 and r["Location"] == "/credits/"


def test_login_form_ignores_offsite_next(client, world):
    r = client.post("/login/", {"username": "owner", "password": PASSWORD,
                                "next": "//evil.example/"})
    assert r["Location"] == "/dashboard/"


def test_login_form_wrong_password_then_throttled(client, world, settings):
    r = client.post("/login/", {"username": "owner", "password": "nope"})
    assert r.status_code == 400 and "not correct" in r.content.decode()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/login/", {"username": "owner", "password": "nope"})
    r = client.post("/login/", {"username": "owner", "password": PASSWORD})
    assert r.status_code == 429


def test_logout_is_a_post(logged_in):
    assert logged_in.get("/logout/").status_code == 405
    assert logged_in.post("/logout/").status_code == 302
    assert logged_in.get("/dashboard/").status_code == 302


def test_api_keys_page_shows_a_new_key_once_and_revokes(logged_in, world):
    r = logged_in.post("/settings/api-keys/", {"name": "Laptop"})
    html = r.content.decode()
    raw = re.search(r'data-testid="new-key">(rf_live_[^<]+)<', html).group(1)
    key = ApiKey.objects.get(user=world.owner, name="Laptop")
    assert key.matches(raw)
    assert raw not in logged_in.get("/settings/api-keys/").content.decode()
    r = logged_in.post(f"/settings/api-keys/{key.pk}/revoke/", follow=True)
    assert "was revoked" in r.content.decode()
    key.refresh_from_db()
    assert not key.is_active


def test_api_keys_page_rejects_an_empty_name(logged_in):
    r = logged_in.post("/settings/api-keys/", {"name": ""})
    assert r.status_code == 400 and "This field is required." in r.content.decode()


def test_revoking_someone_elses_key_from_the_dashboard_is_404(logged_in, world):
    from accounts.services import api_key_create

    theirs, _ = api_key_create(user=world.other, name="theirs")
    assert logged_in.post(f"/settings/api-keys/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_settings_page_sections_save_through_the_services(logged_in, world):
    r = logged_in.post("/settings/", {"section": "profile", "display_name": "Director",
                                      "bio": "hi"})
    assert r.status_code == 302
    logged_in.post("/settings/", {"section": "theme", "theme": "light"})
    world.owner.refresh_from_db()
    assert world.owner.display_name == "Director" and world.owner.theme == "light"
    assert 'data-theme="light"' in logged_in.get("/settings/").content.decode()
    r = logged_in.post("/settings/", {"section": "password", "current_password": "wrong",
                                      "new_password": "another-passphrase"})
    assert r.status_code == 400 and "not correct" in r.content.decode()
    r = logged_in.post("/settings/", {"section": "password", "current_password": PASSWORD,
                                      "new_password": "another-passphrase"})
    assert r.status_code == 302
    assert logged_in.get("/settings/").status_code == 200  # still logged in
    r = logged_in.post("/settings/", {"section": "email", "email": "other@example.com"})
    assert r.status_code == 400


def test_password_reset_pages(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/password-reset/", {"username": "owner"})
    assert "Check your email" in r.content.decode()
    link = re.search(r"http://testserver(/reset/[^/]+/)", mail.outbox[-1].body).group(1)
    assert client.get(link).status_code == 200
    r = client.post(link, {"new_password": "fresh-passphrase-9"})
    assert r.status_code == 302
    assert client.login(username="owner", password="fresh-passphrase-9")
    assert client.get(link).status_code == 400  # used up


def test_credits_page_lists_the_ledger(logged_in, world):
    credits_reserve(user=world.owner, amount=12, reference="job:abc", description="A render")
    html = logged_in.get("/credits/").content.decode()
    assert "A render" in html and "-12" in html and "138" in html


def test_dashboard_query_count(logged_in, world):
    logged_in.get("/dashboard/")
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get("/dashboard/").status_code == 200
    # 5 queries: session, user, credit account + tier, feature gates, recent ledger entries.
    assert len(queries) == 5, [q["sql"] for q in queries]


def test_pricing_page_is_public(client):
    html = client.get("/pricing/").content.decode()
    assert "Enterprise" in html and "50000" in html and "wan-t2v" in html


def test_dashboard_404_page_for_unknown_pages(client):
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and "Page not found" in r.content.decode()
