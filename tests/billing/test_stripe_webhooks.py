"""Stripe webhooks: signed with Stripe's real scheme and verified by the SDK; each event is
handled once, in whatever order Stripe delivers."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from billing.models import (
    CheckoutSession,
    CreditAccount,
    CreditBucket,
    LedgerEntry,
    StripeEvent,
    Subscription,
)
from billing.services import credits_charge, credits_reserve
from tests.billing.stripe_helpers import (
    PERIOD_END,
    charge_refunded,
    checkout_completed,
    deliver,
    event,
    invoice_paid,
    sign,
    subscription_event,
)
from tests.billing.test_expiry import assert_buckets_consistent
from tests.conftest import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _topup_session(api, credits=500) -> CheckoutSession:
    r = api.post("/api/credits/topup", {"credits": credits}, format="json")
    assert r.status_code == 200, r.content
    return CheckoutSession.objects.get(stripe_session_id=r.json()["session_id"])


def _customer(user) -> str:
    return Subscription.objects.get(account__user=user).stripe_customer_id


def _paid(row: CheckoutSession, **kw) -> dict:
    return checkout_completed(session_id=row.stripe_session_id, checkout_id=row.pk,
                              customer=_customer(row.user), mode="payment",
                              payment_intent=f"pi_{row.pk}", amount_total=row.amount_pence,
                              **kw)


def _balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


# --- signatures ----------------------------------------------------------------------------

def test_a_bad_signature_is_400_and_changes_nothing(client, world, fake_stripe, owner_api):
    row = _topup_session(owner_api)
    body = _paid(row)
    for kwargs in [{"secret": "whsec_wrong"}, {"timestamp": int(time.time()) - 301}]:
        assert_error(deliver(client, body, **kwargs), 400, "invalid_signature")
    r = client.post("/api/stripe/webhook", data="{}", content_type="application/json")
    assert_error(r, 400, "invalid_signature")
    r = client.post("/api/stripe/webhook", data="not json",
                    content_type="application/json", HTTP_STRIPE_SIGNATURE=sign("not json"))
    assert_error(r, 400, "invalid_event")
    assert not StripeEvent.objects.exists()
    assert _balance(world.owner) == 150


def test_a_signature_within_five_minutes_is_accepted(client, fake_stripe):
    r = deliver(client, event("customer.created", {"id": "cus_x"}),
                timestamp=int(time.time()) - 290)
    assert r.status_code == 200 and r.json()["outcome"] == "ignored: event type"


def test_without_a_webhook_secret_the_endpoint_is_503(client, payments_off):
    assert_error(deliver(client, event("invoice.paid", {})), 503, "payments_not_configured")


# --- top-ups --------------------------------------------------------------------------------

def test_a_paid_top_up_grants_permanent_credits_once(client, world, owner_api, fake_stripe):
    row = _topup_session(owner_api)
    body = _paid(row)
    r = deliver(client, body)
    assert r.json() == {"received": True, "duplicate": False,
                        "outcome": "granted 500 top-up credits"}
    # Stripe redelivers the same event, and sends async_payment_succeeded as well.
    assert deliver(client, body).json()["duplicate"] is True
    assert deliver(client, {**_paid(row), "type": "checkout.session.async_payment_succeeded"}
                   ).status_code == 200
    assert _balance(world.owner) == 650
    grant = LedgerEntry.objects.get(kind="topup")
    assert grant.reference == f"topup:{row.pk}" and grant.bucket.expires_at is None
    row.refresh_from_db()
    assert row.status == "completed"
    assert StripeEvent.objects.get(stripe_event_id=body["id"]).outcome == \
        "granted 500 top-up credits"


def test_an_unpaid_checkout_grants_nothing_until_the_payment_clears(client, world, owner_api,
                                                                   fake_stripe):
    row = _topup_session(owner_api)
    r = deliver(client, _paid(row, payment_status="unpaid"))
    assert r.json()["outcome"].startswith("waiting")
    assert _balance(world.owner) == 150
    later = {**_paid(row), "type": "checkout.session.async_payment_succeeded"}
    deliver(client, later)
    assert _balance(world.owner) == 650


def test_a_refund_after_partial_spend_takes_back_the_unspent_rest_as_debt(
        client, world, owner_api, fake_stripe):
    row = _topup_session(owner_api)
    deliver(client, _paid(row))
    credits_reserve(user=world.owner, amount=250, reference="job:1")  # 150 plan + 100 top-up
    credits_charge(reference="job:1")
    refund = charge_refunded(payment_intent=f"pi_{row.pk}", amount=500, amount_refunded=500)
    r = deliver(client, refund)
    assert "400 credits taken back, 100 already spent recorded as debt" in r.json()["outcome"]
    account = CreditAccount.objects.get(user=world.owner)
    assert (account.balance, account.debt) == (0, 100)
    # The same refund again, under a new event id, takes nothing more.
    again = charge_refunded(payment_intent=f"pi_{row.pk}", amount=500, amount_refunded=500)
    assert deliver(client, again).json()["outcome"] == "nothing more to take back"
    assert LedgerEntry.objects.filter(kind="clawback").count() == 1
    assert_buckets_consistent(world.owner)
    # Credits shown in the API include the debt.
    assert owner_api.get("/api/credits").json()["debt"] == 100


def test_a_partial_refund_takes_back_credits_in_proportion(client, world, owner_api,
                                                           fake_stripe):
    row = _topup_session(owner_api, credits=1000)
    deliver(client, _paid(row))
    deliver(client, charge_refunded(payment_intent=f"pi_{row.pk}", amount=1000,
                                    amount_refunded=300))
    deliver(client, charge_refunded(payment_intent=f"pi_{row.pk}", amount=1000,
                                    amount_refunded=1000))
    assert _balance(world.owner) == 150
    assert [e.amount for e in LedgerEntry.objects.filter(kind="clawback").order_by("id")] == \
        [-300, -700]


def test_a_refund_of_something_we_did_not_sell_is_recorded_and_ignored(client, fake_stripe):
    r = deliver(client, charge_refunded(payment_intent="pi_elsewhere", amount=100,
                                        amount_refunded=100))
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored")


# --- subscriptions --------------------------------------------------------------------------

def _subscribe(owner_api, tier="pro") -> CheckoutSession:
    r = owner_api.post("/api/stripe/create-checkout", {"tier": tier}, format="json")
    assert r.status_code == 200, r.content
    return CheckoutSession.objects.get(stripe_session_id=r.json()["session_id"])


def test_checkout_then_invoice_starts_the_plan_and_grants_expiring_credits(
        client, world, owner_api, fake_stripe):
    row = _subscribe(owner_api)
    customer = _customer(world.owner)
    deliver(client, checkout_completed(session_id=row.stripe_session_id, checkout_id=row.pk,
                                       customer=customer, mode="subscription",
                                       subscription="sub_1"))
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "pro"
    r = deliver(client, invoice_paid(invoice_id="in_1", customer=customer, subscription="sub_1",
                                     payment_intent="pi_in_1"))
    assert r.json()["outcome"] == "granted 5000 pro credits"
    grant = LedgerEntry.objects.get(reference="invoice:in_1")
    assert grant.bucket.expires_at.timestamp() == PERIOD_END
    assert _balance(world.owner) == 5150
    body = owner_api.get("/api/subscription").json()
    assert (body["tier"], body["status"], body["payments_enabled"]) == ("pro", "active", True)
    assert body["current_period_end"].startswith("2030-04-16")


def test_an_invoice_before_its_checkout_starts_the_plan_once(client, world, owner_api,
                                                             fake_stripe):
    row = _subscribe(owner_api)
    customer = _customer(world.owner)
    invoice = invoice_paid(invoice_id="in_early", customer=customer, subscription="sub_2")
    assert deliver(client, invoice).json()["outcome"] == \
        "granted 5000 pro credits; subscription started"
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "pro"
    deliver(client, checkout_completed(session_id=row.stripe_session_id, checkout_id=row.pk,
                                       customer=customer, mode="subscription",
                                       subscription="sub_2"))
    deliver(client, invoice)  # and the invoice again
    assert _balance(world.owner) == 5150
    assert LedgerEntry.objects.filter(kind="grant", reference="invoice:in_early").count() == 1
    sub = Subscription.objects.get(account__user=world.owner)
    assert (sub.stripe_subscription_id, sub.status) == ("sub_2", "active")


def test_each_invoice_grants_its_period_and_the_last_period_expires(client, world, owner_api,
                                                                    fake_stripe):
    _subscribe(owner_api)
    customer = _customer(world.owner)
    deliver(client, invoice_paid(invoice_id="in_a", customer=customer, subscription="sub_3",
                                 period_end=PERIOD_END))
    deliver(client, invoice_paid(invoice_id="in_b", customer=customer, subscription="sub_3",
                                 period_end=PERIOD_END + 30 * 86400))
    periods = sorted(b.expires_at.timestamp() for b in CreditBucket.objects.filter(
        origin__reference__startswith="invoice:"))
    assert periods == [PERIOD_END, PERIOD_END + 30 * 86400]


def test_subscription_updated_before_created_keeps_the_newer_state(client, world, owner_api,
                                                                   fake_stripe):
    _subscribe(owner_api)
    customer = _customer(world.owner)
    now = int(time.time())
    deliver(client, subscription_event("updated", subscription="sub_4", customer=customer,
                                       status="active", created=now))
    r = deliver(client, subscription_event("created", subscription="sub_4", customer=customer,
                                           status="incomplete", created=now - 5))
    assert r.json()["outcome"] == "ignored: older than the state already applied"
    sub = Subscription.objects.get(account__user=world.owner)
    assert sub.status == "active"
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "pro"


def test_a_plan_change_in_the_portal_moves_the_tier(client, world, owner_api, fake_stripe):
    _subscribe(owner_api)
    customer = _customer(world.owner)
    now = int(time.time())
    deliver(client, subscription_event("created", subscription="sub_5", customer=customer,
                                       status="active", created=now - 10))
    deliver(client, subscription_event("updated", subscription="sub_5", customer=customer,
                                       status="active", tier="studio", created=now))
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "studio"


def test_cancellation_takes_effect_at_the_period_end(client, world, owner_api, fake_stripe):
    _subscribe(owner_api)
    customer = _customer(world.owner)
    now = int(time.time())
    deliver(client, subscription_event("created", subscription="sub_6", customer=customer,
                                       status="active", created=now - 100))
    deliver(client, invoice_paid(invoice_id="in_6", customer=customer, subscription="sub_6"))
    r = deliver(client, subscription_event("updated", subscription="sub_6", customer=customer,
                                           status="active", cancel_at_period_end=True,
                                           created=now - 50))
    assert r.json()["outcome"] == "pro until the period ends, then canceled"
    body = owner_api.get("/api/subscription").json()
    assert body["tier"] == "pro" and body["cancel_at_period_end"] is True
    assert body["current_period_end"].startswith("2030-04-16")
    # At the period's end Stripe deletes the subscription.
    r = deliver(client, subscription_event("deleted", subscription="sub_6", customer=customer,
                                           status="canceled", created=now))
    assert r.json()["outcome"] == "subscription canceled: back to free"
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "free"
    # A late "updated" from before the deletion does not bring the plan back.
    late = deliver(client, subscription_event("updated", subscription="sub_6",
                                              customer=customer, status="active",
                                              created=now - 20))
    assert late.json()["outcome"].startswith("ignored")
    assert CreditAccount.objects.get(user=world.owner).tier.slug == "free"
    # The period's credits stay until they expire with it.
    assert CreditBucket.objects.get(origin__reference="invoice:in_6").remaining == 5000


def test_events_for_unknown_customers_are_recorded_and_ignored(client, fake_stripe):
    r = deliver(client, invoice_paid(invoice_id="in_x", customer="cus_unknown",
                                     subscription="sub_x"))
    assert r.status_code == 200 and r.json()["outcome"] == "ignored: unknown customer"
    assert StripeEvent.objects.get(type="invoice.paid").outcome == "ignored: unknown customer"


# --- concurrency ----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_one_event_grant_once(fake_stripe):
    from billing.payments import topup_checkout_create

    user = UserFactory()
    row = topup_checkout_create(user=user, credits=800)
    body = _paid(row)
    results: list = [None] * 6
    barrier = threading.Barrier(6)

    def run(i):
        try:
            barrier.wait()
            results[i] = deliver(Client(), body)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in results] == [200] * 6
    assert sorted(r.json()["duplicate"] for r in results) == [False] + [True] * 5
    assert StripeEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="topup").count() == 1
    assert CreditAccount.objects.get(user=user).balance == 950


def test_a_refunded_invoice_takes_back_the_periods_unspent_credits(client, world, owner_api,
                                                                  fake_stripe):
    _subscribe(owner_api)
    customer = _customer(world.owner)
    deliver(client, invoice_paid(invoice_id="in_r", customer=customer, subscription="sub_r",
                                 payment_intent="pi_in_r", amount_paid=4900))
    credits_reserve(user=world.owner, amount=1150, reference="job:r")  # 150 Free + 1000 Pro
    r = deliver(client, charge_refunded(payment_intent="pi_in_r", amount=4900,
                                        amount_refunded=4900))
    assert "4000 credits taken back, 1000 already spent recorded as debt" in r.json()["outcome"]
    account = CreditAccount.objects.get(user=world.owner)
    assert (account.balance, account.debt) == (0, 1000)
    assert_buckets_consistent(world.owner)


@pytest.mark.parametrize("body", [
    {"id": "evt_1", "type": "invoice.paid", "created": "yesterday", "data": {"object": {}}},
    {"id": "evt_1", "type": "invoice.paid", "created": 1, "data": []},
    ["not", "an", "event"],
])
def test_a_signed_body_that_is_not_an_event_is_400(client, fake_stripe, body):
    assert_error(deliver(client, body), 400, "invalid_event")


def test_the_webhook_needs_no_csrf_token(world, fake_stripe):
    client = Client(enforce_csrf_checks=True)
    r = deliver(client, event("customer.created", {"id": "cus_csrf"}))
    assert r.status_code == 200
