from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and credits"

    def ready(self):
        from billing import signals  # noqa: F401
