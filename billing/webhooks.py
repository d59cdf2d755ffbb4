"""Stripe webhooks: verified, handled once, safe in any order.

Each event is stored in a `StripeEvent` row (unique `stripe_event_id`) in the same transaction
as its effect, with the outcome; a redelivery, concurrent or not, finds the row and does
nothing. Stripe does not deliver in order, so each handler works from what the event itself
says: an invoice can start a subscription before its checkout session completes, and
subscription changes older than the newest one applied are ignored. Every grant and clawback
also has its own unique ledger reference (`invoice:<id>`, `topup:<checkout>`).
"""

import json
import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from billing.models import (
    CheckoutSession,
    CreditAccount,
    LedgerEntry,
    StripeEvent,
    StripePayment,
    Subscription,
    Tier,
)
from billing.payments import subscription_get_or_create
from billing.services import DEFAULT_TIER, credits_clawback, credits_grant, tier_set
from billing.stripe_client import PaymentsNotConfigured, tier_for_price
from core.errors import ApplicationError

logger = logging.getLogger(__name__)
Status = Subscription.Status
ENDED = {Status.CANCELED, Status.UNPAID, Status.INCOMPLETE_EXPIRED}
LIVE = {Status.ACTIVE, Status.TRIALING, Status.PAST_DUE}
SIGNATURE_TOLERANCE = 300


def stripe_webhook_verify(*, payload: bytes, signature: str) -> dict:
    """The event in `payload` if Stripe signed it in the last five minutes; 400 otherwise."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured(
            "Stripe webhooks are not configured: the operator sets STRIPE_WEBHOOK_SECRET.")
    try:
        stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET,
                                       tolerance=SIGNATURE_TOLERANCE)
    except stripe.SignatureVerificationError:
        raise ApplicationError("The Stripe signature is missing, wrong or too old.",
                               code="invalid_signature") from None
    except (ValueError, TypeError, AttributeError, KeyError):  # signed, but not an event
        raise ApplicationError("Not a Stripe event.", code="invalid_event") from None
    event = json.loads(payload)
    if not (isinstance(event, dict) and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str) and isinstance(event.get("created"), int)
            and isinstance(_dig(event, "data", "object"), dict)):
        raise ApplicationError("Not a Stripe event.", code="invalid_event")
    return event


def stripe_event_process(*, event: dict) -> tuple[StripeEvent, bool]:
    """Handle a verified event once. Returns (row, handled now). A handler that fails rolls
    the row back with its effect, so Stripe's retry gets another go."""
    with transaction.atomic():
        row, created = StripeEvent.objects.get_or_create(
            stripe_event_id=str(event["id"]),
            defaults={"type": str(event["type"])[:100], "payload": event,
                      "livemode": bool(event.get("livemode")),
                      "stripe_created": _time(event["created"])})
        if not created:
            return row, False
        handler = HANDLERS.get(row.type)
        outcome = handler(event["data"]["object"], event) if handler else "ignored: event type"
        row.outcome = outcome[:255]
        row.save(update_fields=["outcome"])
    logger.info("Stripe event %s (%s): %s", row.stripe_event_id, row.type, row.outcome)
    return row, True


# --- helpers ------------------------------------------------------------------------------

