"""console.middleware: the sliding idle timeout, htmx requests that lost their session (401 +
HX-Redirect instead of a login form in a slot), and Server-Timing with the request's Clopos budget.
"""

from __future__ import annotations

import os
import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cache import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.test import Client, RequestFactory
from django_htmx.middleware import HtmxDetails

from clopos import deadline
from clopos.deadline import METRICS
from console.middleware import (
    TOUCH_EVERY_SECONDS,
    HtmxLoginRedirectMiddleware,
    IdleSessionTimeoutMiddleware,
    ServerTimingMiddleware,
)
from tests.pages import htmx_headers, hx_redirect_target, login_redirect_target

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Idle timeout ---------------------------------------------------------------------------


def test_idle_timeout_comes_from_settings():
    configured = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", 30 * 60))

    assert configured == settings.SESSION_COOKIE_AGE
    assert not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert "console.middleware.IdleSessionTimeoutMiddleware" in settings.MIDDLEWARE


def test_idle_session_expiry_is_renewed_by_activity_and_ends_when_idle(api, users):
    age = settings.SESSION_COOKIE_AGE
    client = Client()
    start = time.time()

    def session_expiry():
        return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).expire_date

    with time_machine.travel(start, tick=False):
        client.force_login(users["manager"])
        first = client.get("/")
        assert first.status_code == 200
        assert first.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == age
        first_expiry = session_expiry()
    with time_machine.travel(start + 30, tick=False):
        # Renewal is at most once a minute: no session write here.
        quiet = client.get("/")
        assert quiet.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in quiet.cookies
        assert session_expiry() == first_expiry
    with time_machine.travel(start + age - 10, tick=False):
        renewed = client.get("/")
        assert renewed.status_code == 200
        assert renewed.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == age
        assert (session_expiry() - first_expiry).total_seconds() == pytest.approx(age - 10, abs=1)
    with time_machine.travel(start + 2 * age - 20, tick=False):
        # Past the first deadline, but active within the last SESSION_COOKIE_AGE seconds.
        assert client.get("/").status_code == 200
    with time_machine.travel(start + 3 * age, tick=False):
        # Redis expires cached sessions on its own clock, which time_machine cannot move.
        cache.delete(f"django.contrib.sessions.cached_db{client.cookies[settings.SESSION_COOKIE_NAME].value}")
        expired = client.get("/orders/4101/")
        assert expired.status_code == 302
        assert login_redirect_target(expired) == ("/accounts/login/", "/orders/4101/")


# --- htmx requests without a session --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/orders/4101/receipt/"),
        ("post", "/orders/4101/customer/reveal/"),
        ("post", "/orders/4101/refresh/"),
        ("get", "/orders/4101/"),
    ],
)
def test_htmx_without_a_session_gets_401_with_hx_redirect(api, db, method, path):
    response = getattr(Client(), method)(path, headers=htmx_headers(4101))

    assert response.status_code == 401
    assert hx_redirect_target(response) == ("/accounts/login/", "/orders/4101/")
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert "Location" not in response
    content = response.content.decode()
    assert "id_password" not in content
    assert "<form" not in content


def test_htmx_redirect_keeps_the_query_of_the_current_page(db):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/audit/?username=support&page=2"}

    response = Client().get("/audit/", headers=headers)

    assert response.status_code == 401
    assert hx_redirect_target(response) == ("/accounts/login/", "/audit/?username=support&page=2")


def test_htmx_redirect_ignores_a_foreign_current_url(db):
    headers = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish/"}

    response = Client().get("/orders/4101/receipt/", headers=headers)

    assert response.status_code == 401
    assert hx_redirect_target(response) == ("/accounts/login/", "/orders/4101/receipt/")
    assert "evil" not in response["HX-Redirect"]


def test_non_htmx_request_without_a_session_is_redirected_to_login(db):
    response = Client().get("/orders/4101/receipt/")

    assert response.status_code == 302
    assert login_redirect_target(response) == ("/accounts/login/", "/orders/4101/receipt/")


