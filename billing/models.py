from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Tier(models.Model):
    """A subscription plan. Seeded from the API contract; operators edit it in admin."""

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="Order of plans; a feature gate admits this rank and above.")
    monthly_credits = models.PositiveIntegerField()
    max_resolution = models.PositiveSmallIntegerField(
        help_text="Largest output height in pixels (480, 1080, 2160 for 4K).")
    max_frames = models.PositiveIntegerField()
    watermark = models.BooleanField(default=False)
    price_monthly_pence = models.PositiveIntegerField(
        null=True, blank=True, help_text="Shown on the pricing page; empty when not on sale.")
    stripe_price_id = models.CharField(max_length=100, blank=True)
    is_public = models.BooleanField(default=True, help_text="Listed on the pricing page.")

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name

    @property
    def price_label(self) -> str:
        if self.price_monthly_pence is None:
            return "Price set by your operator"
        if self.price_monthly_pence == 0:
            return "Free"
        return f"£{self.price_monthly_pence / 100:.2f} / month"

    @property
    def max_resolution_label(self) -> str:
        return "4K" if self.max_resolution >= 2160 else f"{self.max_resolution}p"


class FeatureGate(models.Model):
    """A feature that needs a minimum tier (the seed's "Creator+", "Pro+" rules)."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    min_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="gates")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.min_tier.name}+)"


class CreditAccount(TimeStampedModel):
    """One per user: the plan and the credit balance. The balance always equals the sum of
    the account's ledger entries and never goes below zero."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="credit_account")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="accounts")
    balance = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0),
                                   name="billing_creditaccount_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.balance} credits"


class LedgerEntry(models.Model):
    """An append-only record of one change to a balance. `amount` is signed."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Monthly grant"
        TOPUP = "topup", "Top-up"
        RESERVE = "reserve", "Reserved"
        CHARGE = "charge", "Charged"
        RELEASE = "release", "Released"
        REFUND = "refund", "Refunded"
        ADJUST = "adjust", "Adjustment"

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    reference = models.CharField(
        max_length=200,
        help_text="What the entry is for (job:<id>, grant:<user>:<period>, ...); one per kind.")
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # A job is reserved once, charged once, refunded once; a grant is made once.
            models.UniqueConstraint(fields=["kind", "reference"],
                                    name="billing_ledger_one_per_kind_and_reference"),
            # A reservation is settled once: charged or released, never both.
            models.UniqueConstraint(fields=["reference"],
                                    condition=Q(kind__in=["charge", "release"]),
                                    name="billing_ledger_one_settlement_per_reference"),
        ]
        indexes = [
            # The credit history page of one account: credit_history_for_user.
            models.Index(fields=["account", "-created_at", "-id"],
                         name="billing_ledger_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.reference})"
