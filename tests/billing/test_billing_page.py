"""The billing page: plans, Checkout, the portal, top-ups and the ledger, without JavaScript."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import CheckoutSession, CreditAccount, Subscription
from billing.services import credits_grant, credits_reserve
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def test_visitors_are_sent_to_login(client):
    for url in ["/billing/", "/billing/checkout/", "/billing/topup/", "/billing/portal/"]:
        r = client.get(url)
        assert r.status_code in (302, 405)
    assert client.get("/billing/")["Location"].startswith("/login/?next=")
    assert client.post("/billing/topup/", {"credits": 500})["Location"].startswith("/login/")


def test_without_payments_the_page_shows_plans_and_says_so(logged_in, payments_off):
    html = logged_in.get("/billing/").content.decode()
    assert 'data-testid="payments-off"' in html and "Payments are not configured" in html
    for name in ["Free", "Starter", "Creator", "Pro", "Studio", "Enterprise"]:
        assert f"<h3>{name}</h3>" in html
    assert "Choose Pro" not in html and 'action="/billing/topup/"' not in html
    assert "10 API calls a day" in html and "unlimited API calls" in html


def test_the_pricing_page_stays_public(client, payments_off):
    assert client.get("/pricing/").status_code == 200


def test_the_page_shows_plan_credits_and_when_they_expire(logged_in, world, fake_stripe):
    credits_grant(user=world.owner, amount=300, reference="topup:x", kind="topup")
    html = logged_in.get("/billing/").content.decode()
    assert re.search(r'data-testid="plan">Free<', html)
    assert re.search(r'data-testid="balance">450<', html)
    assert "Never" in html and " UTC</time>" in html  # the top-up and the plan credits
    assert "Choose Pro" in html and "Continue to payment" in html
    assert '<th>Expires</th>' in html


def test_choosing_a_plan_redirects_to_stripe_checkout(logged_in, world, fake_stripe):
    r = logged_in.post("/billing/checkout/", {"tier": "creator"})
    assert r.status_code == 302
    assert r["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    assert CheckoutSession.objects.get(user=world.owner).tier.slug == "creator"


def test_a_bad_plan_comes_back_with_a_message(logged_in, fake_stripe):
    r = logged_in.post("/billing/checkout/", {"tier": "free"}, follow=True)
    assert "is not a plan you can subscribe to" in r.content.decode()
    assert not fake_stripe.calls_to("/v1/checkout/sessions")


def test_top_up_form_redirects_to_checkout_or_shows_field_errors(logged_in, fake_stripe):
    r = logged_in.post("/billing/topup/", {"credits": 50})
    assert r.status_code == 400
    assert "greater than or equal to 100" in r.content.decode()
    r = logged_in.post("/billing/topup/", {"credits": 2500})
    assert r.status_code == 302 and r["Location"].startswith("https://checkout.stripe.test/")
    [session] = fake_stripe.calls_to("/v1/checkout/sessions")
    assert session.params["line_items[0][quantity]"] == "2500"


def test_manage_billing_opens_the_portal(logged_in, world, fake_stripe):
    account = CreditAccount.objects.get(user=world.owner)
    Subscription.objects.create(account=account, stripe_customer_id="cus_page",
                                status="active", cancel_at_period_end=True,
                                current_period_end=timezone.now() + timedelta(days=9))
    html = logged_in.get("/billing/").content.decode()
    assert "Manage billing" in html and " · ends " in html
    r = logged_in.post("/billing/portal/")
    assert r.status_code == 302 and r["Location"].startswith("https://billing.stripe.test/")
    assert fake_stripe.calls_to("/v1/billing_portal/sessions")[0].params["customer"] == \
        "cus_page"


def test_portal_without_payments_comes_back_with_a_message(logged_in, payments_off):
    r = logged_in.post("/billing/portal/", follow=True)
    assert "Payments are not configured" in r.content.decode()


def test_billing_page_query_count_is_flat(logged_in, world, payments_off):
    for i in range(30):
        credits_reserve(user=world.owner, amount=1, reference=f"job:{i}")
    logged_in.get("/billing/")
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get("/billing/").status_code == 200
    # 8 queries: session, user, account + tier, plans, ledger count, subscription, live
    # buckets, ledger page with each entry's bucket (joined).
    assert len(queries) == 8, "\n".join(q["sql"][:150] for q in queries)


def test_nav_links_to_billing(logged_in):
    assert 'href="/billing/"' in logged_in.get("/dashboard/").content.decode()