# --- The middleware on its own ------------------------------------------------------------------


def touching(request, user=None):
    """Run IdleSessionTimeoutMiddleware on `request` with a fresh session; returns the session."""
    request.session = SessionStore()
    request.user = user if user is not None else AnonymousUser()
    return request


def test_idle_middleware_touches_an_authenticated_session_at_most_once_a_minute(users):
    middleware = IdleSessionTimeoutMiddleware(lambda request: HttpResponse())
    request = touching(RequestFactory().get("/"), users["manager"])

    with time_machine.travel(1_800_000_000, tick=False) as clock:
        middleware(request)
        assert request.session["_touched"] == 1_800_000_000
        request.session.modified = False

        clock.shift(TOUCH_EVERY_SECONDS - 1)
        middleware(request)
        assert request.session["_touched"] == 1_800_000_000
        assert not request.session.modified  # no session write, no query

        clock.shift(1)
        middleware(request)
        assert request.session["_touched"] == 1_800_000_000 + TOUCH_EVERY_SECONDS
        assert request.session.modified


def test_idle_middleware_leaves_anonymous_sessions_alone():
    request = touching(RequestFactory().get("/"))

    IdleSessionTimeoutMiddleware(lambda request: HttpResponse())(request)

    assert "_touched" not in request.session
    assert not request.session.modified


def htmx_request(path: str = "/orders/4101/receipt/", **headers):
    request = RequestFactory().get(path, headers={"HX-Request": "true", **headers})
    request.htmx = HtmxDetails(request)
    return request


def test_htmx_middleware_turns_only_a_login_redirect_into_a_401():
    to_login = HtmxLoginRedirectMiddleware(lambda request: HttpResponseRedirect("/accounts/login/?next=/x/"))
    to_order = HtmxLoginRedirectMiddleware(lambda request: HttpResponseRedirect("/orders/4103/"))
    page = HtmxLoginRedirectMiddleware(lambda request: HttpResponse("fragment"))

    assert to_login(htmx_request()).status_code == 401
    assert to_order(htmx_request())["Location"] == "/orders/4103/"  # e.g. refresh without htmx
    assert page(htmx_request()).content == b"fragment"


def test_htmx_middleware_leaves_ordinary_requests_alone():
    request = RequestFactory().get("/orders/4101/")
    request.htmx = HtmxDetails(request)

    response = HtmxLoginRedirectMiddleware(lambda request: HttpResponseRedirect("/accounts/login/"))(request)

    assert response.status_code == 302


def test_server_timing_middleware_sets_the_requests_clopos_budget(settings):
    settings.CLOPOS_REQUEST_BUDGET_SECONDS = 7.5
    seen = {}

    def view(request):
        seen["remaining"] = deadline.current().remaining()
        return HttpResponse()

    ServerTimingMiddleware(view)(RequestFactory().get("/"))

    assert 5 < seen["remaining"] <= 7.5
    assert deadline.current().remaining() is None  # ended with the request


def test_server_timing_only_for_who_may_see_it():
    def view(expose):
        def respond(request):
            deadline.current().add("clopos", 0.0125)
            deadline.current().expose = expose
            return HttpResponse()

        return respond

    shown = ServerTimingMiddleware(view(True))(RequestFactory().get("/"))
    hidden = ServerTimingMiddleware(view(False))(RequestFactory().get("/"))

    assert "clopos;dur=12.5" in shown["Server-Timing"]
    assert [m.split(";")[0] for m in shown["Server-Timing"].split(", ")] == [*METRICS, "total"]
    assert "Server-Timing" not in hidden


@pytest.mark.parametrize(("username", "shown"), [("manager", True), ("admin", True), ("support", False)])
def test_server_timing_on_console_pages(api, client_for, username, shown):
    response = client_for(username).get("/orders/4101/")

    assert response.status_code == 200
    assert ("Server-Timing" in response) is shown
    if shown:
        assert "clopos;dur=" in response["Server-Timing"]
