"""API authentication: `Authorization: Bearer <API key or JWT>`, or the dashboard session + CSRF."""

from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.models import ApiKey
from accounts.selectors import api_key_resolve
from accounts.services import api_key_touch


def _bearer(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    parts = header.split()
    if not parts or parts[0].lower() != "bearer":
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.")
    return parts[1]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Bearer rf_live_...`: the key acts as its owner. Revoked keys fail at once."""

    def authenticate(self, request):
        raw = _bearer(request)
        if raw is None or not raw.startswith(ApiKey.PREFIX):
            return None
        key = api_key_resolve(raw=raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_touch(key=key)
        return key.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class JwtAuthentication(JWTAuthentication):
    """`Bearer <JWT>` from /api/auth/login. A token minted from an API key dies with the key."""

    def authenticate(self, request):
        raw = _bearer(request)
        if raw is None or raw.startswith(ApiKey.PREFIX):
            return None
        validated = self.get_validated_token(raw.encode())
        user = self.get_user(validated)
        key_id = validated.get("api_key_id")
        if key_id is not None and not ApiKey.objects.filter(
            pk=key_id, user=user, is_active=True
        ).exists():
            raise InvalidToken("The API key this token was issued for has been revoked.")
        return user, validated

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session cookie; unsafe methods need the CSRF token."""
