"""Credit ledger services. Every balance change goes through `_ledger_apply`.

The account row is locked (`select_for_update`), the unique ledger row is inserted first, and
only then are the balance and the buckets changed, all in one transaction: a retried or
concurrent call with the same reference hits the unique constraint before it can touch the
balance. The database `CHECK (balance >= 0)` and the per-bucket checks back up the Python ones.

Credits live in buckets (`CreditBucket`). Plan credits (the Free monthly grant, a paid
invoice's grant) expire at the end of their period; top-ups and adjustments never expire.
Spending takes from the bucket that expires soonest, permanent credits last, and records how
much came from each bucket (`LedgerAllocation`). A release or refund gives credits back to the
buckets they came from; the share of a bucket that has expired in the meantime is not given
back (it would have expired with the bucket had it not been reserved). Expiry is a ledger
entry of its own (`expire:<bucket>`), written by the beat task and, so that expired credits
are never spent, by any operation on the account before it runs.
"""

import calendar
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import CreditAccount, CreditBucket, LedgerAllocation, LedgerEntry, Tier
from core.errors import ApplicationError, Conflict, InsufficientCredits, NotFound

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind
DEFAULT_TIER = "free"


def current_period(now=None) -> str:
    return (now or timezone.now()).strftime("%Y-%m")


def period_end(now=None) -> datetime:
    """The first instant (UTC) of the month after `now`: when a monthly grant expires."""
    now = (now or timezone.now()).astimezone(UTC)
    days = calendar.monthrange(now.year, now.month)[1]
    return datetime(now.year, now.month, 1, tzinfo=UTC) + timezone.timedelta(days=days)


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


# --- the ledger core ----------------------------------------------------------------------

@dataclass
class _Plan:
    """What one entry does to the buckets, worked out under the account lock."""

    moves: dict[int, int] = field(default_factory=dict)  # bucket id -> signed change
    new_bucket: int = 0  # credits for a bucket created by this entry
    expires_at: datetime | None = None  # of that new bucket
    dropped: int = 0  # returns not made because their bucket has expired
    settled: int = 0  # returns kept to pay off debt
    after: Callable[[CreditAccount, LedgerEntry], None] | None = None

    @property
    def amount(self) -> int:
        return sum(self.moves.values()) + self.new_bucket


def _expire_due(account: CreditAccount, now: datetime) -> int:
    """Under the account lock: one `expire` entry per bucket whose time is up. Returns the
    number of credits expired."""
    total = 0
    due = CreditBucket.objects.filter(account=account, remaining__gt=0, expires_at__lte=now)
    for bucket in due.order_by("expires_at", "id"):
        amount = bucket.remaining
        account.balance -= amount
        entry = LedgerEntry.objects.create(
            account=account, kind=Kind.EXPIRE, amount=-amount, balance_after=account.balance,
            reference=f"expire:{bucket.pk}",
            description=f"{amount} credits expired at {bucket.expires_at:%Y-%m-%d %H:%M} UTC")
        LedgerAllocation.objects.create(entry=entry, bucket=bucket, amount=-amount)
        CreditBucket.objects.filter(pk=bucket.pk).update(remaining=F("remaining") - amount)
        CreditAccount.objects.filter(pk=account.pk).update(
            balance=F("balance") - amount, updated_at=now)
        total += amount
    return total


