"""Writes for accounts: sign-up, profile, password, email, API keys, login throttling."""

import hashlib
import io
import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from PIL import Image, UnidentifiedImageError

from accounts.models import ApiKey, User
from accounts.selectors import user_find_by_identifier
from accounts.tasks import send_email
from core.errors import ApplicationError, Conflict, RateLimited

logger = logging.getLogger(__name__)


# --- users ----------------------------------------------------------------------------------

def _check_username_free(username: str, *, exclude: int | None = None) -> None:
    qs = User.objects.filter(username__iexact=username)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"username": ["This username is taken."]})


def _check_email_free(email: str, *, exclude: int | None = None) -> None:
    qs = User.objects.filter(email__iexact=email)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"email": ["An account with this email already exists."]})


def user_create(*, username: str, email: str, password: str, **extra) -> User:
    """Create an active user after checking names, email and password strength."""
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    _check_username_free(username)
    _check_email_free(email)
    user = User(username=username, email=email, **extra)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # lost a race with another sign-up for the same name
        raise Conflict("An account with this username or email already exists.",
                       code="account_exists") from None
    return user


def profile_update(*, user: User, data: dict) -> User:
    """Update the profile fields present in `data` (display_name, bio, profile_public)."""
    allowed = {"display_name", "bio", "profile_public"}
    changed = [name for name in allowed if name in data]
    for name in changed:
        setattr(user, name, data[name])
    user.full_clean(exclude=["password"])
    user.save(update_fields=changed or None)
    return user


def theme_set(*, user: User, theme: str) -> User:
    if theme not in User.Theme.values:
        raise ValidationError({"theme": [f"Choose one of: {', '.join(User.Theme.values)}."]})
    user.theme = theme
    user.save(update_fields=["theme"])
    return user


def avatar_set(*, user: User, upload) -> User:
    """Validate an uploaded image, crop it square, resize it and store it as PNG."""
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise ApplicationError("The avatar must be 5 MB or smaller.", code="file_too_large",
                               status=413)
    try:
        with Image.open(upload) as probe:
            if probe.format not in {"PNG", "JPEG", "WEBP", "GIF"}:
                raise ApplicationError("The avatar must be a PNG, JPEG, WebP or GIF image.",
                                       code="unsupported_media_type", status=415)
            width, height = probe.size
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise ApplicationError("The image has too many pixels.",
                                       code="image_too_large", status=413)
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as img:
            img.load()
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.convert("RGBA").crop((left, top, left + side, top + side))
            img = img.resize((settings.AVATAR_SIZE, settings.AVATAR_SIZE), Image.LANCZOS)
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ApplicationError("The file is not a readable image.", code="unsupported_media_type",
                               status=415) from None
    old = user.avatar.name if user.avatar else ""
    user.avatar.save(f"{uuid.uuid4().hex}.png", ContentFile(out.getvalue()), save=False)
    user.save(update_fields=["avatar"])
    if old:
        user.avatar.storage.delete(old)
    return user


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def email_change(*, user: User, email: str) -> User:
    email = User.objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    _check_email_free(email, exclude=user.pk)
    old = user.email
    user.email = email
    user.save(update_fields=["email"])
    if old and old.lower() != email.lower():
        transaction.on_commit(lambda: send_email.delay(
            to=[old],
            subject="Your Reelforge email address was changed",
            body=(f"The email address of the Reelforge account '{user.username}' was changed "
                  f"to {email}. If you did not do this, reset your password now."),
        ))
    return user


# --- password reset -------------------------------------------------------------------------

def password_reset_request(*, identifier: str, base_url: str) -> None:
    """Email a signed, expiring reset link when an account matches; silent otherwise."""
    user = user_find_by_identifier(identifier=identifier)
    if user is None or not user.is_active or not user.has_usable_password():
        logger.info("password reset requested for an unknown or inactive account")
        return
    token = password_reset_token_make(user=user)
    link = f"{base_url.rstrip('/')}/reset/{token}/"
    transaction.on_commit(lambda: send_email.delay(
        to=[user.email],
        subject="Reset your Reelforge password",
        body=(f"Hello {user.public_name},\n\nUse this link to choose a new password. It "
              f"expires in {settings.PASSWORD_RESET_TIMEOUT // 3600} hours:\n\n{link}\n\n"
              f"Or send this token to POST /api/password-reset/reset:\n{token}\n\n"
              "If you did not ask for this, ignore this email."),
    ))


