"""Role-based access through the Django test client: every URL × role × venue, masking, reveal,
refresh, navigation, the audit log, and the login/session security around them.

Clopos is mocked with `responses` (no network); users are created with staff_user_upsert.
"""

from __future__ import annotations

import html
import os
import re
import time
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from orders.forms import INVALID_ORDER_ID
from staff.models import AuditEntry
from staff.services import staff_user_upsert
from tests.conftest import api_url, load_payload

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db

PASSWORD = "access-test-Passw0rd!"

ORDERS = {
    4101: "order_4101_pending_delivery_receipt_null.json",
    4102: "order_4102_received_takeaway_pct_discount_open_receipt.json",
    4103: "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
    4104: "order_4104_ignore_no_receipt_requested.json",
    4105: "order_4105_received_dinein_service_charge_open_receipt.json",
    4106: "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
}
RECEIPTS = {
    20850: "receipt_20850_closed_card_for_order_4106.json",
    20855: "receipt_20855_closed_split_payment_for_order_4103.json",
    20868: "receipt_20868_open_service_charge_for_order_4105.json",
    20871: "receipt_20871_open_for_order_4102.json",
}
UNKNOWN_ORDER = 999999

# Order 4101 (venue 3, no receipt) and its customer.
RAW_PHONE_4101 = "+994503214567"
RAW_ADDRESS_4101 = "Bakı, Nərimanov r., Təbriz küç. 71, m. 24"
MASKED_PHONE_4101 = "+994 50 *** ** 67"
# Order 4103 (venue 3, closed split-payment receipt 20855).
RAW_PHONE_4103 = "+994702409981"
MASKED_PHONE_4103 = "+994 70 *** ** 81"

# username -> (role, venues, all_venues); None role: a user with no role at all.
STAFF = {
    "support": ("support", [3], False),
    "support1": ("support", [1], False),
    "manager": ("manager", [], True),
    "manager1": ("manager", [1], False),
    "admin": ("admin", [], True),
    "newcomer": ("support", [], False),
}


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def api(clopos_api):
    """Clopos with every fixture order (all venue 3), their receipts, the catalogue, and 404s."""
    clopos_api.get(api_url("venues"), json=load_payload("venues_list.json"))
    clopos_api.get(api_url("sale-types"), json=load_payload("sale_types_list.json"))
    clopos_api.get(api_url("products/1402"), json=load_payload("product_1402_get_by_id_with_modificator_groups.json"))
    for order_id, name in ORDERS.items():
        clopos_api.get(api_url(f"orders/{order_id}"), json=load_payload(name))
    for receipt_id, name in RECEIPTS.items():
        clopos_api.get(api_url(f"receipts/{receipt_id}"), json=load_payload(name))
    clopos_api.get(api_url(f"orders/{UNKNOWN_ORDER}"), status=404, json=load_payload("error_404_order_not_found.json"))
    return clopos_api


@pytest.fixture
def users(db):
    created = {
        username: staff_user_upsert(
            username=username, role=role, password=PASSWORD, venue_ids=venues, all_venues=all_venues
        )
        for username, (role, venues, all_venues) in STAFF.items()
    }
    # A user nobody has given a role or a venue yet.
    norole = get_user_model().objects.create_user("norole", password=PASSWORD)
    created["norole"] = norole
    return created


@pytest.fixture
def client_for(users):
    def make(username: str | None, **kwargs) -> Client:
        client = Client(**kwargs)
        if username is not None:
            client.force_login(users[username])
        return client

    return make


def calls(mock_api, path: str) -> int:
    """How many times Clopos was asked for /v2/<path>."""
    return sum(1 for call in mock_api.calls if urlsplit(call.request.url).path.endswith(f"/v2/{path}"))


def text_of(content: bytes | str) -> str:
    raw = content.decode() if isinstance(content, bytes) else content
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw))).strip()


def body(response) -> str:
    """The response body, with HTML entities decoded, so no escaped form can hide a value."""
    return html.unescape(response.content.decode())


def htmx_headers(order_id: int) -> dict[str, str]:
    """What htmx sends from the order page."""
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver/orders/{order_id}/"}


def login_redirect_target(response) -> tuple[str, str | None]:
    parts = urlsplit(response["Location"])
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def hx_redirect_target(response) -> tuple[str, str | None]:
    parts = urlsplit(response["HX-Redirect"])
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


