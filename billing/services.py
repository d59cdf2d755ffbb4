"""Credit ledger services. Every balance change goes through `_ledger_apply`.

The account row is locked (`select_for_update`), the unique ledger row is inserted first, and
only then is the balance changed, all in one transaction: a retried or concurrent call with the
same reference hits the unique constraint before it can touch the balance. The database
`CHECK (balance >= 0)` backs up the in-Python check.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import CreditAccount, LedgerEntry, Tier
from core.errors import ApplicationError, Conflict, InsufficientCredits, NotFound

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind
DEFAULT_TIER = "free"


def current_period(now=None) -> str:
    return (now or timezone.now()).strftime("%Y-%m")


def credit_account_get(*, user) -> CreditAccount:
    """The user's account, opened on first use with the Free tier and its monthly credits."""
    account = CreditAccount.objects.select_related("tier").filter(user=user).first()
    if account is not None:
        return account
    return credit_account_open(user=user)


def credit_account_open(*, user) -> CreditAccount:
    """Open the account (idempotent) and grant the tier's credits for the current period."""
    tier = Tier.objects.get(slug=DEFAULT_TIER)
    try:
        with transaction.atomic():
            account, created = CreditAccount.objects.get_or_create(user=user,
                                                                   defaults={"tier": tier})
    except IntegrityError:  # opened concurrently
        account, created = CreditAccount.objects.get(user=user), False
    if created:
        credits_grant_monthly(account=account)
    return CreditAccount.objects.select_related("tier").get(pk=account.pk)


def _ledger_apply(*, account_id: int, kind: str, amount: int, reference: str,
                  description: str = "", created_by=None) -> tuple[LedgerEntry, bool]:
    """Append one entry and move the balance by `amount`. Returns (entry, created).

    A repeated (kind, reference) returns the existing entry and changes nothing. A debit
    larger than the balance raises InsufficientCredits and changes nothing.
    """
    with transaction.atomic():
        account = CreditAccount.objects.select_for_update().get(pk=account_id)
        existing = LedgerEntry.objects.filter(kind=kind, reference=reference).first()
        if existing is not None:
            return existing, False
        new_balance = account.balance + amount
        if new_balance < 0:
            raise InsufficientCredits(
                f"Not enough credits: this needs {-amount} and you have {account.balance}.",
                required_credits=-amount, balance=account.balance,
            )
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    account=account, kind=kind, amount=amount, balance_after=new_balance,
                    reference=reference, description=description[:255], created_by=created_by,
                )
        except IntegrityError:
            existing = LedgerEntry.objects.filter(kind=kind, reference=reference).first()
            if existing is not None:
                return existing, False
            raise Conflict("This reservation has already been settled.",
                           code="already_settled", reference=reference) from None
        CreditAccount.objects.filter(pk=account.pk).update(
            balance=F("balance") + amount, updated_at=timezone.now())
        return entry, True


def credits_grant(*, user, amount: int, reference: str, description: str = "",
                  kind: str = Kind.GRANT) -> LedgerEntry:
    """Add credits once per reference (monthly grants, top-ups)."""
    if amount <= 0:
        raise ApplicationError("A grant must be positive.", code="invalid_amount")
    account = credit_account_get(user=user)
    entry, _ = _ledger_apply(account_id=account.pk, kind=kind, amount=amount,
                             reference=reference, description=description)
    return entry


def credits_grant_monthly(*, account: CreditAccount, now=None) -> LedgerEntry | None:
    """Grant the tier's monthly credits for the period; at most once per account and period.
    Returns the new entry, or None when nothing was granted."""
    period = current_period(now)
    tier = Tier.objects.get(pk=account.tier_id)
    if tier.monthly_credits <= 0:
        return None
    entry, created = _ledger_apply(
        account_id=account.pk, kind=Kind.GRANT, amount=tier.monthly_credits,
        reference=f"grant:{account.user_id}:{period}",
        description=f"{tier.name} plan credits for {period}",
    )
    return entry if created else None