def _ledger_apply(*, account_id: int, kind: str, reference: str, plan: Callable,
                  description: str | Callable = "", created_by=None,
                  now: datetime | None = None) -> tuple[LedgerEntry | None, bool]:
    """Append one entry and carry out `plan(account, now) -> _Plan | None`.
    Returns (entry, created).

    A repeated (kind, reference) returns the existing entry and changes nothing. A plan that
    cannot be met raises (InsufficientCredits) and changes nothing; a plan of None means there
    is nothing to do and returns (None, False).
    """
    now = now or timezone.now()
    with transaction.atomic():
        account = CreditAccount.objects.select_for_update().get(pk=account_id)
        existing = LedgerEntry.objects.filter(kind=kind, reference=reference).first()
        if existing is not None:
            return existing, False
        _expire_due(account, now)
        todo = plan(account, now)
        if todo is None:
            return None, False
        amount = todo.amount
        new_balance = account.balance + amount
        if new_balance < 0:
            raise InsufficientCredits(
                f"Not enough credits: this needs {-amount} and you have {account.balance}.",
                required_credits=-amount, balance=account.balance,
            )
        text = description(todo) if callable(description) else description
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    account=account, kind=kind, amount=amount, balance_after=new_balance,
                    reference=reference, description=text[:255], created_by=created_by,
                )
        except IntegrityError:
            existing = LedgerEntry.objects.filter(kind=kind, reference=reference).first()
            if existing is not None:
                return existing, False
            raise Conflict("This reservation has already been settled.",
                           code="already_settled", reference=reference) from None
        allocations = [LedgerAllocation(entry=entry, bucket_id=bucket_id, amount=delta)
                       for bucket_id, delta in todo.moves.items() if delta]
        for allocation in allocations:
            CreditBucket.objects.filter(pk=allocation.bucket_id).update(
                remaining=F("remaining") + allocation.amount)
        if todo.new_bucket:
            bucket = CreditBucket.objects.create(
                account=account, origin=entry, granted=todo.new_bucket,
                remaining=todo.new_bucket, expires_at=todo.expires_at)
            allocations.append(LedgerAllocation(entry=entry, bucket=bucket,
                                                amount=todo.new_bucket))
        LedgerAllocation.objects.bulk_create(allocations)
        CreditAccount.objects.filter(pk=account.pk).update(
            balance=F("balance") + amount, updated_at=now)
        account.balance = new_balance
        if todo.after is not None:
            todo.after(account, entry)
        return entry, True


def _spend(amount: int) -> Callable:
    """Take `amount` credits, soonest-expiring first, permanent credits last."""
    def plan(account: CreditAccount, now: datetime) -> _Plan:
        if amount > account.balance:
            raise InsufficientCredits(
                f"Not enough credits: this needs {amount} and you have {account.balance}.",
                required_credits=amount, balance=account.balance)
        moves, need = {}, amount
        live = CreditBucket.objects.filter(account=account, remaining__gt=0).order_by(
            F("expires_at").asc(nulls_last=True), "id").only("id", "remaining")
        for bucket in live:
            if need == 0:
                break
            take = min(need, bucket.remaining)
            moves[bucket.pk] = -take
            need -= take
        if need:  # the buckets disagree with the balance: refuse rather than guess
            logger.error("Account %s: buckets hold less than the balance", account.pk)
            raise InsufficientCredits("Not enough credits.", required_credits=amount,
                                      balance=account.balance - need)
        return _Plan(moves=moves)
    return plan


def _add(amount: int, expires_at: datetime | None) -> Callable:
    def plan(account: CreditAccount, now: datetime) -> _Plan:
        return _Plan(new_bucket=amount, expires_at=expires_at)
    return plan


def _give_back(returns: dict[int, int], legacy: int = 0) -> Callable:
    """Return credits to the buckets they were taken from, except to expired ones. Credits
    returning to a refunded purchase pay off the debt its refund left first. `legacy` credits
    (reserved before buckets existed) go to a new permanent bucket."""
    def plan(account: CreditAccount, now: datetime) -> _Plan:
        todo = _Plan(new_bucket=legacy)
        buckets = {b.pk: b for b in CreditBucket.objects.filter(pk__in=returns).only(
            "id", "expires_at", "clawed_back")}
        debt, settled = account.debt, 0
        for bucket_id, amount in returns.items():
            bucket = buckets.get(bucket_id)
            if bucket is not None and bucket.expires_at is not None and bucket.expires_at <= now:
                todo.dropped += amount
                continue
            if bucket is not None and bucket.clawed_back and debt > settled:
                settle = min(amount, debt - settled)
                settled += settle
                amount -= settle
            if amount:
                todo.moves[bucket_id] = amount
        if settled:
            todo.settled = settled

            def after(account: CreditAccount, entry: LedgerEntry) -> None:
                CreditAccount.objects.filter(pk=account.pk).update(debt=F("debt") - settled)

            todo.after = after
        return todo
    return plan