# --- The matrix: every URL × every kind of user --------------------------------------------------

# case -> (method, url name, args, htmx page order id or None)
CASES = {
    "lookup": ("get", "orders:order-lookup", [], None),
    "detail": ("get", "orders:order-detail", [4101], None),
    "receipt": ("get", "orders:order-receipt", [4103], None),
    "receipt_htmx": ("get", "orders:order-receipt", [4103], 4103),
    "reveal": ("post", "orders:order-customer-reveal", [4101], None),
    "reveal_htmx": ("post", "orders:order-customer-reveal", [4101], 4101),
    "refresh": ("post", "orders:order-refresh", [4103], None),
    "refresh_htmx": ("post", "orders:order-refresh", [4103], 4103),
    "audit": ("get", "orders:audit-log", [], None),
    "status": ("get", "orders:clopos-status", [], None),
    "healthz": ("get", "orders:healthz", [], None),
    "readyz": ("get", "orders:readyz", [], None),
    "admin": ("get", "admin:index", [], None),
}
# Probes for the load balancer opt out of login explicitly (login_not_required) and show no data.
PUBLIC = {"healthz": "public", "readyz": "public"}

_NO_ACCESS = (
    dict.fromkeys(CASES, "no_access")
    # An htmx request is told to load the no-access page as a page, not swapped into a slot.
    | {case: "hx_no_access" for case, (_, _, _, hx) in CASES.items() if hx}
    | {"admin": "admin_login"}
    | PUBLIC
)
_MANAGER = dict.fromkeys(CASES, "ok") | {"refresh": "to_order", "admin": "admin_login"} | PUBLIC
_SUPPORT = (
    dict.fromkeys(CASES, "ok")
    | {
        "reveal": "denied",
        "reveal_htmx": "denied",
        "refresh": "denied",
        "refresh_htmx": "denied",
        "audit": "denied",
        "status": "denied",
        "admin": "admin_login",
    }
    | PUBLIC
)
EXPECTED: dict[str | None, dict[str, str]] = {
    None: {case: ("hx_login" if hx else "login") for case, (_, _, _, hx) in CASES.items()}
    | {"admin": "admin_login"}
    | PUBLIC,
    "norole": _NO_ACCESS,
    "newcomer": _NO_ACCESS,
    "support": _SUPPORT,
    # Venue 1 only: the venue-3 order is "not found"; permissions still come first.
    "support1": _SUPPORT | {"detail": "not_found", "receipt": "not_found", "receipt_htmx": "not_found"},
    "manager": _MANAGER,
    "manager1": _MANAGER
    | {
        "detail": "not_found",
        "receipt": "not_found",
        "receipt_htmx": "not_found",
        "reveal": "not_found",
        "reveal_htmx": "not_found",
        "refresh": "not_found",
        "refresh_htmx": "not_found",
    },
    "admin": _MANAGER | {"admin": "ok"},
}
MATRIX = [(user, case) for user in EXPECTED for case in CASES]


def test_matrix_covers_every_console_url():
    """A new URL in orders/urls.py must be added to the matrix (deny by default is tested per URL)."""
    names = {
        f"orders:{name}" for name in get_resolver().namespace_dict["orders"][1].reverse_dict if isinstance(name, str)
    }
    assert names == {url_name for _, url_name, _, _ in CASES.values()} - {"admin:index"}


def request_case(client: Client, case: str):
    method, url_name, args, htmx_page = CASES[case]
    headers = htmx_headers(htmx_page) if htmx_page else {}
    return getattr(client, method)(reverse(url_name, args=args), headers=headers)