def _time(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def _dig(obj, *path):
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and len(obj) > key:
            obj = obj[key]
        else:
            return None
    return obj


def _account_for(obj: dict) -> CreditAccount | None:
    """The account an object belongs to: by its customer, else by the metadata we set."""
    customer = obj.get("customer")
    if customer:
        subscription = Subscription.objects.select_related("account__user").filter(
            stripe_customer_id=customer).first()
        if subscription is not None:
            return subscription.account
    user_id = (_dig(obj, "metadata", "user_id")
               or _dig(obj, "parent", "subscription_details", "metadata", "user_id"))
    if user_id and str(user_id).isdigit():
        account = CreditAccount.objects.select_related("user").filter(user_id=user_id).first()
        if account is not None and customer:
            subscription = subscription_get_or_create(account=account)
            if not subscription.stripe_customer_id:
                Subscription.objects.filter(pk=subscription.pk).update(
                    stripe_customer_id=customer)
        return account
    return None


def _subscription_start(*, account: CreditAccount, subscription_id: str, tier: Tier,
                        period_end: datetime | None) -> bool:
    """Start the plan from a checkout or an invoice, unless the subscription's own events
    have already said how things stand (they are the authority)."""
    subscription = Subscription.objects.select_for_update().get(
        pk=subscription_get_or_create(account=account).pk)
    if subscription.stripe_updated_at is not None:
        if not subscription.stripe_subscription_id:
            subscription.stripe_subscription_id = subscription_id
            subscription.save(update_fields=["stripe_subscription_id", "updated_at"])
        return False
    if subscription.stripe_subscription_id == subscription_id and subscription.status in LIVE:
        # The checkout or the invoice, whichever came second; only the invoice knows the period.
        if period_end is not None:
            subscription.current_period_end = period_end
            subscription.save(update_fields=["current_period_end", "updated_at"])
        return False
    subscription.stripe_subscription_id = subscription_id
    subscription.status = Status.ACTIVE
    subscription.tier = tier
    if period_end is not None:
        subscription.current_period_end = period_end
    subscription.save(update_fields=["stripe_subscription_id", "status", "tier",
                                     "current_period_end", "updated_at"])
    tier_set(user=account.user, tier=tier)
    return True


# --- handlers: each returns the outcome recorded on the event row --------------------------

def _checkout_completed(session: dict, event: dict) -> str:
    checkout_id = _dig(session, "metadata", "checkout_id")
    lookup = Q(stripe_session_id=session.get("id"))
    if checkout_id and str(checkout_id).isdigit():
        lookup |= Q(pk=int(checkout_id))
    row = CheckoutSession.objects.select_for_update(of=("self",)).filter(lookup).select_related(
        "user", "tier").first()
    if row is None:
        return "ignored: not one of our checkout sessions"
    if session.get("payment_status") not in {"paid", "no_payment_required"}:
        return "waiting: the payment has not cleared yet"
    row.stripe_session_id = row.stripe_session_id or session.get("id")
    row.status = CheckoutSession.Status.COMPLETED
    row.save(update_fields=["stripe_session_id", "status", "updated_at"])
    account = CreditAccount.objects.select_related("user").get(user=row.user)
    if row.kind == CheckoutSession.Kind.TOPUP:
        reference = f"topup:{row.pk}"
        credits_grant(user=row.user, amount=row.credits, reference=reference,
                      kind=LedgerEntry.Kind.TOPUP, description=f"Top-up of {row.credits} credits")
        if session.get("payment_intent"):
            StripePayment.objects.get_or_create(payment_intent=session["payment_intent"], defaults={
                "account": account, "credits_reference": reference, "credits": row.credits,
                "amount_pence": session.get("amount_total") or row.amount_pence})
        return f"granted {row.credits} top-up credits"
    started = _subscription_start(account=account,
                                  subscription_id=session.get("subscription") or "",
                                  tier=row.tier, period_end=None)
    return (f"subscription to {row.tier.slug} started" if started
            else "subscription already known from its own events")


def _checkout_expired(session: dict, event: dict) -> str:
    updated = CheckoutSession.objects.filter(
        stripe_session_id=session.get("id"), status__in=[CheckoutSession.Status.CREATED,
                                                         CheckoutSession.Status.OPEN]
    ).update(status=CheckoutSession.Status.EXPIRED)
    return "checkout expired" if updated else "ignored: not an open checkout of ours"


def _invoice_paid(invoice: dict, event: dict) -> str:
    subscription_id = (invoice.get("subscription")
                       or _dig(invoice, "parent", "subscription_details", "subscription"))
    if not subscription_id:
        return "ignored: not a subscription invoice"
    account = _account_for(invoice)
    if account is None:
        return "ignored: unknown customer"
    line = _dig(invoice, "lines", "data", 0) or {}
    price_id = (_dig(line, "price", "id")
                or _dig(line, "pricing", "price_details", "price"))
    tier = tier_for_price(price_id)
    if tier is None:
        return f"ignored: price {price_id} is not one of our plans"
    period_end = _time(_dig(line, "period", "end"))
    reference = f"invoice:{invoice['id']}"
    outcome = f"plan {tier.slug}"
    if tier.monthly_credits > 0:
        credits_grant(user=account.user, amount=tier.monthly_credits, reference=reference,
                      kind=LedgerEntry.Kind.GRANT, expires_at=period_end,
                      description=f"{tier.name} plan credits"
                                  + (f" until {period_end:%d %b %Y}" if period_end else ""))
        outcome = f"granted {tier.monthly_credits} {tier.slug} credits"
        payment_intent = (invoice.get("payment_intent")
                          or _dig(invoice, "payments", "data", 0, "payment", "payment_intent"))
        if payment_intent:
            StripePayment.objects.get_or_create(payment_intent=payment_intent, defaults={
                "account": account, "credits_reference": reference,
                "credits": tier.monthly_credits,
                "amount_pence": invoice.get("amount_paid") or 0})
    if _subscription_start(account=account, subscription_id=subscription_id, tier=tier,
                           period_end=period_end):
        outcome += "; subscription started"
    return outcome


def _subscription_changed(obj: dict, event: dict) -> str:
    account = _account_for(obj)
    if account is None:
        return "ignored: unknown customer"
    subscription = Subscription.objects.select_for_update().get(
        pk=subscription_get_or_create(account=account).pk)
    at = _time(event["created"])
    same = subscription.stripe_subscription_id == obj["id"]
    status = Status.CANCELED if event["type"].endswith(".deleted") else obj.get("status")
    if status not in Status.values:
        return f"ignored: unknown status {status}"
    if subscription.stripe_subscription_id and not same and subscription.status in LIVE \
            and status not in LIVE:
        return "ignored: not the account's current subscription"
    if same and subscription.stripe_updated_at is not None:
        if at < subscription.stripe_updated_at or event["type"].endswith(".created"):
            return "ignored: older than the state already applied"
        if subscription.status == Status.CANCELED:
            return "ignored: the subscription has ended"
    item = _dig(obj, "items", "data", 0) or {}
    tier = tier_for_price(_dig(item, "price", "id")) or subscription.tier
    subscription.stripe_subscription_id = obj["id"]
    subscription.status = status
    subscription.tier = tier
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    subscription.current_period_end = _time(obj.get("current_period_end")
                                            or item.get("current_period_end"))
    subscription.stripe_updated_at = at
    subscription.save()
    if status in LIVE and tier is not None:
        tier_set(user=account.user, tier=tier)
        if subscription.cancel_at_period_end:
            return f"{tier.slug} until the period ends, then canceled"
        return f"plan {tier.slug} ({status})"
    if status in ENDED:
        tier_set(user=account.user, tier=Tier.objects.get(slug=DEFAULT_TIER))
        return f"subscription {status}: back to {DEFAULT_TIER}"
    return f"status {status}: plan unchanged"


def _charge_refunded(charge: dict, event: dict) -> str:
    payment = StripePayment.objects.filter(payment_intent=charge.get("payment_intent")).first()
    if payment is None:
        return "ignored: no credits were bought with this payment"
    refunded = int(charge.get("amount_refunded") or 0)
    total = payment.amount_pence or int(charge.get("amount") or 0)
    if total <= 0:
        return "ignored: nothing was paid"
    credits = min(payment.credits, payment.credits * refunded // total)
    reference = f"clawback:{payment.payment_intent}:{refunded}"
    if LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CLAWBACK, reference=reference).exists():
        return "nothing more to take back"
    entry = credits_clawback(grant_reference=payment.credits_reference, credits=credits,
                             reference=reference, description="Payment refunded")
    if entry is None:
        return "nothing more to take back"
    return entry.description


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.expired": _checkout_expired,
    "invoice.paid": _invoice_paid,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "charge.refunded": _charge_refunded,
}
