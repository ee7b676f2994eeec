"""Receipts and customers in a real browser: the receipts list's filters swap the results and push
the URL (the orders list's machinery), the back button, a receipt from the lookup box, and the
customer search typed as a caller would say the number."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from sandbox import living
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

NOW = "2026-11-27T14:00:00+04:00"
DAY = "2026-11-26"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def receipt_ids(page) -> list[str]:
    return page.locator("[data-receipt-row]").evaluate_all("rows => rows.map(r => r.dataset.receiptRow)")


@pytest.fixture
def pinned(sandbox):
    sandbox.config(now=NOW)
    return sandbox


def open_receipts(page, live_app, query: str = f"day={DAY}", username: str = "manager") -> None:
    page.goto(f"{live_app.base_url}/accounts/login/?next=/receipts/%3F{query.replace('&', '%26')}")
    log_in(page, live_app.base_url, username)
    page.wait_for_url(re.compile(r"/receipts/\?"))
    page.locator("[data-receipt-row]").first.wait_for()


def test_receipt_filters_swap_the_results_and_push_the_url(page, live_app, pinned):
    open_receipts(page, live_app)
    page.evaluate("window.__sameDocument = true")
    everything = receipt_ids(page)

    with page.expect_request(lambda r: "/receipts/?" in r.url and r.headers.get("hx-request") == "true"):
        page.get_by_role("checkbox", name="Open", exact=True).check()
    page.wait_for_url(re.compile(r"status=open"))
    expect(page.locator("#results-title")).to_be_focused()

    assert page.evaluate("window.__sameDocument === true"), "only the results were swapped"
    assert query_of(page.url) == {"day": [DAY], "status": ["open"]}
    opened = receipt_ids(page)
    assert opened and opened != everything
    badges = page.locator("[data-receipt-row] .status").all_inner_texts()
    assert badges and all("Open" in badge for badge in badges)
    assert "on this page" in page.locator("#list-announcer").inner_text()

    page.get_by_role("checkbox", name="Kart", exact=True).check()
    page.wait_for_url(re.compile(r"payment_method=2"))
    assert query_of(page.url) == {"day": [DAY], "status": ["open"], "payment_method": ["2"]}
    # The download links follow the filters.
    href = page.locator("[data-export=csv]").get_attribute("href")
    assert query_of(href) == {"day": [DAY], "status": ["open"], "payment_method": ["2"]}

    page.go_back()
    page.wait_for_url(re.compile(r"status=open$"))
    page.go_back()
    page.wait_for_url(re.compile(rf"/receipts/\?day={DAY}$"))
    # htmx asks the server for the whole page again (historyCacheSize 0).
    expect(page.locator("[data-receipt-row]")).to_have_count(len(everything))
    assert receipt_ids(page) == everything
    assert page.console_errors == []


def test_keyboard_opens_a_receipt_from_the_list(page, live_app, pinned):
    open_receipts(page, live_app)
    first = receipt_ids(page)[0]
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_app.base_url}/receipts/{first}/")
    expect(page.locator("#receipt-title")).to_contain_text(first)


def test_the_lookup_box_opens_a_receipt_by_r_number(page, live_app, pinned):
    receipt_id = living.boundary_receipts(living.date(2026, 11, 27))["02:00"]
    open_receipts(page, live_app)
    page.locator("#lookup-order-id").fill(f"r{receipt_id}")
    page.locator("#lookup-order-id").press("Enter")
    page.wait_for_url(f"{live_app.base_url}/receipts/{receipt_id}/")
    expect(page.locator("#receipt-page")).to_contain_text("none: a sale rung up on the POS")


def test_customer_search_as_a_caller_says_the_number(page, live_app, pinned):
    page.goto(f"{live_app.base_url}/accounts/login/?next=/customers/")
    log_in(page, live_app.base_url, "support")
    page.wait_for_url(f"{live_app.base_url}/customers/")
    expect(page.locator("#id_q")).to_be_focused()

    page.locator("#id_q").fill("050 333 22 11")
    page.locator("#id_q").press("Enter")
    page.wait_for_url(re.compile(r"/customers/\?q="))

    rows = page.locator("[data-customer-row]")
    expect(rows).to_have_count(1)  # venue 3 only: 1005 (venue 1) shares the number
    expect(rows.first).to_contain_text("Əli Məmmədov")
    expect(rows.first).to_contain_text("+994 50 *** ** 11")
    rows.first.get_by_role("link").click()
    page.wait_for_url(f"{live_app.base_url}/customers/1000/")
    expect(page.locator("[data-history-summary]")).to_contain_text("Searched 30 days")
    assert page.console_errors == []


def test_customer_search_by_an_azerbaijani_name(page, live_app, pinned):
    page.goto(f"{live_app.base_url}/accounts/login/?next=/customers/")
    log_in(page, live_app.base_url, "manager")
    page.wait_for_url(f"{live_app.base_url}/customers/")
    page.locator("#id_q").fill("İSMAYIL")
    page.locator("#id_q").press("Enter")
    expect(page.locator('[data-customer-row="1003"]')).to_contain_text("İsmayıl Həsənov")
