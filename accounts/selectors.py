from django.db.models import Q, QuerySet

from accounts.models import ApiKey, User
from core.errors import NotFound


def user_find_by_identifier(*, identifier: str) -> User | None:
    """The user whose username or email equals `identifier`, ignoring case."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    field = Q(email__iexact=identifier) if "@" in identifier else Q(username__iexact=identifier)
    return User.objects.filter(field).first()


def api_key_list_for_user(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def api_key_get_for_user(*, user: User, key_id) -> ApiKey:
    try:
        return ApiKey.objects.get(user=user, pk=int(key_id))
    except (ApiKey.DoesNotExist, TypeError, ValueError):
        raise NotFound("API key not found.") from None


def api_key_resolve(*, raw: str) -> ApiKey | None:
    """The active key with its active owner for a raw `rf_live_...` string, or None."""
    if not raw.startswith(ApiKey.PREFIX) or len(raw) > 100:
        return None
    key = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=ApiKey.hash(raw), is_active=True, user__is_active=True)
        .first()
    )
    if key is None or not key.matches(raw):
        return None
    return key
