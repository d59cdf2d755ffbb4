"""The polling fast path: GET /api/status with an API key, in one SQL query.

Clients poll status every few seconds, so this path is the hottest in the product. For
`Authorization: Bearer rf_live_...` one raw query checks the key (active, owner active), finds
the owner's job and counts its queue position; the ORM's query compilation alone cost more than
the query. The answer carries an ETag, and `If-None-Match` gets a 304. Every other credential
(JWT, session) goes through the regular DRF view, which shares the payload code.
"""

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.throttling import UserRateThrottle

from accounts.models import ApiKey
from core.errors import error_body
from core.http import base_url
from jobs.models import Job
from jobs.serializers import job_status_payload

_SQL = """
SELECT k.id, k.last_used, u.id,
       j.id, j.public_id, j.status, j.kind, j.model, j.engine, j.progress, j.stage, j.cost,
       j.credits_charged, j.error_code, j.error_message, j.created_at, j.started_at,
       j.finished_at, j.queue, j.priority, p.public_id,
       CASE WHEN j.status = 'queued' THEN (
           SELECT COUNT(*) FROM jobs_job q
           WHERE q.status = 'queued' AND q.queue = j.queue AND (
               q.priority > j.priority
               OR (q.priority = j.priority AND q.created_at < j.created_at)
               OR (q.priority = j.priority AND q.created_at = j.created_at AND q.id < j.id)))
       END,
       CASE WHEN j.status = 'completed' THEN j.result END
FROM accounts_apikey k
JOIN accounts_user u ON u.id = k.user_id AND u.is_active = %s
LEFT JOIN jobs_job j ON j.owner_id = u.id AND j.public_id = %s
LEFT JOIN jobs_job p ON p.id = j.parent_id
WHERE k.key_hash = %s AND k.is_active = %s
"""

_JOB_FIELDS = ["id", "public_id", "status", "kind", "model", "engine", "progress", "stage",
               "cost", "credits_charged", "error_code", "error_message", "created_at",
               "started_at", "finished_at", "queue", "priority"]


def _dt(value):
    """A column as an aware datetime (SQLite hands back naive UTC values or strings)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(value):
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _error(status: int, message: str, code: str, **headers) -> JsonResponse:
    response = JsonResponse(error_body(message, code), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def fast_status(request, job_id: str | None):
    """The response for an API-key status request, or None when this path does not apply."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw.startswith(ApiKey.PREFIX) or len(raw) > 100:
        return None
    job_id = job_id or request.GET.get("job_id")
    if not job_id:
        return None  # the regular view explains the missing parameter
    try:
        public_id = uuid.UUID(str(job_id))
    except ValueError:
        public_id = None
    field = Job._meta.get_field("public_id")
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [True, field.get_db_prep_value(public_id, connection),
                              ApiKey.hash(raw), True])
        row = cursor.fetchone()
    if row is None:
        return _error(401, "Invalid or revoked API key.", "authentication_failed",
                      WWW_Authenticate='Bearer realm="api"')
    key_id, last_used, user_id = row[0], _dt(row[1]), row[2]
    if not _throttle_allows(request, user_id):
        return None  # let the regular view produce the 429 with its headers
    if last_used is None or timezone.now() - last_used > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key_id).update(last_used=timezone.now())
    if row[3] is None:
        return _error(404, "Job not found.", "not_found")
    values = dict(zip(_JOB_FIELDS, row[3:20], strict=True))
    for name in ("created_at", "started_at", "finished_at"):
        values[name] = _dt(values[name])
    values["public_id"] = _uuid(values["public_id"])
    result_field = Job._meta.get_field("result")
    values["result"] = result_field.from_db_value(row[22], None, connection) or {}
    job = Job(owner_id=user_id, **values)
    position = row[21] + 1 if row[21] is not None else None
    payload = job_status_payload(job, base_url=base_url(request),
                                 position=position, parent_public_id=_uuid(row[20]))
    body = json.dumps(payload, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.META.get("HTTP_IF_NONE_MATCH") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _throttle_allows(request, user_id: int) -> bool:
    probe = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=user_id),
                            META=request.META)
    return UserRateThrottle().allow_request(probe, None)


_STATUS_PATH = re.compile(r"^/api/status(?:/(?P<job_id>[^/]+))?$")


class StatusFastPathMiddleware:
    """Answers API-key status polls before the session, CSRF, auth and message middleware and
    the URL resolver run (they do nothing for a bearer-token GET). Placed right after
    SecurityMiddleware, so HTTPS redirects and security headers still apply."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET":
            match = _STATUS_PATH.match(request.path_info)
            if match:
                response = fast_status(request, match.group("job_id"))
                if response is not None:
                    return response
        return self.get_response(request)
