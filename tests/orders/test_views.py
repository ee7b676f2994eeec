"""The order pages through the Django test client: detail, receipt slot, reveal, refresh and the
lookup page; masking as the browser receives it; which accesses are audited.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from tests.conftest import (
    MASKED_PHONE_4101,
    MASKED_PHONE_4103,
    ORDERS,
    RAW_ADDRESS_4101,
    RAW_PHONE_4101,
    RAW_PHONE_4103,
    calls,
    load_payload,
)
from tests.pages import body, htmx_headers, text_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


# --- Masking: support never receives the full phone or street -----------------------------------


def assert_no_raw_contact(response) -> None:
    content = body(response)
    for secret in (RAW_PHONE_4101, "503214567", "Təbriz küç", RAW_PHONE_4103, "702409981", "Şərifzadə"):
        assert secret not in content, secret


def test_support_sees_masked_contact_only(api, client_for):
    client = client_for("support")

    page = client.get("/orders/4101/")
    receipt = client.get("/orders/4101/receipt/", headers=htmx_headers(4101))
    receipt_page = client.get("/orders/4101/receipt/")

    assert page.status_code == receipt.status_code == receipt_page.status_code == 200
    assert MASKED_PHONE_4101 in body(page)
    assert "Bakı, Nərimanov r., ***" in body(page)
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
        # Only the city and district may show; the street, house and flat never do.
        for part in (customer["address"] or "").split(","):
            if re.search(r"\d|küç|pr\.|m\.", part):
                assert part.strip() not in content


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


# --- Reveal, and what is logged ----------------------------------------------------------------


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
def test_support_receipt_shows_total_status_and_how_it_was_paid_but_no_details(api, client_for, htmx):
    """Payment method names and the paid state are not customer data (issue 12): support sees
    them; the receipt's lines, payment rows, fiscal id and printing stay with view_payments."""
    response = client_for("support").get("/orders/4103/receipt/", headers=htmx_headers(4103) if htmx else {})

    assert response.status_code == 200
    content = body(response)
    text = text_of(response.content)
    assert "Total 38.20 AZN" in text
    assert "Closed" in text
    assert "Paid Kart 20.00 · Nağd 18.20" in text
    for hidden in ("Payments", "Split payment", "7Hk2sQ9mLx4Pw", "Piti", "Print a copy", "/receipt/print/"):
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


# --- Lookup page ------------------------------------------------------------------------------


def test_lookup_page_lists_the_users_recently_opened_orders(api, client_for, users):
    manager = client_for("manager")
    for order_id in (4101, 4103, 4101):
        manager.get(f"/orders/{order_id}/")
    AuditEntry.objects.create(user=users["support"], username="support", action="view_order", order_id=4105)

    html = manager.get("/").content.decode()

    recent = re.findall(r'<ul class="recent">(.*?)</ul>', html, re.S)[0]
    assert re.findall(r">(\d+)</a>", recent) == ["4101", "4103"]  # newest first, once each, only mine
    assert "Recently opened" not in client_for("no-venue").get("/").content.decode()
