"""The configured Stripe client, plan prices, and how Stripe failures reach our clients."""

import logging
from contextlib import contextmanager

import stripe
from django.conf import settings

from billing.models import Tier
from core.errors import ApplicationError

logger = logging.getLogger(__name__)


class PaymentsNotConfigured(ApplicationError):
    status_code = 503
    default_code = "payments_not_configured"


class PaymentProviderError(ApplicationError):
    status_code = 502
    default_code = "payment_provider_error"


def payments_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    """A client for the configured account; 503 `payments_not_configured` without a key."""
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsNotConfigured(
            "Payments are not configured on this server: the operator sets STRIPE_SECRET_KEY.")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base,
                               max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES)


@contextmanager
def stripe_errors():
    """Stripe's failures become a 502 with Stripe's own message (never our key)."""
    try:
        yield
    except stripe.StripeError as exc:
        logger.warning("Stripe call failed: %s (request %s)", exc.user_message or exc,
                       getattr(exc, "request_id", None))
        raise PaymentProviderError(
            f"The payment provider refused the request: {exc.user_message or 'unknown error'}",
            provider_code=getattr(exc, "code", None) or "") from None


def tier_price_id(tier: Tier) -> str:
    return tier.stripe_price_id or settings.STRIPE_PRICE_IDS.get(tier.slug, "")


def tier_for_price(price_id: str | None) -> Tier | None:
    if not price_id:
        return None
    tier = Tier.objects.filter(stripe_price_id=price_id).first()
    if tier is not None:
        return tier
    slugs = [slug for slug, price in settings.STRIPE_PRICE_IDS.items() if price == price_id]
    return Tier.objects.filter(slug__in=slugs, stripe_price_id="").first() if slugs else None