@pytest.mark.parametrize(("username", "case"), MATRIX, ids=[f"{u or 'anonymous'}-{c}" for u, c in MATRIX])
def test_access_matrix(api, client_for, username, case):
    expected = EXPECTED[username][case]
    _, url_name, args, htmx_page = CASES[case]
    path = reverse(url_name, args=args)
    entries_before = AuditEntry.objects.count()

    response = request_case(client_for(username), case)

    content = response.content.decode()
    if expected == "login":
        assert response.status_code == 302
        assert login_redirect_target(response) == ("/accounts/login/", path)
    elif expected == "hx_login":
        assert response.status_code == 401
        assert hx_redirect_target(response) == ("/accounts/login/", f"/orders/{htmx_page}/")
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
        assert response["HX-Redirect"] == reverse("orders:order-lookup")
        assert content == ""
    elif expected == "denied":
        assert response.status_code == 403
        assert "Not allowed" in content
        assert "No access yet" not in content
    elif expected == "not_found":
        assert response.status_code == 404
        assert "No order with this id exists in Clopos, or it belongs to a venue you cannot see." in content
    elif expected == "to_order":
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:order-detail", args=args)
    elif expected == "public":
        assert response.status_code == 200
        assert "Leyla" not in content
    else:
        assert expected == "ok"
        assert response.status_code == 200, content[:500]
        assert "No access yet" not in content
        if htmx_page:
            assert "<html" not in content  # a fragment, not a page
    # Nothing but a successful view, reveal or refresh leaves an audit row.
    audited = expected in {"ok", "to_order"} and case in {"detail", "reveal", "reveal_htmx", "refresh", "refresh_htmx"}
    assert AuditEntry.objects.count() == entries_before + (1 if audited else 0)
    # Refused requests never reach Clopos.
    if expected in {"login", "hx_login", "no_access", "hx_no_access", "denied", "admin_login"}:
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
    assert not AuditEntry.objects.exists()


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
    assert timing_metrics(hidden) == timing_metrics(unknown)


def test_scope_of_a_user_with_several_venues(api, client_for, users):
    staff_user_upsert(username="support13", role="support", password=PASSWORD, venue_ids=[1, 3], all_venues=False)
    client = Client()
    client.force_login(get_user_model().objects.get(username="support13"))

    assert client.get("/orders/4101/").status_code == 200
    assert client.get("/orders/4103/receipt/", headers=htmx_headers(4103)).status_code == 200


# --- Masking: support never receives the full phone or street -----------------------------------


def assert_no_raw_contact(response) -> None:
    content = body(response)
    for secret in (RAW_PHONE_4101, "503214567", "Təbriz küç", "Nərimanov r.", RAW_PHONE_4103, "702409981", "Şərifzadə"):
        assert secret not in content, secret


def test_support_sees_masked_contact_only(api, client_for):
    client = client_for("support")

    page = client.get("/orders/4101/")
    receipt = client.get("/orders/4101/receipt/", headers=htmx_headers(4101))
    receipt_page = client.get("/orders/4101/receipt/")

    assert page.status_code == receipt.status_code == receipt_page.status_code == 200
    assert MASKED_PHONE_4101 in body(page)
    assert "Bakı, ***" in body(page)
    assert "Leyla Məmmədova" in body(page)  # the name is not masked
    for response in (page, receipt, receipt_page):
        assert_no_raw_contact(response)
    assert "No receipt yet" in body(receipt)


@pytest.mark.parametrize("username", ["support", "manager", "admin"])
@pytest.mark.parametrize("order_id", sorted(ORDERS))
def test_no_full_phone_or_street_reaches_the_browser_without_reveal(api, client_for, username, order_id):
    """Every fixture order, every response a page load makes: page, receipt fragment, receipt page."""
    customer = load_payload(ORDERS[order_id])["data"]["payload"]["customer"]
    digits = re.sub(r"\D", "", customer["phone"])
    client = client_for(username)

    page = client.get(f"/orders/{order_id}/")
    fragment = client.get(f"/orders/{order_id}/receipt/", headers=htmx_headers(order_id))
    receipt_page = client.get(f"/orders/{order_id}/receipt/")

    assert page.status_code == fragment.status_code == receipt_page.status_code == 200
    assert f"+994 {digits[3:5]} *** ** {digits[-2:]}" in body(page)
    for response in (page, fragment, receipt_page):
        content = body(response)
        assert digits[3:] not in content
        assert digits[-7:] not in content
        assert customer["phone"] not in content
        if customer["address"]:
            street = customer["address"].split(",", 1)[1].strip()
            assert street not in content
            assert street.split(",")[0] not in content


def test_support_receipt_of_an_order_with_a_receipt_has_no_contact(api, client_for):
    """Receipt 20855 carries the delivery address itself: it must not reach support either."""
    client = client_for("support")

    page = client.get("/orders/4103/")
    receipt = client.get("/orders/4103/receipt/", headers=htmx_headers(4103))

    assert MASKED_PHONE_4103 in body(page)
    assert_no_raw_contact(page)
    assert_no_raw_contact(receipt)


def test_manager_page_is_masked_until_reveal(api, client_for):
    page = client_for("manager").get("/orders/4101/")

    assert MASKED_PHONE_4101 in body(page)
    assert_no_raw_contact(page)
    assert "Reveal phone and address" in body(page)


