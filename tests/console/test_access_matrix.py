"""The access matrix: every console URL × every kind of user, through the Django test client,
and the venue scope: an order outside it answers exactly like one that does not exist.

Clopos is mocked with `responses` (no network); users are created with staff_user_upsert.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver, reverse

from audit.models import AuditEntry
from staff.services import staff_user_upsert
from tests.conftest import (
    PASSWORD,
    UNKNOWN_ORDER,
    calls,
    later,
)
from tests.pages import body, htmx_headers, hx_redirect_target, login_redirect_target, page_path, text_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- The matrix: every URL × every kind of user --------------------------------------------------


# case -> (method, url name, args, htmx page: an order id, a page path, or None)
CASES = {
    "lookup": ("get", "orders:order-lookup", [], None),
    "list": ("get", "orders:order-list", [], None),
    "list_htmx": ("get", "orders:order-list", [], "/orders/"),
    "list_refresh": ("post", "orders:order-list-refresh", [], None),
    "list_refresh_htmx": ("post", "orders:order-list-refresh", [], "/orders/"),
    "detail": ("get", "orders:order-detail", [4101], None),
    "receipt": ("get", "orders:order-receipt", [4103], None),
    "receipt_htmx": ("get", "orders:order-receipt", [4103], 4103),
    "print": ("get", "orders:order-receipt-print", [4103], None),
    "reveal": ("post", "orders:order-customer-reveal", [4101], None),
    "reveal_htmx": ("post", "orders:order-customer-reveal", [4101], 4101),
    "refresh": ("post", "orders:order-refresh", [4103], None),
    "refresh_htmx": ("post", "orders:order-refresh", [4103], 4103),
    "receipt_list": ("get", "orders:receipt-list", [], None),
    "receipt_list_htmx": ("get", "orders:receipt-list", [], "/receipts/"),
    "receipt_list_refresh": ("post", "orders:receipt-list-refresh", [], None),
    "receipt_list_refresh_htmx": ("post", "orders:receipt-list-refresh", [], "/receipts/"),
    "receipt_detail": ("get", "orders:receipt-detail", [20855], None),
    "customer_search": ("get", "orders:customer-search", [], None),
    "customer_detail": ("get", "orders:customer-detail", [512], None),
    "order_export_csv": ("get", "orders:order-export", ["csv"], None),
    "order_export_xlsx": ("get", "orders:order-export", ["xlsx"], None),
    "receipt_export_csv": ("get", "orders:receipt-export", ["csv"], None),
    "receipt_export_xlsx": ("get", "orders:receipt-export", ["xlsx"], None),
    "audit": ("get", "audit:audit-log", [], None),
    "status": ("get", "clopos-status", [], None),
    "healthz": ("get", "healthz", [], None),
    "readyz": ("get", "readyz", [], None),
    "admin": ("get", "admin:index", [], None),
    "theme": ("post", "theme-set", [], None),
    "theme_htmx": ("post", "theme-set", [], "/orders/"),
}


# Probes for the load balancer opt out of login explicitly (login_not_required) and show no data.
PUBLIC = {"healthz": "public", "readyz": "public"}
# Every signed-in user may choose their colour scheme, whatever their role or venues.
THEME = {"theme": "theme", "theme_htmx": "theme_htmx"}


_NO_ACCESS = (
    dict.fromkeys(CASES, "no_access")
    # An htmx request is told to load the no-access page as a page, not swapped into a slot.
    | {case: "hx_no_access" for case, (_, _, _, hx) in CASES.items() if hx}
    # Signed in, but not an admin: the console's own 403, not Django's "log in as someone else".
    | {"admin": "denied"}
    | PUBLIC
    | THEME
)


_MANAGER = (
    dict.fromkeys(CASES, "ok")
    | {"refresh": "to_order", "list_refresh": "to_list", "receipt_list_refresh": "to_receipts", "admin": "denied"}
    | PUBLIC
    | THEME
)


_SUPPORT = (
    dict.fromkeys(CASES, "ok")
    | {
        "reveal": "denied",
        "reveal_htmx": "denied",
        "refresh": "denied",
        "refresh_htmx": "denied",
        "list_refresh": "denied",
        "list_refresh_htmx": "denied",
        "receipt_list_refresh": "denied",
        "receipt_list_refresh_htmx": "denied",
        "audit": "denied",
        "status": "denied",
        # Printing a copy shows the payments: view_payments, like the full receipt.
        "print": "denied",
        "admin": "denied",
    }
    | PUBLIC
    | THEME
)


EXPECTED: dict[str | None, dict[str, str]] = {
    None: {case: ("hx_login" if hx else "login") for case, (_, _, _, hx) in CASES.items()}
    | {"admin": "admin_login"}
    | PUBLIC,
    # No role (or no venue): the no-access page everywhere, except the admin site (its own gate
    # answers with the console's 403) and the colour scheme, which is still theirs to choose.
    "norole": _NO_ACCESS,
    "no-venue": _NO_ACCESS,
    "support": _SUPPORT,
    # Venue 1 only: the venue-3 order, receipt and customer are "not found"; permissions still come first.
    "support1": _SUPPORT
    | {
        "detail": "not_found",
        "receipt": "not_found",
        "receipt_htmx": "not_found",
        "receipt_detail": "receipt_not_found",
        "customer_detail": "customer_not_found",
    },
    "manager": _MANAGER,
    "manager1": _MANAGER
    | {
        "detail": "not_found",
        "receipt": "not_found",
        "receipt_htmx": "not_found",
        "print": "not_found",
        "reveal": "not_found",
        "reveal_htmx": "not_found",
        "refresh": "not_found",
        "refresh_htmx": "not_found",
        "receipt_detail": "receipt_not_found",
        "customer_detail": "customer_not_found",
    },
    "admin": _MANAGER | {"admin": "ok"},
}


MATRIX = [(user, case) for user in EXPECTED for case in CASES]


def test_matrix_covers_every_console_url():
    """A new console URL, in any app, must be added to the matrix (deny by default is tested per
    URL). The admin site, login, logout and the language switcher have their own tests."""
    resolver = get_resolver()
    names = {name for name in resolver.reverse_dict if isinstance(name, str)}
    for namespace, (_, sub) in resolver.namespace_dict.items():
        if namespace != "admin":
            names |= {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}
    assert names - {"login", "logout", "set-language"} == {url_name for _, url_name, _, _ in CASES.values()} - {
        "admin:index"
    }


def request_case(client: Client, case: str):
    method, url_name, args, htmx_page = CASES[case]
    headers = htmx_headers(htmx_page) if htmx_page else {}
    data = {"theme": "dark", "next": "/orders/"} if url_name == "theme-set" else None
    return getattr(client, method)(reverse(url_name, args=args), data=data, headers=headers)


@pytest.mark.parametrize(("username", "case"), MATRIX, ids=[f"{u or 'anonymous'}-{c}" for u, c in MATRIX])
def test_access_matrix(api, client_for, username, case):
    expected = EXPECTED[username][case]
    _, url_name, args, htmx_page = CASES[case]
    path = reverse(url_name, args=args)
    entries_before = AuditEntry.objects.count()

    response = request_case(client_for(username), case)

    raw = b"".join(response.streaming_content) if response.streaming else response.content  # exports stream
    content = raw.decode(errors="replace")
    if expected == "login":
        assert response.status_code == 302
        assert login_redirect_target(response) == ("/accounts/login/", path)
    elif expected == "hx_login":
        assert response.status_code == 401
        assert hx_redirect_target(response) == ("/accounts/login/", page_path(htmx_page))
        assert "id_password" not in content
    elif expected == "admin_login":
        # Django's admin sends anonymous and non-staff users to its own login form.
        assert response.status_code == 302
        assert login_redirect_target(response) == ("/admin/login/", "/admin/")
    elif expected == "no_access":
        assert response.status_code == 403
        assert "No access yet" in content
        assert "Ask your admin" in content
    elif expected == "hx_no_access":
        assert response.status_code == 403
        assert response["HX-Redirect"] == reverse("orders:order-list")
        assert content == ""
    elif expected == "denied":
        assert response.status_code == 403
        assert "Not allowed" in content
        assert "No access yet" not in content
    elif expected == "not_found":
        assert response.status_code == 404
        assert "No order with this id exists in Clopos, or it belongs to a venue you cannot see." in content
    elif expected == "receipt_not_found":
        assert response.status_code == 404
        assert "No receipt with this id exists in Clopos, or it belongs to a venue you cannot see." in content
    elif expected == "customer_not_found":
        assert response.status_code == 404
        assert "No customer with this id exists in Clopos, or they belong to a venue you cannot see." in content
    elif expected == "to_order":
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:order-detail", args=args)
    elif expected == "to_list":
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:order-list")
    elif expected == "theme":
        assert response.status_code == 302
        assert response["Location"] == "/orders/"
    elif expected == "theme_htmx":
        assert response.status_code == 204
        assert "console:theme" in response["HX-Trigger"]
    elif expected == "to_receipts":
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:receipt-list")
    elif expected == "public":
        assert response.status_code == 200
        assert "Leyla" not in content
    else:
        assert expected == "ok"
        assert response.status_code == 200, content[:500]
        assert "No access yet" not in content
        if htmx_page:
            assert "<html" not in content  # a fragment, not a page
    # A successful view, reveal or refresh leaves an audit row, and so does every lookup that
    # found nothing (unknown or hidden: probing is a signal); nothing else does.
    audited = expected in {"not_found", "receipt_not_found", "customer_not_found"} or (
        expected in {"ok", "to_order", "to_list", "to_receipts"}
        and case
        in {
            "detail",
            "print",
            "reveal",
            "reveal_htmx",
            "refresh",
            "refresh_htmx",
            "list_refresh",
            "list_refresh_htmx",
            "receipt_list_refresh",
            "receipt_list_refresh_htmx",
            "receipt_detail",
            "customer_detail",
            "order_export_csv",
            "order_export_xlsx",
            "receipt_export_csv",
            "receipt_export_xlsx",
        }
    )
    assert AuditEntry.objects.count() == entries_before + (1 if audited else 0)
    # Refused requests never reach Clopos.
    if expected in {"login", "hx_login", "no_access", "hx_no_access", "denied", "admin_login", "theme", "theme_htmx"}:
        assert not api.calls


# --- Venue scope: out of scope answers exactly like "does not exist" --------------------------------


# Values that differ on every response by design: CSRF token masks and CSP nonces.
PER_RESPONSE_VALUE = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value="|nonce=")[^"]+"')


def normalized(response, order_id: int) -> str:
    """The page with the order id and the per-response token values taken out."""
    return PER_RESPONSE_VALUE.sub(r'\1X"', response.content.decode()).replace(str(order_id), "ID")


@pytest.mark.parametrize(
    ("username", "case"),
    [
        ("support1", "detail"),
        ("support1", "receipt"),
        ("support1", "receipt_htmx"),
        ("manager1", "detail"),
        ("manager1", "receipt_htmx"),
        ("manager1", "reveal_htmx"),
        ("manager1", "refresh"),
        ("manager1", "refresh_htmx"),
    ],
)
def test_out_of_scope_order_looks_exactly_like_an_unknown_one(api, client_for, username, case):
    method, url_name, _, htmx_page = CASES[case]
    client = client_for(username)

    def fetch(order_id: int):
        headers = htmx_headers(order_id) if htmx_page else {}
        return getattr(client, method)(reverse(url_name, args=[order_id]), headers=headers)

    hidden = fetch(4103)
    unknown = fetch(UNKNOWN_ORDER)

    assert hidden.status_code == unknown.status_code == 404
    assert normalized(hidden, 4103) == normalized(unknown, UNKNOWN_ORDER)
    assert text_of(hidden.content).replace("4103", "ID") == text_of(unknown.content).replace(str(UNKNOWN_ORDER), "ID")
    assert hidden.get("Retry-After") is None and unknown.get("Retry-After") is None
    # Nothing of the hidden order leaks: no customer, no receipt, no venue.
    assert "Nigar" not in body(hidden)
    assert "20855" not in body(hidden)
    assert "Nərimanov" not in body(hidden)
    # Both probes are on record the same way: one action, no venue (it would tell them apart).
    rows = list(AuditEntry.objects.order_by("id").values_list("action", "order_id", "venue_id"))
    assert rows == [
        (AuditEntry.Action.ORDER_NOT_FOUND, 4103, None),
        (AuditEntry.Action.ORDER_NOT_FOUND, UNKNOWN_ORDER, None),
    ]


def timing_metrics(response) -> list[str]:
    return [part.split(";")[0].strip() for part in response.get("Server-Timing", "").split(",") if part.strip()]


def test_repeated_probe_of_a_hidden_order_answers_like_an_unknown_one(api, client_for):
    client = client_for("support1")
    for order_id in (4103, UNKNOWN_ORDER):
        client.get(f"/orders/{order_id}/")

    hidden = client.get("/orders/4103/")
    unknown = client.get(f"/orders/{UNKNOWN_ORDER}/")

    assert hidden.status_code == unknown.status_code == 404
    assert sorted(hidden.headers) == sorted(unknown.headers)
    assert timing_metrics(hidden) == timing_metrics(unknown) == []  # no Clopos timings for support


def test_a_cached_hidden_order_costs_the_prober_what_an_unknown_id_costs(api, client_for):
    """A manager viewed 4103 (venue 3), so it is cached. A support user of venue 1 probing it
    makes one upstream call, as for an unknown id; repeats answer from the cache, as for an
    unknown id."""
    client_for("manager").get("/orders/4103/")
    before = {order_id: calls(api, f"orders/{order_id}") for order_id in (4103, UNKNOWN_ORDER)}
    prober = client_for("support1")

    for _ in range(3):
        assert prober.get("/orders/4103/").status_code == 404
        assert prober.get(f"/orders/{UNKNOWN_ORDER}/").status_code == 404

    assert calls(api, "orders/4103") - before[4103] == 1
    assert calls(api, f"orders/{UNKNOWN_ORDER}") - before[UNKNOWN_ORDER] == 1


def test_hidden_and_unknown_orders_both_answer_busy_while_the_budget_is_spent(api, client_for):
    """With the shared budget spent, an uncached unknown id answers 503; so must a cached
    order of another venue (its answer would otherwise tell that it exists)."""
    from clopos.client import get_clopos_client
    from clopos.deadline import Priority
    from clopos.errors import CloposRateLimitedError

    client_for("manager").get("/orders/4103/")
    budget = get_clopos_client().budget
    prober = client_for("support1")
    with later(0):  # the clock stands still: the budget's 10-second window must not roll over
        with contextlib.suppress(CloposRateLimitedError):
            while True:  # spend the whole window, reserve included
                budget.acquire(1, Priority.REFRESH)

        hidden = prober.get("/orders/4103/")
        unknown = prober.get(f"/orders/{UNKNOWN_ORDER}/")

    assert hidden.status_code == unknown.status_code == 503
    assert text_of(hidden.content).replace("4103", "ID") == text_of(unknown.content).replace(str(UNKNOWN_ORDER), "ID")


def test_scope_of_a_user_with_several_venues(api, client_for, users):
    staff_user_upsert(username="support13", role="support", password=PASSWORD, venue_ids=[1, 3], all_venues=False)
    client = Client()
    client.force_login(get_user_model().objects.get(username="support13"))

    assert client.get("/orders/4101/").status_code == 200
    assert client.get("/orders/4103/receipt/", headers=htmx_headers(4103)).status_code == 200
