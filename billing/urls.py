from django.urls import path

from billing import api, views

api_urlpatterns = [
    path("auth/check", api.AuthCheckApi.as_view(), name="api-auth-check"),
    path("credits", api.CreditsApi.as_view(), name="api-credits"),
    path("credits/history", api.CreditHistoryApi.as_view(), name="api-credits-history"),
    path("pricing", api.PricingApi.as_view(), name="api-pricing"),
]

urlpatterns = [
    path("", views.home_view, name="home"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("credits/", views.credits_view, name="credits"),
    path("pricing/", views.pricing_view, name="pricing"),
]
