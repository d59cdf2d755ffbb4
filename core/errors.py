"""The one API error shape: `{"error": "...", "code": "...", "fields": {...}, ...context}`.

Services raise `ApplicationError` (or Django/DRF `ValidationError`); views never build error
bodies themselves. `api_exception_handler` turns every exception that reaches DRF into the
shape, and `json_error_response` serves the Django-level 404/500 handlers for `/api/` paths.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A failure a client can act on. Extra keyword arguments are added to the body."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 fields: dict | None = None, headers: dict | None = None, **context):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status_code = status or self.status_code
        self.fields = fields or {}
        self.headers = headers or {}
        self.context = context


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class InsufficientCredits(ApplicationError):
    status_code = 402
    default_code = "insufficient_credits"


class TierRequired(ApplicationError):
    status_code = 403
    default_code = "tier_required"


class EngineUnavailable(ApplicationError):
    status_code = 503
    default_code = "engine_unavailable"


class RateLimited(ApplicationError):
    status_code = 429
    default_code = "rate_limited"


def error_body(message: str, code: str, fields: dict | None = None, **context) -> dict:
    body = {"error": message, "code": code, "fields": fields or {}}
    body.update(context)
    return body


def _flatten(detail) -> dict[str, list[str]]:
    """DRF error detail -> {field: [messages]}; nested serializers use dotted names."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{key}.{index}.{sub}"] = msgs
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def _validation_message(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "Invalid input."
    name, messages = next(iter(fields.items()))
    first = messages[0] if messages else "Invalid value."
    if name == "non_field_errors":
        return first
    return f"{name}: {first}"


def api_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER producing the one error shape for every failure."""
    headers = {}
    if isinstance(exc, ApplicationError):
        body = error_body(exc.message, exc.code, exc.fields, **exc.context)
        return Response(body, status=exc.status_code, headers=exc.headers or None)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        fields = {("non_field_errors" if k == "__all__" else k): v for k, v in fields.items()}
        return Response(error_body(_validation_message(fields), "invalid", fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body("The request body is too large.", "request_too_large"),
                        status=413)
    elif isinstance(exc, (InvalidToken, TokenError)):
        return Response(
            error_body("The token is invalid or expired.", "token_not_valid"),
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return Response(error_body(_validation_message(fields), "invalid", fields), status=400)

    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        context_extra = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            wait = max(1, int(exc.wait + 0.999))
            headers["Retry-After"] = str(wait)
            context_extra["retry_after"] = wait
        detail = exc.detail
        if isinstance(detail, (list, dict)):
            fields = _flatten(detail)
            message = _validation_message(fields)
        else:
            fields = {}
            message = str(detail)
        code = getattr(detail, "code", None) or exc.default_code
        if isinstance(exc, exceptions.NotAuthenticated):
            code = "not_authenticated"
        elif isinstance(exc, exceptions.AuthenticationFailed):
            code = "authentication_failed"
        elif isinstance(exc, exceptions.Throttled):
            code = "rate_limited"
        return Response(error_body(message, str(code), fields, **context_extra),
                        status=exc.status_code, headers=headers or None)

    logger.exception("Unhandled API error", exc_info=exc)
    if settings.DEBUG and not getattr(settings, "API_JSON_500_IN_DEBUG", False):
        return None  # let Django show its debug page
    return Response(error_body("Internal server error.", "server_error"), status=500)


def json_error_response(status_code: int, message: str, code: str) -> JsonResponse:
    return JsonResponse(error_body(message, code), status=status_code)