def test_support_cannot_reveal_and_nothing_is_logged(api, client_for):
    client = client_for("support")

    for headers in ({}, htmx_headers(4101)):
        response = client.post("/orders/4101/customer/reveal/", headers=headers)
        assert response.status_code == 403
        assert_no_raw_contact(response)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_CUSTOMER).exists()
    assert calls(api, "orders/4101") == 0


def test_reveal_is_post_only(api, client_for):
    response = client_for("manager").get("/orders/4101/customer/reveal/")

    assert response.status_code == 405
    assert_no_raw_contact(response)
    assert not AuditEntry.objects.exists()


def test_manager_reveal_returns_full_contact_fragment_and_is_logged(api, client_for, users):
    response = client_for("manager").post("/orders/4101/customer/reveal/", headers=htmx_headers(4101))

    assert response.status_code == 200
    content = body(response)
    assert content.lstrip().startswith('<section id="customer"')
    assert "<html" not in content
    assert RAW_PHONE_4101 in content
    assert RAW_ADDRESS_4101 in content
    assert MASKED_PHONE_4101 not in content
    assert "Revealed for you; this was logged." in content
    assert "Reveal phone and address" not in content
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.REVEAL_CUSTOMER
    assert entry.user == users["manager"]
    assert entry.username == "manager"
    assert entry.order_id == 4101
    assert entry.venue_id == 3
    assert entry.ip_address == "127.0.0.1"
    assert abs((timezone.now() - entry.created_at).total_seconds()) < 60


def test_manager_reveal_without_htmx_renders_the_whole_page(api, client_for):
    response = client_for("manager").post("/orders/4101/customer/reveal/")

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert RAW_PHONE_4101 in body(response)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_CUSTOMER, order_id=4101).count() == 1


def test_view_is_logged_with_user_order_venue_and_ip(api, client_for, users):
    client_for("support").get("/orders/4101/", REMOTE_ADDR="10.1.2.3")

    entry = AuditEntry.objects.get()
    assert (entry.user, entry.action, entry.order_id, entry.venue_id, entry.ip_address) == (
        users["support"],
        AuditEntry.Action.VIEW_ORDER,
        4101,
        3,
        "10.1.2.3",
    )


def test_receipt_views_are_not_logged_as_order_views(api, client_for):
    client_for("support").get("/orders/4103/receipt/", headers=htmx_headers(4103))

    assert not AuditEntry.objects.exists()


# --- Payments: support sees the total and the status, managers the breakdown ------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["fragment", "page"])
def test_support_receipt_shows_total_and_status_but_no_payments(api, client_for, htmx):
    response = client_for("support").get("/orders/4103/receipt/", headers=htmx_headers(4103) if htmx else {})

    assert response.status_code == 200
    content = body(response)
    text = text_of(response.content)
    assert "Total 38.20 AZN" in text
    assert "Closed" in text
    for hidden in ("Kart", "Nağd", "20.00 AZN", "18.20 AZN", "Payments", "Split payment", "7Hk2sQ9mLx4Pw"):
        assert hidden not in content, hidden


@pytest.mark.parametrize("username", ["manager", "admin"])
def test_manager_receipt_shows_payment_breakdown(api, client_for, username):
    response = client_for(username).get("/orders/4103/receipt/", headers=htmx_headers(4103))

    assert response.status_code == 200
    text = text_of(response.content)
    assert "Kart 20.00 AZN" in text
    assert "Nağd 18.20 AZN" in text
    assert "Total 38.20 AZN" in text
    assert "Split payment across 2 methods" in text


# --- Refresh from Clopos ----------------------------------------------------------------------


def test_manager_refresh_refetches_even_when_cached_and_is_logged(api, client_for, users):
    client = client_for("manager")
    client.get("/orders/4103/")
    client.get("/orders/4103/receipt/", headers=htmx_headers(4103))
    client.get("/orders/4103/")  # served from the cache
    assert calls(api, "orders/4103") == 1
    assert calls(api, "receipts/20855") == 1

    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 200
    assert calls(api, "orders/4103") == 2
    assert calls(api, "receipts/20855") == 2
    content = body(response)
    assert content.lstrip().startswith('<article id="order"')
    assert "<html" not in content
    assert 'data-source="live"' in content
    assert_no_raw_contact(response)  # the re-rendered order is masked again
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REFRESH_ORDER)
    assert (entry.user, entry.order_id, entry.venue_id, entry.ip_address) == (users["manager"], 4103, 3, "127.0.0.1")


