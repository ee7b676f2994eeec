"""Receipts, customers and exports end to end: gunicorn + the sandbox's living dataset, loopback.

The sandbox clock is pinned to 27 Nov 2026, 14:00 Baku. What each page must show is computed here
from the sandbox's generator (`sandbox.living`), independently of the app, and compared with
every page the app serves; upstream calls are read from the sandbox's counters.

One deployment of its own (a copy of the session's database), with per-user budgets and the
search limit raised: these tests make many requests as one user on purpose.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests

from sandbox import living
from tests.integration.conftest import SandboxControl
from tests.live import LiveApp

pytestmark = pytest.mark.integration

BAKU = ZoneInfo("Asia/Baku")
NOW = dt.datetime(2026, 11, 27, 14, 0, tzinfo=BAKU)
T = NOW.timestamp()
DAY = dt.date(2026, 11, 26)
BOM = "\ufeff".encode()
SIX_FORMS = ["050 333 22 11", "+994503332211", "994 50 333-22-11", "(050) 333 22 11", "0503332211", "50 333 22 11"]


# --- What the sandbox holds ---------------------------------------------------------------------


def receipts_of_shifts(first: dt.date, last: dt.date) -> list[living.LivingReceipt]:
    """Every receipt (opened by now) whose shift is first..last: generated on its shift's day or
    the night after."""
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 2)]
    return [
        r
        for d in days
        for r in living.living_day(d).receipts
        if r.opened <= T and first.isoformat() <= r.shift_date <= last.isoformat()
    ]


def expected_receipts(first=DAY, last=DAY, venues=None, status=None, sale_types=None, methods=None) -> set[int]:
    return {
        r.id
        for r in receipts_of_shifts(first, last)
        if (venues is None or r.venue_id in venues)
        and (status is None or (status == "open") == r.is_open_at(T))
        and (sale_types is None or r.sale_type_id in sale_types)
        and (methods is None or set(r.method_ids_at(T)) & methods)
    }


# --- Talking to the app ---------------------------------------------------------------------------


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def receipt_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-receipt-row="(\d+)"', html)]


def next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next" hx-get="[^"]+" hx-target="#results"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def all_pages(session: requests.Session, app: LiveApp, params: dict) -> list[str]:
    pages = []
    response = session.get(f"{app.base_url}/receipts/", params=params, timeout=30)
    assert response.status_code == 200, text_of(response.text)[:500]
    pages.append(response.text)
    while (link := next_link(pages[-1])) is not None:
        response = session.get(urljoin(f"{app.base_url}/receipts/", link), timeout=30)
        assert response.status_code == 200
        pages.append(response.text)
        assert len(pages) < 40
    return pages


def listed(session, app, params) -> set[int]:
    ids = [i for page in all_pages(session, app, params) for i in receipt_ids(page)]
    assert len(ids) == len(set(ids)), "a receipt listed twice"
    return set(ids)


def csv_rows(response: requests.Response) -> list[list[str]]:
    assert response.status_code == 200, text_of(response.text)[:500]
    assert response.content.startswith(BOM)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))


# --- The deployment -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(sandbox_handle, live_app, tmp_path_factory):
    instance = LiveApp(
        sandbox_url=sandbox_handle.base_url,
        tmp_dir=tmp_path_factory.mktemp("issue11"),
        name="issue11",
        extra_env={
            "CLOPOS_USER_BUDGET_PER_WINDOW": "1000",
            "CLOPOS_USER_BUDGET_PER_MINUTE": "1000",
            "CUSTOMER_SEARCH_RATE_PER_USER": "1000/m",
        },
    )
    instance.prepare_like(live_app)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def pinned(sandbox_handle, app):
    control = SandboxControl(sandbox_handle)
    control.reset()
    control.config(rate_limit=300, token_ttl=3600, now=NOW.isoformat(), date_zone="UTC")
    app.clear_cache()
    yield control
    control.clear_faults()


# --- The receipts list ------------------------------------------------------------------------------


def test_a_shift_lists_exactly_clopos_shift_receipts_on_every_page(app, pinned):
    session = app.login("manager")
    pages = all_pages(session, app, {"day": DAY.isoformat()})

    ids = [i for page in pages for i in receipt_ids(page)]
    expected = expected_receipts()
    assert set(ids) == expected and len(ids) == len(expected)
    assert f"Clopos matched {len(expected)} receipts" in text_of(pages[0])
    assert len(pages) == -(-len(expected) // 100) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text_of(page)
    # One cold page is exactly one upstream list call.
    assert pinned.calls("receipts") == len(pages)


@pytest.mark.parametrize(
    ("params", "expectation"),
    [
        ({"status": "open"}, {"status": "open"}),
        ({"status": "closed"}, {"status": "closed"}),
        ({"venue": "1"}, {"venues": {1}}),
        ({"sale_type": "2"}, {"sale_types": {2}}),
        ({"payment_method": "1"}, {"methods": {1}}),
        (
            {"venue": "7", "payment_method": "2", "status": "closed"},
            {"venues": {7}, "methods": {2}, "status": "closed"},
        ),
    ],
)
def test_each_filter(app, pinned, params, expectation):
    session = app.login("manager")
    assert listed(session, app, {"day": DAY.isoformat(), **params}) == expected_receipts(**expectation)


def test_a_range_of_shifts(app, pinned):
    session = app.login("manager")
    first, last = DAY - dt.timedelta(days=2), DAY
    ids = listed(session, app, {"from": first.isoformat(), "to": last.isoformat(), "venue": "3"})
    assert ids == expected_receipts(first, last, venues={3})


def test_a_support_user_sees_only_their_venue(app, pinned):
    session = app.login("support")  # venue 3
    assert listed(session, app, {"day": DAY.isoformat()}) == expected_receipts(venues={3})
    refused = session.get(f"{app.base_url}/receipts/", params={"venue": "1"}, timeout=10)
    assert refused.status_code == 400


def test_an_invalid_filter_asks_clopos_nothing(app, pinned):
    session = app.login("manager")
    before = pinned.stats()["total"]
    response = session.get(f"{app.base_url}/receipts/", params={"from": "2026-09-01", "to": "2026-11-26"}, timeout=10)
    assert response.status_code == 400
    assert pinned.stats()["total"] == before


def test_a_receipt_without_an_order(app, pinned):
    """The 02:00 boundary receipt of 27 Nov is a dine-in sale with no order, of the 26th's shift."""
    receipt_id = living.boundary_receipts(DAY + dt.timedelta(days=1))["02:00"]
    session = app.login("manager")

    response = session.get(f"{app.base_url}/receipts/{receipt_id}/", timeout=10)

    text = text_of(response.text)
    assert response.status_code == 200
    assert f"Receipt {receipt_id}" in text
    assert "none: a sale rung up on the POS" in text
    assert "Shift date 26 Nov 2026" in text
    assert "Lines and payments" in text
    # The lookup box opens it with "r", and the receipts list of the 26th holds it.
    lookup = session.get(f"{app.base_url}/", params={"order_id": f"r{receipt_id}"}, timeout=10)
    assert lookup.url.endswith(f"/receipts/{receipt_id}/")
    assert receipt_id in listed(session, app, {"day": DAY.isoformat(), "venue": "3"})


