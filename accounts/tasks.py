from celery import shared_task
from django.core.mail import send_mail
from django.core.management import call_command


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def send_email(*, to: list[str], subject: str, body: str) -> None:
    """Send one plain-text email; SMTP hiccups are retried with backoff."""
    send_mail(subject, body, None, to)


@shared_task
def clear_expired_sessions() -> None:
    call_command("clearsessions")