def _with_dropped(text: str) -> Callable:
    def describe(todo: _Plan) -> str:
        notes = []
        if todo.dropped:
            notes.append(f"{todo.dropped} expired credits not returned")
        if todo.settled:
            notes.append(f"{todo.settled} credits settle debt")
        return f"{text} ({'; '.join(notes)})" if notes else text
    return describe


# --- granting -----------------------------------------------------------------------------

def _debt_settle(account: CreditAccount, entry: LedgerEntry) -> None:
    """Credits just added pay off any debt first (under the same lock and transaction)."""
    debt = CreditAccount.objects.filter(pk=account.pk).values_list("debt", flat=True).get()
    if debt <= 0:
        return
    bucket = CreditBucket.objects.get(origin=entry)
    take = min(debt, bucket.remaining)
    settle = LedgerEntry.objects.create(
        account=account, kind=Kind.DEBT, amount=-take, balance_after=account.balance - take,
        reference=f"debt:{entry.reference}",
        description=f"{take} credits settle an earlier refund that had been spent")
    LedgerAllocation.objects.create(entry=settle, bucket=bucket, amount=-take)
    CreditBucket.objects.filter(pk=bucket.pk).update(remaining=F("remaining") - take)
    CreditAccount.objects.filter(pk=account.pk).update(
        balance=F("balance") - take, debt=F("debt") - take)
    account.balance -= take


def credits_grant(*, user, amount: int, reference: str, description: str = "",
                  kind: str = Kind.GRANT, expires_at: datetime | None = None) -> LedgerEntry:
    """Add credits once per reference (plan grants, top-ups). With `expires_at` they expire
    then; without, never. Outstanding debt is settled from them first."""
    if amount <= 0:
        raise ApplicationError("A grant must be positive.", code="invalid_amount")
    account = credit_account_get(user=user)
    entry, _ = _grant(account_id=account.pk, amount=amount, reference=reference,
                      description=description, kind=kind, expires_at=expires_at)
    return entry


def _grant(*, account_id: int, amount: int, reference: str, description: str, kind: str,
           expires_at: datetime | None, now: datetime | None = None
           ) -> tuple[LedgerEntry, bool]:
    plan = _add(amount, expires_at)

    def with_debt(account, now):
        todo = plan(account, now)
        todo.after = _debt_settle
        return todo

    return _ledger_apply(account_id=account_id, kind=kind, reference=reference,
                         plan=with_debt, description=description, now=now)


def credits_grant_monthly(*, account: CreditAccount, now=None) -> LedgerEntry | None:
    """Grant the tier's monthly credits for the period, expiring at its end; at most once per
    account and period. Returns the new entry, or None when nothing was granted."""
    now = now or timezone.now()
    period = current_period(now)
    tier = Tier.objects.get(pk=account.tier_id)
    if tier.monthly_credits <= 0:
        return None
    entry, created = _grant(account_id=account.pk, amount=tier.monthly_credits,
                            reference=f"grant:{account.user_id}:{period}",
                            description=f"{tier.name} plan credits for {period}",
                            kind=Kind.GRANT, expires_at=period_end(now), now=now)
    return entry if created else None


def credits_grant_monthly_all(*, now=None) -> int:
    """Grant this period's credits to every active Free-tier account (paid plans are granted
    per invoice). Safe to run any number of times; returns how many grants were made."""
    accounts = CreditAccount.objects.filter(tier__slug=DEFAULT_TIER, user__is_active=True)
    made = 0
    for account in accounts.iterator():
        reference = f"grant:{account.user_id}:{current_period(now)}"
        if LedgerEntry.objects.filter(kind=Kind.GRANT, reference=reference).exists():
            continue
        made += credits_grant_monthly(account=account, now=now) is not None
    return made


