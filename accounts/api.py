"""Accounts API: session and JWT auth, profile, settings, API keys."""

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.selectors import api_key_get_for_user, api_key_list_for_user, api_key_resolve
from accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AvatarSerializer,
    ChangePasswordSerializer,
    DetailSerializer,
    EmailSerializer,
    LoginSerializer,
    PasswordResetRequestSerializer,
    PasswordResetSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    SignupSerializer,
    ThemeSerializer,
    TokenLoginSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from core.errors import ApplicationError


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _check_credentials(request, identifier: str, password: str):
    """Authenticate with throttling of failures; returns the user or raises 401/429."""
    ip = client_ip(request)
    services.login_throttle_check(identifier=identifier, ip=ip)
    user = authenticate(request, username=identifier, password=password)
    if user is None:
        services.login_failure_record(identifier=identifier, ip=ip)
        raise ApplicationError("The username/email or password is not correct.",
                               code="invalid_credentials", status=401)
    services.login_failures_clear(identifier=identifier, ip=ip)
    return user


class PublicJsonView(APIView):
    """Public endpoints that create sessions accept JSON only, so a cross-site HTML form
    cannot post to them (login CSRF)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]


class SignupApi(PublicJsonView):
    @extend_schema(request=SignupSerializer, responses={201: UserSerializer}, tags=["auth"],
                   summary="Create an account and log in (session)")
    def post(self, request):
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginApi(PublicJsonView):
    @extend_schema(request=LoginSerializer, responses={200: UserSerializer}, tags=["auth"],
                   summary="Log in with username or email (session cookie)")
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _check_credentials(request, data.validated_data["username"],
                                  data.validated_data["password"])
        login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
        return Response(UserSerializer(user).data)


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={200: DetailSerializer}, tags=["auth"],
                   summary="Log out (clears the session cookie)")
    def post(self, request):
        logout(request)
        return Response({"detail": "Logged out."})


class RegisterTokenApi(PublicJsonView):
    @extend_schema(request=SignupSerializer, responses={201: TokenPairSerializer},
                   tags=["auth"], summary="Create an account and get a JWT pair")
    def post(self, request):
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(services.jwt_pair_issue(user=user), status=status.HTTP_201_CREATED)


class TokenLoginApi(PublicJsonView):
    @extend_schema(request=TokenLoginSerializer, responses={200: TokenPairSerializer},
                   tags=["auth"],
                   summary="Get a JWT pair with identifier + password, or with an API key")
    def post(self, request):
        data = TokenLoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw_key = data.validated_data.get("api_key")
        if raw_key:
            ip = client_ip(request)
            services.login_throttle_check(identifier="api-key", ip=ip)
            key = api_key_resolve(raw=raw_key)
            if key is None:
                services.login_failure_record(identifier="api-key", ip=ip)
                raise ApplicationError("Invalid or revoked API key.", code="invalid_credentials",
                                       status=401)
            services.api_key_touch(key=key)
            return Response(services.jwt_pair_issue(user=key.user, api_key=key))
        user = _check_credentials(request, data.validated_data["identifier"],
                                  data.validated_data["password"])
        return Response(services.jwt_pair_issue(user=user))


class TokenRefreshApi(PublicJsonView):
    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer},
                   tags=["auth"], summary="Exchange a refresh token for a new access token")
    def post(self, request):
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.jwt_refresh(refresh_token=data.validated_data["refresh_token"]))


class PasswordResetRequestApi(PublicJsonView):
    @extend_schema(request=PasswordResetRequestSerializer, responses={200: DetailSerializer},
                   tags=["auth"], summary="Email a password reset link (always 200)")
    def post(self, request):
        data = PasswordResetRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identifier = data.validated_data.get("username") or data.validated_data.get("email")
        services.password_reset_request(identifier=identifier,
                                        base_url=request.build_absolute_uri("/"))
        return Response({"detail": "If an account matches, a reset link has been sent."})


class PasswordResetApi(PublicJsonView):
    @extend_schema(request=PasswordResetSerializer, responses={200: DetailSerializer},
                   tags=["auth"], summary="Set a new password with a reset token")
    def post(self, request):
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_complete(**data.validated_data)
        return Response({"detail": "Your password has been changed. You can log in now."})


class ProfileApi(APIView):
    @extend_schema(responses={200: UserSerializer}, tags=["profile"], summary="Your profile")
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses={200: UserSerializer},
                   tags=["profile"], summary="Update display name, bio, public flag")
    def post(self, request):
        data = ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, data=data.validated_data)
        return Response(UserSerializer(user).data)


class AvatarApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": AvatarSerializer},
                   responses={200: UserSerializer}, tags=["profile"],
                   summary="Upload an avatar (cropped square, resized to 256 px)")
    def post(self, request):
        data = AvatarSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.avatar_set(user=request.user, upload=data.validated_data["avatar"])
        return Response(UserSerializer(user).data)


class ChangePasswordApi(APIView):
    @extend_schema(request=ChangePasswordSerializer, responses={200: DetailSerializer},
                   tags=["settings"], summary="Change password (needs the current one)")
    def post(self, request):
        data = ChangePasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.password_change(user=request.user, **data.validated_data)
        if request.session.session_key:
            update_session_auth_hash(request, user)
        return Response({"detail": "Password changed."})


class EmailApi(APIView):
    @extend_schema(request=EmailSerializer, responses={200: UserSerializer}, tags=["settings"],
                   summary="Change the account's email address")
    def post(self, request):
        data = EmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.email_change(user=request.user, email=data.validated_data["email"])
        return Response(UserSerializer(user).data)


class ThemeApi(APIView):
    @extend_schema(request=ThemeSerializer,
                   responses={200: inline_serializer("ThemeResult", {
                       "theme": serializers.CharField()})},
                   tags=["settings"], summary="Set the dashboard theme (dark or light)")
    def post(self, request):
        data = ThemeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.theme_set(user=request.user, theme=data.validated_data["theme"])
        return Response({"theme": user.theme})


class ApiKeyListApi(APIView):
    @extend_schema(responses={200: ApiKeySerializer(many=True)}, tags=["api keys"],
                   summary="List your API keys")
    def get(self, request):
        keys = api_key_list_for_user(user=request.user)
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer},
                   tags=["api keys"], summary="Create a key; the full key is returned only once")
    def post(self, request):
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(user=request.user, name=data.validated_data["name"])
        body = ApiKeySerializer(key).data
        body.update(key=raw, api_key=raw,
                    msg="API key generated successfully. This is the only time you will see it.")
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    @extend_schema(responses={200: ApiKeySerializer}, tags=["api keys"],
                   summary="Revoke an API key (it stops working at once)")
    def delete(self, request, key_id: int):
        key = api_key_get_for_user(user=request.user, key_id=key_id)
        return Response(ApiKeySerializer(services.api_key_revoke(key=key)).data)
