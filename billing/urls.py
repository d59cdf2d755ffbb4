from django.urls import path

from billing import api, views

api_urlpatterns = [
    path("auth/check", api.AuthCheckApi.as_view(), name="api-auth-check"),
    path("credits", api.CreditsApi.as_view(), name="api-credits"),
    path("credits/history", api.CreditHistoryApi.as_view(), name="api-credits-history"),
    path("credits/topup", api.TopupApi.as_view(), name="api-credits-topup"),
    path("pricing", api.PricingApi.as_view(), name="api-pricing"),
    path("account", api.AccountApi.as_view(), name="api-account"),
    path("subscription", api.SubscriptionApi.as_view(), name="api-subscription"),
    path("stripe/create-checkout", api.CreateCheckoutApi.as_view(), name="api-stripe-checkout"),
    path("stripe/create-portal", api.CreatePortalApi.as_view(), name="api-stripe-portal"),
    path("stripe/config", api.StripeConfigApi.as_view(), name="api-stripe-config"),
    path("stripe/webhook", api.StripeWebhookApi.as_view(), name="api-stripe-webhook"),
]

urlpatterns = [
    path("", views.home_view, name="home"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("credits/", views.credits_view, name="credits"),
    path("pricing/", views.pricing_view, name="pricing"),
    path("billing/", views.billing_view, name="billing"),
    path("billing/checkout/", views.billing_checkout_view, name="billing-checkout"),
    path("billing/topup/", views.billing_topup_view, name="billing-topup"),
    path("billing/portal/", views.billing_portal_view, name="billing-portal"),
]
