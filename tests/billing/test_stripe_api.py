"""Stripe Checkout, portal, top-ups and config, against the fake Stripe API on loopback."""

import pytest

from billing.models import CheckoutSession, CreditAccount, Subscription
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_subscription_checkout_creates_one_customer_and_a_session(owner_api, world,
                                                                  fake_stripe):
    r = owner_api.post("/api/stripe/create-checkout", {"tier": "pro"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["checkout_url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    row = CheckoutSession.objects.get(stripe_session_id=body["session_id"])
    assert (row.user, row.kind, row.tier.slug, row.status) == (world.owner, "subscription",
                                                               "pro", "open")
    account = CreditAccount.objects.get(user=world.owner)
    [customer] = fake_stripe.calls_to("/v1/customers")
    assert customer.idempotency_key == f"customer-{account.pk}-0"
    assert customer.params["metadata[user_id]"] == str(world.owner.pk)
    [session] = fake_stripe.calls_to("/v1/checkout/sessions")
    assert session.idempotency_key == f"checkout-{row.pk}"
    assert session.params["mode"] == "subscription"
    assert session.params["line_items[0][price]"] == "price_pro_m"
    assert session.params["customer"] == Subscription.objects.get(
        account=account).stripe_customer_id
    assert session.params["metadata[checkout_id]"] == str(row.pk)
    assert session.params["success_url"].endswith("/billing/?checkout=success")
    # A second checkout reuses the customer.
    owner_api.post("/api/stripe/create-checkout", {"tier": "creator"}, format="json")
    assert len(fake_stripe.calls_to("/v1/customers")) == 1
    assert len(fake_stripe.calls_to("/v1/checkout/sessions")) == 2


@pytest.mark.parametrize("payload", [{}, {"tier": "free"}, {"tier": "platinum"},
                                     {"tier": "../pro"}])
def test_checkout_refuses_what_is_not_a_paid_plan(owner_api, fake_stripe, payload):
    body = assert_error(owner_api.post("/api/stripe/create-checkout", payload, format="json"),
                        400, "invalid")
    assert "tier" in body["fields"]
    assert not fake_stripe.calls_to("/v1/checkout/sessions")


def test_checkout_refuses_a_plan_without_a_price(owner_api, fake_stripe, settings):
    settings.STRIPE_PRICE_IDS = {**settings.STRIPE_PRICE_IDS, "studio": ""}
    assert_error(owner_api.post("/api/stripe/create-checkout", {"tier": "studio"},
                                format="json"), 400, "invalid")


def test_checkout_with_a_live_subscription_is_a_conflict(owner_api, world, fake_stripe):
    account = CreditAccount.objects.get(user=world.owner)
    Subscription.objects.create(account=account, status="active", stripe_subscription_id="s")
    assert_error(owner_api.post("/api/stripe/create-checkout", {"tier": "pro"}, format="json"),
                 409, "subscription_exists")


def test_stripe_refusals_are_a_502_with_stripes_message(owner_api, fake_stripe):
    fake_stripe.fail_next = (400, {"error": {"type": "invalid_request_error",
                                             "message": "No such price: 'price_pro_m'",
                                             "code": "resource_missing"}})
    body = assert_error(owner_api.post("/api/stripe/create-checkout", {"tier": "pro"},
                                       format="json"), 502, "payment_provider_error")
    assert "No such price" in body["error"] and "sk_test" not in str(body)


def test_top_up_opens_a_payment_checkout_at_a_penny_a_credit(owner_api, world, fake_stripe):
    r = owner_api.post("/api/credits/topup", {"credits": 500}, format="json")
    assert r.status_code == 200, r.content
    row = CheckoutSession.objects.get(stripe_session_id=r.json()["session_id"])
    assert (row.kind, row.credits, row.amount_pence) == ("topup", 500, 500)
    [session] = fake_stripe.calls_to("/v1/checkout/sessions")
    assert session.params["mode"] == "payment"
    assert session.params["line_items[0][quantity]"] == "500"
    assert session.params["line_items[0][price_data][unit_amount]"] == "1"
    assert session.params["line_items[0][price_data][currency]"] == "gbp"
    assert session.idempotency_key == f"checkout-{row.pk}"


@pytest.mark.parametrize("credits", [99, 50_001, -5, "many", None])
def test_top_up_amount_must_be_between_100_and_50000(owner_api, fake_stripe, credits):
    body = assert_error(owner_api.post("/api/credits/topup", {"credits": credits},
                                       format="json"), 400, "invalid")
    assert "credits" in body["fields"]
    assert not fake_stripe.calls


def test_portal_session_for_the_customer(owner_api, fake_stripe):
    r = owner_api.post("/api/stripe/create-portal")
    assert r.status_code == 200
    assert r.json()["url"].startswith("https://billing.stripe.test/p/session/")
    [portal] = fake_stripe.calls_to("/v1/billing_portal/sessions")
    assert portal.params["return_url"].endswith("/billing/")


def test_stripe_config_is_public(api, fake_stripe):
    assert api.get("/api/stripe/config").json() == {"publishable_key": "pk_test_reelforge"}


@pytest.mark.parametrize("method,url", [
    ("post", "/api/stripe/create-checkout"), ("post", "/api/stripe/create-portal"),
    ("post", "/api/credits/topup"), ("get", "/api/subscription"), ("get", "/api/account"),
])
def test_billing_endpoints_need_credentials(api, fake_stripe, method, url):
    assert_error(getattr(api, method)(url, {}, format="json"), 401)
    assert not fake_stripe.calls


@pytest.mark.parametrize("method,url,payload", [
    ("post", "/api/stripe/create-checkout", {"tier": "pro"}),
    ("post", "/api/stripe/create-portal", {}),
    ("post", "/api/credits/topup", {"credits": 500}),
    ("get", "/api/stripe/config", None),
])
def test_without_stripe_keys_payments_answer_503(owner_api, payments_off, method, url,
                                                 payload):
    r = getattr(owner_api, method)(url, payload, format="json")
    assert_error(r, 503, "payments_not_configured")


def test_subscription_without_stripe_shows_the_plan(owner_api, payments_off):
    assert owner_api.get("/api/subscription").json() == {
        "tier": "free", "tier_name": "Free", "monthly_credits": 150, "status": "",
        "cancel_at_period_end": False, "current_period_end": None,
        "payments_enabled": False}


def test_checkout_rows_are_private_to_their_user(owner_api, other_api, world, fake_stripe):
    owner_api.post("/api/credits/topup", {"credits": 500}, format="json")
    other_api.post("/api/credits/topup", {"credits": 700}, format="json")
    owners = {c.params["customer"] for c in fake_stripe.calls_to("/v1/checkout/sessions")}
    assert len(owners) == 2  # each user pays as their own Stripe customer


def test_billing_endpoints_are_in_the_openapi_schema(api):
    import yaml

    paths = set(yaml.safe_load(api.get("/api/schema/").content)["paths"])
    assert {"/api/account", "/api/subscription", "/api/credits/topup",
            "/api/stripe/create-checkout", "/api/stripe/create-portal", "/api/stripe/config",
            "/api/stripe/webhook"} <= paths


def test_a_retried_checkout_with_the_same_idempotency_key_gets_the_same_session(
        owner_api, fake_stripe):
    first = owner_api.post("/api/credits/topup", {"credits": 500}, format="json",
                           HTTP_IDEMPOTENCY_KEY="client-retry-1")
    again = owner_api.post("/api/credits/topup", {"credits": 500}, format="json",
                           HTTP_IDEMPOTENCY_KEY="client-retry-1")
    assert first.json() == again.json()
    assert len(fake_stripe.calls_to("/v1/checkout/sessions")) == 1
    assert CheckoutSession.objects.count() == 1
    other = owner_api.post("/api/credits/topup", {"credits": 900}, format="json",
                           HTTP_IDEMPOTENCY_KEY="client-retry-1")
    assert_error(other, 409, "idempotency_key_reused")
    plan = owner_api.post("/api/stripe/create-checkout", {"tier": "pro"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="plan-1")
    assert plan.json() == owner_api.post("/api/stripe/create-checkout", {"tier": "pro"},
                                         format="json", HTTP_IDEMPOTENCY_KEY="plan-1").json()


def test_a_checkout_retried_after_stripe_failed_asks_stripe_under_a_new_key(
        owner_api, fake_stripe):
    owner_api.post("/api/stripe/create-portal")  # creates the customer first
    fake_stripe.fail_next = (500, {"error": {"type": "api_error", "message": "Try again"}})
    assert_error(owner_api.post("/api/credits/topup", {"credits": 500}, format="json",
                                HTTP_IDEMPOTENCY_KEY="k"), 502, "payment_provider_error")
    r = owner_api.post("/api/credits/topup", {"credits": 500}, format="json",
                       HTTP_IDEMPOTENCY_KEY="k")
    assert r.status_code == 200
    # Stripe replays a key's first answer, errors included: the retry needs a new key.
    keys = [c.idempotency_key for c in fake_stripe.calls_to("/v1/checkout/sessions")]
    failed, opened = CheckoutSession.objects.order_by("id")
    assert keys == [f"checkout-{failed.pk}", f"checkout-{opened.pk}"]
    assert (failed.status, opened.status) == ("expired", "open")
    assert opened.stripe_session_id == r.json()["session_id"]


def test_a_failed_customer_creation_is_retried_under_a_new_key(owner_api, world, fake_stripe):
    fake_stripe.fail_next = (500, {"error": {"type": "api_error", "message": "Try again"}})
    assert_error(owner_api.post("/api/stripe/create-portal"), 502, "payment_provider_error")
    assert owner_api.post("/api/stripe/create-portal").status_code == 200
    account = CreditAccount.objects.get(user=world.owner)
    assert [c.idempotency_key for c in fake_stripe.calls_to("/v1/customers")] == [
        f"customer-{account.pk}-0", f"customer-{account.pk}-1"]
