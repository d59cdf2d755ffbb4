"""Signed Stripe webhook deliveries and event bodies shaped like the current Stripe API."""

import hashlib
import hmac
import itertools
import json
import time

WEBHOOK_SECRET = "whsec_test_reelforge"
PRICES = {"starter": "price_starter_m", "creator": "price_creator_m", "pro": "price_pro_m",
          "studio": "price_studio_m", "enterprise": "price_enterprise_m"}
_ids = itertools.count(1)
PERIOD_START = 1_900_000_000  # 2030-03-17
PERIOD_END = PERIOD_START + 30 * 86400


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def deliver(client, event: dict, **sign_kwargs):
    payload = json.dumps(event)
    return client.post("/api/stripe/webhook", data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=sign(payload, **sign_kwargs))


def event(type_: str, obj: dict, created: int | None = None, event_id: str | None = None):
    return {"id": event_id or f"evt_test_{next(_ids):06d}", "object": "event",
            "api_version": "2026-10-28.endive", "type": type_, "livemode": False,
            "created": created or int(time.time()), "data": {"object": obj}}


def checkout_completed(*, session_id: str, checkout_id: int, customer: str, mode: str,
                       subscription: str | None = None, payment_intent: str | None = None,
                       amount_total: int | None = None, payment_status: str = "paid", **kw):
    return event("checkout.session.completed", {
        "id": session_id, "object": "checkout.session", "mode": mode, "customer": customer,
        "subscription": subscription, "payment_intent": payment_intent,
        "payment_status": payment_status, "status": "complete", "amount_total": amount_total,
        "metadata": {"checkout_id": str(checkout_id)}}, **kw)


def invoice_paid(*, invoice_id: str, customer: str, subscription: str, tier: str = "pro",
                 period_end: int = PERIOD_END, payment_intent: str | None = None,
                 amount_paid: int = 4900, **kw):
    return event("invoice.paid", {
        "id": invoice_id, "object": "invoice", "customer": customer, "status": "paid",
        "amount_paid": amount_paid, "billing_reason": "subscription_cycle",
        "parent": {"type": "subscription_details",
                   "subscription_details": {"subscription": subscription, "metadata": {}}},
        "payments": {"data": [{"payment": {"type": "payment_intent",
                                           "payment_intent": payment_intent}}]},
        "lines": {"data": [{"period": {"start": period_end - 30 * 86400, "end": period_end},
                            "pricing": {"type": "price_details",
                                        "price_details": {"price": PRICES[tier]}}}]}}, **kw)


def subscription_event(kind: str, *, subscription: str, customer: str, status: str,
                       tier: str = "pro", cancel_at_period_end: bool = False,
                       period_end: int = PERIOD_END, **kw):
    return event(f"customer.subscription.{kind}", {
        "id": subscription, "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "items": {"data": [{"price": {"id": PRICES[tier]}, "current_period_end": period_end}]},
        "metadata": {}}, **kw)


def charge_refunded(*, payment_intent: str, amount: int, amount_refunded: int, **kw):
    return event("charge.refunded", {
        "id": f"ch_test_{next(_ids):06d}", "object": "charge", "payment_intent": payment_intent,
        "amount": amount, "amount_refunded": amount_refunded, "refunded": True}, **kw)
