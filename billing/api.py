from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSerializer
from billing.models import FeatureGate
from billing.pricing import cost_rules
from billing.selectors import credit_history_for_user, tier_limits, tier_list_public
from billing.serializers import (
    AuthCheckSerializer,
    CreditsSerializer,
    LedgerEntrySerializer,
    TierSerializer,
)
from billing.services import credit_account_get


class AuthCheckApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: AuthCheckSerializer}, tags=["auth"],
                   summary="Auth state, plan, credit balance and plan limits")
    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"authenticated": False})
        account = credit_account_get(user=request.user)
        return Response({
            "authenticated": True,
            "user": UserSerializer(request.user).data,
            "tier": account.tier.slug,
            "credits": account.balance,
            "limits": tier_limits(tier=account.tier),
        })


class CreditsApi(APIView):
    @extend_schema(responses={200: CreditsSerializer}, tags=["credits"],
                   summary="Credit balance, plan and monthly allowance")
    def get(self, request):
        account = credit_account_get(user=request.user)
        return Response({
            "balance": account.balance,
            "tier": account.tier.slug,
            "tier_name": account.tier.name,
            "monthly_allowance": account.tier.monthly_credits,
        })


@extend_schema(tags=["credits"], summary="The credit ledger, newest first (?limit=&offset=)")
class CreditHistoryApi(ListAPIView):
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return credit_history_for_user(user=self.request.user)


class PricingApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={200: inline_serializer("Pricing", {
            "tiers": TierSerializer(many=True),
            "feature_gates": serializers.DictField(),
            "costs": serializers.DictField(),
        })},
        tags=["credits"], summary="Public: plans, feature gates and credit costs",
    )
    def get(self, request):
        tiers = list(tier_list_public())
        gates = list(FeatureGate.objects.select_related("min_tier"))
        features_by_tier = {
            t.slug: [g.code for g in gates if g.min_tier.rank <= t.rank] for t in tiers
        }
        return Response({
            "tiers": TierSerializer(tiers, many=True,
                                    context={"features_by_tier": features_by_tier}).data,
            "feature_gates": {g.code: {"name": g.name, "min_tier": g.min_tier.slug}
                              for g in gates},
            "costs": cost_rules(),
        })
