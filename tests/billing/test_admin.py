import pytest

from accounts.models import ApiKey
from accounts.services import api_key_create
from billing.models import CreditAccount, LedgerEntry, Tier
from billing.services import credit_account_get
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, world):
    UserFactory(username="op", is_staff=True, is_superuser=True)
    client.login(username="op", password=PASSWORD)
    return client


def test_operator_adjusts_credits_through_the_ledger(operator, world):
    account = credit_account_get(user=world.owner)
    url = f"/admin/billing/creditaccount/{account.pk}/adjust/"
    assert operator.get(url).status_code == 200
    r = operator.post(url, {"amount": 25, "reason": "Support goodwill"})
    assert r.status_code == 302
    entry = LedgerEntry.objects.get(account=account, kind="adjust")
    assert entry.amount == 25 and entry.description == "Support goodwill"
    assert entry.created_by.username == "op"
    assert CreditAccount.objects.get(pk=account.pk).balance == 175


def test_an_adjustment_below_zero_is_refused_with_a_message(operator, world):
    account = credit_account_get(user=world.owner)
    r = operator.post(f"/admin/billing/creditaccount/{account.pk}/adjust/",
                      {"amount": -1000, "reason": "oops"})
    assert r.status_code == 200 and "Not enough credits" in r.content.decode()
    assert CreditAccount.objects.get(pk=account.pk).balance == 150


def test_operator_changes_a_plan(operator, world):
    account = credit_account_get(user=world.owner)
    pro = Tier.objects.get(slug="pro")
    r = operator.post(f"/admin/billing/creditaccount/{account.pk}/tier/", {"tier": pro.pk})
    assert r.status_code == 302
    assert CreditAccount.objects.get(pk=account.pk).tier == pro


def test_ledger_entries_are_read_only_in_admin(operator, world):
    account = credit_account_get(user=world.owner)
    entry = LedgerEntry.objects.filter(account=account).first()
    page = operator.get(f"/admin/billing/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200
    r = operator.post(f"/admin/billing/ledgerentry/{entry.pk}/change/",
                      {"amount": 99999, "kind": "grant"})
    assert r.status_code == 403
    assert operator.get("/admin/billing/ledgerentry/add/").status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 150


def test_balance_cannot_be_edited_directly(operator, world):
    account = credit_account_get(user=world.owner)
    operator.post(f"/admin/billing/creditaccount/{account.pk}/change/", {"balance": 10**6})
    assert CreditAccount.objects.get(pk=account.pk).balance == 150


def test_operator_revokes_keys_and_searches_users(operator, world):
    key, _ = api_key_create(user=world.owner, name="leaked")
    r = operator.post("/admin/accounts/apikey/", {"action": "revoke",
                                                  "_selected_action": [key.pk]})
    assert r.status_code == 302
    assert not ApiKey.objects.get(pk=key.pk).is_active
    html = operator.get("/admin/accounts/user/?q=owner@example").content.decode()
    assert "owner@example.com" in html


def test_tiers_are_editable_data(operator):
    r = operator.get("/admin/billing/tier/")
    assert r.status_code == 200 and "Enterprise" in r.content.decode()


def test_non_staff_cannot_reach_admin(client, world):
    client.login(username="owner", password=PASSWORD)
    assert client.get("/admin/billing/creditaccount/").status_code == 302


def test_stripe_events_and_subscriptions_are_read_only_in_admin(operator, world):
    from django.utils import timezone

    from billing.models import StripeEvent, Subscription

    event = StripeEvent.objects.create(stripe_event_id="evt_admin", type="invoice.paid",
                                       stripe_created=timezone.now(), payload={"id": "evt_admin"},
                                       outcome="granted 5000 pro credits")
    account = credit_account_get(user=world.owner)
    subscription = Subscription.objects.create(account=account, status="active",
                                               stripe_customer_id="cus_admin")
    html = operator.get("/admin/billing/stripeevent/").content.decode()
    assert "evt_admin" in html and "granted 5000 pro credits" in html
    assert operator.get(f"/admin/billing/stripeevent/{event.pk}/change/").status_code == 200
    r = operator.post(f"/admin/billing/stripeevent/{event.pk}/change/", {"outcome": "x"})
    assert r.status_code == 403
    assert operator.get("/admin/billing/stripeevent/add/").status_code == 403
    assert "cus_admin" in operator.get("/admin/billing/subscription/").content.decode()
    assert operator.post(f"/admin/billing/subscription/{subscription.pk}/delete/",
                         {"post": "yes"}).status_code == 403
    assert operator.get("/admin/billing/checkoutsession/").status_code == 200


def test_account_page_shows_the_credit_buckets(operator, world):
    account = credit_account_get(user=world.owner)
    html = operator.get(f"/admin/billing/creditaccount/{account.pk}/change/").content.decode()
    assert "credit buckets (what the balance is made of)" in html.lower()


def test_daily_quotas_are_editable_on_the_plan_list(operator):
    tier = Tier.objects.get(slug="free")
    assert "daily_api_calls" in operator.get("/admin/billing/tier/").content.decode()
    tier.daily_api_calls = 25
    tier.save(update_fields=["daily_api_calls"])
    assert Tier.objects.get(slug="free").daily_api_calls == 25