def test_support_cannot_refresh(api, client_for):
    client = client_for("support")
    client.get("/orders/4103/")

    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 403
    assert calls(api, "orders/4103") == 1
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REFRESH_ORDER).exists()


def test_refresh_is_post_only(api, client_for):
    assert client_for("manager").get("/orders/4103/refresh/").status_code == 405
    assert calls(api, "orders/4103") == 0


# --- Navigation shows only what the user may use --------------------------------------------------


def nav_of(response) -> str:
    match = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', response.content.decode(), re.S)
    assert match, "no main navigation"
    return match.group(1)


def test_support_navigation_and_page_hide_manager_actions(api, client_for):
    client = client_for("support")
    lookup, detail = client.get("/"), client.get("/orders/4101/")

    for response in (lookup, detail):
        nav = nav_of(response)
        assert "Find order" in nav
        assert "Audit log" not in nav
        assert "/audit/" not in response.content.decode()
        assert "Staff admin" not in nav
        assert "/admin/" not in response.content.decode()
        assert "Log out" in nav
    page = detail.content.decode()
    assert "Refresh from Clopos" not in page
    assert "/orders/4101/refresh/" not in page
    assert "Reveal phone and address" not in page
    assert "/orders/4101/customer/reveal/" not in page


def test_manager_navigation_and_page_offer_manager_actions(api, client_for):
    client = client_for("manager")
    detail = client.get("/orders/4101/")

    nav = nav_of(detail)
    assert 'href="/audit/">Audit log</a>' in nav
    assert "Staff admin" not in nav
    page = detail.content.decode()
    assert "Refresh from Clopos" in page
    assert 'hx-post="/orders/4101/refresh/"' in page
    assert "Reveal phone and address" in page
    assert 'hx-post="/orders/4101/customer/reveal/"' in page


def test_admin_navigation_has_staff_admin(api, client_for):
    nav = nav_of(client_for("admin").get("/"))

    assert 'href="/admin/">Staff admin</a>' in nav
    assert 'href="/audit/">Audit log</a>' in nav


@pytest.mark.parametrize("username", ["newcomer", "norole"])
def test_no_access_page_offers_only_logout(api, client_for, username):
    response = client_for(username).get("/")

    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "orders/no_access.html"
    nav = nav_of(response)
    assert "Find order" not in nav
    assert "Audit log" not in nav
    assert "Log out" in nav


def test_no_access_page_has_no_order_lookup_box(api, client_for):
    response = client_for("newcomer").get("/")

    assert 'role="search"' not in response.content.decode()


# --- Audit log page -----------------------------------------------------------------------------


def audit_entry(username: str, order_id: int, venue_id: int, when: str, action=AuditEntry.Action.VIEW_ORDER):
    entry = AuditEntry.objects.create(
        username=username, action=action, order_id=order_id, venue_id=venue_id, ip_address="127.0.0.1"
    )
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=timezone.datetime.fromisoformat(when))
    return entry


@pytest.fixture
def audit_entries(db):
    audit_entry("manager", 5001, 1, "2026-01-10T12:00:00+00:00")
    audit_entry("support1", 5002, 1, "2026-02-10T12:00:00+00:00", AuditEntry.Action.REVEAL_CUSTOMER)
    audit_entry("support", 5003, 3, "2026-02-11T12:00:00+00:00")
    audit_entry("manager", 5004, 3, "2026-03-10T12:00:00+00:00", AuditEntry.Action.REFRESH_ORDER)


def listed_orders(response) -> set[int]:
    return {int(i) for i in re.findall(r'<td><a href="/orders/(\d+)/">', response.content.decode())}


def test_audit_log_shows_only_the_managers_venues(client_for, audit_entries):
    scoped = client_for("manager1").get("/audit/")
    everything = client_for("manager").get("/audit/")

    assert scoped.status_code == everything.status_code == 200
    assert listed_orders(scoped) == {5001, 5002}
    assert listed_orders(everything) == {5001, 5002, 5003, 5004}


