import importlib
import random

import pytest
import time_machine
from django.apps import apps
from django.db.models import Sum

from billing.models import CreditAccount, CreditBucket, LedgerAllocation, LedgerEntry
from billing.services import (
    credit_account_get,
    credits_adjust,
    credits_charge,
    credits_clawback,
    credits_expire_due_all,
    credits_grant,
    credits_grant_monthly_all,
    credits_refund,
    credits_release,
    credits_reserve,
)
from core.errors import Conflict, InsufficientCredits, NotFound
from tests.billing.test_ledger import _run_threads
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = "2031-03-10 12:00:00+00:00"
NEXT_MONTH = "2031-04-02 00:00:00+00:00"


def assert_buckets_consistent(user, migrated: bool = False) -> dict:
    """balance == sum(ledger) == sum(bucket remaining); each bucket == sum of its allocations."""
    account = CreditAccount.objects.get(user=user)
    ledger = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0
    buckets = list(CreditBucket.objects.filter(account=account))
    assert account.balance == ledger == sum(b.remaining for b in buckets)
    assert account.balance >= 0 and account.debt >= 0
    for bucket in buckets:
        moved = LedgerAllocation.objects.filter(bucket=bucket).aggregate(s=Sum("amount"))["s"]
        assert 0 <= bucket.remaining <= bucket.granted
        if not migrated:
            assert moved == bucket.remaining
    return {"expiring": sum(b.remaining for b in buckets if b.expires_at),
            "permanent": sum(b.remaining for b in buckets if not b.expires_at)}


@pytest.fixture
def user(db):
    with time_machine.travel(NOW, tick=False):
        user = UserFactory()
        credit_account_get(user=user)  # 150 Free credits, expiring at the start of April
        credits_grant(user=user, amount=100, reference="topup:1", kind="topup")
    return user


def test_plan_credits_expire_at_the_end_of_the_month_and_top_ups_never(user):
    buckets = {b.origin.kind: b for b in CreditBucket.objects.filter(account__user=user)}
    assert buckets["grant"].expires_at.isoformat() == "2031-04-01T00:00:00+00:00"
    assert buckets["topup"].expires_at is None


@time_machine.travel(NOW, tick=False)
def test_spending_takes_expiring_credits_first(user):
    credits_reserve(user=user, amount=120, reference="job:a")
    assert assert_buckets_consistent(user) == {"expiring": 30, "permanent": 100}
    credits_reserve(user=user, amount=50, reference="job:b")
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 80}


def test_the_beat_task_expires_credits_once(user):
    with time_machine.travel(NEXT_MONTH, tick=False):
        assert credits_expire_due_all() == 150
        assert credits_expire_due_all() == 0
    entry = LedgerEntry.objects.get(account__user=user, kind="expire")
    assert entry.amount == -150 and entry.balance_after == 100
    assert "expired" in entry.description
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 100}


def test_expired_credits_are_never_spent_even_before_the_beat_task_runs(user):
    with time_machine.travel(NEXT_MONTH, tick=False):
        with pytest.raises(InsufficientCredits) as exc:
            credits_reserve(user=user, amount=120, reference="job:late")
        assert exc.value.context == {"required_credits": 120, "balance": 100}
        credits_reserve(user=user, amount=60, reference="job:ok")
    assert LedgerEntry.objects.filter(account__user=user, kind="expire").count() == 1
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 40}


@time_machine.travel(NOW, tick=False)
def test_a_release_returns_credits_to_the_buckets_they_came_from(user):
    credits_reserve(user=user, amount=170, reference="job:a")
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 80}
    credits_release(reference="job:a")
    assert assert_buckets_consistent(user) == {"expiring": 150, "permanent": 100}


def test_a_release_after_expiry_does_not_bring_expired_credits_back(user):
    with time_machine.travel(NOW, tick=False):
        credits_reserve(user=user, amount=170, reference="job:a")
    with time_machine.travel(NEXT_MONTH, tick=False):
        entry = credits_release(reference="job:a")
    assert entry.amount == 20
    assert "150 expired credits not returned" in entry.description
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 100}


