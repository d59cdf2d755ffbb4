from datetime import datetime

from rest_framework import serializers

from billing.models import LedgerEntry, Tier


class TierSerializer(serializers.ModelSerializer):
    max_resolution = serializers.CharField(source="max_resolution_label")
    max_resolution_height = serializers.IntegerField(source="max_resolution")
    features = serializers.SerializerMethodField()

    class Meta:
        model = Tier
        fields = ["slug", "name", "rank", "monthly_credits", "max_resolution",
                  "max_resolution_height", "max_frames", "watermark", "price_monthly_pence",
                  "features"]

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
    features = serializers.ListField(child=serializers.CharField())


class AuthCheckSerializer(serializers.Serializer):
    authenticated = serializers.BooleanField()
    user = serializers.DictField(required=False)
    tier = serializers.CharField(required=False)
    credits = serializers.IntegerField(required=False)
    limits = LimitsSerializer(required=False)