def test_audit_log_rows_show_user_action_order_venue_time_and_ip(client_for, audit_entries):
    text = text_of(client_for("manager1").get("/audit/", {"order_id": "5002"}).content)

    assert "support1 Revealed customer details 5002 1 127.0.0.1" in text
    when = timezone.localtime(timezone.datetime.fromisoformat("2026-02-10T12:00:00+00:00"))
    assert when.strftime("%d %b %Y, %H:%M:%S") in text  # shown in the venue time zone (16:00 in Baku)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"username": "manager"}, {5001, 5004}),
        ({"username": "SUPPORT"}, {5003}),
        ({"order_id": "5003"}, {5003}),
        ({"order_id": " 5004 "}, {5004}),
        ({"date_from": "2026-02-01"}, {5002, 5003, 5004}),
        ({"date_to": "2026-02-10"}, {5001, 5002}),
        ({"date_from": "2026-02-11", "date_to": "2026-02-11"}, {5003}),
        ({"username": "manager", "date_from": "2026-02-01"}, {5004}),
        ({"username": "nobody"}, set()),
    ],
)
def test_audit_log_filters(client_for, audit_entries, query, expected):
    response = client_for("manager").get("/audit/", query)

    assert response.status_code == 200
    assert listed_orders(response) == expected


def test_audit_log_filters_stay_inside_the_scope(client_for, audit_entries):
    response = client_for("manager1").get("/audit/", {"order_id": "5003"})

    assert response.status_code == 200
    assert listed_orders(response) == set()
    assert "5003" not in text_of(response.content)


def test_audit_log_says_when_nothing_matches(client_for, audit_entries):
    response = client_for("manager").get("/audit/", {"username": "nobody"})

    assert response.status_code == 200
    assert "No entries match." in response.content.decode()


@pytest.mark.parametrize("bad_id", ["abc", "0", "-5", "1.5", "99999999999999999"])
def test_audit_log_rejects_an_invalid_order_id(client_for, audit_entries, bad_id):
    response = client_for("manager").get("/audit/", {"order_id": bad_id})

    assert response.status_code == 400
    assert INVALID_ORDER_ID in response.content.decode()
    assert listed_orders(response) == set()


def test_audit_log_rejects_reversed_dates(client_for, audit_entries):
    response = client_for("manager").get("/audit/", {"date_from": "2026-03-01", "date_to": "2026-02-01"})

    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()


def test_audit_log_pages_keep_the_filter(client_for, db):
    for order_id in range(6000, 6060):
        audit_entry("manager", order_id, 3, "2026-02-01T12:00:00+00:00")
    audit_entry("support", 7000, 3, "2026-02-01T12:00:00+00:00")

    first = client_for("manager").get("/audit/", {"username": "manager"})
    second = client_for("manager").get("/audit/", {"username": "manager", "page": "2"})

    assert len(listed_orders(first)) == 50
    assert len(listed_orders(second)) == 10
    assert "?username=manager&amp;page=2" in first.content.decode()
    assert 7000 not in listed_orders(first) | listed_orders(second)


