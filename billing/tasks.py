from celery import shared_task

from billing.services import credits_grant_monthly_all


@shared_task
def grant_monthly_credits() -> int:
    """Beat: grant the current month's Free-tier credits (idempotent per account and month)."""
    return credits_grant_monthly_all()
