"""Daily API-call quotas of the plans, and credit buckets for balances that existed before.

An existing balance is kept whole. This month's plan grant becomes credits that expire at the
end of the month, as far as they are unspent (spending takes expiring credits first, so what
was spent came from the grant); everything else on the balance is carried over as credits that
never expire. Nobody loses a credit by migrating.
"""

import calendar
from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.utils import timezone

DAILY_API_CALLS = {"free": 10, "starter": 100, "creator": 500, "pro": 1000, "studio": 5000,
                   "enterprise": None}


def seed_quotas(apps, schema_editor):
    Tier = apps.get_model("billing", "Tier")
    for slug, calls in DAILY_API_CALLS.items():
        Tier.objects.filter(slug=slug).update(daily_api_calls=calls)


def buckets_from_balances(apps, schema_editor):
    CreditAccount = apps.get_model("billing", "CreditAccount")
    CreditBucket = apps.get_model("billing", "CreditBucket")
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    now = timezone.now().astimezone(UTC)
    month_end = (datetime(now.year, now.month, 1, tzinfo=UTC)
                 + timedelta(days=calendar.monthrange(now.year, now.month)[1]))
    period = now.strftime("%Y-%m")
    for account in CreditAccount.objects.filter(balance__gt=0).iterator():
        left = account.balance
        grant = LedgerEntry.objects.filter(
            account=account, kind="grant", reference=f"grant:{account.user_id}:{period}").first()
        if grant is not None:
            unspent = min(grant.amount, left)
            CreditBucket.objects.create(account=account, origin=grant, granted=grant.amount,
                                        remaining=unspent, expires_at=month_end)
            left -= unspent
        if left:
            CreditBucket.objects.create(account=account, origin=None, granted=left,
                                        remaining=left, expires_at=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_buckets_quotas_stripe")]
    operations = [
        migrations.RunPython(seed_quotas, migrations.RunPython.noop),
        migrations.RunPython(buckets_from_balances, migrations.RunPython.noop),
    ]