@time_machine.travel(NOW, tick=False)
def test_charging_less_than_reserved_returns_the_permanent_part_first(user):
    credits_reserve(user=user, amount=170, reference="job:a")
    credits_charge(reference="job:a", amount=155)
    # 150 expiring + 5 permanent spent; 15 permanent returned.
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 95}
    credits_refund(reference="job:a")
    assert assert_buckets_consistent(user) == {"expiring": 150, "permanent": 100}


def test_a_refund_after_expiry_returns_only_the_permanent_share(user):
    with time_machine.travel(NOW, tick=False):
        credits_reserve(user=user, amount=170, reference="job:a")
        credits_charge(reference="job:a")
    with time_machine.travel(NEXT_MONTH, tick=False):
        assert credits_refund(reference="job:a").amount == 20
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 100}


@time_machine.travel(NOW, tick=False)
def test_a_refunded_top_up_takes_back_what_is_unspent_and_records_the_rest_as_debt(user):
    credits_reserve(user=user, amount=200, reference="job:a")  # 150 expiring + 50 of the top-up
    credits_charge(reference="job:a")
    entry = credits_clawback(grant_reference="topup:1", credits=100, reference="refund:1")
    assert entry.amount == -50
    assert "50 already spent recorded as debt" in entry.description
    account = CreditAccount.objects.get(user=user)
    assert (account.balance, account.debt) == (0, 50)
    # Replays and a repeated total change nothing.
    assert credits_clawback(grant_reference="topup:1", credits=100, reference="refund:1") == entry
    assert credits_clawback(grant_reference="topup:1", credits=100, reference="refund:2") is None
    # The next credits added settle the debt first.
    credits_grant(user=user, amount=80, reference="topup:2", kind="topup")
    account.refresh_from_db()
    assert (account.balance, account.debt) == (30, 0)
    settle = LedgerEntry.objects.get(account=account, kind="debt")
    assert settle.amount == -50 and settle.reference == "debt:topup:2"
    assert_buckets_consistent(user)


@time_machine.travel(NOW, tick=False)
def test_a_partial_refund_takes_back_in_steps(user):
    credits_clawback(grant_reference="topup:1", credits=30, reference="refund:30")
    credits_clawback(grant_reference="topup:1", credits=100, reference="refund:100")
    assert CreditBucket.objects.get(origin__reference="topup:1").remaining == 0
    assert CreditAccount.objects.get(user=user).debt == 0
    with pytest.raises(NotFound):
        credits_clawback(grant_reference="topup:none", credits=1, reference="refund:x")


def test_existing_balances_migrate_into_buckets_without_losing_a_credit(db):
    migration = importlib.import_module("billing.migrations.0004_quota_defaults_and_buckets")
    with time_machine.travel(NOW, tick=False):
        user = UserFactory()
        credits_grant(user=user, amount=40, reference="topup:old", kind="topup")
        credits_reserve(user=user, amount=60, reference="job:old")
        # As if the ledger had been written before buckets existed:
        LedgerAllocation.objects.all().delete()
        CreditBucket.objects.all().delete()
        migration.buckets_from_balances(apps, None)
        # 130 left of 190: the 60 spent came out of this month's grant first.
        assert assert_buckets_consistent(user, migrated=True) == {"expiring": 130,
                                                                  "permanent": 0}
        # A reservation from before the migration is still released in full.
        credits_release(reference="job:old")
        assert assert_buckets_consistent(user, migrated=True) == {"expiring": 130,
                                                                  "permanent": 60}