def test_an_order_and_its_receipt_link_both_ways(app, pinned):
    order_id = living.boundary_orders(DAY)["06:00"]
    record = living.find_order(order_id, NOW)
    receipt_id = record.receipt.id
    session = app.login("support")

    slot = session.get(f"{app.base_url}/orders/{order_id}/receipt/", headers={"HX-Request": "true"}, timeout=10)
    page = session.get(f"{app.base_url}/receipts/{receipt_id}/", timeout=10)

    assert f'href="/receipts/{receipt_id}/"' in slot.text
    assert f'href="/orders/{order_id}/"' in page.text
    assert "Lines and payment details are visible to managers." in text_of(page.text)


def test_a_receipt_of_another_venue_is_not_found(app, pinned):
    receipt_id = living.boundary_receipts(DAY)["06:00"]  # venue 3
    session = app.login("support1")  # venue 1
    hidden = session.get(f"{app.base_url}/receipts/{receipt_id}/", timeout=10)
    unknown = session.get(f"{app.base_url}/receipts/999999/", timeout=10)
    assert hidden.status_code == unknown.status_code == 404
    assert text_of(hidden.text).replace(str(receipt_id), "ID") == text_of(unknown.text).replace("999999", "ID")


# --- Customers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", SIX_FORMS)
def test_a_customer_is_found_by_any_phone_form_in_one_call(app, pinned, typed):
    """1000 stores +994503332211 and 1005 stores (050) 333 22 11: one number, two formats."""
    session = app.login("manager")
    before = pinned.calls("customers")

    response = session.get(f"{app.base_url}/customers/", params={"q": typed}, timeout=10)

    assert response.status_code == 200
    assert re.findall(r'data-customer-row="(\d+)"', response.text) == ["1000", "1005"]
    assert pinned.calls("customers") - before == 1  # one upstream call per search
    # The same search again is served from the cache: no call.
    session.get(f"{app.base_url}/customers/", params={"q": typed}, timeout=10)
    assert pinned.calls("customers") - before == 1