# --- spending -----------------------------------------------------------------------------

def credits_reserve(*, user, amount: int, reference: str, description: str = "") -> LedgerEntry:
    """Hold `amount` credits for work identified by `reference` (402 when the balance is short).
    Expiring credits are used first."""
    if amount < 0:
        raise ApplicationError("A reservation cannot be negative.", code="invalid_amount")
    account = credit_account_get(user=user)
    entry, _ = _ledger_apply(account_id=account.pk, kind=Kind.RESERVE, reference=reference,
                             plan=_spend(amount), description=description)
    return entry


def _reservation(reference: str) -> LedgerEntry:
    entry = LedgerEntry.objects.filter(kind=Kind.RESERVE, reference=reference).first()
    if entry is None:
        raise NotFound("No reservation with this reference.", code="reservation_not_found")
    return entry


def _allocations(entry: LedgerEntry) -> list[tuple[int, int]]:
    return list(entry.allocations.order_by("id").values_list("bucket_id", "amount"))


def credits_charge(*, reference: str, amount: int | None = None,
                   description: str = "") -> LedgerEntry:
    """Settle a reservation as spent. Charging less than was reserved returns the rest, to
    the buckets it was taken from last (spending keeps the soonest-expiring credits).

    Idempotent: a second charge returns the first; a charge after a release is a 409.
    """
    reserve = _reservation(reference)
    reserved = -reserve.amount
    spent = reserved if amount is None else amount
    if not 0 <= spent <= reserved:
        raise ApplicationError(f"Cannot charge {spent}: {reserved} credits were reserved.",
                               code="invalid_amount")
    taken = _allocations(reserve)
    returns: dict[int, int] = {}
    keep = spent
    for bucket_id, delta in taken:
        kept = min(-delta, keep)
        keep -= kept
        if -delta - kept:
            returns[bucket_id] = -delta - kept
    legacy = reserved - spent if not taken else 0
    entry, _ = _ledger_apply(account_id=reserve.account_id, kind=Kind.CHARGE,
                             reference=reference, plan=_give_back(returns, legacy),
                             description=_with_dropped(description or f"Charged {spent} credits"))
    return entry


def credits_release(*, reference: str, description: str = "") -> LedgerEntry:
    """Settle a reservation as not spent: the credits go back to their buckets (not to an
    expired one). Idempotent; 409 after a charge."""
    reserve = _reservation(reference)
    taken = _allocations(reserve)
    returns: dict[int, int] = {}
    for bucket_id, delta in taken:
        returns[bucket_id] = returns.get(bucket_id, 0) - delta
    legacy = -reserve.amount if not taken else 0
    entry, _ = _ledger_apply(account_id=reserve.account_id, kind=Kind.RELEASE,
                             reference=reference, plan=_give_back(returns, legacy),
                             description=_with_dropped(description or "Reservation released"))
    return entry


def credits_refund(*, reference: str, description: str = "") -> LedgerEntry:
    """Give back what a settled charge spent (a failed output found later). Once per reference.
    The credits go back to the buckets they were spent from, except expired ones."""
    charge = LedgerEntry.objects.filter(kind=Kind.CHARGE, reference=reference).first()
    if charge is None:
        raise NotFound("Nothing was charged for this reference.", code="charge_not_found")
    reserve = _reservation(reference)
    net = (LedgerAllocation.objects.filter(entry__in=[reserve, charge])
           .values("bucket_id").annotate(total=Sum("amount")).order_by("bucket_id"))
    returns = {row["bucket_id"]: -row["total"] for row in net if row["total"] < 0}
    legacy = 0 if reserve.allocations.exists() else -reserve.amount - charge.amount
    entry, _ = _ledger_apply(account_id=charge.account_id, kind=Kind.REFUND,
                             reference=reference, plan=_give_back(returns, legacy),
                             description=_with_dropped(description or "Refund"))
    return entry


