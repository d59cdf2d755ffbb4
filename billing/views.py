from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from billing.models import FeatureGate
from billing.pricing import cost_rules
from billing.selectors import credit_history_for_user, tier_limits, tier_list_public
from billing.services import credit_account_get


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
    return render(request, "billing/pricing.html", {"rows": rows, "costs": cost_rules()})
