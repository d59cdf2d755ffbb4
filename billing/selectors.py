from django.db.models import F, QuerySet

from billing.models import CreditBucket, FeatureGate, LedgerEntry, Subscription, Tier


def tier_list_public(*, with_gates: bool = True) -> QuerySet[Tier]:
    tiers = Tier.objects.filter(is_public=True).order_by("rank")
    return tiers.prefetch_related("gates") if with_gates else tiers


def tier_features(*, tier: Tier) -> list[str]:
    """Codes of the gated features this tier includes."""
    return [g.code for g in FeatureGate.objects.select_related("min_tier")
            if g.min_tier.rank <= tier.rank]


def credit_history_for_user(*, user) -> QuerySet[LedgerEntry]:
    # The bucket join gives each entry the expiry of the credits it added.
    return (LedgerEntry.objects.filter(account__user=user).select_related("bucket")
            .order_by("-created_at", "-id"))


def tier_limits(*, tier: Tier) -> dict:
    return {
        "monthly_credits": tier.monthly_credits,
        "max_resolution": tier.max_resolution_label,
        "max_resolution_height": tier.max_resolution,
        "max_frames": tier.max_frames,
        "watermark": tier.watermark,
        "daily_api_calls": tier.daily_api_calls,
        "features": tier_features(tier=tier),
    }


def credit_buckets_live(*, user) -> QuerySet[CreditBucket]:
    """Credits the user holds, in the order they are spent (soonest expiry first)."""
    return CreditBucket.objects.filter(account__user=user, remaining__gt=0).order_by(
        F("expires_at").asc(nulls_last=True), "id")


def subscription_for_user(*, user) -> Subscription | None:
    return Subscription.objects.select_related("tier").filter(account__user=user).first()
