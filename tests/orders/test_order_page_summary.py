"""The manager-first order page: summary first, the paid state filled out of band from the
receipt fragment, one items table, technical fields folded away, the receipt copy to print."""

from __future__ import annotations

import re

import pytest

from audit.models import AuditEntry
from tests.conftest import api_url, load_payload, serve_order
from tests.pages import body, htmx_headers, text_of

pytestmark = pytest.mark.django_db


def position(content: str, needle: str) -> int:
    index = content.find(needle)
    assert index >= 0, needle
    return index


def test_summary_comes_before_items_receipt_and_technical_details(api, client_for):
    content = body(client_for("manager").get("/orders/4103/"))

    order = [
        position(content, 'id="paid-state"'),
        position(content, 'id="summary-total"'),
        position(content, 'id="customer"'),
        position(content, 'id="items"'),
        position(content, 'id="receipt"'),
        position(content, '<details class="card technical">'),
    ]
    assert order == sorted(order)
    # Integration fields and raw codes only inside the folded section, with human labels.
    technical = content[position(content, '<details class="card technical">') :]
    assert "CALL_CENTER_ORDER" not in content[: position(content, '<details class="card technical">')]
    assert "Call-centre order" in technical
    assert "POS user #14 on terminal #2" in technical


def test_the_paid_state_waits_for_the_receipt_and_the_fragment_fills_it_out_of_band(api, client_for):
    client = client_for("support")
    page = client.get("/orders/4103/")
    assert "Checking payment…" in text_of(page.content)
    assert 'hx-get="/orders/4103/receipt/"' in body(page)

    fragment = body(client.get("/orders/4103/receipt/", headers=htmx_headers(4103)))

    oob = re.search(r'<span id="paid-state" hx-swap-oob="innerHTML">(.*?)</span>\s*<div', fragment, re.S)
    assert oob and "Paid" in text_of(oob.group(1))
    methods = re.search(r'<div id="payment-methods" hx-swap-oob="innerHTML">(.*?)</div>', fragment, re.S)
    assert text_of(methods.group(1)) == "Kart 20.00 · Nağd 18.20"
    assert re.search(r'<div id="summary-total" hx-swap-oob="innerHTML">\s*38.20\xa0AZN', fragment)
    # Support keeps the order's lines: no receipt lines are swapped into the items table.
    assert 'id="items"' not in fragment


def test_managers_get_one_items_table_the_receipts_lines(api, client_for):
    fragment = body(client_for("manager").get("/orders/4103/receipt/", headers=htmx_headers(4103)))

    items = re.search(r'<section id="items"[^>]*hx-swap-oob="outerHTML"[^>]*>(.*?)</section>', fragment, re.S)
    assert items, "the receipt's lines replace the order's in the one items table"
    assert "As on the receipt." in text_of(items.group(1))
    assert "Piti" in items.group(1)
    # The receipt card itself has no second items table.
    receipt_card = fragment[: fragment.index('<span id="paid-state"')]
    assert "<table" not in receipt_card


def test_the_standalone_receipt_page_has_no_out_of_band_parts(api, client_for):
    content = body(client_for("manager").get("/orders/4103/receipt/"))

    assert "hx-swap-oob" not in content
    assert "Kart 20.00 AZN" in text_of(content)


@pytest.mark.parametrize(
    ("order_id", "state", "receipt_text"),
    [
        (4101, "No receipt yet", "No receipt yet. The POS opens one when it accepts the order."),
        (4104, "No receipt: ignored orders never get one", "No receipt, and there never will be"),
    ],
)
def test_without_a_receipt_the_state_is_known_at_once_and_nothing_loads(api, client_for, order_id, state, receipt_text):
    content = body(client_for("support").get(f"/orders/{order_id}/"))
    text = text_of(content)

    assert state in text
    assert receipt_text in text
    assert "Loading the receipt" not in text and "Checking payment" not in text
    assert f'hx-get="/orders/{order_id}/receipt/"' not in content


def test_an_open_unpaid_receipt_says_what_remains(api, client_for):
    fragment = body(client_for("manager").get("/orders/4102/receipt/", headers=htmx_headers(4102)))

    assert "Unpaid" in text_of(fragment)
    assert "29.97 AZN still to pay" in text_of(fragment)
    assert "No payments yet" in text_of(fragment)


def test_a_receipt_failure_says_the_payment_is_unknown(api, client_for):
    api.replace("GET", api_url("receipts/20855"), status=500, json=load_payload("error_500_internal.json"))

    fragment = body(client_for("manager").get("/orders/4103/receipt/", headers=htmx_headers(4103)))

    assert "Payment unknown" in text_of(fragment)
    assert "Unknown: the receipt could not be loaded" in text_of(fragment)
    assert 'id="summary-total"' not in fragment  # the order's total stays


def test_receipt_workflow_codes_get_human_labels(api, client_for):
    text = text_of(client_for("manager").get("/orders/4102/receipt/", headers=htmx_headers(4102)).content)

    assert "In progress" in text
    assert "IN_PROGRESS" not in text


