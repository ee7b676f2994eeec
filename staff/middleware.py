"""Session policy the console adds on top of Django's auth."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

# Renew the idle deadline at most this often: a session write per request would cost a query.
TOUCH_EVERY_SECONDS = 60


class IdleSessionTimeoutMiddleware:
    """Sliding idle timeout: SESSION_COOKIE_AGE counts from the last request, to the minute.

    Saving the session renews its expiry; we save only when the last renewal is over a minute old.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        return htmx_login_redirect(request)


def htmx_login_redirect(request) -> HttpResponse:
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