def test_admin_sees_every_venue_in_django_admin_and_cannot_edit_it(client_for, audit_entries):
    client = client_for("admin")

    listing = client.get("/admin/staff/auditentry/")

    assert listing.status_code == 200
    text = text_of(listing.content)
    for order_id in (5001, 5002, 5003, 5004):
        assert str(order_id) in text
    entry = AuditEntry.objects.get(order_id=5001)
    assert client.get("/admin/staff/auditentry/add/").status_code == 403
    assert client.post(f"/admin/staff/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_admin_manages_staff_in_django_admin(api, client_for):
    client = client_for("admin")

    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 200
    change = client.get(f"/admin/auth/user/{get_user_model().objects.get(username='support').pk}/change/")
    assert change.status_code == 200
    form = change.content.decode()
    assert 'name="staff_profile-0-venue_ids"' in form
    assert re.search(r'<input[^>]*name="staff_profile-0-venue_ids" value="3"[^>]*checked', form)


@pytest.mark.parametrize("target", ["admin", "support"])
def test_admin_role_cannot_grant_superuser_or_loose_permissions(api, client_for, users, target):
    """A staff admin assigns roles and venues; superuser status or single permissions would bypass the roles."""
    user = users[target]
    reveal = Permission.objects.get(content_type__app_label="orders", codename="reveal_customer")
    form = {
        "username": user.username,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on",
        "user_permissions": [str(reveal.pk)],
        "groups": [str(group.pk) for group in user.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-all_venues": "on" if user.staff_profile.all_venues else "",
        "staff_profile-0-venue_ids": [str(v) for v in user.staff_profile.venue_ids],
        "staff_profile-0-id": str(user.staff_profile.pk),
        "staff_profile-0-user": str(user.pk),
    }
    client = client_for("admin")
    change_page = client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()

    response = client.post(f"/admin/auth/user/{user.pk}/change/", form)

    assert 'name="is_superuser"' not in change_page
    assert 'name="user_permissions"' not in change_page
    assert response.status_code == 302  # saved: the extra fields were ignored, not rejected
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.is_superuser
    assert not user.user_permissions.exists()
    assert user.has_perm("orders.reveal_customer") == (target == "admin")


@pytest.mark.parametrize("username", ["manager", "support"])
def test_non_admins_cannot_open_django_admin_pages(client_for, audit_entries, username):
    response = client_for(username).get("/admin/staff/auditentry/")

    assert response.status_code == 302
    assert login_redirect_target(response)[0] == "/admin/login/"


# --- The audit write never fails the page ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/orders/4101/", {}),
        ("post", "/orders/4101/customer/reveal/", htmx_headers(4101)),
        ("post", "/orders/4101/refresh/", htmx_headers(4101)),
    ],
    ids=["view", "reveal", "refresh"],
)
def test_page_survives_a_failing_audit_write(api, client_for, caplog, method, path, headers):
    client = client_for("manager")

    with mock.patch(
        "staff.audit.AuditEntry.objects.bulk_create", side_effect=DatabaseError("audit table gone")
    ) as write:
        response = getattr(client, method)(path, headers=headers)

    assert response.status_code == 200
    assert write.call_count == 1
    assert "Leyla Məmmədova" in body(response)
    assert "audit write failed" in caplog.text


# --- Login, logout, CSRF, sessions ------------------------------------------------------------------


def test_login_form_works_and_lands_on_the_console(users):
    client = Client()

    response = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order-lookup")
    assert client.get("/").status_code == 200


def test_lockout_after_failure_limit(users):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    statuses = [
        client.post("/accounts/login/", {"username": "manager", "password": "wrong"}).status_code
        for _ in range(limit - 1)
    ]
    assert statuses == [200] * (limit - 1)  # the form again, with an error
    locking = client.post("/accounts/login/", {"username": "manager", "password": "wrong"})
    after = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    for response in (locking, after):
        # django-axes answers with AXES_HTTP_RESPONSE_CODE, 429 by default.
        assert response.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in response.templates]
        assert "Too many failed logins" in response.content.decode()
        assert "ask your admin to unlock it" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_lockout_is_per_username_and_address(users):
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked.post("/accounts/login/", {"username": "manager", "password": "wrong"})

    other_user = Client().post("/accounts/login/", {"username": "support", "password": PASSWORD})
    other_address = Client(REMOTE_ADDR="10.9.9.9").post(
        "/accounts/login/", {"username": "manager", "password": PASSWORD}
    )

    assert other_user.status_code == 302
    assert other_address.status_code == 302


def test_wrong_password_shows_a_form_error(users):
    client = Client()
    response = client.post("/accounts/login/", {"username": "manager", "password": "nope"})

    assert response.status_code == 200
    assert 'class="error" role="alert"' in response.content.decode()
    assert "enter a correct username and password" in text_of(response.content).lower()
    assert "_auth_user_id" not in client.session


def test_lockout_message_states_the_wait_in_words(users):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "manager", "password": "wrong"})

    text = text_of(response.content)
    assert "PT15M" not in text
    assert "15 minutes" in text


def test_logout_is_post_only(client_for):
    client = client_for("manager")

    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200  # still logged in

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/orders/4101/customer/reveal/", {}),
        ("/orders/4103/refresh/", {}),
        ("/accounts/logout/", {}),
    ],
    ids=["reveal", "refresh", "logout"],
)
def test_csrf_is_enforced(api, users, path, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])

    for headers in ({}, htmx_headers(4101)):
        response = client.post(path, data, headers=headers)
        assert response.status_code == 403
    assert not AuditEntry.objects.exists()
    assert calls(api, "orders/4101") == calls(api, "orders/4103") == 0


