from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from billing.models import (
    CheckoutSession,
    CreditAccount,
    CreditBucket,
    FeatureGate,
    LedgerEntry,
    StripeEvent,
    Subscription,
    Tier,
)
from billing.services import credits_adjust, tier_set
from core.errors import ApplicationError


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "rank", "monthly_credits", "daily_api_calls",
                    "max_resolution", "max_frames", "watermark", "price_monthly_pence",
                    "stripe_price_id", "is_public"]
    list_editable = ["monthly_credits", "daily_api_calls", "max_frames", "watermark",
                     "price_monthly_pence", "stripe_price_id", "is_public"]
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


class ReadOnlyAdminMixin:
    """Rows written only by services and webhooks: operators look, never edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditBucketInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditBucket
    fields = ["granted", "remaining", "expires_at", "clawed_back", "origin", "created_at"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    max_num = 0
    verbose_name_plural = "credit buckets (what the balance is made of)"


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "tier", "balance", "debt", "updated_at"]
    list_filter = ["tier"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "tier", "balance", "debt", "created_at", "updated_at"]
    inlines = [CreditBucketInline]
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


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["account", "tier", "status", "cancel_at_period_end", "current_period_end",
                    "stripe_customer_id", "stripe_subscription_id"]
    list_filter = ["status", "tier", "cancel_at_period_end"]
    search_fields = ["account__user__username", "account__user__email", "stripe_customer_id",
                     "stripe_subscription_id"]
    list_select_related = ["account__user", "tier"]


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "tier", "credits", "status",
                    "stripe_session_id"]
    list_filter = ["kind", "status"]
    search_fields = ["user__username", "user__email", "stripe_session_id"]
    list_select_related = ["user", "tier"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_event_id", "outcome", "livemode"]
    list_filter = ["type", "livemode"]
    search_fields = ["stripe_event_id", "outcome"]
    date_hierarchy = "received_at"