def test_a_stale_pending_order_is_overdue(api, client_for):
    text = text_of(client_for("manager").get("/orders/4101/").content)  # created March 2026

    assert re.search(r"Overdue: pending for \d+", text)


def test_a_delivered_order_is_never_overdue(api, client_for):
    assert "Overdue" not in text_of(client_for("manager").get("/orders/4103/").content)


def test_refresh_returns_the_receipt_with_the_order_both_fetched_now(api, client_for):
    response = client_for("manager").post("/orders/4103/refresh/", headers=htmx_headers(4103))
    content = body(response)

    assert re.findall(r'data-source="(\w+)"', content) == ["live", "live"]
    assert re.search(r"Refreshed at \d\d:\d\d", text_of(content))
    assert "data-swap-focus" in content and "Order refreshed from Clopos at" in content
    assert 'hx-trigger="load"' not in content  # no second trip for the receipt
    assert "Kart 20.00 · Nağd 18.20" in text_of(content)


def test_the_revealed_phone_is_grouped_dialable_and_copyable(api, client_for):
    content = body(client_for("manager").post("/orders/4103/customer/reveal/", headers=htmx_headers(4103)))

    assert '<a class="phone" href="tel:+994702409981">+994 70 240 99 81</a>' in content
    assert 'data-copy="+994702409981"' in content
    assert "data-swap-focus" in content and "Phone and address revealed; this was logged." in content


# --- The receipt copy to print -------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["80mm", "a4"])
def test_the_print_view_has_everything_a_receipt_copy_needs_and_is_audited(api, client_for, paper):
    query = "" if paper == "80mm" else "?paper=a4"
    response = client_for("manager").get(f"/orders/4103/receipt/print/{query}")

    assert response.status_code == 200
    content = body(response)
    text = text_of(content)
    assert f"paper-{paper}" in content
    for expected in (
        "Receipt #20855",
        "daily no. 21",
        "Shift date 14 Mar 2026",
        "Opened 14 Mar 2026, 14:21",
        "Closed 14 Mar 2026, 15:32",
        "Guests 1",
        "Piti",
        "Subtotal 37.20 AZN",
        "Discount − 2.00 AZN",
        "Service charge 0.00 AZN",
        "Delivery fee 3.00 AZN",
        "Taxes 0.00 AZN",
        "Total 38.20 AZN",
        "Kart 20.00 AZN",
        "Nağd 18.20 AZN",
        "Remaining 0.00 AZN",
        "Fiscal id: 7Hk2sQ9mLx4Pw",
        "Copy — not a fiscal receipt, printed by manager at",
    ):
        assert expected in text, expected
    assert "Table —" in text
    # No customer data on paper.
    assert "+994" not in content and "Şərifzadə" not in content
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PRINT_RECEIPT)
    assert (entry.username, entry.order_id, entry.venue_id) == ("manager", 4103, 3)
    assert entry.detail == f"receipt 20855, {paper}"


def test_a_table_with_its_guests_is_on_the_copy(api, client_for):
    text = text_of(client_for("manager").get("/orders/4105/receipt/print/").content)

    assert "Table #12" in text
    assert "Guests 4" in text
    assert "Service charge (" in text


def test_an_order_without_a_receipt_has_nothing_to_print(api, client_for):
    text = text_of(client_for("manager").get("/orders/4104/receipt/print/").content)

    assert "This order was ignored: it has no receipt to print." in text
    assert "Print" not in text.split("This order")[1]


def test_an_unknown_paper_is_a_400_without_a_clopos_call(api, client_for):
    before = len(api.calls)
    response = client_for("manager").get("/orders/4103/receipt/print/?paper=letter")

    assert response.status_code == 400
    assert len(api.calls) == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PRINT_RECEIPT).exists()


def test_support_may_not_print_a_copy_it_shows_the_payments(api, client_for):
    response = client_for("support").get("/orders/4103/receipt/print/")

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PRINT_RECEIPT).exists()


def test_print_links_are_offered_to_managers_only(api, client_for):
    manager = body(client_for("manager").get("/orders/4103/receipt/", headers=htmx_headers(4103)))
    support = body(client_for("support").get("/orders/4103/receipt/", headers=htmx_headers(4103)))

    assert 'href="/orders/4103/receipt/print/"' in manager
    assert 'href="/orders/4103/receipt/print/?paper=a4"' in manager
    assert "/receipt/print/" not in support


def test_unknown_receipt_workflow_status_is_shown_as_it_is(api, client_for):
    payload = load_payload("receipt_20871_open_for_order_4102.json")
    payload["data"]["order_status"] = "ON_THE_WAY"
    api.replace("GET", api_url("receipts/20871"), json=payload)

    text = text_of(client_for("manager").get("/orders/4102/receipt/", headers=htmx_headers(4102)).content)

    assert "ON_THE_WAY" in text


def test_a_single_order_fixture_can_still_be_served(catalogue_api, client_for):
    serve_order(catalogue_api, 4104)

    assert client_for("manager").get("/orders/4104/").status_code == 200