def test_a_support_user_finds_only_their_venues_customers_masked(app, pinned):
    session = app.login("support")  # venue 3: 1000, not 1005 (venue 1)
    response = session.get(f"{app.base_url}/customers/", params={"q": "050 333 22 11"}, timeout=10)
    table = re.search(r"<table.*?</table>", response.text, re.S).group(0)
    assert re.findall(r'data-customer-row="(\d+)"', table) == ["1000"]
    assert "+994 50 *** ** 11" in table and "3332211" not in table


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ismayıl", 1003),
        ("İSMAYIL", 1003),
        ("ismayil", 1003),
        ("Həsənov", 1003),
        ("çələbiyeva", 1004),
        ("ŞƏBNƏM", 1001),
        ("ağayeva", 1002),
        ("анна", 1005),
    ],
)
def test_a_customer_is_found_by_part_of_an_azerbaijani_name(app, pinned, typed, expected):
    session = app.login("manager")
    response = session.get(f"{app.base_url}/customers/", params={"q": typed}, timeout=10)
    assert str(expected) in re.findall(r'data-customer-row="(\d+)"', response.text)


def expected_history(customer_id: int, days: int, venues=None, now=NOW) -> tuple[set[int], set[int]]:
    until = now.date()
    cutoff = now.timestamp()
    since = until - dt.timedelta(days=days - 1)
    window = [since + dt.timedelta(days=n) for n in range(days + 1)]
    receipts = {
        r.id
        for d in window
        for r in living.living_day(d).receipts
        if r.opened <= cutoff
        and r.customer_id == customer_id
        and since <= dt.datetime.fromtimestamp(r.opened, BAKU).date() <= until
        and (venues is None or r.venue_id in venues)
    }
    orders = {
        o.id
        for d in window
        for o in living.living_day(d).orders
        if o.created <= cutoff
        and o.customer_id == customer_id
        and since <= dt.datetime.fromtimestamp(o.created, BAKU).date() <= until
        and (venues is None or o.venue_id in venues)
    }
    return receipts, orders


