"""Tests for the sandbox's living dataset, its clock, and the orders/receipts/customers lists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox import SandboxHandle, data, living, start_sandbox

from .test_sandbox import CREDS, ROOT, TIMEOUT, add_fault, fixture, stats

NOW = "2026-11-27T14:00:00+04:00"  # a Friday afternoon in Baku
NOW_DT = datetime.fromisoformat(NOW)
TODAY = date(2026, 11, 27)
BAKU = data.BAKU
SUMMARY_KEYS = {"id", "service_notification_id", "status", "total", "remaining", "closed_at", "payment_methods"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_sandbox(port=0, now=NOW)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def _clean(sandbox: SandboxHandle) -> Iterator[None]:
    requests.post(f"{sandbox.control_url}/reset", timeout=TIMEOUT)  # also restores now and date_zone
    requests.post(f"{sandbox.control_url}/config", json={"rate_limit": 300}, timeout=TIMEOUT)
    yield


@pytest.fixture
def api(sandbox: SandboxHandle) -> requests.Session:
    session = requests.Session()
    resp = session.post(f"{sandbox.base_url}/v2/auth", json=CREDS, timeout=TIMEOUT)
    session.headers["x-token"] = resp.json()["token"]
    return session


def get(api: requests.Session, sandbox: SandboxHandle, path: str, **params: Any) -> requests.Response:
    return api.get(f"{sandbox.base_url}/v2/{path}", params=params, timeout=TIMEOUT)


def body(api: requests.Session, sandbox: SandboxHandle, path: str, **params: Any) -> Any:
    resp = get(api, sandbox, path, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def config(sandbox: SandboxHandle, **values: Any) -> requests.Response:
    return requests.post(f"{sandbox.control_url}/config", json=values, timeout=TIMEOUT)


def pin(sandbox: SandboxHandle, moment: datetime | float) -> None:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    assert config(sandbox, now=moment.isoformat()).status_code == 200


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=BAKU)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ids_filter(ids: list[int], n: int = 0) -> dict[str, Any]:
    params: dict[str, Any] = {f"filters[{n}][0]": "id"}
    params.update({f"filters[{n}][1][{m}]": str(i) for m, i in enumerate(ids)})
    return params


def day_params(first: date, last: date | None = None) -> dict[str, str]:
    return {"date[0]": first.isoformat(), "date[1]": (last or first).isoformat()}


def all_rows(api: requests.Session, sandbox: SandboxHandle, path: str, limit: int, **params: Any) -> list[Any]:
    rows: list[Any] = []
    page = 1
    while True:
        got = body(api, sandbox, path, page=page, limit=limit, **params)
        rows += got["data"]
        if len(got["data"]) < limit:
            assert len(rows) == got["total"]
            return rows
        page += 1


def D(value: Any) -> Decimal:  # noqa: N802 - reads like a constructor
    return Decimal(str(value))


# ------------------------------------------------------------------------------ start-up, size, determinism


def test_startup_time_and_dataset_size(sandbox: SandboxHandle, api: requests.Session) -> None:
    code = (
        "import time; t = time.perf_counter(); from sandbox import start_sandbox; "
        "h = start_sandbox(port=0); print(round(time.perf_counter() - t, 3)); h.stop()"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    cold = float(out.stdout.strip())
    started = time.perf_counter()
    handle = start_sandbox(port=0)
    warm = time.perf_counter() - started
    handle.stop()
    print(f"\nsandbox start: {cold:.3f} s in a fresh process (imports included), {warm:.3f} s in-process")
    assert cold < 2 and warm < 2

    started = time.perf_counter()
    month = body(api, sandbox, "receipts", limit=1, **day_params(TODAY - timedelta(days=30), TODAY))["total"]
    window = body(api, sandbox, "receipts", limit=1)["total"] - len(data.RECEIPTS)
    orders = body(api, sandbox, "orders", limit=1)["total"] - len(data.ORDERS)
    print(
        f"living dataset at {NOW}: {orders} orders, {window} receipts in 61 days, {month} receipts in 31 days "
        f"(first lists: {time.perf_counter() - started:.3f} s)"
    )
    assert month > 5000 and window > 2 * 5000 and orders > 61 * 3 * 12


DIGEST = """
import hashlib, json
from datetime import date
from sandbox import living