def credits_adjust(*, user, amount: int, reason: str, actor=None) -> LedgerEntry:
    """An operator's correction, positive (permanent credits) or negative (taken in spending
    order, never below zero)."""
    if amount == 0:
        raise ApplicationError("An adjustment cannot be zero.", code="invalid_amount")
    if not reason.strip():
        raise ApplicationError("Say why the balance is adjusted.", code="reason_required",
                               fields={"reason": ["This field is required."]})
    account = credit_account_get(user=user)
    plan = _add(amount, None) if amount > 0 else _spend(-amount)
    entry, _ = _ledger_apply(account_id=account.pk, kind=Kind.ADJUST, plan=plan,
                             reference=f"adjust:{uuid.uuid4().hex}", description=reason,
                             created_by=actor)
    return entry


def credits_clawback(*, grant_reference: str, credits: int, reference: str,
                     description: str = "") -> LedgerEntry | None:
    """Take back credits whose payment was refunded: `credits` is the total to reclaim from
    the grant named `grant_reference` so far (repeats and smaller totals change nothing).
    What is still unspent in that grant is taken back; the rest is recorded as debt, which
    the next credits added settle. Returns the entry, or None when nothing more is due."""
    bucket = CreditBucket.objects.filter(origin__reference=grant_reference,
                                         origin__kind__in=[Kind.GRANT, Kind.TOPUP]).first()
    if bucket is None:
        raise NotFound("No credits were granted for this payment.", code="grant_not_found")

    def plan(account: CreditAccount, now: datetime) -> _Plan | None:
        fresh = CreditBucket.objects.get(pk=bucket.pk)
        want = min(credits, fresh.granted) - fresh.clawed_back
        if want <= 0:
            return None
        take = min(want, fresh.remaining)

        def after(account: CreditAccount, entry: LedgerEntry) -> None:
            CreditBucket.objects.filter(pk=fresh.pk).update(clawed_back=F("clawed_back") + want)
            CreditAccount.objects.filter(pk=account.pk).update(debt=F("debt") + want - take)

        todo = _Plan(moves={fresh.pk: -take}, after=after)
        todo.dropped = want - take  # reported as debt in the description
        return todo

    def describe(todo: _Plan) -> str:
        text = description or "Payment refunded"
        if todo.dropped:
            return f"{text}: {-todo.amount} credits taken back, {todo.dropped} already spent " \
                   f"recorded as debt"
        return f"{text}: {-todo.amount} credits taken back"

    entry, _ = _ledger_apply(account_id=bucket.account_id, kind=Kind.CLAWBACK,
                             reference=reference, plan=plan, description=describe)
    return entry


# --- expiry and plans ---------------------------------------------------------------------

def credits_expire_due(*, account_id: int, now: datetime | None = None) -> int:
    """Write the expiry entries of one account's buckets whose time is up. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        account = CreditAccount.objects.select_for_update().get(pk=account_id)
        return _expire_due(account, now)


def credits_expire_due_all(*, now: datetime | None = None) -> int:
    """Beat: expire every bucket whose time is up. Safe to run any number of times (and
    concurrently): each bucket expires once, under its account's lock. Returns credits expired."""
    now = now or timezone.now()
    account_ids = (CreditBucket.objects.filter(remaining__gt=0, expires_at__lte=now)
                   .values_list("account_id", flat=True).distinct().order_by("account_id"))
    return sum(credits_expire_due(account_id=account_id, now=now)
               for account_id in list(account_ids))


def tier_set(*, user, tier: Tier) -> CreditAccount:
    """Move an account to another plan (operators; Stripe in the billing integration)."""
    account = credit_account_get(user=user)
    CreditAccount.objects.filter(pk=account.pk).update(tier=tier, updated_at=timezone.now())
    account.refresh_from_db()
    return account
