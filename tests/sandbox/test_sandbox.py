"""Tests for the stdlib Clopos sandbox (no Django involved)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import SandboxHandle, data, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
CREDS = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "brand": "kohnesheher",
    "integrator_id": "sandbox-integrator",
}
WITH_RECEIPT = {"with[0]": "receipt:id,service_notification_id,status"}
TIMEOUT = 5


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_sandbox(port=0)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def _clean(sandbox: SandboxHandle) -> Iterator[None]:
    requests.post(f"{sandbox.control_url}/reset", timeout=TIMEOUT)
    requests.post(
        f"{sandbox.control_url}/config",
        json={"rate_limit": 300, "token_ttl": 3600, "auth_rate_limit": 60},
        timeout=TIMEOUT,
    )
    yield


@pytest.fixture
def api(sandbox: SandboxHandle) -> requests.Session:
    """A session already holding a live token."""
    session = requests.Session()
    resp = session.post(f"{sandbox.base_url}/v2/auth", json=CREDS, timeout=TIMEOUT)
    session.headers["x-token"] = resp.json()["token"]
    return session


def url(sandbox: SandboxHandle, path: str) -> str:
    return f"{sandbox.base_url}/v2/{path}"


def add_fault(sandbox: SandboxHandle, **rule: Any) -> dict[str, Any]:
    resp = requests.post(f"{sandbox.control_url}/faults", json=rule, timeout=TIMEOUT)
    assert resp.status_code == 201, resp.text
    return resp.json()["rule"]


def stats(sandbox: SandboxHandle) -> dict[str, Any]:
    return requests.get(f"{sandbox.control_url}/stats", timeout=TIMEOUT).json()


def fixture(name: str) -> Any:
    return data.load_fixture(name)


# ------------------------------------------------------------------------------ auth


def test_auth_success(sandbox: SandboxHandle) -> None:
    before = time.time()
    resp = requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT)
    body = resp.json()
    assert resp.status_code == 200
    assert set(body) == set(fixture("auth_v2_200.json"))
    assert body["success"] is True and body["token_type"] == "Bearer" and body["token"].startswith("sbx.")
    assert body["expires_in"] == 3600
    assert before + 3599 <= body["expires_at"] <= time.time() + 3601
    assert requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).json()["token"] != body["token"]


@pytest.mark.parametrize("missing", [*CREDS, "not-json"])
def test_auth_missing_fields(sandbox: SandboxHandle, missing: str) -> None:
    if missing == "not-json":
        resp = requests.post(url(sandbox, "auth"), data=b"{nope", timeout=TIMEOUT)
    else:
        body = {k: v for k, v in CREDS.items() if k != missing}
        resp = requests.post(url(sandbox, "auth"), json=body, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert resp.json() == fixture("error_400_auth_missing_fields.json")


def test_auth_wrong_secret(sandbox: SandboxHandle) -> None:
    resp = requests.post(url(sandbox, "auth"), json={**CREDS, "client_secret": "nope"}, timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == {"success": False, "error": "unauthorized", "message": "Invalid client credentials"}


def test_token_required(sandbox: SandboxHandle) -> None:
    resp = requests.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == fixture("error_401_unauthorized_missing_headers.json")
    assert "RateLimit-Limit" not in resp.headers
    resp = requests.get(url(sandbox, "venues"), headers={"x-token": "sbx.forged"}, timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json()["error"] == "Token expired"


def test_expired_token_is_rejected_then_reauth_works(sandbox: SandboxHandle, api: requests.Session) -> None:
    token = api.headers["x-token"]
    with sandbox.state.lock:
        sandbox.state.tokens[token].expires_at = time.time() - 1  # type: ignore[index]
    resp = api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json()["message"] == "Token expired"
    assert resp.json()["expires_at"].endswith("Z")
    api.headers["x-token"] = requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).json()["token"]
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code == 200


def test_expire_tokens_control(sandbox: SandboxHandle, api: requests.Session) -> None:
    resp = requests.post(f"{sandbox.control_url}/expire-tokens", timeout=TIMEOUT)
    assert resp.json() == {"success": True, "revoked": 1}
    assert api.get(url(sandbox, "venues"), timeout=TIMEOUT).status_code == 401


def test_token_ttl_config(sandbox: SandboxHandle) -> None:
    requests.post(f"{sandbox.control_url}/config", json={"token_ttl": 5}, timeout=TIMEOUT)
    assert requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).json()["expires_in"] == 5
    bad = requests.post(f"{sandbox.control_url}/config", json={"token_ttl": "5"}, timeout=TIMEOUT)
    assert bad.status_code == 400


# ------------------------------------------------------------------------------ orders


@pytest.mark.parametrize(
    "name",
    [
        "order_4101_pending_delivery_receipt_null.json",
        "order_4102_received_takeaway_pct_discount_open_receipt.json",
        "order_4103_delivered_delivery_fixed_discount_closed_receipt.json",
        "order_4105_received_dinein_service_charge_open_receipt.json",
        "order_4106_delivered_takeaway_external_ids_empty_product_quirk.json",
    ],
)
def test_fixture_orders_served_exactly(sandbox: SandboxHandle, api: requests.Session, name: str) -> None:
    expected = fixture(name)
    resp = api.get(url(sandbox, f"orders/{expected['data']['id']}"), params=WITH_RECEIPT, timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.json() == expected


def test_order_without_with_has_no_receipt_key(sandbox: SandboxHandle, api: requests.Session) -> None:
    resp = api.get(url(sandbox, "orders/4104"), timeout=TIMEOUT)
    assert resp.json() == fixture("order_4104_ignore_no_receipt_requested.json")
    assert "receipt" not in api.get(url(sandbox, "orders/4102"), timeout=TIMEOUT).json()["data"]
    assert api.get(url(sandbox, "orders/4104"), params=WITH_RECEIPT, timeout=TIMEOUT).json()["data"]["receipt"] is None


def test_with_param_percent_encoded(sandbox: SandboxHandle, api: requests.Session) -> None:
    raw = url(sandbox, "orders/4103?with%5B0%5D=receipt%3Aid%2Cservice_notification_id%2Cstatus")
    assert api.get(raw, timeout=TIMEOUT).json()["data"]["receipt"] == {
        "id": 20855,
        "service_notification_id": 4103,
        "status": 2,
    }
    literal = url(sandbox, "orders/4103?with[0]=receipt:id,status")  # column subset, brackets unencoded
    assert api.get(literal, timeout=TIMEOUT).json()["data"]["receipt"] == {"id": 20855, "status": 2}


def test_generated_order_receipt_link(sandbox: SandboxHandle, api: requests.Session) -> None:
    ids = data.sample_ids()
    received, delivered = ids["RECEIVED"][-1], ids["DELIVERED"][-1]
    for order_id, status in ((received, 1), (delivered, 2)):
        ref = api.get(url(sandbox, f"orders/{order_id}"), params=WITH_RECEIPT, timeout=TIMEOUT).json()["data"][
            "receipt"
        ]
        assert ref["status"] == status and ref["service_notification_id"] == order_id
        assert api.get(url(sandbox, f"receipts/{ref['id']}"), timeout=TIMEOUT).json()["data"]["status"] == status


@pytest.mark.parametrize("path", ["orders/999999", "orders/abc", "orders/0", "orders/-3", "orders/1.5"])
def test_order_not_found(sandbox: SandboxHandle, api: requests.Session, path: str) -> None:
    resp = api.get(url(sandbox, path), timeout=TIMEOUT)
    assert resp.status_code == 404
    assert resp.json() == {"success": False, "error": "not_found", "message": "Order not found"}


def test_other_not_found(sandbox: SandboxHandle, api: requests.Session) -> None:
    resp = api.get(url(sandbox, "receipts/999999"), timeout=TIMEOUT)
    assert (resp.status_code, resp.json()) == (404, fixture("error_404_receipt_not_found.json"))
    resp = api.get(url(sandbox, "products/42"), timeout=TIMEOUT)
    assert resp.status_code == 404
    assert resp.json() == {"success": False, "error": "resource_not_found", "message": "Product not found"}
    for path in ("nope", "customers/1", "venues/3"):
        resp = api.get(url(sandbox, path), timeout=TIMEOUT)
        assert resp.status_code == 404 and resp.json()["success"] is False
    assert api.get(f"{sandbox.root_url}/favicon.ico", timeout=TIMEOUT).status_code == 404


def test_orders_list(sandbox: SandboxHandle, api: requests.Session) -> None:
    # The list also serves the living dataset (test_living.py): pin the clock far from the
    # fixed dataset's March 2026 and look at March only.
    requests.post(f"{sandbox.control_url}/config", json={"now": "2026-11-27T14:00:00+04:00"}, timeout=TIMEOUT)
    fixed = {"date[0]": "2026-03-01", "date[1]": "2026-03-14"}
    body = api.get(url(sandbox, "orders"), params={"limit": 10, **fixed}, timeout=TIMEOUT).json()
    assert set(body) == {"success", "data", "total", "time", "timestamp", "unix", "sorts"}
    assert body["total"] == len(data.ORDERS) and len(body["data"]) == 10
    created = [o["created_at"] for o in body["data"]]
    assert created == sorted(created, reverse=True)
    assert all("receipt" not in o for o in body["data"])

    params = {
        "status": "RECEIVED",
        "filters[0][0]": "venue_id",
        "filters[0][1]": "7",
        "limit": 100,
        "with[0]": "receipt",
    }
    rows = api.get(url(sandbox, "orders"), params=params, timeout=TIMEOUT).json()["data"]
    assert rows and all(o["status"] == "RECEIVED" and o["venue_id"] == 7 and o["receipt"]["status"] == 1 for o in rows)

    params = {"date[0]": "2026-03-13", "date[1]": "2026-03-13", "sort[0]": "id", "sort[1]": "1", "page": 1}
    rows = api.get(url(sandbox, "orders"), params=params, timeout=TIMEOUT).json()["data"]
    assert rows and all(o["created_at"].startswith("2026-03-13") for o in rows)
    assert [o["id"] for o in rows] == sorted(o["id"] for o in rows)
    assert 4106 in [o["id"] for o in rows]

    page2 = api.get(url(sandbox, "orders"), params={"limit": 100, "page": 3, **fixed}, timeout=TIMEOUT).json()
    assert len(page2["data"]) == len(data.ORDERS) - 200


@pytest.mark.parametrize(
    "params", [{"limit": 101}, {"limit": 0}, {"page": "x"}, {"sort[0]": "name"}, {"date[0]": "14.03.2026"}]
)
def test_orders_list_bad_params(sandbox: SandboxHandle, api: requests.Session, params: dict[str, Any]) -> None:
    resp = api.get(url(sandbox, "orders"), params=params, timeout=TIMEOUT)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter"


def test_orders_list_invalid_status(sandbox: SandboxHandle, api: requests.Session) -> None:
    resp = api.get(url(sandbox, "orders"), params={"status": "DONE"}, timeout=TIMEOUT)
    assert (resp.status_code, resp.json()) == (400, fixture("error_400_invalid_status_filter.json"))


# ------------------------------------------------------------------------------ receipts, catalogue


def test_fixture_receipt_served_with_lines(sandbox: SandboxHandle, api: requests.Session) -> None:
    params = {"with[0]": "receipt_products.product", "with[1]": "receipt_products.modificators"}
    body = api.get(url(sandbox, "receipts/20871"), params=params, timeout=TIMEOUT).json()
    expected = fixture("receipt_20871_open_for_order_4102.json")
    assert body["data"] == expected["data"]
    assert set(body) == set(expected)
    names = [m["name"] for line in body["data"]["receipt_products"] for m in line["modificators"]]
    assert names == ["Sumaxlı soğan", "Əlavə lavaş", "Nar turşusu sousu"]


def test_generated_receipt_has_named_modifiers(sandbox: SandboxHandle, api: requests.Session) -> None:
    rid = next(
        rid
        for rid in data.RECEIPTS
        if rid >= data.FIRST_GENERATED_RECEIPT
        and any(line["modificators"] for line in data.RECEIPTS[rid]["receipt_products"])
    )
    lines = api.get(url(sandbox, f"receipts/{rid}"), timeout=TIMEOUT).json()["data"]["receipt_products"]
    for line in lines:
        assert line["product"]["name"] and line["product"]["id"] == line["product_id"]
        for mod in line["modificators"]:
            assert mod["name"] and isinstance(mod["price"], int | float)


def test_venues_and_sale_types(sandbox: SandboxHandle, api: requests.Session) -> None:
    venues = api.get(url(sandbox, "venues"), timeout=TIMEOUT).json()
    assert [v["id"] for v in venues["data"]] == [1, 3, 7]
    assert venues["data"][2]["name"] == "Köhnə Şəhər — Gənclik"
    assert venues["data"][:2] == fixture("venues_list.json")["data"]
    types = api.get(url(sandbox, "sale-types"), timeout=TIMEOUT).json()
    assert [t["id"] for t in types["data"]] == [1, 2, 3]
    assert all(t["status"] == {"1": 1, "3": 1, "7": 1} for t in types["data"])


def test_payment_methods(sandbox: SandboxHandle, api: requests.Session) -> None:
    methods = api.get(url(sandbox, "payment-methods"), timeout=TIMEOUT).json()
    assert [(m["id"], m["name"]) for m in methods["data"]] == [(1, "Nağd"), (2, "Kart")]
    assert methods["total"] == 2 and stats(sandbox)["requests"]["payment_methods"] == 1


def test_a_fault_can_let_the_first_requests_through(sandbox: SandboxHandle, api: requests.Session) -> None:
    """`skip`: page 1 of an export passes, the pages after it fail."""
    add_fault(sandbox, endpoint="receipts", fault="status", status=500, skip=2, count=None)
    statuses = [
        api.get(url(sandbox, "receipts"), params={"page": n}, timeout=TIMEOUT).status_code for n in (1, 2, 3, 4)
    ]
    assert statuses == [200, 200, 500, 500]
    assert (
        requests.post(
            f"{sandbox.control_url}/faults",
            json={"endpoint": "receipts", "fault": "status", "skip": -1},
            timeout=TIMEOUT,
        ).status_code
        == 400
    )


def test_product_1402_matches_fixture(sandbox: SandboxHandle, api: requests.Session) -> None:
    expected = fixture("product_1402_get_by_id_with_modificator_groups.json")
    assert api.get(url(sandbox, "products/1402"), params={"with[]": "modificator_groups"}, timeout=TIMEOUT).json() == (
        expected
    )


def _referenced_products() -> dict[int, set[int]]:
    """product id -> modificator ids used with it, across all orders and receipts."""
    refs: dict[int, set[int]] = {}
    for order in data.ORDERS.values():
        for line in order["payload"]["products"]:
            refs.setdefault(line["product_id"], set()).update(m["modificator_id"] for m in line["product_modificators"])
    for receipt in data.RECEIPTS.values():
        for line in receipt["receipt_products"]:
            refs.setdefault(line["product_id"], set()).update(m["modificator_id"] for m in line["modificators"])
    return refs


def test_every_referenced_product_is_served(sandbox: SandboxHandle, api: requests.Session) -> None:
    refs = _referenced_products()
    assert len(refs) >= 25
    for pid, mods in refs.items():
        resp = api.get(url(sandbox, f"products/{pid}"), timeout=TIMEOUT)
        assert resp.status_code == 200, pid
        product = resp.json()["data"]
        assert product["id"] == pid and product["name"] and product["price"] > 0
        offered = {m["id"]: m for g in product["modificator_groups"] for m in g["modificators"]}
        assert mods <= set(offered), (pid, mods - set(offered))
        assert all(offered[m]["name"] and offered[m]["price"] >= 0 for m in mods)


# ------------------------------------------------------------------------------ dataset


def D(value: Any) -> Decimal:  # noqa: N802 - reads like a constructor
    return Decimal(str(value))


def test_receipt_money_is_consistent() -> None:
    for rid, receipt in data.RECEIPTS.items():
        lines = receipt["receipt_products"]
        for line in lines:
            unit = D(line["price"]) + sum((D(m["price"]) * m["count"] for m in line["modificators"]), Decimal(0))
            assert D(line["subtotal"]) == unit * line["count"], (rid, line["id"])
            assert D(line["total"]) == D(line["subtotal"]) - D(line["receipt_discount"]), (rid, line["id"])
        subtotal = D(receipt["subtotal"])
        assert subtotal == sum((D(line["subtotal"]) for line in lines), Decimal(0)), rid
        discount = D(receipt["total_discount"])
        assert discount == sum((D(line["receipt_discount"]) for line in lines), Decimal(0)), rid
        expected = subtotal - discount + D(receipt["service_charge_value"]) + D(receipt["delivery_fee"])
        assert D(receipt["total"]) == expected, rid
        paid = sum((D(p["amount"]) for p in receipt["payment_methods"]), Decimal(0))
        if receipt["status"] == 2:
            assert paid == D(receipt["total"]) and D(receipt["remaining"]) == 0, rid
            assert D(receipt["by_cash"]) + D(receipt["by_card"]) == paid, rid
            assert receipt["closed_at"] is not None
        else:
            assert paid == 0 and D(receipt["remaining"]) == D(receipt["total"]) and receipt["closed_at"] is None
        if receipt["service_charge"]:
            assert receipt["table_id"] and receipt["hall_id"] and receipt["guests"], rid
        order = data.ORDERS[receipt["service_notification_id"]]
        assert D(order["payload"]["meta"]["orderTotal"]) == D(receipt["total"]), rid
        assert D(order["payload"]["delivery_fee"]) == D(receipt["delivery_fee"]), rid


def test_order_status_matches_receipt_state() -> None:
    expected_receipt_status = {"RECEIVED": 1, "DELIVERED": 2, "PENDING": None, "IGNORE": None}
    for oid, order in data.ORDERS.items():
        ref = data.receipt_ref(data.RECEIPTS, oid)
        assert (ref and ref["status"]) == expected_receipt_status[order["status"]], oid
        created = order["created_at"]
        assert created.endswith(".000000Z") and "2026-03-01" <= created[:10] <= "2026-03-14"
        assert all(
            isinstance(line["meta"]["order_product"]["product"], dict | list) for line in order["payload"]["products"]
        )


def test_generated_orders_cover_statuses_venues_and_sale_types() -> None:
    generated = [o for oid, o in data.ORDERS.items() if oid >= data.FIRST_GENERATED_ORDER]
    assert [o["id"] for o in generated] == list(range(5001, 5241))
    combos = {(o["venue_id"], o["status"], o["payload"]["service"]["sale_type_id"]) for o in generated}
    assert len(combos) == 3 * 4 * 3
    for order in generated:
        assert order["payload"]["customer"]["phone"].startswith("+99450")
        assert len(order["payload"]["customer"]["phone"]) == 13
        assert 1 <= len(order["payload"]["products"]) <= 5
    quirk_lines = sum(data.line_uses_quirk(line) for o in generated for line in o["payload"]["products"])
    total_lines = sum(len(o["payload"]["products"]) for o in generated)
    assert 0.03 < quirk_lines / total_lines < 0.12
    assert any(o["integration_response"] for o in generated) and any(o["customer_ref_id"] for o in generated)


def test_sample_ids_and_hostile_order() -> None:
    ids = data.sample_ids()
    for key in ("PENDING", "RECEIVED", "DELIVERED", "IGNORE", "no_receipt", "product_quirk", "split_payment"):
        assert ids[key], key
    assert set(ids["by_venue"]) == {1, 3, 7} and all(ids["by_venue"].values())
    assert all(data.ORDERS[i]["status"] == "PENDING" for i in ids["PENDING"])
    hostile = data.ORDERS[ids["hostile"]]
    assert hostile["venue_id"] == 3 and hostile["status"] == "RECEIVED"
    assert hostile["payload"]["customer"]["name"] == '<script>alert("x")</script>Eli'
    assert hostile["payload"]["meta"]["comment"] == "<img src=x onerror=alert(1)>"
    receipt = data.RECEIPTS[data.RECEIPT_BY_ORDER[ids["hostile"]]]
    assert any('"quotes" & <b>tags</b>' in line["product"]["name"] for line in receipt["receipt_products"])


def _dataset_hash_in_subprocess(hash_seed: str) -> str:
    code = (
        "import hashlib, json; from sandbox import data; "
        "blob = json.dumps([data.ORDERS, data.RECEIPTS, data.PRODUCTS, data.VENUES, data.SALE_TYPES], sort_keys=True);"
        "print(hashlib.sha256(blob.encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_dataset_is_deterministic() -> None:
    blob = json.dumps([data.ORDERS, data.RECEIPTS, data.PRODUCTS, data.VENUES, data.SALE_TYPES], sort_keys=True)
    here = hashlib.sha256(blob.encode()).hexdigest()
    assert _dataset_hash_in_subprocess("1") == here == _dataset_hash_in_subprocess("2")


# ------------------------------------------------------------------------------ faults


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "internal_error"), (502, "bad_gateway"), (503, "service_unavailable"), (504, "upstream_timeout")],
)
def test_fault_status(sandbox: SandboxHandle, api: requests.Session, status: int, error: str) -> None:
    add_fault(sandbox, endpoint="order", fault="status", status=status, count=1)
    resp = api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert resp.status_code == status
    assert resp.json()["success"] is False and resp.json()["error"] == error
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code == 200  # count=1 used up


def test_fault_rate_limit(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="*", fault="rate_limit", reset=3, count=1)
    resp = api.get(url(sandbox, "receipts/20871"), timeout=TIMEOUT)
    assert resp.status_code == 429
    assert resp.json() == fixture("error_429_rate_limited.json")
    assert resp.headers["RateLimit-Remaining"] == "0" and resp.headers["RateLimit-Reset"] == "3"
    assert resp.headers["RateLimit-Limit"] == "300"
    assert stats(sandbox)["rate_limited"] == 1


def test_fault_token_expired_revokes_tokens(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="token_expired", count=1)
    resp = api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert resp.status_code == 401 and resp.json() == fixture("error_401_token_expired.json")
    assert api.get(url(sandbox, "venues"), timeout=TIMEOUT).status_code == 401  # old token is gone
    api.headers["x-token"] = requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).json()["token"]
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code == 200


def test_fault_success_false(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="receipt", fault="success_false", count=1)
    resp = api.get(url(sandbox, "receipts/20871"), timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.json() == {"success": False, "error": "internal_error", "message": "Something went wrong"}


def test_fault_success_false_on_auth(sandbox: SandboxHandle) -> None:
    add_fault(sandbox, endpoint="auth", fault="success_false", count=1)
    resp = requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT)
    assert resp.status_code == 200 and resp.json()["success"] is False


def test_fault_malformed(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="malformed", count=1)
    resp = api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        resp.json()


def test_fault_html(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="venues", fault="html", count=1)
    resp = api.get(url(sandbox, "venues"), timeout=TIMEOUT)
    assert resp.status_code == 502 and resp.headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in resp.text


def test_fault_wrong_shape(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="sale_types", fault="wrong_shape", count=1)
    assert api.get(url(sandbox, "sale-types"), timeout=TIMEOUT).json() == {"success": True, "data": "unexpected"}


def test_fault_truncated(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="truncated", count=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code == 200


def test_fault_drip(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="drip", seconds=0.6, count=1)
    started = time.monotonic()
    # The 0.3 s read timeout never fires because bytes keep trickling in: only a total deadline catches this.
    resp = api.get(url(sandbox, "orders/4102"), params=WITH_RECEIPT, timeout=(TIMEOUT, 0.3))
    assert time.monotonic() - started >= 0.6
    assert resp.json() == fixture("order_4102_received_takeaway_pct_discount_open_receipt.json")


def test_fault_reset(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="product", fault="reset", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get(url(sandbox, "products/1402"), timeout=TIMEOUT)
    assert api.get(url(sandbox, "products/1402"), timeout=TIMEOUT).status_code == 200


def test_fault_latency(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="latency", seconds=0.3, count=1)
    started = time.monotonic()
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code == 200
    assert time.monotonic() - started >= 0.3
    add_fault(sandbox, endpoint="order", fault="latency", seconds=0.5, count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(url(sandbox, "orders/4101"), timeout=(TIMEOUT, 0.1))


def test_fault_count_and_rules(sandbox: SandboxHandle, api: requests.Session) -> None:
    add_fault(sandbox, endpoint="order", fault="status", status=503, count=2)
    add_fault(sandbox, endpoint="*", fault="status", status=500)  # count omitted: until cleared
    codes = [api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).status_code for _ in range(3)]
    assert codes == [503, 503, 500]
    assert api.get(url(sandbox, "venues"), timeout=TIMEOUT).status_code == 500
    rules = requests.get(f"{sandbox.control_url}/faults", timeout=TIMEOUT).json()["faults"]
    assert [(r["remaining"], r["hits"]) for r in rules] == [(0, 2), (None, 2)]
    assert requests.delete(f"{sandbox.control_url}/faults", timeout=TIMEOUT).json()["cleared"] == 2
    assert api.get(url(sandbox, "venues"), timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "users", "fault": "status"},  # the sandbox serves no staff users
        {"endpoint": "order", "fault": "explode"},
        {"endpoint": "order", "fault": "status", "count": 0},
        {"endpoint": "order", "fault": "latency", "seconds": "slow"},
    ],
)
def test_fault_validation(sandbox: SandboxHandle, rule: dict[str, Any]) -> None:
    resp = requests.post(f"{sandbox.control_url}/faults", json=rule, timeout=TIMEOUT)
    assert resp.status_code == 400 and resp.json()["success"] is False


# ------------------------------------------------------------------------------ counters, limits, load


def test_counters_and_reset(sandbox: SandboxHandle, api: requests.Session) -> None:
    api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
    api.get(url(sandbox, "orders/4102"), timeout=TIMEOUT)
    api.get(url(sandbox, "orders"), timeout=TIMEOUT)
    api.get(url(sandbox, "receipts/20871"), timeout=TIMEOUT)
    api.get(url(sandbox, "venues"), timeout=TIMEOUT)
    api.get(url(sandbox, "sale-types"), timeout=TIMEOUT)
    api.get(url(sandbox, "products/1402"), timeout=TIMEOUT)
    api.get(url(sandbox, "whatever"), timeout=TIMEOUT)
    add_fault(sandbox, endpoint="order", fault="status", count=1)
    api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)  # faulted requests count too
    got = stats(sandbox)
    assert got["requests"] == {
        "auth": 1,
        "order": 3,
        "orders": 1,
        "receipt": 1,
        "receipts": 0,
        "customer": 0,
        "customers": 0,
        "venues": 1,
        "sale_types": 1,
        "payment_methods": 0,
        "product": 1,
        "other": 1,
    }
    assert got["total"] == 10 and got["window"] == 10
    requests.post(f"{sandbox.control_url}/reset", timeout=TIMEOUT)
    got = stats(sandbox)
    assert got["total"] == 0 and got["window"] == 0 and got["rate_limited"] == 0
    assert requests.get(f"{sandbox.control_url}/faults", timeout=TIMEOUT).json()["faults"] == []
    assert api.get(url(sandbox, "venues"), timeout=TIMEOUT).status_code == 401  # reset drops tokens


def test_state_edits_and_data_restore(sandbox: SandboxHandle, api: requests.Session) -> None:
    with sandbox.state.lock:
        sandbox.state.orders[4101]["status"] = "IGNORE"
    assert api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT).json()["data"]["status"] == "IGNORE"
    assert data.ORDERS[4101]["status"] == "PENDING"  # the module-level dataset is untouched
    requests.post(f"{sandbox.control_url}/reset", json={"data": True}, timeout=TIMEOUT)
    assert sandbox.state.orders[4101]["status"] == "PENDING"


def test_rate_limit(sandbox: SandboxHandle, api: requests.Session) -> None:
    requests.post(f"{sandbox.control_url}/config", json={"rate_limit": 5}, timeout=TIMEOUT)
    remaining = []
    for _ in range(5):
        resp = api.get(url(sandbox, "venues"), timeout=TIMEOUT)
        assert resp.status_code == 200
        assert resp.headers["RateLimit-Limit"] == "5"
        remaining.append(int(resp.headers["RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    for _ in range(2):
        resp = api.get(url(sandbox, "orders/4101"), timeout=TIMEOUT)
        assert resp.status_code == 429
        assert resp.json() == fixture("error_429_rate_limited.json")
        assert resp.headers["RateLimit-Remaining"] == "0"
        assert 1 <= int(resp.headers["RateLimit-Reset"]) <= 60
    got = stats(sandbox)
    assert got["rate_limited"] == 2
    assert got["rate_windows"] == {"sandbox-integrator|kohnesheher": 5}  # 429s are not counted
    # A fresh token shares the same (integrator, brand) budget.
    fresh = requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).json()["token"]
    assert requests.get(url(sandbox, "venues"), headers={"x-token": fresh}, timeout=TIMEOUT).status_code == 429


def test_auth_rate_limit(sandbox: SandboxHandle) -> None:
    requests.post(f"{sandbox.control_url}/config", json={"auth_rate_limit": 2}, timeout=TIMEOUT)
    codes = [requests.post(url(sandbox, "auth"), json=CREDS, timeout=TIMEOUT).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_fifty_concurrent_requests(sandbox: SandboxHandle, api: requests.Session) -> None:
    token = api.headers["x-token"]
    order_ids = [data.FIRST_GENERATED_ORDER + n for n in range(50)]

    def fetch(order_id: int) -> int:
        # A separate connection per request, so the server really holds 50 sockets at once.
        resp = requests.get(url(sandbox, f"orders/{order_id}"), headers={"x-token": token}, timeout=10)
        return resp.json()["data"]["id"] if resp.status_code == 200 else -resp.status_code

    add_fault(sandbox, endpoint="order", fault="latency", seconds=0.2)  # keep them overlapping
    with ThreadPoolExecutor(max_workers=50) as pool:
        got = list(pool.map(fetch, order_ids))
    assert got == order_ids
    assert stats(sandbox)["requests"]["order"] == 50


# ------------------------------------------------------------------------------ process


def test_cli_runs_and_stop_closes(sandbox: SandboxHandle) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--rate-limit", "7", "--token-ttl", "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = line.split("CLOPOS_BASE_URL=")[1].strip()
        root = base.removesuffix("/open-api")
        config = requests.get(f"{root}/__sandbox/config", timeout=TIMEOUT).json()["config"]
        assert (config["rate_limit"], config["token_ttl"]) == (7, 60)
        assert requests.post(f"{base}/v2/auth", json=CREDS, timeout=TIMEOUT).json()["expires_in"] == 60
    finally:
        proc.terminate()
        proc.wait(timeout=5)

    other = start_sandbox()
    assert requests.get(f"{other.control_url}/health", timeout=TIMEOUT).status_code == 200
    other.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{other.control_url}/health", timeout=TIMEOUT)
