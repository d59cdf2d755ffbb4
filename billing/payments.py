"""Payment services: Stripe customers, Checkout Sessions for plans and top-ups, the portal.

The Stripe call happens outside any transaction (it is slow I/O) and carries an idempotency
key made from our own row id, so a retried request or task asks Stripe for the same object
instead of a second one. What the payment does to credits and plans happens only when the
signed webhook arrives (`billing.webhooks`).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from billing.models import CheckoutSession, CreditAccount, Subscription, Tier
from billing.pricing import TOPUP_MAX_CREDITS, TOPUP_MIN_CREDITS, TOPUP_PENCE_PER_CREDIT
from billing.services import DEFAULT_TIER, credit_account_get
from billing.stripe_client import stripe_client, stripe_errors, tier_price_id
from core.errors import Conflict


def _billing_url(outcome: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('billing')}?checkout={outcome}"


def subscription_get_or_create(*, account: CreditAccount) -> Subscription:
    subscription, _ = Subscription.objects.get_or_create(account=account)
    return subscription


def stripe_customer_ensure(*, user: User) -> str:
    """The user's Stripe customer id, created once (idempotency key `customer-<account>`)."""
    client = stripe_client()
    account = credit_account_get(user=user)
    subscription = subscription_get_or_create(account=account)
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    with stripe_errors():
        customer = client.v1.customers.create(
            params={"email": user.email, "name": user.public_name,
                    "metadata": {"user_id": str(user.pk), "account_id": str(account.pk)}},
            options={"idempotency_key": f"customer-{account.pk}"})
    # Two requests racing here got the same customer from Stripe; the first one stores it.
    Subscription.objects.filter(pk=subscription.pk, stripe_customer_id__isnull=True).update(
        stripe_customer_id=customer.id)
    subscription.refresh_from_db(fields=["stripe_customer_id"])
    return subscription.stripe_customer_id


def subscription_checkout_create(*, user: User, tier: str) -> CheckoutSession:
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
    row = CheckoutSession.objects.create(user=user, kind=CheckoutSession.Kind.SUBSCRIPTION,
                                         tier=plan)
    metadata = {"checkout_id": str(row.pk), "user_id": str(user.pk), "tier": plan.slug}
    with stripe_errors():
        session = client.v1.checkout.sessions.create(params={
            "mode": "subscription", "customer": customer, "client_reference_id": str(user.pk),
            "line_items": [{"price": tier_price_id(plan), "quantity": 1}],
            "success_url": _billing_url("success"), "cancel_url": _billing_url("canceled"),
            "metadata": metadata,
            "subscription_data": {"metadata": {"user_id": str(user.pk), "tier": plan.slug}},
        }, options={"idempotency_key": f"checkout-{row.pk}"})
    return _opened(row, session)


def topup_checkout_create(*, user: User, credits: int) -> CheckoutSession:
    """A Checkout Session in payment mode for `credits` credits at 1p each."""
    if not isinstance(credits, int) or not TOPUP_MIN_CREDITS <= credits <= TOPUP_MAX_CREDITS:
        raise ValidationError({"credits": [
            f"Buy between {TOPUP_MIN_CREDITS} and {TOPUP_MAX_CREDITS} credits."]})
    client = stripe_client()
    customer = stripe_customer_ensure(user=user)
    row = CheckoutSession.objects.create(
        user=user, kind=CheckoutSession.Kind.TOPUP, credits=credits,
        amount_pence=credits * TOPUP_PENCE_PER_CREDIT)
    metadata = {"checkout_id": str(row.pk), "user_id": str(user.pk), "credits": str(credits)}
    with stripe_errors():
        session = client.v1.checkout.sessions.create(params={
            "mode": "payment", "customer": customer, "client_reference_id": str(user.pk),
            "line_items": [{
                "price_data": {"currency": settings.STRIPE_CURRENCY,
                               "unit_amount": TOPUP_PENCE_PER_CREDIT,
                               "product_data": {"name": "Reelforge credits"}},
                "quantity": credits}],
            "success_url": _billing_url("success"), "cancel_url": _billing_url("canceled"),
            "metadata": metadata, "payment_intent_data": {"metadata": metadata},
        }, options={"idempotency_key": f"checkout-{row.pk}"})
    return _opened(row, session)


def _opened(row: CheckoutSession, session) -> CheckoutSession:
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
