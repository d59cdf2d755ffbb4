from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from billing.models import CreditAccount, FeatureGate, LedgerEntry, Tier
from billing.services import credits_adjust, tier_set
from core.errors import ApplicationError


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "rank", "monthly_credits", "max_resolution", "max_frames",
                    "watermark", "price_monthly_pence", "is_public"]
    list_editable = ["monthly_credits", "max_frames", "watermark", "price_monthly_pence",
                     "is_public"]
    ordering = ["rank"]


@admin.register(FeatureGate)
class FeatureGateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "min_tier"]
    list_editable = ["min_tier"]


class AdjustForm(forms.Form):
    amount = forms.IntegerField(help_text="Positive to add credits, negative to take them away.")
    reason = forms.CharField(max_length=255, help_text="Shown in the user's credit history.")


class TierForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("rank"))


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "tier", "balance", "updated_at"]
    list_filter = ["tier"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "tier", "balance", "created_at", "updated_at"]
    list_select_related = ["user", "tier"]
    change_form_template = "admin/billing/creditaccount_change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/adjust/", self.admin_site.admin_view(self.adjust_view),
                 name="billing_creditaccount_adjust"),
            path("<int:pk>/tier/", self.admin_site.admin_view(self.tier_view),
                 name="billing_creditaccount_tier"),
            *super().get_urls(),
        ]

    def adjust_view(self, request, pk: int):
        """Adjust a balance through the ledger service (never by editing the number)."""
        account = get_object_or_404(CreditAccount.objects.select_related("user"), pk=pk)
        if not self.has_change_permission(request, account):
            return redirect("admin:index")
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                credits_adjust(user=account.user, amount=form.cleaned_data["amount"],
                               reason=form.cleaned_data["reason"], actor=request.user)
            except (ApplicationError, ValidationError) as exc:
                form.add_error(None, getattr(exc, "message", str(exc)))
            else:
                messages.success(request, "The balance was adjusted.")
                return redirect(reverse("admin:billing_creditaccount_change", args=[pk]))
        return render(request, "admin/billing/adjust.html", {
            **self.admin_site.each_context(request), "form": form, "account": account,
            "title": f"Adjust credits for {account.user}", "opts": self.model._meta,
        })

    def tier_view(self, request, pk: int):
        account = get_object_or_404(CreditAccount.objects.select_related("user", "tier"), pk=pk)
        if not self.has_change_permission(request, account):
            return redirect("admin:index")
        form = TierForm(request.POST or None, initial={"tier": account.tier})
        if request.method == "POST" and form.is_valid():
            tier_set(user=account.user, tier=form.cleaned_data["tier"])
            messages.success(request, "The plan was changed.")
            return redirect(reverse("admin:billing_creditaccount_change", args=[pk]))
        return render(request, "admin/billing/adjust.html", {
            **self.admin_site.each_context(request), "form": form, "account": account,
            "title": f"Change the plan of {account.user}", "opts": self.model._meta,
        })


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "amount", "balance_after", "reference"]
    list_filter = ["kind"]
    search_fields = ["reference", "account__user__username", "account__user__email"]
    list_select_related = ["account__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
