import random
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from billing.models import CreditAccount, LedgerEntry, Tier
from billing.services import (
    credit_account_get,
    credits_adjust,
    credits_charge,
    credits_grant,
    credits_grant_monthly_all,
    credits_refund,
    credits_release,
    credits_reserve,
    tier_set,
)
from core.errors import Conflict, InsufficientCredits, NotFound
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_ledger_consistent(user) -> int:
    account = CreditAccount.objects.get(user=user)
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0
    assert account.balance == total
    assert account.balance >= 0
    return account.balance


def test_new_users_get_the_free_tiers_monthly_credits(world):
    account = credit_account_get(user=world.owner)
    assert account.tier.slug == "free"
    assert account.balance == 150
    assert assert_ledger_consistent(world.owner) == 150


def test_account_is_opened_lazily_for_users_created_without_it(db):
    user = UserFactory()  # on_commit callbacks are not run here: no account yet
    assert not CreditAccount.objects.filter(user=user).exists()
    assert credit_account_get(user=user).balance == 150


def test_reserve_then_charge(world):
    credits_reserve(user=world.owner, amount=40, reference="job:a")
    assert credit_account_get(user=world.owner).balance == 110
    credits_charge(reference="job:a")
    assert assert_ledger_consistent(world.owner) == 110


def test_charging_less_than_reserved_returns_the_rest(world):
    credits_reserve(user=world.owner, amount=40, reference="job:a")
    credits_charge(reference="job:a", amount=25)
    assert assert_ledger_consistent(world.owner) == 125


def test_reserve_then_release_restores_the_balance(world):
    credits_reserve(user=world.owner, amount=40, reference="job:a")
    credits_release(reference="job:a")
    assert assert_ledger_consistent(world.owner) == 150


def test_each_step_happens_at_most_once(world):
    for _ in range(3):
        credits_reserve(user=world.owner, amount=40, reference="job:a")
    assert credit_account_get(user=world.owner).balance == 110
    for _ in range(3):
        credits_release(reference="job:a")
    assert assert_ledger_consistent(world.owner) == 150


def test_a_reservation_is_charged_or_released_never_both(world):
    credits_reserve(user=world.owner, amount=40, reference="job:a")
    credits_charge(reference="job:a")
    with pytest.raises(Conflict):
        credits_release(reference="job:a")
    credits_reserve(user=world.owner, amount=10, reference="job:b")
    credits_release(reference="job:b")
    with pytest.raises(Conflict):
        credits_charge(reference="job:b")
    assert assert_ledger_consistent(world.owner) == 110


def test_refund_after_charge_happens_once(world):
    credits_reserve(user=world.owner, amount=40, reference="job:a")
    credits_charge(reference="job:a", amount=30)
    credits_refund(reference="job:a")
    credits_refund(reference="job:a")
    assert assert_ledger_consistent(world.owner) == 150


def test_refund_without_charge_and_settle_without_reservation_are_not_found(world):
    with pytest.raises(NotFound):
        credits_refund(reference="job:none")
    with pytest.raises(NotFound):
        credits_charge(reference="job:none")
    with pytest.raises(NotFound):
        credits_release(reference="job:none")


def test_a_short_balance_is_402_with_what_was_needed(world):
    with pytest.raises(InsufficientCredits) as exc:
        credits_reserve(user=world.owner, amount=151, reference="job:big")
    assert exc.value.status_code == 402
    assert exc.value.context == {"required_credits": 151, "balance": 150}
    assert not LedgerEntry.objects.filter(reference="job:big").exists()
    assert assert_ledger_consistent(world.owner) == 150