def password_reset_token_make(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def _user_for_reset_token(token: str) -> User | None:
    try:
        uid, raw = token.split(".", 1)
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uid))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not user.is_active or not default_token_generator.check_token(user, raw):
        return None
    return user


def password_reset_complete(*, token: str, new_password: str) -> User:
    """Set a new password from a reset token; the token stops working once used."""
    user = _user_for_reset_token(token or "")
    if user is None:
        raise ValidationError({"token": ["This reset link is invalid or has expired."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)  # changes the hash, which invalidates the token
    user.save(update_fields=["password"])
    return user


def password_reset_token_valid(*, token: str) -> bool:
    return _user_for_reset_token(token or "") is not None


# --- login throttling -----------------------------------------------------------------------

def _throttle_keys(identifier: str, ip: str) -> list[tuple[str, int]]:
    ident = hashlib.sha256((identifier or "").strip().lower().encode()).hexdigest()[:32]
    limit = settings.LOGIN_FAILURE_LIMIT
    # Per account, and a looser limit per address so one client cannot spray many accounts.
    return [(f"login-fail:id:{ident}", limit), (f"login-fail:ip:{ip}", limit * 4)]


def login_throttle_check(*, identifier: str, ip: str) -> None:
    """Raise 429 when this identifier or address has failed too often recently."""
    for key, limit in _throttle_keys(identifier, ip):
        if (cache.get(key) or 0) >= limit:
            wait = settings.LOGIN_FAILURE_WINDOW
            raise RateLimited(
                "Too many failed login attempts. Try again later.",
                code="too_many_login_attempts",
                headers={"Retry-After": str(wait)},
                retry_after=wait,
            )


def login_failure_record(*, identifier: str, ip: str) -> None:
    for key, _limit in _throttle_keys(identifier, ip):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


def login_failures_clear(*, identifier: str, ip: str) -> None:
    cache.delete(_throttle_keys(identifier, ip)[0][0])


# --- API keys -------------------------------------------------------------------------------

def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never available again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Use at most 100 characters."]})
    active = ApiKey.objects.filter(user=user, is_active=True).count()
    if active >= settings.API_KEYS_PER_USER:
        raise Conflict(f"You can have at most {settings.API_KEYS_PER_USER} active API keys. "
                       "Revoke one first.", code="too_many_api_keys")
    raw = ApiKey.PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(user=user, name=name, prefix=raw[: len(ApiKey.PREFIX) + 6],
                 key_hash=ApiKey.hash(raw))
    key.full_clean()
    key.save()
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key; it stops authenticating on the next request."""
    if key.is_active:
        ApiKey.objects.filter(pk=key.pk).update(is_active=False, revoked_at=timezone.now())
        key.refresh_from_db()
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record use, at most once a minute per key so polling does not write on every request."""
    now = timezone.now()
    if key.last_used is None or now - key.last_used > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used=now)
        key.last_used = now


# --- JWT ------------------------------------------------------------------------------------

def jwt_pair_issue(*, user: User, api_key: ApiKey | None = None) -> dict:
    """A refresh and an access token; one minted from an API key carries the key's id."""
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    if api_key is not None:
        refresh["api_key_id"] = api_key.pk
    return {"access_token": str(refresh.access_token), "refresh_token": str(refresh)}


def jwt_refresh(*, refresh_token: str) -> dict:
    """A new access token for a valid refresh token whose user (and key) are still active."""
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import RefreshToken

    try:
        refresh = RefreshToken(refresh_token)
    except TokenError:
        raise ApplicationError("The refresh token is invalid or expired.",
                               code="token_not_valid", status=401) from None
    user = User.objects.filter(pk=refresh.get("user_id"), is_active=True).first()
    key_id = refresh.get("api_key_id")
    if user is None or (key_id is not None and not ApiKey.objects.filter(
            pk=key_id, user=user, is_active=True).exists()):
        raise ApplicationError("The refresh token is no longer valid.",
                               code="token_not_valid", status=401)
    return {"access_token": str(refresh.access_token), "refresh_token": refresh_token}
