from celery import shared_task

from billing.services import credits_expire_due_all, credits_grant_monthly_all


@shared_task
def grant_monthly_credits() -> int:
    """Beat: grant the current month's Free-tier credits (idempotent per account and month)."""
    return credits_grant_monthly_all()


@shared_task
def expire_credits() -> int:
    """Beat: write the expiry entries of credits whose period has ended (idempotent)."""
    return credits_expire_due_all()
