from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="billing_open_account")
def open_credit_account(sender, instance, created, raw=False, **kwargs):
    """Every new user gets a credit account with the Free tier's monthly credits.

    Accounts sits below billing and cannot call it; this receiver is the one place billing
    reacts to a user being created. `credit_account_get` also opens accounts lazily.
    """
    if created and not raw:
        from billing.services import credit_account_open

        transaction.on_commit(lambda: credit_account_open(user=instance))
