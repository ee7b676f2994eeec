"""Middleware of the console: the request's Clopos budget and Server-Timing, and the session
policy added on top of Django's auth."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from clopos import deadline

GetResponse = Callable[[HttpRequest], HttpResponse]


LIVENESS_PATH = "/healthz"


class LivenessMiddleware:
    """Answers the load balancer's liveness probe before anything else runs: no session, user,
    database or cache is touched, so /healthz says only whether this process serves requests."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == LIVENESS_PATH and request.method in ("GET", "HEAD"):
            return HttpResponse("ok\n", content_type="text/plain")
        return self.get_response(request)


class ServerTimingMiddleware:
    """Sets the request's Clopos time budget, and adds a Server-Timing header for users who may
    see the status panel. Others get none: Clopos timings would tell an unknown order id (one
    upstream call) from a hidden one (cached)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = deadline.begin(budget_seconds=settings.CLOPOS_REQUEST_BUDGET_SECONDS)
        try:
            response = self.get_response(request)
            timings = deadline.current()
            if timings.expose:
                response["Server-Timing"] = timings.server_timing()
            return response
        finally:
            deadline.end(token)


class UserLanguageMiddleware:
    """The signed-in user's own language, when they chose one (the switcher saves it on their
    staff profile); otherwise what LocaleMiddleware picked (the language cookie, the browser's
    Accept-Language, then LANGUAGE_CODE). Sits right after AuthenticationMiddleware.

    Costs no query: the profile is loaded with the user (staff.backends.StaffModelBackend).
    LocaleMiddleware's response half then sends this language in Content-Language.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "staff_profile", None)
            language = getattr(profile, "language", "")
            if language and language != getattr(request, "LANGUAGE_CODE", None) and is_console_language(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


def is_console_language(language: str) -> bool:
    """One of settings.LANGUAGES (a preference saved before a language was removed is ignored)."""
    return any(code == language for code, _ in settings.LANGUAGES)


# Renew the idle deadline at most this often: a session write per request would cost a query.
TOUCH_EVERY_SECONDS = 60


class IdleSessionTimeoutMiddleware:
    """Sliding idle timeout: SESSION_COOKIE_AGE counts from the last request, to the minute.

    Saving the session renews its expiry; we save only when the last renewal is over a minute old.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - request.session.get("_touched", 0) >= TOUCH_EVERY_SECONDS:
                request.session["_touched"] = now
        return self.get_response(request)


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session expired must move the whole page to the login form.

    LoginRequiredMiddleware answers with a 302 that htmx would follow in the background and swap
    the login form into the receipt slot. Instead, answer 401 with HX-Redirect to the login page,
    whose `next` is the page the user was on (HX-Current-URL), not the fragment.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        return htmx_login_redirect(request)


def htmx_login_redirect(request: HttpRequest) -> HttpResponse:
    """401 with HX-Redirect to the login page, coming back to the page the user was on."""
    login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
    current = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(current)
    next_url = parts.path + (f"?{parts.query}" if parts.query else "")
    if not next_url or not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = request.get_full_path()
    response = HttpResponse(status=401)
    response["HX-Redirect"] = f"{login_path}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return response
