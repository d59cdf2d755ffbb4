from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from core.errors import json_error_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _is_api(request):
        return json_error_response(404, "Not found.", "not_found")
    return render(request, "404.html", status=404)


def handler500(request):
    if _is_api(request):
        return json_error_response(500, "Internal server error.", "server_error")
    return render(request, "500.html", status=500)


def handler403(request, exception=None):
    if _is_api(request):
        return json_error_response(403, "You do not have permission to do this.",
                                   "permission_denied")
    return render(request, "403.html", status=403)


def handler400(request, exception=None):
    if _is_api(request):
        return json_error_response(400, "Bad request.", "bad_request")
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return json_error_response(403, "CSRF verification failed.", "csrf_failed")
    return render(request, "403.html", {"reason": "csrf"}, status=403)


def healthz(request):
    """Liveness and database reachability, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db = "ok"
    except Exception:  # a health check reports, it does not raise
        db = "unavailable"
    status = 200 if db == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", "database": db,
                         "version": settings.SPECTACULAR_SETTINGS["VERSION"]}, status=status)
