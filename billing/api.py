from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSerializer
from billing.models import FeatureGate
from billing.payments import (
    portal_session_create,
    subscription_checkout_create,
    topup_checkout_create,
)
from billing.pricing import cost_rules
from billing.quotas import api_quota_status
from billing.selectors import (
    credit_buckets_live,
    credit_history_for_user,
    subscription_for_user,
    tier_limits,
    tier_list_public,
)
from billing.serializers import (
    AccountSerializer,
    AuthCheckSerializer,
    CheckoutRequestSerializer,
    CheckoutResponseSerializer,
    CreditsDetailSerializer,
    LedgerEntrySerializer,
    PortalResponseSerializer,
    StripeConfigSerializer,
    SubscriptionSerializer,
    TierSerializer,
    TopupRequestSerializer,
)
from billing.services import credit_account_get
from billing.stripe_client import PaymentsNotConfigured, payments_enabled
from billing.webhooks import stripe_event_process, stripe_webhook_verify

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Repeat a request with the same key to get the same checkout session.")


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
    @extend_schema(responses={200: CreditsDetailSerializer}, tags=["credits"],
                   summary="Credit balance, plan, monthly allowance and when credits expire")
    def get(self, request):
        account = credit_account_get(user=request.user)
        return Response(CreditsDetailSerializer({
            "balance": account.balance,
            "tier": account.tier.slug,
            "tier_name": account.tier.name,
            "monthly_allowance": account.tier.monthly_credits,
            "debt": account.debt,
            "buckets": credit_buckets_live(user=request.user),
        }).data)


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


class AccountApi(APIView):
    @extend_schema(responses={200: AccountSerializer}, tags=["account"],
                   summary="Account, credits, plan and today's API-call quota (PromptToVideo)")
    def get(self, request):
        account = credit_account_get(user=request.user)
        return Response(AccountSerializer({
            "user_id": request.user.pk,
            "email": request.user.email,
            "credits": account.balance,
            "subscription_tier": account.tier.slug,
            "rate_limit_info": api_quota_status(user=request.user, tier=account.tier).as_dict(),
            "created_at": request.user.date_joined,
        }).data)


class SubscriptionApi(APIView):
    @extend_schema(responses={200: SubscriptionSerializer}, tags=["billing"],
                   summary="The current plan and subscription")
    def get(self, request):
        account = credit_account_get(user=request.user)
        subscription = subscription_for_user(user=request.user)
        return Response(SubscriptionSerializer({
            "tier": account.tier.slug,
            "tier_name": account.tier.name,
            "monthly_credits": account.tier.monthly_credits,
            "status": subscription.status if subscription else "",
            "cancel_at_period_end": bool(subscription and subscription.cancel_at_period_end),
            "current_period_end": subscription.current_period_end if subscription else None,
            "payments_enabled": payments_enabled(),
        }).data)


class CreateCheckoutApi(APIView):
    @extend_schema(request=CheckoutRequestSerializer, parameters=[IDEMPOTENCY_KEY],
                   responses={200: CheckoutResponseSerializer}, tags=["billing"],
                   summary="Start a Stripe Checkout Session for a plan (subscription)")
    def post(self, request):
        data = CheckoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = subscription_checkout_create(
            user=request.user, tier=data.validated_data["tier"],
            idempotency_key=request.headers.get("Idempotency-Key", ""))
        return Response({"checkout_url": row.url, "session_id": row.stripe_session_id})


class TopupApi(APIView):
    @extend_schema(request=TopupRequestSerializer, responses={200: CheckoutResponseSerializer},
                   tags=["credits"], parameters=[IDEMPOTENCY_KEY],
                   summary="Buy 100-50,000 credits at 1p each through Stripe Checkout")
    def post(self, request):
        data = TopupRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = topup_checkout_create(
            user=request.user, credits=data.validated_data["credits"],
            idempotency_key=request.headers.get("Idempotency-Key", ""))
        return Response({"checkout_url": row.url, "session_id": row.stripe_session_id})


class CreatePortalApi(APIView):
    @extend_schema(request=None, responses={200: PortalResponseSerializer}, tags=["billing"],
                   summary="Open the Stripe customer portal (change or cancel the plan)")
    def post(self, request):
        return Response({"url": portal_session_create(user=request.user)})


class StripeConfigApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: StripeConfigSerializer}, tags=["billing"],
                   summary="Public: the Stripe publishable key (503 when payments are off)")
    def get(self, request):
        if not (payments_enabled() and settings.STRIPE_PUBLISHABLE_KEY):
            raise PaymentsNotConfigured("Payments are not configured on this server.")
        return Response({"publishable_key": settings.STRIPE_PUBLISHABLE_KEY})


class StripeWebhookApi(APIView):
    """Stripe's signed events; the signature is the authentication."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    # Stripe sends bursts (and retries); a bad signature is refused before any work is done.
    throttle_classes: list = []

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT},
                   responses={200: inline_serializer("StripeWebhookResult", {
                       "received": serializers.BooleanField(),
                       "duplicate": serializers.BooleanField(),
                       "outcome": serializers.CharField()})},
                   tags=["billing"], auth=[],
                   summary="Stripe webhook endpoint (Stripe-Signature verified)")
    def post(self, request):
        event = stripe_webhook_verify(payload=request.body,
                                      signature=request.headers.get("Stripe-Signature", ""))
        row, handled = stripe_event_process(event=event)
        return Response({"received": True, "duplicate": not handled, "outcome": row.outcome})
