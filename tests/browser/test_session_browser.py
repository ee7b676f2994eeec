"""Sessions and masking as a real browser lives them: an htmx request after the session is gone,
and the manager's reveal (an htmx POST carrying the CSRF token from hx-headers)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

RAW_PHONE = "+994503214567"
# How the revealed number reads (grouped) on the page; its tel: link holds RAW_PHONE.
SHOWN_PHONE = "+994 50 321 45 67"
MASKED_PHONE = "+994 50 *** ** 67"
RAW_STREET = "Təbriz küç"

# Records in sessionStorage (it survives same-origin navigation) if a login form ever appears
# inside the order, e.g. swapped into the receipt slot by an htmx request that followed a redirect.
WATCH_FOR_LOGIN_FORM_IN_ORDER = """() => {
  sessionStorage.removeItem('login-form-in-order');
  new MutationObserver(() => {
    if (document.querySelector('#order #id_password, #receipt #id_password')) {
      sessionStorage.setItem('login-form-in-order', '1');
    }
  }).observe(document.body, {subtree: true, childList: true});
}"""


def is_login_for(order_id: int):
    def check(url: str) -> bool:
        parts = urlsplit(url)
        return parts.path == "/accounts/login/" and parse_qs(parts.query).get("next") == [f"/orders/{order_id}/"]

    return check


def open_order_as(page, live_app, username: str, order_id: int) -> None:
    page.goto(f"{live_app.base_url}/accounts/login/?next=/orders/{order_id}/")
    log_in(page, live_app.base_url, username)
    page.wait_for_url(f"{live_app.base_url}/orders/{order_id}/")


def assert_back_on_the_order_after_login(page, live_app, order_id: int) -> None:
    assert page.locator("#receipt").count() == 0
    assert page.locator("#id_password").count() == 1
    assert page.evaluate("sessionStorage.getItem('login-form-in-order')") is None
    assert page.locator("#main input[name=next]").get_attribute("value") == f"/orders/{order_id}/"

    log_in(page, live_app.base_url, "manager")

    page.wait_for_url(f"{live_app.base_url}/orders/{order_id}/")
    assert page.locator("h1").inner_text() == f"Order {order_id}"
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)


def test_htmx_request_without_a_session_moves_the_page_to_login(page, live_app, sandbox):
    open_order_as(page, live_app, "manager", 4103)
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)
    page.evaluate(WATCH_FOR_LOGIN_FORM_IN_ORDER)

    page.context.clear_cookies()  # every cookie gone: the session with them
    with page.expect_response(lambda r: urlsplit(r.url).path == "/orders/4103/receipt/") as answer:
        page.evaluate("htmx.ajax('GET', '/orders/4103/receipt/', {target: '#receipt', swap: 'outerHTML'})")

    response = answer.value
    assert response.status == 401
    assert is_login_for(4103)(f"{live_app.base_url}{response.headers['hx-redirect']}")
    page.wait_for_url(is_login_for(4103), timeout=10_000)
    assert_back_on_the_order_after_login(page, live_app, 4103)


def test_refresh_button_after_the_session_expired_moves_the_page_to_login(page, live_app, sandbox):
    open_order_as(page, live_app, "manager", 4103)
    page.locator("#receipt").get_by_text("Receipt id").wait_for(timeout=10_000)
    page.evaluate(WATCH_FOR_LOGIN_FORM_IN_ORDER)
    order_calls = sandbox.calls("order")

    # An idle timeout ends the session; the CSRF cookie stays, as it does in a real browser.
    page.context.clear_cookies(name="sessionid")
    assert [c["name"] for c in page.context.cookies()] == ["csrftoken"]
    with page.expect_response(lambda r: urlsplit(r.url).path == "/orders/4103/refresh/") as answer:
        page.get_by_role("button", name="Refresh from Clopos").click()

    assert answer.value.status == 401
    page.wait_for_url(is_login_for(4103), timeout=10_000)
    assert sandbox.calls("order") == order_calls  # the refused refresh never reached Clopos
    assert_back_on_the_order_after_login(page, live_app, 4103)


def test_support_sees_only_the_masked_phone(page, live_app, sandbox):
    open_order_as(page, live_app, "support", 4101)
    page.locator("#receipt").get_by_text("No receipt yet").wait_for(timeout=10_000)

    customer = page.locator("#customer")
    assert MASKED_PHONE in customer.inner_text()
    assert "Bakı, Nərimanov r., ***" in customer.inner_text()
    html = page.content()  # the live DOM, after the htmx receipt swap
    assert RAW_PHONE not in html
    assert SHOWN_PHONE not in html
    assert RAW_STREET not in html
    assert page.get_by_role("button", name="Reveal phone and address").count() == 0
    assert page.get_by_role("button", name="Refresh from Clopos").count() == 0
    assert page.get_by_role("link", name="Audit log").count() == 0
    assert page.console_errors == []


def test_manager_reveal_swaps_in_the_full_phone_and_is_logged(page, live_app, sandbox):
    open_order_as(page, live_app, "manager", 4101)
    customer = page.locator("#customer")
    assert MASKED_PHONE in customer.inner_text()
    assert RAW_PHONE not in page.content()
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/orders/4101/customer/reveal/")) as sent:
        page.get_by_role("button", name="Reveal phone and address").click()

    request = sent.value
    assert request.headers["x-csrftoken"] == token
    assert request.headers["hx-request"] == "true"
    customer.get_by_text(SHOWN_PHONE).wait_for(timeout=10_000)
    assert customer.locator('a[href="tel:+994503214567"]').count() == 1
    assert RAW_STREET in customer.inner_text()
    assert MASKED_PHONE not in customer.inner_text()
    assert "Revealed for you; this was logged." in customer.inner_text()
    assert page.url == f"{live_app.base_url}/orders/4101/"  # swapped in place, no navigation
    assert page.locator("h1").inner_text() == "Order 4101"
    assert page.console_errors == []

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{live_app.base_url}/audit/")
    page.fill("#id_order_id", "4101")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(lambda url: "order_id=4101" in url)
    rows = page.locator("tbody tr").all_inner_texts()
    assert any("manager" in row and "Revealed customer details" in row and "127.0.0.1" in row for row in rows), rows
