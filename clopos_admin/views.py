"""The console's own 500/503 handler: no database, cache, session or context processor."""

import sys

from django.db import DatabaseError
from django.http import HttpResponse
from django.template import loader

from staff.middleware import htmx_login_redirect

try:  # redis is only needed when REDIS_URL is set
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = DatabaseError


def server_error(request) -> HttpResponse:
    """500, or 503 when the database or the cache is down: a passing outage, not our bug.

    Called by Django inside its exception handler, so sys.exception() is the failure.
    """
    if isinstance(sys.exception(), (DatabaseError, RedisError, ConnectionError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """403 for a failed CSRF check. An htmx request from a browser whose session (and CSRF
    cookie) expired goes to the login page instead, like any other expired htmx request."""
    if request.headers.get("HX-Request") == "true" and not request.user.is_authenticated:
        return htmx_login_redirect(request)
    return HttpResponse(loader.get_template("403.html").render(request=request), status=403)
