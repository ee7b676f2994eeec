"""Project-level views: the error handlers (no database, cache, session or context processor),
the load balancer's probes, the Clopos status panel and the language switcher."""

import json
import sys
from typing import Any, Literal, cast

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from clopos import health
from console import permissions as perms
from console.access import console_view, render_page
from console.middleware import htmx_login_redirect, is_console_language
from staff.services import staff_language_set, staff_theme_set

try:  # redis is only needed when REDIS_URL is set
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = DatabaseError  # type: ignore[misc,assignment]  # only its role in the isinstance below


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database or the cache is down: a passing outage, not our bug.

    Called by Django inside its exception handler, so sys.exception() is the failure.
    """
    if isinstance(sys.exception(), (DatabaseError, RedisError, ConnectionError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a failed CSRF check. An htmx request from a browser whose session (and CSRF
    cookie) expired goes to the login page instead, like any other expired htmx request."""
    if request.headers.get("HX-Request") == "true" and not request.user.is_authenticated:
        return htmx_login_redirect(request)
    return HttpResponse(loader.get_template("403.html").render(request=request), status=403)


@require_safe
@console_view(perms.VIEW_STATUS_PANEL)
def clopos_status(request: HttpRequest) -> HttpResponse:
    """Token expiry, last success, recent failures, rate budget and circuit state."""
    return render_page(request, "console/clopos_status.html", {"status": health.status()})


@require_safe
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness, for reverse(): `console.middleware.LivenessMiddleware` answers this path first."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_safe
@login_not_required
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: database and cache answer (no upstream call). Anonymous callers (load
    balancers) learn only ready or not; the checks, token and circuit state are for users who may
    see the status panel."""
    checks = health.readiness()
    ready = checks["database"] == "ok" and checks["cache"] == "ok"
    status = 200 if ready else 503
    if ready and request.user.has_perm(perms.VIEW_STATUS_PANEL):
        return JsonResponse({"status": "ready", **checks}, status=status)
    return JsonResponse({"status": "ready" if ready else "not ready"}, status=status)


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """Save the signed-in user's colour scheme (light, dark or system).

    With htmx: 204 and an `console:theme` event, so the page switches at once and the focus
    stays on the button. Without: back to the page the form was on (same host only)."""
    assert request.user.is_authenticated  # LoginRequiredMiddleware
    try:
        staff_theme_set(user=request.user, theme=request.POST.get("theme", ""))
    except ValueError:
        return HttpResponseBadRequest(loader.get_template("400.html").render())
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"console:theme": {"theme": request.POST["theme"]}})
        return response
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    if not safe:
        target = resolve_url(settings.LOGIN_REDIRECT_URL)
    return redirect(target)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The console's 403: never stored by a browser or a shared cache."""
    response = HttpResponse(loader.get_template("403.html").render(request=request), status=403)
    add_never_cache_headers(response)
    return response


class ConsoleLoginView(LoginView):
    """Django's login, with a per-address throttle in front of the password check.

    A flood of guesses from one address (random usernames, so django-axes' per-user lockout
    never triggers) would burn the CPU on password hashing and slow every page. Over
    LOGIN_RATE_PER_IP, the address gets 429 at once, before any hashing or axes record.
    """

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_ratelimited(
            request, group="login", key="ip", rate=settings.LOGIN_RATE_PER_IP, method="POST", increment=True
        ):
            context = self.get_context_data(form=self.get_form(), throttled=True)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = "60"
            return response
        return super().post(request, *args, **kwargs)


@require_POST
@login_not_required
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's language switcher (a POST with the CSRF token, like Django's `set_language`).

    Saves the choice on the user's staff profile, so it follows them to any browser, and in the
    language cookie, so the login page keeps it after a logout. Then back to `next` (or the
    Referer), only when it is on this site: never an open redirect.
    """
    language = request.POST.get("language", "")
    if not is_console_language(language):
        response = HttpResponse(loader.get_template("400.html").render(request=request), status=400)
        add_never_cache_headers(response)
        return response
    if request.user.is_authenticated:
        staff_language_set(user=request.user, language=language)
    next_url = request.POST.get("next") or request.headers.get("Referer", "")
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe:
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=cast(Literal["Lax", "Strict", "None"], settings.LANGUAGE_COOKIE_SAMESITE),
    )
    return response
