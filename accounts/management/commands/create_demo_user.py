import os

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create the demo account for a local install (idempotent) and print its login."

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "reelforge-demo")
        email = os.environ.get("DEMO_EMAIL", "demo@example.com")
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = user_create(username=username, email=email, password=password,
                               is_staff=True, is_superuser=True)
            self.stdout.write(self.style.SUCCESS(f"Created the demo account '{username}'."))
        else:
            self.stdout.write(f"The demo account '{username}' exists already.")
        self.stdout.write(f"Demo login: {username} / {password}")