@pytest.mark.parametrize("days", [7, 30])
def test_the_customer_page_searches_a_bounded_window(app, pinned, days):
    # "The last N days" ends on the app's own today, which is the real clock's (at 00:00 Baku it
    # moves while the sandbox stays pinned): pin the sandbox to the real now for this one.
    now = dt.datetime.now(BAKU).replace(microsecond=0)
    pinned.config(now=now.isoformat())
    session = app.login("manager")
    before = pinned.stats()["requests"]

    response = session.get(f"{app.base_url}/customers/1000/", params={"days": days}, timeout=30)

    assert response.status_code == 200
    receipts = {int(i) for i in re.findall(r'data-history-receipt="(\d+)"', response.text)}
    orders = {int(i) for i in re.findall(r'data-history-order="(\d+)"', response.text)}
    assert (receipts, orders) == expected_history(1000, days, now=now)
    assert receipts and orders
    assert f"Searched {days} days" in text_of(response.text)
    after = pinned.stats()["requests"]
    # One customer, one page of each list (well under the cap of 2).
    assert {k: after[k] - before[k] for k in ("customer", "receipts", "orders")} == {
        "customer": 1,
        "receipts": 1,
        "orders": 1,
    }


# --- Exports ------------------------------------------------------------------------------------------


def test_a_receipts_export_has_every_row_of_the_list(app, pinned):
    session = app.login("manager")
    first = DAY - dt.timedelta(days=4)
    params = {"from": first.isoformat(), "to": DAY.isoformat()}

    rows = csv_rows(session.get(f"{app.base_url}/receipts/export.csv", params=params, timeout=120))

    ids = [int(row[0]) for row in rows[1:]]
    expected = expected_receipts(first, DAY)
    assert set(ids) == expected and len(ids) == len(expected)
    assert rows[-1][0] != "ERROR"
    assert pinned.calls("receipts") == -(-len(expected) // 200)  # one call per page of 200


def test_a_support_export_masks_every_phone(app, pinned):
    session = app.login("support")
    rows = csv_rows(session.get(f"{app.base_url}/receipts/export.csv", params={"day": DAY.isoformat()}, timeout=60))
    phones = [row[10] for row in rows[1:] if row[10]]
    assert phones and all("***" in phone for phone in phones)
    assert "Cash" not in rows[0]
    assert {int(row[0]) for row in rows[1:]} == expected_receipts(venues={3})


def test_an_orders_export_matches_the_list(app, pinned):
    session = app.login("manager")
    listed_ids: list[int] = []
    response = session.get(f"{app.base_url}/orders/", params={"day": DAY.isoformat()}, timeout=30)
    while True:
        listed_ids += [int(i) for i in re.findall(r'data-order-row="(\d+)"', response.text)]
        match = re.search(r'<a href="([^"]+)" rel="next" hx-get="[^"]+" hx-target="#results"', response.text)
        if not match:
            break
        response = session.get(urljoin(f"{app.base_url}/orders/", match.group(1).replace("&amp;", "&")), timeout=30)

    xlsx = session.get(f"{app.base_url}/orders/export.xlsx", params={"day": DAY.isoformat()}, timeout=60)

    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert set(exported) == set(listed_ids) and len(exported) == len(listed_ids)


def test_a_page_that_fails_mid_export_ends_the_file_with_an_error_row(app, pinned):
    session = app.login("manager")
    first = DAY - dt.timedelta(days=4)
    # Page 1 (asked while the view plans the export) passes; every later receipts page fails.
    pinned.fault("receipts", "status", status=500, skip=1)

    params = {"from": first.isoformat(), "to": DAY.isoformat()}
    rows = csv_rows(session.get(f"{app.base_url}/receipts/export.csv", params=params, timeout=60))

    assert rows[-1][0] == "ERROR"
    assert "Clopos failed on page 2" in rows[-1][1] and "INCOMPLETE" in rows[-1][1]
    written = len(rows) - 2
    assert 0 < written <= 200
    assert f"{written} rows were written" in rows[-1][1]


def test_an_export_over_31_days_is_refused_before_any_upstream_call(app, pinned):
    session = app.login("manager")
    before = pinned.stats()["total"]
    response = session.get(
        f"{app.base_url}/receipts/export.csv", params={"from": "2026-10-01", "to": "2026-11-26"}, timeout=10
    )
    assert response.status_code == 400
    assert "A range can cover at most 31 days." in text_of(response.text)
    assert pinned.stats()["total"] == before
