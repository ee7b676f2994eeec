"""The order pages end to end: gunicorn + the sandbox over loopback, as `make run` serves them."""

from __future__ import annotations

import re

import pytest

from sandbox.data import ORDERS, RECEIPT_BY_ORDER, sample_ids

pytestmark = pytest.mark.integration

SAMPLES = sample_ids()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("status", ["PENDING", "RECEIVED", "DELIVERED", "IGNORE"])
def test_manager_sees_every_status_with_its_receipt(live_app, sandbox, status):
    order_id = SAMPLES[status][1]
    session = live_app.login("manager")

    page = session.get(f"{live_app.base_url}/orders/{order_id}/", timeout=10)
    receipt = session.get(f"{live_app.base_url}/orders/{order_id}/receipt/", headers={"HX-Request": "true"}, timeout=10)

    assert page.status_code == 200
    text = text_of(page.text)
    assert f"Order {order_id}" in text
    assert {"PENDING": "Pending", "RECEIVED": "Received", "DELIVERED": "Delivered", "IGNORE": "Ignored"}[status] in text
    customer = ORDERS[order_id]["payload"]["customer"]["name"]
    assert customer in page.text
    assert receipt.status_code == 200
    if status in {"PENDING", "IGNORE"}:
        # No receipt to load: the page says so at once (an ignored order never gets one).
        assert f'hx-get="/orders/{order_id}/receipt/"' not in page.text
        assert "No receipt" in text
        assert "Checking payment" not in text
        assert ("never" in text) == (status == "IGNORE")
        assert "No receipt" in receipt.text
    else:
        assert f'hx-get="/orders/{order_id}/receipt/"' in page.text
        assert f"Receipt id {RECEIPT_BY_ORDER[order_id]}" in text_of(receipt.text)
        assert "Total" in receipt.text


def test_cold_and_warm_page_view_upstream_calls(live_app, sandbox):
    """The closing note's figures: upstream calls for a cold and a warm view of order 4106."""
    session = live_app.login("manager")

    session.get(f"{live_app.base_url}/orders/4106/", timeout=10)
    session.get(f"{live_app.base_url}/orders/4106/receipt/", headers={"HX-Request": "true"}, timeout=10)
    cold = sandbox.stats()["requests"]
    session.get(f"{live_app.base_url}/orders/4106/", timeout=10)
    session.get(f"{live_app.base_url}/orders/4106/receipt/", headers={"HX-Request": "true"}, timeout=10)
    warm = sandbox.stats()["requests"]

    # auth + order + venues + sale types + one product (the `[]` snapshot line) + receipt
    assert {k: v for k, v in cold.items() if v} == {
        "auth": 1,
        "order": 1,
        "venues": 1,
        "sale_types": 1,
        "product": 1,
        "receipt": 1,
    }
    assert warm == cold, "a warm view must make no upstream call"
    print(f"\nupstream calls: cold view {sum(cold.values())}, warm view {sum(warm.values()) - sum(cold.values())}")


def test_unknown_order_is_a_real_404(live_app, sandbox):
    session = live_app.login("manager")
    response = session.get(f"{live_app.base_url}/orders/999999/", timeout=10)
    assert response.status_code == 404
    assert "Order 999999 not found" in text_of(response.text)


@pytest.mark.parametrize("bad_id", ["abc", "0", "-5", "9007199254740992", "12a", "%20"])
def test_invalid_ids_never_reach_clopos(live_app, sandbox, bad_id):
    session = live_app.login("manager")
    response = session.get(f"{live_app.base_url}/orders/{bad_id}/", timeout=10)
    assert response.status_code == 400
    assert "Enter an order id" in response.text
    assert sandbox.calls("order") == 0


def test_hostile_upstream_strings_are_escaped(live_app, sandbox):
    session = live_app.login("manager")
    page = session.get(f"{live_app.base_url}/orders/{SAMPLES['hostile']}/", timeout=10)
    receipt = session.get(
        f"{live_app.base_url}/orders/{SAMPLES['hostile']}/receipt/", headers={"HX-Request": "true"}, timeout=10
    )
    for body in (page.text, receipt.text):
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "<b>tags</b>" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Eli" in page.text


def test_receipt_fragment_opened_directly_is_a_full_page(live_app, sandbox):
    session = live_app.login("manager")
    response = session.get(f"{live_app.base_url}/orders/4103/receipt/", timeout=10)
    assert response.status_code == 200
    assert "<html" in response.text
    assert "← Order 4103" in response.text
    assert "Receipt id 20855" in text_of(response.text)


def test_anonymous_link_goes_through_login_and_back(live_app, sandbox):
    import requests

    session = requests.Session()
    response = session.get(f"{live_app.base_url}/orders/4103/", timeout=10)
    assert response.url.endswith("/accounts/login/?next=/orders/4103/")
    assert sandbox.calls("order") == 0
