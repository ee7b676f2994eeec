"""Behaviour that lives in the browser: the htmx receipt load, login redirects, retries."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_link_opens_after_login_and_receipt_arrives_by_htmx(page, live_app, sandbox):
    page.goto(f"{live_app.base_url}/orders/4103/")
    assert "/accounts/login/" in page.url

    log_in(page, live_app.base_url, "manager")

    page.wait_for_url(f"{live_app.base_url}/orders/4103/")
    assert page.locator("h1").inner_text() == "Order 4103"
    receipt = page.locator("#receipt")
    # The placeholder is replaced by the fragment htmx fetched after load.
    receipt.get_by_text("Receipt id").wait_for(timeout=10_000)
    assert "20855" in receipt.inner_text()
    assert "Split payment" in receipt.inner_text()
    assert sandbox.calls("receipt") == 1
    assert page.console_errors == []


def test_page_does_not_wait_for_a_slow_receipt(page, live_app, sandbox):
    sandbox.fault("receipt", "latency", seconds=0.8)
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4102/")
    log_in(page, live_app.base_url, "manager")
    page.wait_for_url(f"{live_app.base_url}/orders/4102/")

    # The order is on screen while the receipt is still loading…
    assert page.locator("#receipt .placeholder").is_visible()
    assert "Lülə kabab" in page.locator("#order").inner_text()
    # …and the receipt replaces the placeholder when it comes.
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)
    assert page.locator("#receipt .placeholder").count() == 0


def test_receipt_error_has_a_retry_button_that_works(page, live_app, sandbox):
    sandbox.fault("receipt", "status", count=1, status=500)
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/4105/")
    log_in(page, live_app.base_url, "manager")

    error = page.locator("#receipt .receipt-error")
    error.wait_for(timeout=10_000)
    assert re.search(r"Clopos is unreachable", error.inner_text())
    assert "Order 4105" in page.locator("h1").inner_text()  # the page itself is fine

    page.get_by_role("button", name="Retry").click()
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)
    assert "20868" in page.locator("#receipt").inner_text()