def digest(day):
    records = living.living_day(day)
    end = records.done + 1
    blob = [
        living.sample_ids(day),
        [o.view(end) for o in records.orders],
        [r.view(end) for r in records.receipts],
        [r.lines(end) for r in records.receipts[:40]],
    ]
    return hashlib.sha256(json.dumps(blob, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
"""


def _day_digest(day: date) -> str:
    namespace: dict[str, Any] = {}
    exec(DIGEST, namespace)  # the same code as in the fresh processes below
    return namespace["digest"](day)


def test_same_date_same_data(sandbox: SandboxHandle, api: requests.Session) -> None:
    params = {"limit": 100, "with[]": "receipt", **day_params(TODAY - timedelta(days=3))}
    first = body(api, sandbox, "orders", **params)
    assert first["data"] == body(api, sandbox, "orders", **params)["data"]
    day = TODAY - timedelta(days=9)
    code = DIGEST + f"\nprint(digest(date.fromisoformat('{day}')))"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    # A fresh process (nothing else generated) and this one (many other days generated first) agree.
    assert digests == {_day_digest(day)}


def test_ids_encode_the_day() -> None:
    ids = data.boundary_orders(TODAY)
    assert ids["00:00"] == 126112700 and living.order_day(ids["23:59"]) == TODAY
    receipts = data.boundary_receipts(TODAY)
    assert all(living.receipt_day(rid) == TODAY and str(rid).startswith("2261127") for rid in receipts.values())
    assert living.order_day(4101) is None and living.receipt_day(30001) is None


# ------------------------------------------------------------------------------ window and clock


def test_window_is_the_last_60_days_and_today(sandbox: SandboxHandle, api: requests.Session) -> None:
    first_day = TODAY - timedelta(days=60)
    since = {"date[0]": "2026-09-01"}
    oldest = body(api, sandbox, "orders", limit=1, **{"sort[1]": "1"}, **since)["data"][0]
    newest = body(api, sandbox, "orders", limit=1)["data"][0]
    assert oldest["id"] == data.boundary_orders(first_day)["00:00"]
    assert oldest["created_at"] == iso_utc(at(first_day, "00:00"))
    assert newest["created_at"] <= iso_utc(NOW_DT)
    receipts = body(api, sandbox, "receipts", limit=1, **{"sort[1]": "1"}, **since)["data"][0]
    assert receipts["created_at"].startswith(first_day.isoformat())
    latest = body(api, sandbox, "receipts", limit=1)["data"][0]
    assert latest["created_at"] <= "2026-11-27 14:00:00"

    config(sandbox, date_zone="Asia/Baku")
    for day in (first_day, TODAY - timedelta(days=30), TODAY):
        assert body(api, sandbox, "orders", limit=1, **day_params(day))["total"] >= 12

    too_old = TODAY - timedelta(days=61)
    assert get(api, sandbox, f"orders/{data.boundary_orders(too_old)['06:00']}").status_code == 404
    assert get(api, sandbox, f"receipts/{data.boundary_receipts(too_old)['06:00']}").status_code == 404
    assert get(api, sandbox, f"orders/{data.boundary_orders(first_day)['00:00']}").status_code == 200
    assert get(api, sandbox, f"receipts/{data.boundary_receipts(first_day)['02:00']}").status_code == 200


def test_nothing_exists_after_now(sandbox: SandboxHandle, api: requests.Session) -> None:
    late = data.boundary_orders(TODAY)["23:59"]
    resp = get(api, sandbox, f"orders/{late}")
    assert (resp.status_code, resp.json()) == (404, fixture("error_404_order_not_found.json"))
    future = [r for r in living.living_day(TODAY).receipts if r.opened > NOW_DT.timestamp()]
    assert future
    resp = get(api, sandbox, f"receipts/{future[0].id}")
    assert (resp.status_code, resp.json()) == (404, fixture("error_404_receipt_not_found.json"))
    assert get(api, sandbox, f"orders/{data.boundary_orders(TODAY + timedelta(days=1))['00:00']}").status_code == 404

    config(sandbox, date_zone="Asia/Baku")
    counts = []
    for moment in ("2026-11-27T10:00:00+04:00", NOW, "2026-11-27T23:59:30+04:00"):
        pin(sandbox, datetime.fromisoformat(moment))
        rows = all_rows(api, sandbox, "orders", 100, **day_params(TODAY))
        assert all(o["created_at"] <= iso_utc(datetime.fromisoformat(moment)) for o in rows)
        counts.append(len(rows))
        receipts = body(api, sandbox, "receipts", limit=1, **day_params(TODAY))
        assert receipts["data"][0]["created_at"] <= moment[:19].replace("T", " ")
    assert counts[0] < counts[1] < counts[2]  # today's data grows through the day
    assert get(api, sandbox, f"orders/{late}").status_code == 200


def test_envelope_uses_the_clock(sandbox: SandboxHandle, api: requests.Session) -> None:
    got = body(api, sandbox, "receipts", limit=1)
    assert set(got) == {"success", "data", "total", "time", "timestamp", "unix", "sorts"}
    assert (got["timestamp"], got["unix"]) == ("2026-11-27 14:00:00", int(NOW_DT.timestamp()))
    assert got["sorts"] == ["created_at", "closed_at", "id", "total"]


def test_an_order_moves_through_its_timeline(sandbox: SandboxHandle, api: requests.Session) -> None:
    record = next(
        o
        for o in living.living_day(TODAY - timedelta(days=1)).orders
        if o.final_status == "DELIVERED" and o.boundary is None and o.received - o.created > 60
    )
    path = f"orders/{record.id}"
    pin(sandbox, record.created - 1)
    assert get(api, sandbox, path).status_code == 404

    pin(sandbox, record.created)
    order = body(api, sandbox, path, **{"with[0]": "receipt"})["data"]
    assert (order["status"], order["receipt"], order["receive_user_id"]) == ("PENDING", None, None)
    assert order["updated_at"] == order["created_at"]

    pin(sandbox, record.received)
    order = body(api, sandbox, path, **{"with[0]": "receipt"})["data"]
    assert order["status"] == "RECEIVED" and order["receive_user_id"]
    summary = order["receipt"]
    assert set(summary) == SUMMARY_KEYS
    assert (summary["status"], summary["closed_at"], summary["payment_methods"]) == (1, None, [])
    assert summary["remaining"] == summary["total"] == float(order["payload"]["meta"]["orderTotal"])
    receipt = body(api, sandbox, f"receipts/{summary['id']}")["data"]
    assert (receipt["status"], receipt["close_by_user_id"], receipt["fiscal_id"]) == (1, None, None)
    assert receipt["order_status"] in ("NEW", "IN_PROGRESS", "READY")
    assert all(line["updated_at"] == receipt["created_at"] for line in receipt["receipt_products"])

    pin(sandbox, record.closed)
    order = body(api, sandbox, path, **{"with[0]": "receipt"})["data"]
    assert order["status"] == "DELIVERED" and order == {**record.final, "receipt": order["receipt"]}
    summary = order["receipt"]
    assert summary["status"] == 2 and summary["remaining"] == 0 and summary["closed_at"]
    assert sum(D(p["amount"]) for p in summary["payment_methods"]) == D(summary["total"])
    receipt = body(api, sandbox, f"receipts/{summary['id']}")["data"]
    assert receipt["order_status"] in ("COMPLETED", "PICKED_UP") and receipt["fiscal_id"]


def test_today_recent_orders_are_new_and_some_are_overdue(sandbox: SandboxHandle, api: requests.Session) -> None:
    config(sandbox, date_zone="Asia/Baku")
    rows = all_rows(api, sandbox, "orders", 100, **day_params(TODAY))
    age = {o["id"]: NOW_DT.timestamp() - datetime.fromisoformat(o["created_at"]).timestamp() for o in rows}
    recent = [o["status"] for o in rows if age[o["id"]] <= 40 * 60]
    older = [o["status"] for o in rows if age[o["id"]] >= 2 * 3600]
    assert recent and "DELIVERED" not in recent and {"PENDING", "RECEIVED"} & set(recent)
    done = sum(s in ("DELIVERED", "IGNORE") for s in older)
    assert done > len(older) - done
    overdue = living.overdue_orders(TODAY)
    assert set(overdue) == {1, 3, 7}
    for order_id in overdue.values():
        order = body(api, sandbox, f"orders/{order_id}")["data"]
        assert order["status"] == "PENDING" and age[order_id] >= 2 * 3600


# ------------------------------------------------------------------------------ boundaries


def test_boundary_orders_times_and_date_zone(sandbox: SandboxHandle, api: requests.Session) -> None:
    day, nxt = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    ours, theirs = data.boundary_orders(day), data.boundary_orders(nxt)
    assert list(ours) == ["00:00", "00:01", "03:59", "04:00", "04:01", "05:59", "06:00", "06:01", "23:59"]
    for label, order_id in ours.items():
        order = body(api, sandbox, f"orders/{order_id}")["data"]
        assert order["created_at"] == iso_utc(at(day, label)) and order["venue_id"] == 3
    late = body(api, sandbox, f"orders/{ours['03:59']}")["data"]["created_at"]
    assert late == f"{day - timedelta(days=1)}T23:59:00.000000Z"  # 03:59 Baku is the previous UTC day
    assert body(api, sandbox, f"orders/{ours['04:00']}")["data"]["created_at"] == f"{day}T00:00:00.000000Z"

    params = {**day_params(day), **ids_filter([*ours.values(), *theirs.values()]), "limit": 100}
    utc = {o["id"] for o in body(api, sandbox, "orders", **params)["data"]}
    expected_utc = {ours[k] for k in ("04:00", "04:01", "05:59", "06:00", "06:01", "23:59")}
    expected_utc |= {theirs[k] for k in ("00:00", "00:01", "03:59")}
    assert utc == expected_utc
    assert config(sandbox, date_zone="Asia/Baku").json()["config"]["date_zone"] == "Asia/Baku"
    baku = {o["id"] for o in body(api, sandbox, "orders", **params)["data"]}
    assert baku == set(ours.values())


def test_shift_date_uses_a_six_oclock_cutoff(sandbox: SandboxHandle, api: requests.Session) -> None:
    day = TODAY - timedelta(days=1)
    before, after = (day - timedelta(days=1)).isoformat(), day.isoformat()
    assert data.business_day(datetime(2026, 11, 28, 2, 0, tzinfo=BAKU)) == date(2026, 11, 27)
    receipts = data.boundary_receipts(day)
    expected = {"02:00": before, "05:59": before, "06:00": after, "06:01": after}
    for label, receipt_id in receipts.items():
        receipt = body(api, sandbox, f"receipts/{receipt_id}")["data"]
        assert receipt["created_at"] == f"{day} {label}:00"
        assert receipt["shift_date"] == expected[label], label
        assert receipt["service_notification_id"] is None
    orders = data.boundary_orders(day)
    for label, shift in (("00:01", before), ("05:59", before), ("06:00", after), ("23:59", after)):
        summary = body(api, sandbox, f"orders/{orders[label]}", **{"with[0]": "receipt:id"})["data"]["receipt"]
        receipt = body(api, sandbox, f"receipts/{summary['id']}")["data"]
        assert receipt["created_at"] == f"{day} {label}:00" and receipt["shift_date"] == shift, label

    venue3 = {"filters[0][0]": "venue_id", "filters[0][1]": "3", "filters[1][0]": "shift_date"}
    got = body(api, sandbox, "receipts", limit=200, **venue3, **{"filters[1][1]": before})
    shift_before = {r["id"] for r in got["data"]}
    assert {receipts["02:00"], receipts["05:59"]} <= shift_before
    assert not {receipts["06:00"], receipts["06:01"]} & shift_before
    both = body(
        api, sandbox, "receipts", limit=200, **venue3, **{"filters[1][1][0]": before, "filters[1][1][1]": after}
    )
    assert set(receipts.values()) <= {r["id"] for r in both["data"]}

    shift = all_rows(api, sandbox, "receipts", 200, **{**venue3, "filters[1][1]": after, "sort[1]": "1"})
    shift.sort(key=lambda r: (r["created_at"], r["id"]))
    assert [r["properties"]["daily_id"] for r in shift] == list(range(1, len(shift) + 1))
    assert len({r["properties"]["monthly_id"] - r["properties"]["daily_id"] for r in shift}) == 1
    assert {r["shift_date"] for r in shift} == {after}


# ------------------------------------------------------------------------------ orders list


ORDER_RANGE = day_params(date(2026, 11, 1), date(2026, 11, 26))


def test_orders_pagination_and_total(sandbox: SandboxHandle, api: requests.Session) -> None:
    first = body(api, sandbox, "orders", **ORDER_RANGE)
    assert len(first["data"]) == 50 and first["total"] > 26 * 3 * 12
    rows = all_rows(api, sandbox, "orders", 100, **ORDER_RANGE)
    assert len({o["id"] for o in rows}) == len(rows) == first["total"]
    assert {o["created_at"][:10] for o in rows} == {f"2026-11-{d:02d}" for d in range(1, 27)}
    beyond = body(api, sandbox, "orders", page=1000, limit=100, **ORDER_RANGE)
    assert beyond["data"] == [] and beyond["total"] == first["total"]


@pytest.mark.parametrize("field", ["created_at", "updated_at", "id"])
@pytest.mark.parametrize("direction", ["1", "-1"])
def test_orders_sort(sandbox: SandboxHandle, api: requests.Session, field: str, direction: str) -> None:
    rows = body(api, sandbox, "orders", limit=100, **{"sort[0]": field, "sort[1]": direction}, **ORDER_RANGE)["data"]
    keys = [(o[field], o["id"]) for o in rows]
    assert keys == sorted(keys, reverse=direction == "-1")


def test_orders_filters(sandbox: SandboxHandle, api: requests.Session) -> None:
    venues = {"filters[0][0]": "venue_id", "filters[0][1][0]": "1", "filters[0][1][1]": "7"}
    rows = all_rows(api, sandbox, "orders", 100, **venues, **ORDER_RANGE)
    assert {o["venue_id"] for o in rows} == {1, 7}
    combo = {
        "filters[0][0]": "status",
        "filters[0][1]": "IGNORE",
        "filters[1][0]": "sale_type_id",
        "filters[1][1][0]": "2",
        "filters[2][0]": "venue_id",
        "filters[2][1]": "3",
    }
    rows = all_rows(api, sandbox, "orders", 100, **combo, **ORDER_RANGE)
    assert len(rows) >= 20  # every venue has every (status, sale type) every day
    assert all((o["status"], o["payload"]["service"]["sale_type_id"], o["venue_id"]) == ("IGNORE", 2, 3) for o in rows)
    assert {o["id"] for o in all_rows(api, sandbox, "orders", 100, status="IGNORE", **ORDER_RANGE)} >= {
        o["id"] for o in rows
    }
    customer = rows[0]["payload"]["customer"]["id"]
    mine = all_rows(api, sandbox, "orders", 100, **{"filters[0][0]": "customer_id", "filters[0][1]": str(customer)})
    assert mine and all(o["payload"]["customer"]["id"] == customer for o in mine)
    picked = [rows[0]["id"], rows[-1]["id"], 4103]
    got = body(api, sandbox, "orders", **ids_filter(picked))
    assert sorted(o["id"] for o in got["data"]) == sorted(picked) and got["total"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"page": 0},
        {"sort[0]": "total"},
        {"sort[1]": "2"},
        {"date[1]": "2026-13-01"},
        {"filters[0][0]": "name", "filters[0][1]": "x"},
        {"filters[0][0]": "venue_id", "filters[0][1]": "abc"},
        {"filters[0][0]": "status", "filters[0][1]": "DONE"},
    ],
)
def test_orders_bad_params(sandbox: SandboxHandle, api: requests.Session, params: dict[str, Any]) -> None:
    resp = get(api, sandbox, "orders", **params)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter", resp.text


@pytest.mark.parametrize("form", ["with[]", "with[0]", "projection"])
def test_orders_with_receipt_summary(sandbox: SandboxHandle, api: requests.Session, form: str) -> None:
    wanted = {"with[0]": "receipt:id,service_notification_id,status"} if form == "projection" else {form: "receipt"}
    rows = body(api, sandbox, "orders", limit=100, **wanted, **day_params(TODAY - timedelta(days=4)))["data"]
    for order in rows:
        receipt = order["receipt"]
        if order["status"] in ("PENDING", "IGNORE"):
            assert receipt is None
            continue
        assert receipt["service_notification_id"] == order["id"]
        assert receipt["status"] == (2 if order["status"] == "DELIVERED" else 1)
        if form == "projection":
            assert set(receipt) == {"id", "service_notification_id", "status"}
            continue
        assert set(receipt) == SUMMARY_KEYS
        assert D(receipt["total"]) == D(order["payload"]["meta"]["orderTotal"])
        paid = sum((D(p["amount"]) for p in receipt["payment_methods"]), Decimal(0))
        if receipt["status"] == 2:
            assert paid == D(receipt["total"]) and receipt["remaining"] == 0 and receipt["closed_at"]
            assert all(set(p) == {"id", "name", "amount"} for p in receipt["payment_methods"])
        else:
            assert paid == 0 and receipt["remaining"] == receipt["total"] and receipt["closed_at"] is None
    assert {o["status"] for o in rows} == set(data.STATUSES)
    fixed = body(api, sandbox, "orders", **wanted, **ids_filter([4103, 4104]))["data"]
    by_id = {o["id"]: o["receipt"] for o in fixed}
    assert by_id[4104] is None and by_id[4103]["id"] == 20855
    if form != "projection":
        assert by_id[4103]["payment_methods"] == data.RECEIPTS[20855]["payment_methods"]


def test_order_by_id_with_bare_receipt_gives_the_summary(sandbox: SandboxHandle, api: requests.Session) -> None:
    got = body(api, sandbox, "orders/4103", **{"with[]": "receipt"})["data"]["receipt"]
    assert set(got) == SUMMARY_KEYS and got["id"] == 20855 and got["total"] == 38.2


# ------------------------------------------------------------------------------ receipts list


RECEIPT_DAYS = day_params(TODAY - timedelta(days=3), TODAY - timedelta(days=2))


def test_receipts_list_envelope_pages_and_bounds(sandbox: SandboxHandle, api: requests.Session) -> None:
    first = body(api, sandbox, "receipts", **RECEIPT_DAYS)
    assert len(first["data"]) == 50 and first["total"] > 2 * 3 * 30
    assert all("receipt_products" not in r for r in first["data"])
    rows = all_rows(api, sandbox, "receipts", 200, **RECEIPT_DAYS)
    assert len({r["id"] for r in rows}) == first["total"]
    assert {r["created_at"][:10] for r in rows} == {"2026-11-24", "2026-11-25"}
    for limit in (0, 201):
        resp = get(api, sandbox, "receipts", limit=limit)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter"


@pytest.mark.parametrize("field", ["created_at", "closed_at", "id", "total"])
@pytest.mark.parametrize("direction", ["1", "-1"])
def test_receipts_sort(sandbox: SandboxHandle, api: requests.Session, field: str, direction: str) -> None:
    params = {"sort[0]": field, "sort[1]": direction, **RECEIPT_DAYS}
    rows = all_rows(api, sandbox, "receipts", 200, **params)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        if field == "closed_at":  # open receipts (null) sort before every closed one
            return (r["closed_at"] is not None, r["closed_at"] or "", r["id"])
        return (r[field], r["id"])

    assert [key(r) for r in rows] == sorted(map(key, rows), reverse=direction == "-1")


def test_receipts_default_sort_is_newest_first(sandbox: SandboxHandle, api: requests.Session) -> None:
    rows = body(api, sandbox, "receipts", limit=200, **RECEIPT_DAYS)["data"]
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)


@pytest.mark.parametrize(
    ("field", "values", "check"),
    [
        ("status", ["1"], lambda r: r["status"] == 1 and r["closed_at"] is None and r["remaining"] == r["total"]),
        ("status", ["2"], lambda r: r["status"] == 2 and r["closed_at"] and r["remaining"] == 0),
        ("sale_type_id", ["2", "3"], lambda r: r["sale_type_id"] in (2, 3) and r["service_notification_id"]),
        ("venue_id", ["7"], lambda r: r["venue_id"] == 7 and r["terminal_id"] == 5),
        ("terminal_id", ["1"], lambda r: r["venue_id"] == 1),
        ("shift_date", ["2026-11-24"], lambda r: r["shift_date"] == "2026-11-24"),
        ("payment_method_id", ["1"], lambda r: 1 in [p["id"] for p in r["payment_methods"]]),
        ("payment_method_id", ["2"], lambda r: 2 in [p["id"] for p in r["payment_methods"]]),
    ],
)
def test_receipts_filters(
    sandbox: SandboxHandle, api: requests.Session, field: str, values: list[str], check: Any
) -> None:
    params: dict[str, Any] = {"filters[0][0]": field, **RECEIPT_DAYS}
    if len(values) == 1:
        params["filters[0][1]"] = values[0]
    else:
        params.update({f"filters[0][1][{m}]": v for m, v in enumerate(values)})
    rows = all_rows(api, sandbox, "receipts", 200, **params)
    assert rows and all(check(r) for r in rows), field
    everything = body(api, sandbox, "receipts", limit=1, **RECEIPT_DAYS)["total"]
    assert len(rows) < everything


def test_receipts_filter_by_customer_and_id(sandbox: SandboxHandle, api: requests.Session) -> None:
    some = body(api, sandbox, "receipts", limit=200, **RECEIPT_DAYS)["data"]
    customer = next(r["customer_id"] for r in some if r["customer_id"])
    rows = all_rows(api, sandbox, "receipts", 200, **{"filters[0][0]": "customer_id", "filters[0][1]": customer})
    assert rows and all(r["customer_id"] == customer for r in rows)
    picked = [some[0]["id"], some[-1]["id"], 20855]
    got = body(api, sandbox, "receipts", **ids_filter(picked))["data"]
    assert sorted(r["id"] for r in got) == sorted(picked)


@pytest.mark.parametrize(
    ("withs", "product", "modificators"),
    [
        (["receipt_products"], False, False),
        (["receipt_products.product"], True, False),
        (["receipt_products.modificators"], False, True),
        (["receipt_products", "receipt_products.product", "receipt_products.modificators"], True, True),
    ],
)
def test_receipts_with(
    sandbox: SandboxHandle, api: requests.Session, withs: list[str], product: bool, modificators: bool
) -> None:
    params = {f"with[{n}]": w for n, w in enumerate(withs)}
    rows = body(api, sandbox, "receipts", limit=20, **params, **ids_filter([20871]), **{"date[0]": "2026-01-01"})
    rows = rows["data"]
    living_rows = body(api, sandbox, "receipts", limit=20, **params, **RECEIPT_DAYS)["data"]
    for receipt in rows + living_rows:
        assert receipt["receipt_products"]
        for line in receipt["receipt_products"]:
            assert ("product" in line) is product and ("modificators" in line) is modificators
            assert line["receipt_id"] == receipt["id"]
    full = body(api, sandbox, f"receipts/{living_rows[0]['id']}")["data"]["receipt_products"]
    assert full and all("product" in line and "modificators" in line for line in full)


@pytest.mark.parametrize(
    "params",
    [
        {"sort[0]": "updated_at"},
        {"filters[0][0]": "status", "filters[0][1]": "3"},
        {"filters[0][0]": "shift_date", "filters[0][1]": "27.11.2026"},
        {"filters[0][0]": "order_status", "filters[0][1]": "NEW"},
        {"date[0]": "yesterday"},
    ],
)
def test_receipts_bad_params(sandbox: SandboxHandle, api: requests.Session, params: dict[str, Any]) -> None:
    resp = get(api, sandbox, "receipts", **params)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter", resp.text


def test_receipts_without_orders(sandbox: SandboxHandle, api: requests.Session) -> None:
    ids = data.living_sample_ids(TODAY - timedelta(days=1))
    assert ids["pos_receipts"]["open"] and ids["pos_receipts"]["closed"]
    pos = ids["pos_receipts"]
    for state, receipt_id in (("open", pos["open"][0]), ("closed", pos["closed"][0])):
        receipt = body(api, sandbox, f"receipts/{receipt_id}")["data"]
        assert receipt["service_notification_id"] is None and receipt["source"] == "pos"
        assert receipt["sale_type_id"] == 1 and receipt["table_id"] and receipt["hall_id"] and receipt["guests"] >= 1
        assert receipt["status"] == (1 if state == "open" else 2)
        assert (receipt["closed_at"] is None) is (state == "open")


def test_living_receipts_are_consistent() -> None:
    day = living.living_day(TODAY - timedelta(days=5))
    end = day.done + 1
    customers = living.CUSTOMERS
    seen_vat = set()
    for record in day.receipts:
        receipt = {**record.view(end), "receipt_products": record.lines(end)}
        lines = receipt["receipt_products"]
        for line in lines:
            unit = D(line["price"]) + sum((D(m["price"]) * m["count"] for m in line["modificators"]), Decimal(0))
            assert D(line["subtotal"]) == unit * line["count"]
            assert D(line["total"]) == D(line["subtotal"]) - D(line["receipt_discount"])
        subtotal = D(receipt["subtotal"])
        assert subtotal == sum((D(line["subtotal"]) for line in lines), Decimal(0))
        assert D(receipt["total_discount"]) == sum((D(line["receipt_discount"]) for line in lines), Decimal(0))
        expected = subtotal - D(receipt["total_discount"]) + D(receipt["service_charge_value"])
        assert D(receipt["total"]) == expected + D(receipt["delivery_fee"])
        paid = sum((D(p["amount"]) for p in receipt["payment_methods"]), Decimal(0))
        if receipt["status"] == 2:
            assert paid == D(receipt["total"]) and receipt["remaining"] == 0 and receipt["fiscal_id"]
            assert D(receipt["by_cash"]) + D(receipt["by_card"]) == paid
        else:
            assert paid == 0 and receipt["remaining"] == receipt["total"] and receipt["closed_at"] is None
        if receipt["venue_id"] in living.VAT_VENUES:
            seen_vat.add(receipt["venue_id"])
            assert receipt["i_tax"] == receipt["total_tax"] > 0 and all(line["taxes"] for line in lines)
        else:
            assert receipt["i_tax"] == 0 and all(line["taxes"] == [] for line in lines)
        assert receipt["created_at"][:10] in (str(day.day), str(day.day + timedelta(days=1)))
        if receipt["customer_id"] is not None:
            assert customers[receipt["customer_id"]]["venue_id"] == receipt["venue_id"]
        if record.order is not None:
            order = record.order.view(end)
            assert D(order["payload"]["meta"]["orderTotal"]) == D(receipt["total"])
            assert D(order["payload"]["delivery_fee"]) == D(receipt["delivery_fee"])
            assert order["payload"]["customer"]["id"] == receipt["customer_id"]
    assert seen_vat == {1, 7}


def test_volumes_and_coverage_per_venue_and_day() -> None:
    first, last = living.window(NOW_DT)
    for day in living.days_between(first, last):
        records = living.living_day(day)
        for venue in data.VENUE_IDS:
            orders = [o for o in records.orders if o.venue_id == venue]
            receipts = [r for r in records.receipts if r.venue_id == venue]
            assert 12 <= len(orders) - (9 if venue == 3 else 0) <= 20, (day, venue)
            assert 30 <= len(receipts) <= 100, (day, venue)
            assert {o.final_status for o in orders} == set(data.STATUSES)
            assert {o.sale_type_id for o in orders} == {1, 2, 3}
            combos = {(status, sale_type) for status in data.STATUSES for sale_type in (1, 2, 3)}
            assert {(o.final_status, o.sale_type_id) for o in orders} >= combos
            pos = [r for r in receipts if r.order is None]
            assert any(r.closed is None for r in pos) and any(r.closed is not None for r in pos)
            linked = {r.order.id for r in receipts if r.order is not None}
            assert linked == {o.id for o in orders if o.final_status in ("RECEIVED", "DELIVERED")}


# ------------------------------------------------------------------------------ customers


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("əli", "Əli Məmmədov"),
        ("ƏLİ MƏMMƏDOV", "Əli Məmmədov"),
        ("ismayıl", "İsmayıl Həsənov"),
        ("İSMAYIL", "İsmayıl Həsənov"),
        ("ismayil", "İsmayıl Həsənov"),
        ("şəbnəm", "Şəbnəm Quliyeva"),
        ("ağayeva", "Gülşən Ağayeva"),
        ("GÜLŞƏN", "Gülşən Ağayeva"),
        ("çələbiyeva", "Ülviyyə Çələbiyeva"),
        ("анна", "Анна Петрова"),
        ("ИВАНОВ", "Сергей Иванов"),
    ],
)
def test_customers_name_search(sandbox: SandboxHandle, api: requests.Session, text: str, name: str) -> None:
    got = body(api, sandbox, "customers", limit=999, **{"filters[0][0]": "name", "filters[0][1]": text})
    names = [c["name"] for c in got["data"]]
    assert name in names and got["total"] == len(names)
    assert all(living.fold(text) in living.fold(n) for n in names)


def test_customers_name_search_is_partial_and_combinable(sandbox: SandboxHandle, api: requests.Session) -> None:
    every = body(api, sandbox, "customers", limit=999)["data"]
    hits = body(api, sandbox, "customers", limit=999, **{"filters[0][0]": "name", "filters[0][1]": "ova"})["data"]
    assert len(hits) == sum("ova" in c["name"] for c in every) > 10
    both = {
        "filters[0][0]": "name",
        "filters[0][1]": "ova",
        "filters[1][0]": "venue_id",
        "filters[1][1]": "7",
        "limit": 999,
    }
    assert {c["id"] for c in body(api, sandbox, "customers", **both)["data"]} == {
        c["id"] for c in hits if c["venue_id"] == 7
    }
    assert body(api, sandbox, "customers", **{"filters[0][0]": "name", "filters[0][1]": "zzz"})["data"] == []


def test_customers_phone_filter_is_an_exact_match(sandbox: SandboxHandle, api: requests.Session) -> None:
    def by_phone(*phones: str) -> list[int]:
        params: dict[str, Any] = {"filters[0][0]": "phones", "limit": 999}
        params.update({f"filters[0][1][{m}]": p for m, p in enumerate(phones)})
        return sorted(c["id"] for c in body(api, sandbox, "customers", **params)["data"])

    assert by_phone("+994503332211") == [1000]
    assert by_phone("(050) 333 22 11") == [1005]  # the same number, stored in another format
    assert by_phone("0503332211") == [] and by_phone("994503332211") == [] and by_phone("503332211") == []
    assert by_phone("+994503332211", "(050) 333 22 11", "0503332211") == [1000, 1005]
    assert by_phone("+994124401122") == [1002]  # any of the customer's numbers, not only the first
    assert by_phone("+994 70 123 45 67") == by_phone("0771234567") == [1006]
    single = {"filters[0][0]": "phones", "filters[0][1]": "050-222-33-44"}
    assert [c["id"] for c in body(api, sandbox, "customers", **single)["data"]] == [1004]

    stored = [p for c in body(api, sandbox, "customers", limit=999)["data"] for p in c["phones"]]
    shapes = {
        "+994503332211": r"\+994\d{9}",
        "+994 50 333 22 11": r"\+994 \d\d \d{3} \d\d \d\d",
        "0503332211": r"0\d{9}",
        "994503332211": r"994\d{9}",
        "050-333-22-11": r"0\d\d-\d{3}-\d\d-\d\d",
        "(050) 333 22 11": r"\(0\d\d\) \d{3} \d\d \d\d",
    }
    for example, shape in shapes.items():
        assert re.fullmatch(shape, example)
        assert sum(bool(re.fullmatch(shape, p)) for p in stored) >= 5, example


def test_customers_list_paging_groups_and_limits(sandbox: SandboxHandle, api: requests.Session) -> None:
    first = body(api, sandbox, "customers")
    assert set(first) == {"success", "data", "total", "time", "timestamp", "unix"}
    assert len(first["data"]) == 50 and first["total"] == len(living.CUSTOMERS)
    everyone = all_rows(api, sandbox, "customers", 100)
    assert [c["id"] for c in everyone] == sorted(living.CUSTOMERS)
    assert {c["venue_id"] for c in everyone} == {1, 3, 7}
    assert any(c["id"] == 512 for c in everyone) and any(c["id"] >= 1000 for c in everyone)
    vip = body(api, sandbox, "customers", limit=999, **{"filters[0][0]": "group_id", "filters[0][1]": "2"})["data"]
    assert vip and all(c["group_id"] == 2 for c in vip)
    grouped = body(api, sandbox, "customers", limit=3, **{"with[]": "group"})["data"]
    assert all(c["group"] == {"id": c["group_id"], "name": living.CUSTOMER_GROUPS[c["group_id"]]} for c in grouped)
    assert len(body(api, sandbox, "customers", limit=999)["data"]) == first["total"]
    for bad in ({"limit": 1000}, {"limit": 0}, {"filters[0][0]": "email", "filters[0][1]": "x"}):
        resp = get(api, sandbox, "customers", **bad)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter"


def test_customer_by_id_is_a_bare_object(sandbox: SandboxHandle, api: requests.Session) -> None:
    expected = fixture("customer_512_get_by_id_bare_object.json")
    assert body(api, sandbox, "customers/512") == expected
    one = body(api, sandbox, "customers/1003")
    assert "success" not in one and set(one) == set(expected)
    assert one["name"] == "İsmayıl Həsənov" and one["phones"] == ["994517778899"] and one["phone"] == "994517778899"
    assert one["created_at"].endswith("Z") and isinstance(one["phones"], list)
    for missing in ("customers/999999", "customers/abc", "customers/0"):
        resp = get(api, sandbox, missing)
        assert resp.status_code == 404
        assert resp.json() == {"success": False, "error": "not_found", "message": "Customer not found"}


def test_orders_and_receipts_reference_customers(sandbox: SandboxHandle, api: requests.Session) -> None:
    orders = all_rows(api, sandbox, "orders", 100, **day_params(TODAY - timedelta(days=2)))
    for order in orders:
        person = order["payload"]["customer"]
        customer = body(api, sandbox, f"customers/{person['id']}")
        assert customer["venue_id"] == order["venue_id"] and customer["name"] == person["name"]
        assert person["phone"] == customer["phone"] in customer["phones"]
    regular = orders[0]["payload"]["customer"]["id"]
    theirs = all_rows(api, sandbox, "orders", 100, **{"filters[0][0]": "customer_id", "filters[0][1]": regular})
    assert len({o["created_at"][:10] for o in theirs}) >= 2  # a customer orders on several days
    counts: dict[int, int] = {}
    for day in living.days_between(*living.window(NOW_DT)):
        for record in living.living_day(day).orders:
            counts[record.customer_id] = counts.get(record.customer_id, 0) + 1
    assert sum(n >= 5 for n in counts.values()) > 100
    for receipt in body(api, sandbox, "receipts", limit=200, **RECEIPT_DAYS)["data"]:
        if receipt["customer_id"] is not None:
            assert living.CUSTOMERS[receipt["customer_id"]]["venue_id"] == receipt["venue_id"]
    assert all(c["id"] in living.CUSTOMERS for c in (o["payload"]["customer"] for o in data.ORDERS.values()))


# ------------------------------------------------------------------------------ faults, counters, config


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [("orders", "orders"), ("receipts", "receipts"), ("customers", "customers"), ("customer", "customers/512")],
)
def test_faults_and_counters_on_new_endpoints(
    sandbox: SandboxHandle, api: requests.Session, endpoint: str, path: str
) -> None:
    add_fault(sandbox, endpoint=endpoint, fault="status", status=503, count=1)
    first = get(api, sandbox, path)
    assert first.status_code == 503 and first.json()["error"] == "service_unavailable"
    assert get(api, sandbox, path).status_code == 200
    add_fault(sandbox, endpoint=endpoint, fault="malformed", count=1)
    with pytest.raises(ValueError):
        get(api, sandbox, path).json()
    requests_seen = stats(sandbox)["requests"]
    assert requests_seen[endpoint] == 3
    assert all(n == 0 for name, n in requests_seen.items() if name not in (endpoint, "auth"))


def test_counters_name_every_endpoint(sandbox: SandboxHandle, api: requests.Session) -> None:
    for path in ("orders", "orders/4101", "receipts", "receipts/20871", "customers", "customers/1000", "products"):
        get(api, sandbox, path)
    seen = stats(sandbox)["requests"]
    assert {k: seen[k] for k in ("orders", "order", "receipts", "receipt", "customers", "customer", "other")} == (
        dict.fromkeys(("orders", "order", "receipts", "receipt", "customers", "customer", "other"), 1)
    )


def test_rate_limit_and_bad_params_on_new_endpoints(sandbox: SandboxHandle, api: requests.Session) -> None:
    config(sandbox, rate_limit=2)
    assert get(api, sandbox, "customers").status_code == 200
    assert get(api, sandbox, "receipts", limit=5).headers["RateLimit-Remaining"] == "0"
    resp = get(api, sandbox, "customers/1000")
    assert resp.status_code == 429 and resp.json() == fixture("error_429_rate_limited.json")


def test_clock_config(sandbox: SandboxHandle, api: requests.Session) -> None:
    current = requests.get(f"{sandbox.control_url}/config", timeout=TIMEOUT).json()["config"]
    assert (current["now"], current["date_zone"]) == (NOW, "UTC")
    for bad in ({"now": "tomorrow"}, {"now": 5}, {"date_zone": "Europe/Moscow"}, {"date_zone": None}):
        resp = config(sandbox, **bad)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_parameter", bad
    assert config(sandbox, now="2026-10-01T12:00:00Z", date_zone="Asia/Baku").status_code == 200
    assert body(api, sandbox, "receipts", limit=1)["timestamp"] == "2026-10-01 16:00:00"
    assert config(sandbox, now="2026-10-01 12:00:00").json()["config"]["now"] == "2026-10-01 12:00:00"
    assert body(api, sandbox, "receipts", limit=1)["timestamp"] == "2026-10-01 12:00:00"  # naive = Baku
    assert config(sandbox, now=None).status_code == 200  # back to real time
    assert abs(body(api, sandbox, "receipts", limit=1)["unix"] - time.time()) < 30
    requests.post(f"{sandbox.control_url}/reset", timeout=TIMEOUT)
    current = requests.get(f"{sandbox.control_url}/config", timeout=TIMEOUT).json()["config"]
    assert (current["now"], current["date_zone"]) == (NOW, "UTC")  # reset restores the start-up clock

    with start_sandbox(port=0, now=datetime(2026, 11, 27, 10, 0, tzinfo=BAKU), date_zone="Asia/Baku") as other:
        shown = requests.get(f"{other.control_url}/today", timeout=TIMEOUT).json()
        assert shown["now"] == "2026-11-27T10:00:00+04:00" and shown["today"] == "2026-11-27"
    with pytest.raises(ValueError):
        start_sandbox(port=0, date_zone="Mars")


def test_today_control(sandbox: SandboxHandle) -> None:
    shown = requests.get(f"{sandbox.control_url}/today", timeout=TIMEOUT).json()
    assert shown["today"] == "2026-11-27" and shown["business_day"] == "2026-11-27"
    assert shown["window"] == ["2026-09-28", "2026-11-27"]
    assert shown["boundary_orders"] == data.boundary_orders(TODAY)
    assert shown["first_order_id"] == 126112700 and shown["orders_today"] == sum(shown["orders_by_status"].values())
    pin(sandbox, datetime(2026, 11, 28, 2, 0, tzinfo=BAKU))
    shown = requests.get(f"{sandbox.control_url}/today", timeout=TIMEOUT).json()
    assert (shown["today"], shown["business_day"]) == ("2026-11-28", "2026-11-27")


def test_cli_accepts_clock_options() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--now", NOW, "--date-zone", "Asia/Baku"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split("CLOPOS_BASE_URL=")[1].strip()
        root = base.removesuffix("/open-api")
        shown = requests.get(f"{root}/__sandbox/config", timeout=TIMEOUT).json()["config"]
        assert (shown["now"], shown["date_zone"]) == (NOW, "Asia/Baku")
    finally:
        proc.terminate()
        proc.wait(timeout=5)
