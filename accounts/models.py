import hashlib
import hmac

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

from core.models import TimeStampedModel


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    class Theme(models.TextChoices):
        DARK = "dark", "Dark"
        LIGHT = "light", "Light"

    email = models.EmailField("email address", max_length=254)
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=1000, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    profile_public = models.BooleanField(default=False)
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.DARK)

    REQUIRED_FIELDS = ["email"]
    objects = CaseInsensitiveUserManager()

    class Meta:
        constraints = [
            # Login accepts either name in any case, so both must be unique case-insensitively.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def public_name(self) -> str:
        return self.display_name or self.username


class ApiKey(TimeStampedModel):
    """A long-lived credential. Only the SHA-256 of the key is stored; the key is shown once."""

    PREFIX = "rf_live_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The visible start of the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The key list of one user: api_key_list_for_user.
            models.Index(fields=["user", "-created_at"], name="accounts_apikey_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash(raw))