def credits_reserve(*, user, amount: int, reference: str, description: str = "") -> LedgerEntry:
    """Hold `amount` credits for work identified by `reference` (402 when the balance is short)."""
    if amount < 0:
        raise ApplicationError("A reservation cannot be negative.", code="invalid_amount")
    account = credit_account_get(user=user)
    entry, _ = _ledger_apply(account_id=account.pk, kind=Kind.RESERVE, amount=-amount,
                             reference=reference, description=description)
    return entry


def _reservation(reference: str) -> LedgerEntry:
    entry = LedgerEntry.objects.filter(kind=Kind.RESERVE, reference=reference).first()
    if entry is None:
        raise NotFound("No reservation with this reference.", code="reservation_not_found")
    return entry


def credits_charge(*, reference: str, amount: int | None = None,
                   description: str = "") -> LedgerEntry:
    """Settle a reservation as spent. Charging less than was reserved returns the rest.

    Idempotent: a second charge returns the first; a charge after a release is a 409.
    """
    reserve = _reservation(reference)
    reserved = -reserve.amount
    spent = reserved if amount is None else amount
    if not 0 <= spent <= reserved:
        raise ApplicationError(f"Cannot charge {spent}: {reserved} credits were reserved.",
                               code="invalid_amount")
    entry, _ = _ledger_apply(account_id=reserve.account_id, kind=Kind.CHARGE,
                             amount=reserved - spent, reference=reference,
                             description=description or f"Charged {spent} credits")
    return entry


def credits_release(*, reference: str, description: str = "") -> LedgerEntry:
    """Settle a reservation as not spent: the credits go back. Idempotent; 409 after a charge."""
    reserve = _reservation(reference)
    entry, _ = _ledger_apply(account_id=reserve.account_id, kind=Kind.RELEASE,
                             amount=-reserve.amount, reference=reference,
                             description=description or "Reservation released")
    return entry


def credits_refund(*, reference: str, description: str = "") -> LedgerEntry:
    """Give back what a settled charge spent (a failed output found later). Once per reference."""
    charge = LedgerEntry.objects.filter(kind=Kind.CHARGE, reference=reference).first()
    if charge is None:
        raise NotFound("Nothing was charged for this reference.", code="charge_not_found")
    spent = -_reservation(reference).amount - charge.amount
    entry, _ = _ledger_apply(account_id=charge.account_id, kind=Kind.REFUND, amount=spent,
                             reference=reference, description=description or "Refund")
    return entry


def credits_adjust(*, user, amount: int, reason: str, actor=None) -> LedgerEntry:
    """An operator's correction, positive or negative (never below zero)."""
    if amount == 0:
        raise ApplicationError("An adjustment cannot be zero.", code="invalid_amount")
    if not reason.strip():
        raise ApplicationError("Say why the balance is adjusted.", code="reason_required",
                               fields={"reason": ["This field is required."]})
    account = credit_account_get(user=user)
    entry, _ = _ledger_apply(account_id=account.pk, kind=Kind.ADJUST, amount=amount,
                             reference=f"adjust:{uuid.uuid4().hex}", description=reason,
                             created_by=actor)
    return entry


def tier_set(*, user, tier: Tier) -> CreditAccount:
    """Move an account to another plan (operators; Stripe in the billing integration)."""
    account = credit_account_get(user=user)
    CreditAccount.objects.filter(pk=account.pk).update(tier=tier, updated_at=timezone.now())
    account.refresh_from_db()
    return account


def credits_grant_monthly_all(*, now=None) -> int:
    """Grant this period's credits to every active Free-tier account (paid plans are granted
    per invoice). Safe to run any number of times; returns how many grants were made."""
    accounts = CreditAccount.objects.filter(tier__slug=DEFAULT_TIER, user__is_active=True)
    return sum(credits_grant_monthly(account=a, now=now) is not None
               for a in accounts.iterator())
