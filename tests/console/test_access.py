"""console.access: the gate every console view passes (`console_view`), the venue scope, and the
one place where a failure a view raises becomes its error page.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from clopos.errors import CloposNotFoundError, CloposRateLimitedError, CloposUnavailableError
from console import permissions as perms
from console.access import InputError, console_view, has_console_access, venue_scope
from tests.conftest import PASSWORD
from tests.pages import htmx_headers

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Through the pages ----------------------------------------------------------------------


def test_htmx_request_after_access_was_withdrawn_reloads_the_page(client_for):
    response = client_for("no-venue").get("/orders/4103/receipt/", headers=htmx_headers(4103))

    assert response.status_code == 403
    assert response["HX-Redirect"] == "/orders/"  # the console's home
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/orders/4101/", {}),
        ("get", "/orders/4101/receipt/", htmx_headers(4101)),
        ("post", "/orders/4101/customer/reveal/", htmx_headers(4101)),
        ("get", "/audit/", {}),
        ("get", "/", {}),
    ],
)
def test_console_pages_are_never_stored_by_browsers_or_proxies(api, client_for, method, path, headers):
    response = getattr(client_for("manager"), method)(path, headers=headers)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# --- venue_scope and has_console_access ------------------------------------------------------------


def test_venue_scope_by_kind_of_user(users):
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)

    assert venue_scope(users["support"]) == frozenset({3})
    assert venue_scope(users["manager"]) is None  # all venues
    assert venue_scope(users["no-venue"]) == frozenset()
    assert venue_scope(users["norole"]) == frozenset()  # no profile at all
    assert venue_scope(superuser) is None


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("support", True),
        ("support1", True),
        ("manager", True),
        ("admin", True),
        ("no-venue", False),  # a role, but no venue yet
        ("norole", False),  # a venue would not help without a role
    ],
)
def test_console_access_needs_a_role_and_a_venue(users, username, allowed):
    assert has_console_access(users[username]) is allowed


def test_anonymous_has_no_console_access():
    assert has_console_access(AnonymousUser()) is False


# --- console_view on its own ------------------------------------------------------------------------


def gate_request(user, **headers):
    request = RequestFactory().get("/thing/", headers=headers)
    request.user = user
    request.htmx = HtmxDetails(request)
    return request


def error_page(request, exc, kwargs):
    return HttpResponse(f"error page: {type(exc).__name__} {kwargs}", status=getattr(exc, "http_status", 400))


def gated(raises: Exception | None = None, *, permission: str = perms.VIEW_ORDER, errors=error_page):
    seen = {}

    @console_view(permission, errors=errors)
    def view(request, thing_id):
        seen["scope"] = request.venue_scope
        if raises is not None:
            raise raises
        return HttpResponse("the view")

    return view, seen


def test_the_view_runs_with_the_users_venue_scope(users):
    view, seen = gated()

    response = view(gate_request(users["support"]), thing_id="7")

    assert response.content == b"the view"
    assert seen["scope"] == frozenset({3})
    assert "no-store" in response["Cache-Control"]


def test_a_missing_permission_is_permission_denied(users):
    view, seen = gated(permission=perms.REVEAL_CUSTOMER)

    with pytest.raises(PermissionDenied):
        view(gate_request(users["support"]), thing_id="7")
    assert seen == {}


def test_no_console_access_is_the_no_access_page_and_the_view_never_runs(users):
    view, seen = gated()

    page = view(gate_request(users["no-venue"]), thing_id="7")
    fragment = view(gate_request(users["no-venue"], **{"HX-Request": "true"}), thing_id="7")

    assert page.status_code == fragment.status_code == 403
    assert "No access yet" in page.content.decode()
    assert fragment["HX-Redirect"] == "/orders/"
    assert seen == {}


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (CloposNotFoundError("gone"), 404, None),
        (CloposRateLimitedError("busy", retry_after=7), 503, "7"),
        (CloposUnavailableError("down"), 503, None),
        (InputError("Enter an id", value="abc"), 400, None),
    ],
)
def test_a_raised_error_becomes_the_views_error_page(users, error, status, retry_after):
    view, _ = gated(error)

    response = view(gate_request(users["support"]), thing_id="7")

    assert response.status_code == status
    assert response.content.decode() == f"error page: {type(error).__name__} {{'thing_id': '7'}}"
    assert response.get("Retry-After") == retry_after
    assert "no-store" in response["Cache-Control"]


def test_other_exceptions_are_not_swallowed(users):
    view, _ = gated(RuntimeError("a bug"))

    with pytest.raises(RuntimeError):
        view(gate_request(users["support"]), thing_id="7")


def test_without_an_error_page_clopos_errors_propagate(users):
    view, _ = gated(CloposNotFoundError("gone"), errors=None)

    with pytest.raises(CloposNotFoundError):
        view(gate_request(users["support"]), thing_id="7")


def test_input_error_keeps_the_message_and_the_value():
    error = InputError("Enter an order id.", value="12a")

    assert (error.message, error.value, str(error)) == ("Enter an order id.", "12a", "Enter an order id.")
    assert isinstance(error, ValueError)
