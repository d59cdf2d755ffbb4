from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing.models import FeatureGate
from billing.payments import (
    portal_session_create,
    subscription_checkout_create,
    topup_checkout_create,
)
from billing.pricing import TOPUP_MAX_CREDITS, TOPUP_MIN_CREDITS, cost_rules
from billing.selectors import (
    credit_buckets_live,
    credit_history_for_user,
    subscription_for_user,
    tier_limits,
    tier_list_public,
)
from billing.services import DEFAULT_TIER, credit_account_get
from billing.stripe_client import payments_enabled, tier_price_id
from core.errors import ApplicationError
from core.forms import run_service


def home_view(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@login_required
def dashboard_view(request):
    account = credit_account_get(user=request.user)
    recent = credit_history_for_user(user=request.user)[:5]
    return render(request, "dashboard.html", {
        "account": account, "limits": tier_limits(tier=account.tier), "recent": recent,
    })


@login_required
def credits_view(request):
    account = credit_account_get(user=request.user)
    page = Paginator(credit_history_for_user(user=request.user), 25).get_page(
        request.GET.get("page"))
    return render(request, "billing/credits.html", {
        "account": account, "limits": tier_limits(tier=account.tier), "page": page,
    })


def pricing_view(request):
    tiers = list(tier_list_public())
    gates = list(FeatureGate.objects.select_related("min_tier"))
    rows = [{"tier": t, "features": [g for g in gates if g.min_tier.rank <= t.rank]}
            for t in tiers]
    return render(request, "billing/pricing.html", {"rows": rows, "costs": cost_rules(),
                                                    "payments_enabled": payments_enabled()})


class TopupForm(forms.Form):
    credits = forms.IntegerField(min_value=TOPUP_MIN_CREDITS, max_value=TOPUP_MAX_CREDITS,
                                 initial=500, help_text=f"{TOPUP_MIN_CREDITS} to "
                                 f"{TOPUP_MAX_CREDITS:,} credits at 1p each; they never expire.")


def _billing_page(request, topup_form=None, status=200):
    account = credit_account_get(user=request.user)
    tiers = list(tier_list_public(with_gates=False))
    page = Paginator(credit_history_for_user(user=request.user), 25).get_page(
        request.GET.get("page"))
    return render(request, "billing/billing.html", {
        "account": account, "tiers": tiers, "page": page,
        "subscription": subscription_for_user(user=request.user),
        "buckets": list(credit_buckets_live(user=request.user)),
        "payments_enabled": payments_enabled(),
        "purchasable": {t.slug for t in tiers if t.slug != DEFAULT_TIER and tier_price_id(t)},
        "topup_form": topup_form or TopupForm(),
        "checkout": request.GET.get("checkout", ""),
    }, status=status)


@login_required
def billing_view(request):
    return _billing_page(request)


@login_required
@require_POST
def billing_checkout_view(request):
    try:
        row = subscription_checkout_create(user=request.user, tier=request.POST.get("tier", ""))
    except (ApplicationError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", None) or "; ".join(exc.messages))
        return redirect("billing")
    return redirect(row.url, permanent=False)


@login_required
@require_POST
def billing_topup_view(request):
    form = TopupForm(request.POST)
    if form.is_valid():
        row = run_service(form, topup_checkout_create, user=request.user,
                          credits=form.cleaned_data["credits"])
        if row is not None:
            return redirect(row.url)
    return _billing_page(request, topup_form=form, status=400)


@login_required
@require_POST
def billing_portal_view(request):
    try:
        url = portal_session_create(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing")
    return redirect(url)
