from datetime import datetime

from rest_framework import serializers

from billing.models import LedgerEntry, Tier
from billing.pricing import TOPUP_MAX_CREDITS, TOPUP_MIN_CREDITS


class TierSerializer(serializers.ModelSerializer):
    max_resolution = serializers.CharField(source="max_resolution_label")
    max_resolution_height = serializers.IntegerField(source="max_resolution")
    features = serializers.SerializerMethodField()

    class Meta:
        model = Tier
        fields = ["slug", "name", "rank", "monthly_credits", "max_resolution",
                  "max_resolution_height", "max_frames", "watermark", "price_monthly_pence",
                  "daily_api_calls", "features"]

    def get_features(self, obj) -> list[str]:
        features = self.context.get("features_by_tier", {})
        return features.get(obj.slug, [])


class LedgerEntrySerializer(serializers.ModelSerializer):
    expires_at = serializers.SerializerMethodField(
        help_text="When the credits this entry added expire; null for permanent credits and "
                  "for entries that added none.")

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "reference", "description",
                  "expires_at", "created_at"]

    def get_expires_at(self, obj) -> datetime | None:
        bucket = getattr(obj, "bucket", None)
        return bucket.expires_at if bucket is not None else None


class CreditsSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    tier = serializers.CharField()
    tier_name = serializers.CharField()
    monthly_allowance = serializers.IntegerField()


class LimitsSerializer(serializers.Serializer):
    monthly_credits = serializers.IntegerField()
    max_resolution = serializers.CharField()
    max_resolution_height = serializers.IntegerField()
    max_frames = serializers.IntegerField()
    watermark = serializers.BooleanField()
    daily_api_calls = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    features = serializers.ListField(child=serializers.CharField())


class AuthCheckSerializer(serializers.Serializer):
    authenticated = serializers.BooleanField()
    user = serializers.DictField(required=False)
    tier = serializers.CharField(required=False)
    credits = serializers.IntegerField(required=False)
    limits = LimitsSerializer(required=False)


class CreditBucketSerializer(serializers.Serializer):
    credits = serializers.IntegerField(source="remaining")
    expires_at = serializers.DateTimeField(allow_null=True)


class CreditsDetailSerializer(CreditsSerializer):
    debt = serializers.IntegerField(help_text="Refunded credits that had been spent; the next "
                                              "credits added settle it.")
    buckets = CreditBucketSerializer(many=True, help_text="What the balance is made of, in "
                                                          "the order it is spent.")


class RateLimitInfoSerializer(serializers.Serializer):
    tier = serializers.CharField()
    limit = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    reset_time = serializers.DateTimeField()


class AccountSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    credits = serializers.IntegerField()
    subscription_tier = serializers.CharField()
    rate_limit_info = RateLimitInfoSerializer()
    created_at = serializers.DateTimeField()


class SubscriptionSerializer(serializers.Serializer):
    tier = serializers.CharField()
    tier_name = serializers.CharField()
    monthly_credits = serializers.IntegerField()
    status = serializers.CharField(allow_blank=True, help_text="Stripe's status; empty "
                                                               "without a subscription.")
    cancel_at_period_end = serializers.BooleanField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    payments_enabled = serializers.BooleanField()


class CheckoutRequestSerializer(serializers.Serializer):
    tier = serializers.SlugField(max_length=32)


class TopupRequestSerializer(serializers.Serializer):
    credits = serializers.IntegerField(min_value=TOPUP_MIN_CREDITS, max_value=TOPUP_MAX_CREDITS)


class CheckoutResponseSerializer(serializers.Serializer):
    checkout_url = serializers.URLField()
    session_id = serializers.CharField()


class PortalResponseSerializer(serializers.Serializer):
    url = serializers.URLField()


class StripeConfigSerializer(serializers.Serializer):
    publishable_key = serializers.CharField()
