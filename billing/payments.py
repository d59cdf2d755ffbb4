"""Payment services: Stripe customers, Checkout Sessions for plans and top-ups, the portal.

The Stripe call happens outside any transaction (it is slow I/O) and carries an idempotency
key made from our own row id, so a retried request or task asks Stripe for the same object
instead of a second one. What the payment does to credits and plans happens only when the
signed webhook arrives (`billing.webhooks`).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from accounts.models import User
from billing.models import CheckoutSession, CreditAccount, Subscription, Tier
from billing.pricing import TOPUP_MAX_CREDITS, TOPUP_MIN_CREDITS, TOPUP_PENCE_PER_CREDIT
from billing.services import DEFAULT_TIER, credit_account_get
from billing.stripe_client import (
    PaymentProviderError,
    stripe_client,
    stripe_errors,
    tier_price_id,
)
from core.errors import Conflict


def _billing_url(outcome: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('billing')}?checkout={outcome}"


def subscription_get_or_create(*, account: CreditAccount) -> Subscription:
    subscription, _ = Subscription.objects.get_or_create(account=account)
    return subscription


def stripe_customer_ensure(*, user: User) -> str:
    """The user's Stripe customer id, created once (idempotency key
    `customer-<account>-<failed attempts>`: a retry after a failure must not get the failure
    replayed, a retry after a lost answer must get the same customer)."""
    client = stripe_client()
    account = credit_account_get(user=user)
    subscription = subscription_get_or_create(account=account)
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    try:
        with stripe_errors():
            customer = client.v1.customers.create(
                params={"email": user.email, "name": user.public_name,
                        "metadata": {"user_id": str(user.pk), "account_id": str(account.pk)}},
                options={"idempotency_key":
                         f"customer-{account.pk}-{subscription.customer_attempts}"})
    except PaymentProviderError:
        Subscription.objects.filter(pk=subscription.pk).update(
            customer_attempts=F("customer_attempts") + 1)
        raise
    # Two requests racing here got the same customer from Stripe; the first one stores it.
    Subscription.objects.filter(pk=subscription.pk, stripe_customer_id__isnull=True).update(
        stripe_customer_id=customer.id)
    subscription.refresh_from_db(fields=["stripe_customer_id"])
    return subscription.stripe_customer_id


def _checkout_row(*, user: User, idempotency_key: str, **fields
                  ) -> tuple[CheckoutSession, bool]:
    """Our row for a new checkout, or the one an earlier request with the same client
    Idempotency-Key made (then returned as is when it already has its Stripe session)."""
    key = (idempotency_key or "")[:255]
    existing = None
    if key:
        existing = CheckoutSession.objects.filter(user=user, idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return CheckoutSession.objects.create(user=user, idempotency_key=key,
                                                      **fields), True
        except IntegrityError:  # the same key, concurrently
            existing = CheckoutSession.objects.get(user=user, idempotency_key=key)
    if any(getattr(existing, name) != value for name, value in fields.items()):
        raise Conflict("This Idempotency-Key was used for a different request.",
                       code="idempotency_key_reused")
    return existing, False


def subscription_checkout_create(*, user: User, tier: str,
                                 idempotency_key: str = "") -> CheckoutSession:
    """A Checkout Session in subscription mode for the plan `tier` (a slug)."""
    client = stripe_client()
    plan = Tier.objects.filter(slug=tier).exclude(slug=DEFAULT_TIER).first()
    if plan is None or not tier_price_id(plan):
        raise ValidationError({"tier": [f"“{tier}” is not a plan you can subscribe to."]})
    account = credit_account_get(user=user)
    current = Subscription.objects.filter(account=account).first()
    if current is not None and current.is_live:
        raise Conflict("You already have a subscription: change plans in the billing portal.",
                       code="subscription_exists")
    customer = stripe_customer_ensure(user=user)
    row, created = _checkout_row(user=user, idempotency_key=idempotency_key,
                                 kind=CheckoutSession.Kind.SUBSCRIPTION, tier=plan)
    if not created and row.url:
        return row
    metadata = {"checkout_id": str(row.pk), "user_id": str(user.pk), "tier": plan.slug}
    return _session_create(client, row, {
        "mode": "subscription", "customer": customer, "client_reference_id": str(user.pk),
        "line_items": [{"price": tier_price_id(plan), "quantity": 1}],
        "success_url": _billing_url("success"), "cancel_url": _billing_url("canceled"),
        "metadata": metadata,
        "subscription_data": {"metadata": {"user_id": str(user.pk), "tier": plan.slug}},
    })


def topup_checkout_create(*, user: User, credits: int,
                          idempotency_key: str = "") -> CheckoutSession:
    """A Checkout Session in payment mode for `credits` credits at 1p each."""
    if not isinstance(credits, int) or not TOPUP_MIN_CREDITS <= credits <= TOPUP_MAX_CREDITS:
        raise ValidationError({"credits": [
            f"Buy between {TOPUP_MIN_CREDITS} and {TOPUP_MAX_CREDITS} credits."]})
    client = stripe_client()
    customer = stripe_customer_ensure(user=user)
    row, created = _checkout_row(user=user, idempotency_key=idempotency_key,
                                 kind=CheckoutSession.Kind.TOPUP, credits=credits,
                                 amount_pence=credits * TOPUP_PENCE_PER_CREDIT)
    if not created and row.url:
        return row
    metadata = {"checkout_id": str(row.pk), "user_id": str(user.pk), "credits": str(credits)}
    return _session_create(client, row, {
        "mode": "payment", "customer": customer, "client_reference_id": str(user.pk),
        "line_items": [{
            "price_data": {"currency": settings.STRIPE_CURRENCY,
                           "unit_amount": TOPUP_PENCE_PER_CREDIT,
                           "product_data": {"name": "Reelforge credits"}},
            "quantity": credits}],
        "success_url": _billing_url("success"), "cancel_url": _billing_url("canceled"),
        "metadata": metadata, "payment_intent_data": {"metadata": metadata},
    })


def _session_create(client, row: CheckoutSession, params: dict) -> CheckoutSession:
    """Ask Stripe for the session of `row`. Stripe keeps the answer to an idempotency key,
    failures included, so a failed row gives up its client key: a retry makes a new row and
    with it a new Stripe key. (Should Stripe have made the session after all, a payment on it
    still finds the row through the metadata.)"""
    try:
        with stripe_errors():
            session = client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"checkout-{row.pk}"})
    except PaymentProviderError:
        CheckoutSession.objects.filter(pk=row.pk).update(
            idempotency_key="", status=CheckoutSession.Status.EXPIRED)
        raise
    row.stripe_session_id = session.id
    row.url = session.url or ""
    row.status = CheckoutSession.Status.OPEN
    row.save(update_fields=["stripe_session_id", "url", "status", "updated_at"])
    return row


def portal_session_create(*, user: User) -> str:
    """The URL of a Stripe customer portal session (manage or cancel the plan, invoices)."""
    client = stripe_client()
    customer = stripe_customer_ensure(user=user)
    with stripe_errors():
        session = client.v1.billing_portal.sessions.create(params={
            "customer": customer,
            "return_url": f"{settings.SITE_URL.rstrip('/')}{reverse('billing')}"})
    return session.url