def test_csrf_token_from_the_page_is_accepted(api, users):
    """The control case: htmx sends the token the page put in hx-headers."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["manager"])
    page = client.get("/orders/4101/").content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)

    response = client.post("/orders/4101/customer/reveal/", headers=htmx_headers(4101) | {"X-CSRFToken": token})

    assert response.status_code == 200
    assert RAW_PHONE_4101 in body(response)


def test_login_requires_csrf(users):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    assert response.status_code == 403


def test_session_key_rotates_on_login(users):
    client = Client()
    anonymous = client.session
    anonymous["probe"] = "before login"
    anonymous.save()
    before = anonymous.session_key

    client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get(username="manager").pk)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "http://testserver.evil.example/", "https:///evil.example/"],
)
def test_next_never_leaves_the_site(users, target):
    response = Client().post("/accounts/login/", {"username": "manager", "password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order-lookup")


def test_next_within_the_site_is_followed(users):
    client = Client()
    page = client.get("/accounts/login/", {"next": "/orders/4101/"})
    assert 'name="next" value="/orders/4101/"' in page.content.decode()

    response = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD, "next": "/orders/4101/"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/4101/"


def test_idle_timeout_comes_from_settings():
    configured = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", 30 * 60))

    assert configured == settings.SESSION_COOKIE_AGE
    assert not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert "staff.middleware.IdleSessionTimeoutMiddleware" in settings.MIDDLEWARE


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


# --- htmx requests that lose their session or their access mid-page ------------------------------


def test_htmx_post_without_session_or_csrf_cookie_goes_to_login(users):
    """A browser whose cookies all expired: the CSRF check fails first, and still sends it to login."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 401
    assert urlsplit(response["HX-Redirect"]).path == "/accounts/login/"
    assert parse_qs(urlsplit(response["HX-Redirect"]).query)["next"] == ["/orders/4103/"]
    assert b"<form" not in response.content


def test_csrf_failure_of_a_signed_in_user_is_a_plain_403(client_for):
    client = client_for("manager")
    client.handler.enforce_csrf_checks = True
    response = client.post("/orders/4103/refresh/", headers=htmx_headers(4103))

    assert response.status_code == 403
    assert "HX-Redirect" not in response
    assert "Not allowed" in text_of(response.content)


def test_htmx_request_after_access_was_withdrawn_reloads_the_page(client_for):
    response = client_for("newcomer").get("/orders/4103/receipt/", headers=htmx_headers(4103))

    assert response.status_code == 403
    assert response["HX-Redirect"] == "/"
    assert response.content == b""


# --- The permission cache follows role changes at once ------------------------------------------


def test_role_change_takes_effect_on_the_next_request(api, client_for, users):
    from django.contrib.auth.models import Group

    client = client_for("support")
    assert client.get("/audit/").status_code == 403  # support: no audit log (and now cached)

    users["support"].groups.set([Group.objects.get(name="manager")])
    assert client.get("/audit/").status_code == 200

    Group.objects.get(name="manager").permissions.remove(Permission.objects.get(codename="view_audit_log"))
    assert client.get("/audit/").status_code == 403


def test_permissions_are_read_from_the_cache_after_the_first_request(api, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("manager")
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries.captured_queries if "auth_permission" in q["sql"]]


def test_audit_row_is_written_when_the_response_is_finished(api, client_for):
    """The page does not wait for the INSERT: the WSGI server gets the response first and the
    row is written when it closes the response (after sending it), as gunicorn does."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import RequestFactory

    cookie = client_for("manager").cookies[settings.SESSION_COOKIE_NAME].value
    environ = RequestFactory()._base_environ(
        PATH_INFO="/orders/4101/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}"
    )
    before = AuditEntry.objects.count()
    # As Django's test client does: keep the test's database connection (and transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: None)

        assert response.status_code == 200
        assert AuditEntry.objects.count() == before  # the response exists, the row not yet
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.order_id, entry.venue_id, entry.username) == ("view_order", 4101, 3, "manager")


def test_lookup_page_lists_the_users_recently_opened_orders(api, client_for, users):
    manager = client_for("manager")
    for order_id in (4101, 4103, 4101):
        manager.get(f"/orders/{order_id}/")
    AuditEntry.objects.create(user=users["support"], username="support", action="view_order", order_id=4105)

    html = manager.get("/").content.decode()

    recent = re.findall(r'<ul class="recent">(.*?)</ul>', html, re.S)[0]
    assert re.findall(r">(\d+)</a>", recent) == ["4101", "4103"]  # newest first, once each, only mine
    assert "Recently opened" not in client_for("newcomer").get("/").content.decode()


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