def test_the_database_refuses_a_negative_balance(world):
    account = credit_account_get(user=world.owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(pk=account.pk).update(balance=-1)


def test_the_database_refuses_a_second_settlement_of_a_reference(world):
    credits_reserve(user=world.owner, amount=5, reference="job:x")
    account = credit_account_get(user=world.owner)
    LedgerEntry.objects.create(account=account, kind="charge", amount=0, balance_after=145,
                               reference="job:x")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(account=account, kind="release", amount=5,
                                   balance_after=150, reference="job:x")


def test_adjustments_need_a_reason_and_cannot_go_below_zero(world):
    credits_adjust(user=world.owner, amount=50, reason="goodwill")
    credits_adjust(user=world.owner, amount=-20, reason="correction")
    with pytest.raises(InsufficientCredits):
        credits_adjust(user=world.owner, amount=-1000, reason="too much")
    with pytest.raises(Exception, match="Say why"):
        credits_adjust(user=world.owner, amount=5, reason=" ")
    assert assert_ledger_consistent(world.owner) == 180


def test_monthly_grant_is_made_once_per_month_and_the_last_months_expires(world):
    import time_machine

    assert credits_grant_monthly_all() == 0  # this month's grant came with the account
    with time_machine.travel("2099-01-15"):
        assert credits_grant_monthly_all() == 2
        assert credits_grant_monthly_all() == 0
    # The earlier month's 150 expired when the new month's grant was made.
    assert assert_ledger_consistent(world.owner) == 150
    assert LedgerEntry.objects.filter(account__user=world.owner, kind="expire",
                                      amount=-150).count() == 1


def test_paid_tiers_are_not_granted_by_the_free_monthly_job(world):
    import time_machine

    tier_set(user=world.owner, tier=Tier.objects.get(slug="pro"))
    with time_machine.travel("2099-01-15"):
        assert credits_grant_monthly_all() == 1  # only the other user, still on Free
    assert assert_ledger_consistent(world.owner) == 150


def test_a_random_sequence_of_operations_keeps_the_invariant(world):
    rng = random.Random(7)
    refs = []
    for step in range(300):
        op = rng.choice(["reserve", "charge", "release", "refund", "grant", "adjust"])
        try:
            if op == "reserve":
                ref = f"job:{step}"
                credits_reserve(user=world.owner, amount=rng.randint(0, 60), reference=ref)
                refs.append(ref)
            elif op == "grant":
                credits_grant(user=world.owner, amount=rng.randint(1, 30),
                              reference=f"topup:{rng.randint(0, 40)}", kind="topup")
            elif op == "adjust":
                credits_adjust(user=world.owner, amount=rng.choice([-30, -5, 5, 30]),
                               reason="random")
            elif refs:
                ref = rng.choice(refs)
                {"charge": lambda r: credits_charge(reference=r),
                 "release": lambda r: credits_release(reference=r),
                 "refund": lambda r: credits_refund(reference=r)}[op](ref)
        except (InsufficientCredits, Conflict, NotFound):
            pass
        assert_ledger_consistent(world.owner)


# --- concurrency: real threads, real connections -------------------------------------------

def _run_threads(n: int, target) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # each outcome is checked by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_many_threads_reserving_against_a_balance_for_one_succeed_exactly_once():
    user = UserFactory()
    credit_account_get(user=user)  # 150 credits
    results = _run_threads(10, lambda i: credits_reserve(user=user, amount=100,
                                                         reference=f"job:{i}"))
    succeeded = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(succeeded) == 1, results
    assert len(refused) == 9, results
    assert assert_ledger_consistent(user) == 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_charge_and_release_of_one_reservation_settle_it_once():
    user = UserFactory()
    credits_reserve(user=user, amount=40, reference="job:race")
    ops = [lambda: credits_charge(reference="job:race"),
           lambda: credits_release(reference="job:race")] * 4
    results = _run_threads(len(ops), lambda i: ops[i]())
    settled = LedgerEntry.objects.filter(reference="job:race",
                                         kind__in=["charge", "release"])
    assert settled.count() == 1
    assert all(isinstance(r, (LedgerEntry, Conflict)) for r in results), results
    balance = assert_ledger_consistent(user)
    assert balance == (110 if settled.get().kind == "charge" else 150)


@pytest.mark.django_db(transaction=True)
def test_the_same_reservation_retried_concurrently_is_taken_once():
    user = UserFactory()
    credit_account_get(user=user)
    results = _run_threads(8, lambda i: credits_reserve(user=user, amount=30,
                                                        reference="job:retried"))
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert LedgerEntry.objects.filter(reference="job:retried").count() == 1
    assert assert_ledger_consistent(user) == 120
