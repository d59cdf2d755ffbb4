from django.conf import settings
from django.db import models
from django.db.models import F, Q

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
    stripe_price_id = models.CharField(
        max_length=100, blank=True,
        help_text="Stripe price of the monthly subscription; STRIPE_PRICE_<SLUG> when empty.")
    daily_api_calls = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Job-creating API calls per UTC day; empty means unlimited.")
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
    debt = models.BigIntegerField(
        default=0, help_text="Credits refunded by the payment provider after they were spent; "
                             "settled from the next credits added.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0),
                                   name="billing_creditaccount_balance_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0),
                                   name="billing_creditaccount_debt_not_negative"),
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
        EXPIRE = "expire", "Expired"
        CLAWBACK = "clawback", "Taken back (payment refunded)"
        DEBT = "debt", "Debt settled"

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


class CreditBucket(models.Model):
    """Credits from one source, spent in order: those that expire soonest first, permanent
    ones (top-ups, adjustments) last. The balance is the sum of `remaining` over buckets."""

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="buckets")
    origin = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="bucket",
        help_text="The entry that added these credits; empty for balances carried over.")
    granted = models.BigIntegerField()
    remaining = models.BigIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Empty: the credits never expire.")
    clawed_back = models.BigIntegerField(
        default=0, help_text="Credits reclaimed after a refund, taken back or owed as debt.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [models.F("expires_at").asc(nulls_last=True), "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("granted")),
                name="billing_bucket_remaining_within_granted"),
            models.CheckConstraint(
                condition=Q(clawed_back__gte=0) & Q(clawed_back__lte=F("granted")),
                name="billing_bucket_clawback_within_granted"),
        ]
        indexes = [
            # Spending order of one account's live credits: _spend_plan; expiry sweep.
            models.Index(fields=["account", "expires_at", "id"], condition=Q(remaining__gt=0),
                         name="billing_bucket_live"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0),
                         name="billing_bucket_expiring"),
        ]

    def __str__(self) -> str:
        until = f"until {self.expires_at:%Y-%m-%d}" if self.expires_at else "permanent"
        return f"{self.remaining}/{self.granted} credits, {until}"


class LedgerAllocation(models.Model):
    """How much of one entry came from or went to one bucket, so that a release or refund
    returns credits to the buckets they were taken from."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="allocations")
    bucket = models.ForeignKey(CreditBucket, on_delete=models.CASCADE, related_name="allocations")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "bucket"],
                                    name="billing_allocation_one_per_entry_and_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} to bucket {self.bucket_id}"


class Subscription(TimeStampedModel):
    """The account's Stripe customer and subscription, as the latest event described them."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        UNPAID = "unpaid", "Unpaid"
        PAUSED = "paused", "Paused"

    account = models.OneToOneField(CreditAccount, on_delete=models.CASCADE,
                                   related_name="subscription")
    stripe_customer_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    customer_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed attempts to create the Stripe customer; part of the "
                             "idempotency key, because Stripe replays a failed answer.")
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    status = models.CharField(max_length=32, choices=Status.choices, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    stripe_updated_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Creation time of the newest subscription event applied; older ones are "
                  "ignored because Stripe does not deliver in order.")

    class Meta:
        indexes = [
            # Events name the subscription: subscription_for_stripe_id.
            models.Index(fields=["stripe_subscription_id"], name="billing_sub_stripe_id"),
        ]

    def __str__(self) -> str:
        return f"{self.account.user} · {self.status or 'no subscription'}"

    @property
    def is_live(self) -> bool:
        return self.status in {self.Status.ACTIVE, self.Status.TRIALING, self.Status.PAST_DUE}


class CheckoutSession(TimeStampedModel):
    """One Stripe Checkout Session we asked for; its id makes the Stripe call idempotent."""

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        TOPUP = "topup", "Top-up"

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="checkout_sessions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    credits = models.PositiveIntegerField(null=True, blank=True)
    amount_pence = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    stripe_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="The client's Idempotency-Key header, if sent.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A client retrying a checkout request gets the same session, not a second one.
            models.UniqueConstraint(fields=["user", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="billing_checkout_one_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} checkout {self.pk} ({self.status})"


class StripePayment(models.Model):
    """A paid PaymentIntent and the credits it bought, so that a refund finds them."""

    payment_intent = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="+")
    credits_reference = models.CharField(max_length=200,
                                         help_text="Reference of the ledger grant it paid for.")
    credits = models.PositiveIntegerField()
    amount_pence = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.payment_intent} → {self.credits} credits"


class StripeEvent(models.Model):
    """A webhook event, stored once (the unique id deduplicates redeliveries) in the same
    transaction as its effect, with what handling it did."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created = models.DateTimeField()
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"