def test_a_random_sequence_across_months_keeps_every_invariant(db):
    rng = random.Random(11)
    with time_machine.travel(NOW, tick=False) as clock:
        user = UserFactory()
        credit_account_get(user=user)
        refs: list[str] = []
        for step in range(250):
            op = rng.choice(["reserve", "charge", "release", "refund", "topup", "adjust",
                             "clawback", "month", "expire"])
            try:
                if op == "reserve":
                    refs.append(f"job:{step}")
                    credits_reserve(user=user, amount=rng.randint(0, 80), reference=refs[-1])
                elif op == "topup":
                    credits_grant(user=user, amount=rng.randint(1, 60),
                                  reference=f"topup:{step}", kind="topup")
                elif op == "adjust":
                    credits_adjust(user=user, amount=rng.choice([-20, 15]), reason="random")
                elif op == "clawback":
                    top = LedgerEntry.objects.filter(kind="topup").order_by("?").first()
                    if top:
                        credits_clawback(grant_reference=top.reference,
                                         credits=rng.randint(1, top.amount),
                                         reference=f"refund:{step}")
                elif op == "month":
                    clock.shift(rng.randint(3, 20) * 86400)
                    credits_grant_monthly_all()
                elif op == "expire":
                    credits_expire_due_all()
                elif refs:
                    ref = rng.choice(refs)
                    {"charge": lambda r: credits_charge(reference=r),
                     "release": lambda r: credits_release(reference=r),
                     "refund": lambda r: credits_refund(reference=r)}[op](ref)
            except (InsufficientCredits, Conflict, NotFound):
                pass
            assert_buckets_consistent(user)


# --- concurrency: real threads, real connections (PostgreSQL in CI) --------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_spending_of_expiring_and_permanent_credits_stays_exact():
    user = UserFactory()
    credit_account_get(user=user)  # 150 expiring
    credits_grant(user=user, amount=100, reference="topup:c", kind="topup")  # 100 permanent
    results = _run_threads(10, lambda i: credits_reserve(user=user, amount=30,
                                                         reference=f"job:{i}"))
    succeeded = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(succeeded) == 8, results  # 8 x 30 = 240 of 250
    assert all(isinstance(r, InsufficientCredits) for r in results if r not in succeeded)
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 10}
    refs = [r.reference for r in succeeded]
    ops = [(lambda ref=ref: credits_release(reference=ref)) for ref in refs[:4]]
    ops += [(lambda ref=ref: credits_charge(reference=ref, amount=10)) for ref in refs[4:]]
    ops += [(lambda ref=ref: credits_release(reference=ref)) for ref in refs[:4]]  # replays
    results = _run_threads(len(ops), lambda i: ops[i]())
    assert all(isinstance(r, LedgerEntry) for r in results), results
    # 4 released (120) and 4 charged 10 of 30 (80 back): 10 + 120 + 80.
    totals = assert_buckets_consistent(user)
    assert totals["expiring"] + totals["permanent"] == 210


@pytest.mark.django_db(transaction=True)
def test_spending_racing_the_expiry_task_never_spends_expired_credits():
    with time_machine.travel(NOW, tick=False):
        user = UserFactory()
        credit_account_get(user=user)
        credits_grant(user=user, amount=100, reference="topup:r", kind="topup")
    with time_machine.travel(NEXT_MONTH, tick=False):
        ops = [lambda: credits_expire_due_all()] * 3 + [
            (lambda i=i: credits_reserve(user=user, amount=30, reference=f"job:{i}"))
            for i in range(5)]
        results = _run_threads(len(ops), lambda i: ops[i]())
    spent = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(spent) == 3, results
    assert LedgerEntry.objects.filter(account__user=user, kind="expire").count() == 1
    assert assert_buckets_consistent(user) == {"expiring": 0, "permanent": 10}


@time_machine.travel(NOW, tick=False)
def test_credits_released_back_to_a_refunded_purchase_pay_off_its_debt(user):
    credits_reserve(user=user, amount=200, reference="job:a")  # 150 expiring + 50 top-up
    credits_clawback(grant_reference="topup:1", credits=100, reference="refund:1")
    assert CreditAccount.objects.get(user=user).debt == 50
    entry = credits_release(reference="job:a")
    assert entry.amount == 150 and "50 credits settle debt" in entry.description
    account = CreditAccount.objects.get(user=user)
    assert (account.balance, account.debt) == (150, 0)
    assert assert_buckets_consistent(user) == {"expiring": 150, "permanent": 0}


def test_the_beat_schedule_names_registered_tasks(user, settings):
    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry
    from billing.tasks import expire_credits

    with time_machine.travel(NEXT_MONTH, tick=False):
        assert expire_credits.delay().get() == 150
